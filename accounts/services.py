"""Writes for users, billing accounts and roles. One transaction per function."""

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from billing_portal.card_numbers import refuse_card_numbers
from billing_portal.errors import Conflict, InvalidInput, NotAllowed
from billing_portal.validators import check_number_version, clean_vat_id

from . import hooks, permissions
from .models import (
    ACCOUNT_TEXT_FIELDS,
    AgreementType,
    BillingAccount,
    BillingProfile,
    MarketplaceService,
    PaymentMode,
    RoleAssignment,
    User,
)

# Fields of the billing-account profile (sold-to, VAT ID and billing contact), in the
# order the page and the API show them. The form and the serializers derive theirs
# from this tuple.
PROFILE_FIELDS = (
    "company_name",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "region",
    "country",
    "vat_id",
    "billing_contact_name",
    "billing_contact_email",
    "billing_contact_phone",
)


def _country_code(country) -> str:
    return getattr(country, "code", country) or ""


def _lock(account: BillingAccount) -> BillingAccount:
    return BillingAccount.objects.select_for_update().get(pk=account.pk)


def _save_vat_id(locked: BillingAccount, new_value: str, actor: User) -> None:
    """Write a validated VAT ID on the locked row and tell the apps above (VAT-1)."""
    old_value = locked.vat_id
    locked.vat_id = new_value
    locked.version += 1
    locked.save(update_fields=["vat_id", "version"])
    hooks.vat_number_changed(account=locked, old=old_value, new=new_value, actor=actor)


