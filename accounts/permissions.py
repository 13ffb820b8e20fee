"""Who may do what: the portal's role rules (docs/rules.md), as plain predicates.

Every role check in the portal goes through a predicate here; views, API permission
classes, selectors and services only call them. Each predicate takes the user and the
scope (a ``BillingAccount`` or a ``BillingProfile``) and answers True/False. The few
state rules that several doors must agree on (PO-1's "this scope pays by invoice") are
predicates here too, so the service, the page, the API and the templates ask one
function; services give the reason for a refusal.

A user's role assignments are read with one query per request and cached on the user
object (``grants``, accounts.grants), so list pages stay at a constant number of queries.
"""

from django.db.models import Q

from .grants import Grant, forget_grants, grants  # noqa: F401 - read through this module
from .models import AgreementType, BillingAccount, BillingProfile, Channel, PaymentMode, Subscription
from .roles import ACCOUNT_ROLES, PROFILE_ROLES, Role


def account_roles(user, account: BillingAccount) -> set[str]:
    """Roles the user holds on the account itself."""
    return {g.role for g in grants(user) if g.account_id == account.pk and g.profile_id is None}


def profile_roles(user, profile: BillingProfile) -> set[str]:
    """Roles that reach the profile: account-level roles plus roles on this profile."""
    return {
        g.role
        for g in grants(user)
        if g.account_id == profile.account_id and (g.profile_id is None or g.profile_id == profile.pk)
    }


def all_account_roles(user, account: BillingAccount) -> set[str]:
    """Every role the user holds anywhere in the account (account or any profile)."""
    return {g.role for g in grants(user) if g.account_id == account.pk}


# --- Seeing -----------------------------------------------------------------------


def can_view_account(user, account: BillingAccount) -> bool:
    return any(g.account_id == account.pk for g in grants(user))


def can_view_profile(user, profile: BillingProfile) -> bool:
    return bool(profile_roles(user, profile))


def can_view_subscription(user, subscription: Subscription) -> bool:
    return bool(profile_roles(user, subscription.profile))


def can_view(user, obj) -> bool:
    """Generic visibility for an account, a profile or a subscription."""
    if isinstance(obj, BillingAccount):
        return can_view_account(user, obj)
    if isinstance(obj, BillingProfile):
        return can_view_profile(user, obj)
    if isinstance(obj, Subscription):
        return can_view_subscription(user, obj)
    raise TypeError(f"can_view does not know {type(obj).__name__}")


def can_view_invoices(user, profile: BillingProfile) -> bool:
    """Web direct: the account admin. Enterprise: EA admin, EA read-only admin, partner
    admin. Customer agreement: every billing account and billing profile role."""
    return can_view_profile(user, profile)


def can_view_usage_summary(user, account: BillingAccount) -> bool:
    """Enterprise Reports / Usage summary (PO-4): the enrollment's admins."""
    return account.agreement_type == AgreementType.ENTERPRISE and bool(account_roles(user, account))


# --- Changing the account profile (sold-to, billing contact, VAT) ----------------------

_ACCOUNT_EDITORS = {
    AgreementType.WEB_DIRECT: {Role.ACCOUNT_ADMIN},
    AgreementType.CUSTOMER_AGREEMENT: {Role.BA_OWNER, Role.BA_CONTRIBUTOR},
}


def _enterprise_admin_role(account: BillingAccount) -> str:
    """EA admin on a direct enrollment, partner admin on an indirect one (PO-2)."""
    return Role.EA_ADMIN if account.channel == Channel.DIRECT else Role.PARTNER_ADMIN


def can_edit_account_profile(user, account: BillingAccount) -> bool:
    roles = account_roles(user, account)
    if account.agreement_type == AgreementType.ENTERPRISE:
        return _enterprise_admin_role(account) in roles
    return bool(roles & _ACCOUNT_EDITORS.get(account.agreement_type, set()))


# --- PO numbers (PO-2) --------------------------------------------------------------------


