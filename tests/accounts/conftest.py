"""Fixtures for the foundation tests: a small "world" with one account of every
agreement type, a user for every role (and the edge cases around them)."""

from dataclasses import dataclass, field

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache

from accounts import services
from accounts.models import BillingAccount, BillingProfile, Subscription, User
from accounts.roles import Role
from tests.factories import UserFactory, make_account, make_subscription


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters live in the cache; start every test without them."""
    cache.clear()
    yield
    cache.clear()


@dataclass
class World:
    users: dict = field(default_factory=dict)
    accounts: dict[str, BillingAccount] = field(default_factory=dict)
    profiles: dict[str, BillingProfile] = field(default_factory=dict)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)


# persona key -> (role, account key, profile key or None)
ASSIGNMENTS = {
    "wd_admin": (Role.ACCOUNT_ADMIN, "wd", None),  # signed up for "wd"
    "wd_admin2": (Role.ACCOUNT_ADMIN, "wd", None),  # account admin who did not sign up
    "ead_admin": (Role.EA_ADMIN, "ead", None),
    "ead_ro": (Role.EA_READONLY, "ead", None),
    "eai_partner": (Role.PARTNER_ADMIN, "eai", None),
    "eai_admin": (Role.EA_ADMIN, "eai", None),  # EA admin on an indirect enrollment
    "eai_ro": (Role.EA_READONLY, "eai", None),
    "ca_owner": (Role.BA_OWNER, "ca", None),  # signed up for "ca"
    "ca_owner2": (Role.BA_OWNER, "ca", None),  # owner who did not sign up
    "ca_contrib": (Role.BA_CONTRIBUTOR, "ca", None),
    "ca_reader": (Role.BA_READER, "ca", None),
    "bp1_owner": (Role.BP_OWNER, "ca", "ca_p1"),
    "bp1_contrib": (Role.BP_CONTRIBUTOR, "ca", "ca_p1"),
    "bp1_reader": (Role.BP_READER, "ca", "ca_p1"),
    "bp1_invmgr": (Role.INVOICE_MANAGER, "ca", "ca_p1"),
    "bp2_owner": (Role.BP_OWNER, "ca", "ca_p2"),
    "outsider": (Role.ACCOUNT_ADMIN, "other", None),  # another tenant
    "inactive": (Role.BA_OWNER, "ca", None),  # deactivated user with a role
}
PERSONAS = [*ASSIGNMENTS, "support", "anonymous"]


@pytest.fixture
def world(db) -> World:
    w = World()
    for key in ASSIGNMENTS:
        w.users[key] = UserFactory(email=f"{key}@world.example")
    w.users["support"] = UserFactory(email="support@world.example", is_support_staff=True, is_staff=True)
    w.users["anonymous"] = AnonymousUser()

    w.accounts["wd"] = make_account(name="WD", agreement_type="web_direct", signed_up_by=w.users["wd_admin"])
    w.accounts["ead"] = make_account(name="EA direct", agreement_type="enterprise", channel="direct")
    w.accounts["eai"] = make_account(
        name="EA indirect", agreement_type="enterprise", channel="indirect", partner_name="Partner Ltd"
    )
    w.accounts["ca"] = make_account(
        name="CA", agreement_type="customer_agreement", signed_up_by=w.users["ca_owner"], profile_name="P1"
    )
    w.accounts["other"] = make_account(name="Other", agreement_type="web_direct", signed_up_by=w.users["outsider"])
    for key in ("wd", "ead", "eai", "other"):
        w.profiles[f"{key}_p"] = services.default_profile(w.accounts[key])
    w.profiles["ca_p1"] = w.accounts["ca"].profiles.get(name="P1")
    w.profiles["ca_p2"] = BillingProfile.objects.create(account=w.accounts["ca"], name="P2")

    for key, (role, account_key, profile_key) in ASSIGNMENTS.items():
        services.role_assign(
            user=w.users[key],
            role=role,
            account=w.accounts[account_key],
            profile=w.profiles[profile_key] if profile_key else None,
        )
    User.objects.filter(pk=w.users["inactive"].pk).update(is_active=False)
    w.users["inactive"].refresh_from_db()

    for key in ("wd", "ead", "eai", "other"):
        w.subscriptions[f"{key}_s"] = make_subscription(w.accounts[key], w.profiles[f"{key}_p"], name=f"{key} sub")
    w.subscriptions["ca_s1"] = make_subscription(w.accounts["ca"], w.profiles["ca_p1"], name="P1 sub", marketplace=True)
    w.subscriptions["ca_s2"] = make_subscription(w.accounts["ca"], w.profiles["ca_p2"], name="P2 sub")
    return w
