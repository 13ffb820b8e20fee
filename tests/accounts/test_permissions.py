"""The role rules of docs/rules.md, table-driven: every predicate of accounts/permissions.py
against every persona (every role on every agreement type and scope, plus the sign-up
user vs. another holder of the same role, direct vs. indirect enrollments, profile-level
roles on the other profile, support staff, an inactive user, an anonymous visitor and
another tenant) on every scope. A persona not listed for a scope must get False."""

import inspect

import pytest
from django.contrib.auth.models import AnonymousUser

from accounts import permissions
from accounts.models import BillingAccount, BillingProfile, Subscription

from .conftest import PERSONAS

pytestmark = pytest.mark.django_db

WD = {"wd_admin", "wd_admin2"}
EAD = {"ead_admin", "ead_ro"}
EAI = {"eai_partner", "eai_admin", "eai_ro"}
CA_ACCOUNT = {"ca_owner", "ca_owner2", "ca_contrib", "ca_reader"}
CA_P1 = {"bp1_owner", "bp1_contrib", "bp1_reader", "bp1_invmgr"}
CA_P2 = {"bp2_owner"}
NOBODY: set[str] = set()

ACCOUNTS = ("wd", "ead", "eai", "ca")
PROFILES = ("wd_p", "ead_p", "eai_p", "ca_p1", "ca_p2")
SUBSCRIPTIONS = ("wd_s", "ead_s", "eai_s", "ca_s1", "ca_s2")

VISIBLE_ACCOUNT = {"wd": WD, "ead": EAD, "eai": EAI, "ca": CA_ACCOUNT | CA_P1 | CA_P2}
VISIBLE_PROFILE = {"wd_p": WD, "ead_p": EAD, "eai_p": EAI, "ca_p1": CA_ACCOUNT | CA_P1, "ca_p2": CA_ACCOUNT | CA_P2}
VISIBLE_SUBSCRIPTION = {s: VISIBLE_PROFILE[p] for s, p in zip(SUBSCRIPTIONS, PROFILES, strict=True)}
# PO-2 (and the account profile / VAT-1 for the account-level editors).
PO_EDITORS = {
    "wd_p": WD,
    "ead_p": {"ead_admin"},  # direct enrollment: the EA admin
    "eai_p": {"eai_partner"},  # indirect enrollment: the partner admin, not the EA admin
    "ca_p1": {"ca_owner", "ca_owner2", "ca_contrib", "bp1_owner", "bp1_contrib"},
    "ca_p2": {"ca_owner", "ca_owner2", "ca_contrib", "bp2_owner"},
}
PROFILE_EDITORS = {
    "wd": WD,
    "ead": {"ead_admin"},
    "eai": {"eai_partner"},
    "ca": {"ca_owner", "ca_owner2", "ca_contrib"},
}

# predicate name -> (kind of scope, {scope key: personas for whom it is True})
TABLE = {
    "can_view_account": ("account", VISIBLE_ACCOUNT),
    "can_view_profile": ("profile", VISIBLE_PROFILE),
    "can_view_subscription": ("subscription", VISIBLE_SUBSCRIPTION),
    "can_view_invoices": ("profile", VISIBLE_PROFILE),
    "can_view_usage_summary": ("account", {"wd": NOBODY, "ead": EAD, "eai": EAI, "ca": NOBODY}),
    "can_edit_account_profile": ("account", PROFILE_EDITORS),
    "can_edit_vat": ("account", PROFILE_EDITORS),
    "can_edit_po": ("profile", PO_EDITORS),
    # PO-5: whoever may change the PO or the VAT number may ask for an amendment.
    "can_request_invoice_amendment": ("profile", PO_EDITORS),
    # Enterprise pays by wire transfer: nobody sees cards there.
    "can_view_payment_methods": (
        "profile",
        {"wd_p": WD, "ead_p": NOBODY, "eai_p": NOBODY, "ca_p1": CA_ACCOUNT | CA_P1, "ca_p2": CA_ACCOUNT | CA_P2},
    ),
    # PM-1, PM-3: only the user who signed up.
    "can_manage_payment_methods": (
        "profile",
        {"wd_p": {"wd_admin"}, "ead_p": NOBODY, "eai_p": NOBODY, "ca_p1": {"ca_owner"}, "ca_p2": {"ca_owner"}},
    ),
    # PAY-1: the sign-up owner, billing profile owner/contributor, invoice manager;
    # on web direct the account admin; never on enterprise (wire transfer).
    "can_pay_invoices": (
        "profile",
        {
            "wd_p": WD,
            "ead_p": NOBODY,
            "eai_p": NOBODY,
            "ca_p1": {"ca_owner", "bp1_owner", "bp1_contrib", "bp1_invmgr"},
            "ca_p2": {"ca_owner", "bp2_owner"},
        },
    ),
    # PBI-1: the web-direct account admin; on a customer agreement the billing account
    # owner or the billing profile's owner; enterprise pays by invoice already.
    "can_request_pay_by_invoice": (
        "profile",
        {
            "wd_p": WD,
            "ead_p": NOBODY,
            "eai_p": NOBODY,
            "ca_p1": {"ca_owner", "ca_owner2", "bp1_owner"},
            "ca_p2": {"ca_owner", "ca_owner2", "bp2_owner"},
        },
    ),
    # PBI-4: who removes a marketplace service from a subscription (the PO-2 editors).
    "can_manage_subscription_services": ("profile", PO_EDITORS),
}
SCOPES = {"account": ACCOUNTS, "profile": PROFILES, "subscription": SUBSCRIPTIONS}