def can_edit_po(user, profile: BillingProfile) -> bool:
    """PO-2. Web direct: account admin. Enterprise: EA admin (direct) or partner admin
    (indirect). Customer agreement: billing profile owner/contributor or billing account
    owner/contributor. Everyone else who can see the scope may read the PO number."""
    account = profile.account
    roles = profile_roles(user, profile)
    if account.agreement_type == AgreementType.WEB_DIRECT:
        return Role.ACCOUNT_ADMIN in roles
    if account.agreement_type == AgreementType.ENTERPRISE:
        return _enterprise_admin_role(account) in roles
    return bool(roles & {Role.BA_OWNER, Role.BA_CONTRIBUTOR, Role.BP_OWNER, Role.BP_CONTRIBUTOR})


def can_edit_vat(user, account: BillingAccount) -> bool:
    """The VAT number belongs to the sold-to profile of the account."""
    return can_edit_account_profile(user, account)


def can_request_invoice_amendment(user, profile: BillingProfile) -> bool:
    """PO-5: those who may change the PO or VAT number may ask support to amend an
    invoice that has already been generated."""
    return can_edit_po(user, profile) or can_edit_vat(user, profile.account)


# --- Payment methods (PM-1..PM-3) ----------------------------------------------------------


def _is_signup_user(user, account: BillingAccount) -> bool:
    return user.is_authenticated and account.signed_up_by_id == user.pk


def can_view_payment_methods(user, profile: BillingProfile) -> bool:
    """Web direct: the account admin. Customer agreement: anyone with a role on the
    billing profile (read-only unless they may manage). Enterprise pays by wire."""
    account = profile.account
    if account.agreement_type == AgreementType.ENTERPRISE:
        return False
    if account.agreement_type == AgreementType.WEB_DIRECT:
        return Role.ACCOUNT_ADMIN in profile_roles(user, profile)
    return can_view_profile(user, profile)


def can_manage_payment_methods(user, profile: BillingProfile) -> bool:
    """PM-1, PM-3: only the user who signed up may add, update, activate or remove cards
    (on web direct, the account admin who signed up; on a customer agreement, the
    billing account owner who signed up)."""
    account = profile.account
    roles = profile_roles(user, profile)
    if account.agreement_type == AgreementType.WEB_DIRECT:
        return Role.ACCOUNT_ADMIN in roles and _is_signup_user(user, account)
    if account.agreement_type == AgreementType.CUSTOMER_AGREEMENT:
        return Role.BA_OWNER in roles and _is_signup_user(user, account)
    return False


# --- Paying invoices (PAY-1) -----------------------------------------------------------------


def can_pay_invoices(user, profile: BillingProfile) -> bool:
    """PAY-1. Web direct: the account admin. Customer agreement: the billing account
    owner who signed up, billing profile owner/contributor and invoice manager.
    Enterprise invoices are paid by wire transfer, never in the portal."""
    account = profile.account
    roles = profile_roles(user, profile)
    if account.agreement_type == AgreementType.WEB_DIRECT:
        return Role.ACCOUNT_ADMIN in roles
    if account.agreement_type == AgreementType.CUSTOMER_AGREEMENT:
        if Role.BA_OWNER in roles and _is_signup_user(user, account):
            return True
        return bool(roles & {Role.BP_OWNER, Role.BP_CONTRIBUTOR, Role.INVOICE_MANAGER})
    return False


# --- Members of a scope (MEM-1, MEM-2, MEM-4; docs/rules.md) -------------------------------


def scope_roles(scope: BillingAccount | BillingProfile) -> set[str]:
    """The roles that exist on a scope: the account's for its agreement type (a partner
    admin on an indirect enrollment only); on a customer agreement's billing profile the
    profile roles. A default profile is the account itself and has none of its own."""
    if isinstance(scope, BillingProfile):
        return set(PROFILE_ROLES) if scope.account.is_customer_agreement and not scope.is_default else set()
    roles = set(ACCOUNT_ROLES[scope.agreement_type])
    return roles if scope.channel == Channel.INDIRECT else roles - {Role.PARTNER_ADMIN}


def scope_owner_roles(scope: BillingAccount | BillingProfile) -> set[str]:
    """MEM-1, MEM-4: the roles that own a scope (manage its members; its last holder
    stays): web direct, the account admin; enterprise, the EA admin (direct) or the
    partner admin (indirect); customer agreement, the billing account owner, and on a
    billing profile also that profile's owner."""
    if isinstance(scope, BillingProfile):
        return {Role.BA_OWNER, Role.BP_OWNER}
    if scope.agreement_type == AgreementType.ENTERPRISE:
        return {_enterprise_admin_role(scope)}
    return {Role.ACCOUNT_ADMIN} if scope.agreement_type == AgreementType.WEB_DIRECT else {Role.BA_OWNER}