@transaction.atomic
def billing_account_update_profile(*, account: BillingAccount, actor: User, version: int, data: dict) -> BillingAccount:
    """Update sold-to address, billing contact and VAT ID (PBI-6, PBI-7, VAT-1).

    ``version`` is the version the editor read; if someone saved in between, nothing is
    written and ``Conflict`` is raised so that the form can show the newer values. A
    new VAT ID is validated for the country being saved.
    """
    if not permissions.can_edit_account_profile(actor, account):
        raise NotAllowed(_("You may see this billing account but not change its profile."))
    locked = _lock(account)
    if locked.version != version:
        raise Conflict(
            _("Someone else changed this profile while you were editing it. Review the current values and save again."),
            code="stale_version",
        )
    unknown = set(data) - set(PROFILE_FIELDS)
    if unknown:
        raise InvalidInput(_("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    # Before anything else (the VAT check repeats its value): no field keeps a card number.
    refuse_card_numbers(data, ACCOUNT_TEXT_FIELDS)
    old_vat = locked.vat_id
    if "vat_id" in data:
        # Refuse an invalid VAT ID (for the country being saved) before writing anything.
        data = {**data, "vat_id": clean_vat_id(data["vat_id"], _country_code(data.get("country", locked.country)))}
    changed = [f for f in PROFILE_FIELDS if f in data and f != "vat_id" and getattr(locked, f) != data[f]]
    for field in changed:
        setattr(locked, field, data[field])
    if changed:
        locked.version += 1
        locked.full_clean(exclude=["signed_up_by"])
        locked.save(update_fields=[*changed, "version"])
    if data.get("vat_id", old_vat) != old_vat:
        _save_vat_id(locked, data["vat_id"], actor)
    account.version = locked.version
    return locked


@transaction.atomic
def billing_account_vat_id_set(
    *, account: BillingAccount, vat_id: str, actor: User, version: int | None = None
) -> BillingAccount:
    """VAT-1: validate for the account's country, save, and call ``vat_number_changed``
    (purchase_orders records the change). The new number applies to the next invoice
    (PO-5); issued invoices keep their snapshot. ``version`` (optional) is the account
    version the editor read; a newer one raises ``Conflict`` and nothing is written."""
    if not permissions.can_edit_vat(actor, account):
        raise NotAllowed(_("Your role can see this VAT number but not change it."), code="vat_role_not_allowed")
    new_value = clean_vat_id(vat_id, _country_code(account.country))
    locked = _lock(account)
    check_number_version(version, locked.version, locked.vat_id)
    if new_value != locked.vat_id:
        _save_vat_id(locked, new_value, actor)
    account.vat_id, account.version = locked.vat_id, locked.version
    return locked


@transaction.atomic
def user_set_language(*, user: User, language: str) -> User:
    if language not in dict(settings.LANGUAGES):
        raise InvalidInput(_("Unknown language."), code="unknown_language")
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
    return user


def refuse_roles_outside_scope(roles, scope: BillingAccount | BillingProfile) -> None:
    """Refuse a role that does not exist on the scope (``permissions.scope_roles``): an
    EA role on a web-direct account, a profile role on an account, a partner admin on a
    direct enrollment."""
    outside = [role for role in roles if role not in permissions.scope_roles(scope)]
    if outside:
        message = _("This role does not exist on this billing scope.")
        raise InvalidInput(message, code="role_scope", fields={"roles": [message]})


@transaction.atomic
def role_assign(
    *, user: User, role: str, account: BillingAccount, profile: BillingProfile | None = None
) -> RoleAssignment:
    """Give ``user`` a role on an account (``profile`` None) or on one of its profiles,
    refusing roles that do not exist on that agreement type or scope."""
    if profile is not None and profile.account_id != account.pk:
        raise InvalidInput(_("The billing profile does not belong to this account."))
    refuse_roles_outside_scope([role], profile or account)
    assignment, _created = RoleAssignment.objects.get_or_create(user=user, role=role, account=account, profile=profile)
    permissions.forget_grants(user)
    return assignment


@transaction.atomic
def billing_account_create(
    *, signed_up_by: User | None = None, profile_name: str | None = None, **fields
) -> BillingAccount:
    """Create an account with its default billing profile (web direct, enterprise) or
    its first billing profile (customer agreement, named ``profile_name``)."""
    refuse_card_numbers({**fields, "profile_name": profile_name}, (*ACCOUNT_TEXT_FIELDS, "profile_name"))
    account = BillingAccount(signed_up_by=signed_up_by, **fields)
    account.full_clean(exclude=["signed_up_by"])
    account.save()
    is_ca = account.agreement_type == "customer_agreement"
    BillingProfile.objects.create(account=account, name=profile_name or account.name, is_default=not is_ca)
    return account


def default_profile(account: BillingAccount) -> BillingProfile:
    return account.profiles.get(is_default=True)


@transaction.atomic
def billing_scope_switch_to_invoice(*, profile: BillingProfile, actor) -> BillingProfile:
    """PBI-9: the billing scope pays by invoice from now on; PBI-5: for good, nothing
    switches it back (there is no service that does). Web direct switches the account,
    a customer agreement the billing profile. Support staff only: called by the approval
    of a pay-by-invoice request."""
    if not permissions.is_support_or_superuser(actor):
        raise NotAllowed(
            _("Only support staff can switch a billing scope to pay by invoice."), code="not_support_staff"
        )
    locked = BillingProfile.objects.select_for_update().select_related("account").get(pk=profile.pk)
    account = locked.account
    if account.agreement_type == AgreementType.ENTERPRISE or permissions.pays_by_invoice(locked):
        raise Conflict(_("This billing scope already pays by invoice."), code="already_pays_by_invoice")
    # No card stays the scope's active payment method (the cards themselves stay, to pay
    # an earlier card invoice through Pay now).
    if account.agreement_type == AgreementType.CUSTOMER_AGREEMENT:
        locked.payment_mode, locked.payment_method = PaymentMode.INVOICE, None
        locked.save(update_fields=["payment_mode", "payment_method"])
    else:
        BillingAccount.objects.filter(pk=account.pk).update(payment_mode=PaymentMode.INVOICE)
        account.payment_mode = PaymentMode.INVOICE
        locked.subscriptions.update(payment_method=None)
    profile.payment_mode, profile.account.payment_mode = locked.payment_mode, account.payment_mode
    return locked


@transaction.atomic
def marketplace_service_remove(*, service: MarketplaceService, actor) -> None:
    """Take a third-party (marketplace) service off its subscription (PBI-4: they cannot
    be paid by invoice)."""
    subscription = service.subscription
    if not permissions.can_manage_subscription_services(actor, subscription.profile):
        raise NotAllowed(_("Your role cannot change this subscription's services."), code="role_not_allowed")
    MarketplaceService.objects.filter(pk=service.pk).delete()