def _scope(world, kind, key):
    return {"account": world.accounts, "profile": world.profiles, "subscription": world.subscriptions}[kind][key]


def _mismatches(world, predicate, kind, expected):
    wrong = []
    for scope_key in SCOPES[kind]:
        scope = _scope(world, kind, scope_key)
        for persona in PERSONAS:
            got = predicate(world.users[persona], scope)
            want = persona in expected[scope_key]
            if got is not want:
                wrong.append(f"{persona} on {scope_key}: got {got}, want {want}")
    return wrong


@pytest.mark.parametrize("name", sorted(TABLE))
def test_predicate_table(world, name):
    kind, expected = TABLE[name]
    assert set(expected) == set(SCOPES[kind]), "the table must cover every scope"
    assert _mismatches(world, getattr(permissions, name), kind, expected) == []


@pytest.mark.parametrize(
    "kind,table", [("account", VISIBLE_ACCOUNT), ("profile", VISIBLE_PROFILE), ("subscription", VISIBLE_SUBSCRIPTION)]
)
def test_can_view_generic_matches_the_specific_predicates(world, kind, table):
    assert _mismatches(world, permissions.can_view, kind, table) == []


def test_can_view_refuses_unknown_objects(world):
    with pytest.raises(TypeError):
        permissions.can_view(world.users["wd_admin"], object())


def test_can_work_support_queue_only_active_support_staff(world):
    allowed = {p for p in PERSONAS if permissions.can_work_support_queue(world.users[p])}
    assert allowed == {"support"}
    support = world.users["support"]
    support.is_active = False
    assert permissions.can_work_support_queue(support) is False
    assert permissions.can_work_support_queue(None) is False


def test_support_staff_and_inactive_users_hold_no_grants(world):
    assert permissions.grants(world.users["support"]) == ()
    assert permissions.grants(world.users["inactive"]) == ()
    assert permissions.grants(AnonymousUser()) == ()
    assert permissions.grants(None) == ()


def test_grants_read_once_and_cached(world, django_assert_num_queries):
    from accounts.models import User

    user = User.objects.get(pk=world.users["ca_owner"].pk)
    with django_assert_num_queries(1):
        first = permissions.grants(user)
        for profile in world.profiles.values():
            permissions.can_view_profile(user, profile)
            permissions.can_edit_po(user, profile)
    assert permissions.grants(user) is first
    permissions.forget_grants(user)
    with django_assert_num_queries(1):
        permissions.grants(user)


def test_agreement_types(world):
    assert permissions.agreement_types(world.users["bp1_owner"]) == {"customer_agreement"}
    assert permissions.agreement_types(world.users["eai_partner"]) == {"enterprise"}
    assert permissions.agreement_types(world.users["support"]) == set()