def grantable_roles(user, scope: BillingAccount | BillingProfile) -> set[str]:
    """MEM-2: the roles the user may grant, change or remove on the scope: every role of
    a scope the user owns, none of any other. An owner holds every right of the scope,
    so nobody grants more than they have; a billing profile owner owns no account role."""
    held = profile_roles(user, scope) if isinstance(scope, BillingProfile) else account_roles(user, scope)
    return scope_roles(scope) if held & scope_owner_roles(scope) else set()


def can_manage_members(user, scope: BillingAccount | BillingProfile) -> bool:
    """MEM-1: invite, change and remove members, revoke invitations (the scope's owners)."""
    return bool(grantable_roles(user, scope))


def can_view_members(user, scope: BillingAccount | BillingProfile) -> bool:
    """MEM-6: every role on the scope itself sees its members and their history (on a
    billing profile also the account-level roles, which reach it)."""
    if isinstance(scope, BillingProfile):
        return bool(scope_roles(scope)) and can_view_profile(user, scope)
    return bool(account_roles(user, scope))


def keeps_owner_role(member, account: BillingAccount) -> bool:
    """MEM-5: the user who signed up for a web-direct account or a customer agreement
    keeps its owner role: only they manage its cards (PM-3) and pay as its owner (PAY-1)."""
    return account.agreement_type != AgreementType.ENTERPRISE and _is_signup_user(member, account)


# --- State rules that every door asks ------------------------------------------------------


def pays_by_invoice(scope: BillingProfile | BillingAccount) -> bool:
    """PO-1, PBI-5: the billing scope pays by invoice (cheque / wire transfer) rather
    than by card. An enterprise enrollment always does; a web-direct account, or a
    customer agreement's billing profile, once support approved its pay-by-invoice
    request (``payment_mode``). ``scope`` is the billing profile; an account stands for
    its single scope (web direct, enterprise)."""
    account = scope.account if isinstance(scope, BillingProfile) else scope
    if account.agreement_type == AgreementType.ENTERPRISE:
        return True
    if isinstance(scope, BillingProfile) and account.agreement_type == AgreementType.CUSTOMER_AGREEMENT:
        return scope.payment_mode == PaymentMode.INVOICE
    return account.payment_mode == PaymentMode.INVOICE


# --- Pay by invoice, support --------------------------------------------------------------------


def can_request_pay_by_invoice(user, profile: BillingProfile) -> bool:
    """PBI-1: who asks for a billing scope to pay by invoice, and follows the request:
    on web direct the account admin; on a customer agreement the billing account owner
    or the owner of that billing profile. An enterprise enrollment pays by invoice
    already."""
    account = profile.account
    roles = profile_roles(user, profile)
    if account.agreement_type == AgreementType.WEB_DIRECT:
        return Role.ACCOUNT_ADMIN in roles
    if account.agreement_type == AgreementType.CUSTOMER_AGREEMENT:
        return bool(roles & {Role.BA_OWNER, Role.BP_OWNER})
    return False


def can_manage_subscription_services(user, profile: BillingProfile) -> bool:
    """Remove a marketplace service from a subscription of the scope (PBI-4): those who
    manage the scope's subscriptions — web direct, the account admin; customer
    agreement, billing account and billing profile owners and contributors; enterprise,
    the EA admin (direct) or the partner admin (indirect)."""
    return can_edit_po(user, profile)


def agreement_types(user) -> set[str]:
    """The agreement types of the accounts the user has a role in."""
    return {g.agreement_type for g in grants(user)}


def has_customer_roles(user) -> bool:
    """The user holds a role on some billing account or profile (support staff hold none)."""
    return bool(grants(user))


def has_role_on_agreement_type(user, *types: str) -> bool:
    """The user holds a role on an account of one of these agreement types."""
    return bool(agreement_types(user) & set(types))


def can_work_support_queue(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.is_support_staff)


def is_support_or_superuser(user) -> bool:
    """Support staff, or a superuser of the operator: who may act for a customer from
    the admin site (record a bank transfer, amend an invoice)."""
    return can_work_support_queue(user) or bool(user and user.is_active and user.is_superuser)


def can_read_invoices_for_support(user) -> bool:
    """Support staff (or a superuser) read the PDF of any issued invoice, to review a
    request about it (amendments, pay by invoice). They hold no role, so the customer's
    invoice pages stay closed to them (404) and they can neither pay nor change."""
    return is_support_or_superuser(user)


def can_credit_invoices(user) -> bool:
    """Credit notes: support staff (or a superuser of the operator) credit an issued
    invoice in full or in part and correct a paid invoice (credit it in full and issue
    a corrected one). No customer role may: the page, the API, the admin site and the
    services all ask this predicate."""
    return is_support_or_superuser(user)


def can_refund_payments(user) -> bool:
    """Refunds of card payments: support staff (or a superuser), at every door."""
    return is_support_or_superuser(user)


def must_use_two_factor(user) -> bool:
    """Two-factor sign-in is required for the operator's people: support staff, staff
    (the admin site) and superusers. Customers may turn it on (docs/operations.md)."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    return bool(user.is_support_staff or user.is_staff or user.is_superuser)


def can_turn_off_two_factor(user) -> bool:
    """A customer may turn two-factor sign-in off again; for whom it is required may not."""
    return bool(user and user.is_authenticated and user.is_active) and not must_use_two_factor(user)


def can_manage_own_access(user) -> bool:
    """Every active, signed-in user keeps their own profile, password and API tokens,
    nobody else's (accounts.self_service, accounts.api_tokens); a token is handed out
    only after the second factor."""
    return bool(user and user.is_authenticated and user.is_active)


def can_import_usage(user) -> bool:
    """Invoices, Charges: usage records come from the operator's metering, so only the
    portal operator's staff (``is_staff``) may import them through the API."""
    return bool(user and user.is_authenticated and user.is_active and user.is_staff)


# --- The same rules as database filters (list pages) ----------------------------------


def can_view_invoices_filter(user, *, account_field: str = "account_id", profile_field: str = "profile_id"):
    """``can_view_invoices`` as a database filter (a ``Q`` over rows that name an account
    and a billing profile), so list pages select visible rows in SQL instead of loading
    and testing every profile. It mirrors the predicate above, which stays the rule:
    can_view_invoices is can_view_profile, i.e. any role that reaches the profile; an
    account-level role reaches every profile of its account, a profile-level role only
    its profile. A test checks filter and predicate agree for every demo persona."""
    return scope_ids_filter(*visible_scope_ids(user), account_field=account_field, profile_field=profile_field)


def visible_scope_ids(user) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """What ``can_view_invoices_filter`` selects: the accounts the user reaches whole (an
    account-level role) and the further billing profiles (a profile-level role), sorted."""
    account_level = {g.account_id for g in grants(user) if g.profile_id is None}
    profile_level = {g.profile_id for g in grants(user) if g.profile_id is not None}
    return tuple(sorted(account_level)), tuple(sorted(profile_level))


def scope_ids_filter(account_ids, profile_ids, *, account_field: str = "account_id", profile_field: str = "profile_id"):
    """The ``Q`` of ``can_view_invoices_filter`` for ``visible_scope_ids``: rows of those
    accounts or of those profiles (none when both are empty). The ids may be
    ``PreparedRead`` slots (invoices.selectors: a list's first page, compiled once)."""
    if not account_ids and not profile_ids:
        return Q(pk__in=[])
    query = Q()
    if account_ids:
        query |= Q(**{f"{account_field}__in": list(account_ids)})
    if profile_ids:
        query |= Q(**{f"{profile_field}__in": list(profile_ids)})
    return query


def can_amend_invoice(user, profile: BillingProfile, *, changes_vat: bool) -> bool:
    """PO-5, PO-7: support staff amend an issued invoice (a support request); whoever may
    edit the scope's PO number may change the PO number on its invoice, inside the PO-7
    window that the PO service checks. A VAT change on an issued invoice is support's."""
    if can_credit_invoices(user):
        # Support amend any invoice; a VAT change that needs a credit note and a
        # corrected invoice (money already paid) is theirs too.
        return True
    return not changes_vat and can_edit_po(user, profile)