def test_role_assign_refuses_roles_outside_their_scope(world):
    from accounts import services
    from accounts.roles import Role
    from billing_portal.errors import InvalidInput

    user = world.users["outsider"]
    with pytest.raises(InvalidInput):  # an EA role on a web-direct account
        services.role_assign(user=user, role=Role.EA_ADMIN, account=world.accounts["wd"])
    with pytest.raises(InvalidInput):  # partner admin on a direct enrollment
        services.role_assign(user=user, role=Role.PARTNER_ADMIN, account=world.accounts["ead"])
    with pytest.raises(InvalidInput):  # a profile role on the account itself
        services.role_assign(user=user, role=Role.BP_OWNER, account=world.accounts["ca"])
    with pytest.raises(InvalidInput):  # a profile of another account
        services.role_assign(
            user=user, role=Role.BP_OWNER, account=world.accounts["ca"], profile=world.profiles["wd_p"]
        )


_SCOPE_TYPES = {BillingAccount: "account", BillingProfile: "profile", Subscription: "subscription"}


def _scoped_predicates():
    for name, func in inspect.getmembers(permissions, inspect.isfunction):
        if not name.startswith("can_") or func.__module__ != permissions.__name__:
            continue
        params = list(inspect.signature(func).parameters.values())
        if len(params) == 2 and params[1].annotation in _SCOPE_TYPES:
            yield name, _SCOPE_TYPES[params[1].annotation]


def test_every_predicate_of_the_foundation_is_in_the_table():
    names = {name for name, _kind in _scoped_predicates()}
    assert set(TABLE) <= names
    assert {"can_view", "can_work_support_queue"} <= {
        n for n, _f in inspect.getmembers(permissions, inspect.isfunction)
    }


@pytest.mark.parametrize("name,kind", sorted(_scoped_predicates()))
def test_every_predicate_refuses_outsiders(world, name, kind):
    """Whatever predicate is added later: an anonymous visitor, an inactive user,
    support staff and another tenant's admin get False on every scope."""
    predicate = getattr(permissions, name)
    for scope_key in SCOPES[kind]:
        scope = _scope(world, kind, scope_key)
        for persona in ("anonymous", "inactive", "support", "outsider"):
            assert predicate(world.users[persona], scope) is False, f"{name}: {persona} on {scope_key}"


# Predicates about the user alone (no customer scope).
USER_TABLE = {
    "can_work_support_queue": {"support"},
    # Usage records come from the operator's metering: the operator's staff only.
    "can_import_usage": {"support"},
    # Credit notes, corrections and refunds: support staff only, never a customer role.
    "can_credit_invoices": {"support"},
    "can_refund_payments": {"support"},
    # Two-factor sign-in is the customers' choice; support staff must keep it on.
    "can_turn_off_two_factor": {p for p in PERSONAS if p not in ("support", "inactive", "anonymous")},
}


@pytest.mark.parametrize("name", sorted(n for n in USER_TABLE if hasattr(permissions, n)))
def test_user_predicate_table(world, name):
    predicate = getattr(permissions, name)
    allowed = {p for p in PERSONAS if predicate(world.users[p])}
    assert allowed == USER_TABLE[name]


def _user_predicates():
    for name, func in inspect.getmembers(permissions, inspect.isfunction):
        if name.startswith("can_") and func.__module__ == permissions.__name__:
            if len(inspect.signature(func).parameters) == 1:
                yield name


@pytest.mark.parametrize("name", sorted(_user_predicates()))
def test_every_user_predicate_refuses_anonymous_and_inactive(world, name):
    predicate = getattr(permissions, name)
    for persona in ("anonymous", "inactive"):
        assert predicate(world.users[persona]) is False, f"{name}: {persona}"
    assert predicate(None) is False


def test_must_use_two_factor_only_for_the_operators_people(world):
    assert {p for p in PERSONAS if permissions.must_use_two_factor(world.users[p])} == {"support"}
    assert permissions.must_use_two_factor(None) is False


def test_has_customer_roles_and_agreement_type_predicates(world):
    assert permissions.has_customer_roles(world.users["bp1_owner"]) is True
    assert permissions.has_customer_roles(world.users["support"]) is False
    assert permissions.has_role_on_agreement_type(world.users["bp1_owner"], "customer_agreement", "web_direct")
    assert not permissions.has_role_on_agreement_type(world.users["bp1_owner"], "enterprise")
    assert permissions.has_role_on_agreement_type(world.users["eai_partner"], "enterprise")
    assert not permissions.has_role_on_agreement_type(world.users["support"], "enterprise", "web_direct")
