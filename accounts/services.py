"""Writes for users, billing accounts and roles. One transaction per function."""

from django.db import transaction
from django.utils.translation import gettext as _

from billing_portal.errors import Conflict, InvalidInput

from . import permissions
from .models import BillingAccount, BillingProfile, RoleAssignment, User
from .roles import ACCOUNT_ROLES, PROFILE_ROLES

# Fields of the billing-account profile page (sold-to and billing contact). The VAT
# number goes through purchase_orders.services.vat_number_set so that it is
# validated and its change recorded (VAT-1).
PROFILE_FIELDS = (
    "company_name",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "region",
    "country",
    "billing_contact_name",
    "billing_contact_email",
    "billing_contact_phone",
)


@transaction.atomic
def billing_account_update_profile(*, account: BillingAccount, actor: User, version: int, data: dict) -> BillingAccount:
    """Update sold-to address, billing contact and VAT ID (PBI-6, PBI-7, VAT-1).

    ``version`` is the version the editor read; if someone saved in between, nothing is
    written and ``Conflict`` is raised so that the form can show the newer values.
    """
    from billing_portal.validators import clean_vat_id
    from purchase_orders.services import vat_number_set

    locked = BillingAccount.objects.select_for_update().get(pk=account.pk)
    if locked.version != version:
        raise Conflict(
            _("Someone else changed this profile while you were editing it. Review the current values and save again."),
            code="stale_version",
        )
    unknown = set(data) - set(PROFILE_FIELDS) - {"vat_id"}
    if unknown:
        raise InvalidInput(_("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    if "vat_id" in data:
        # Refuse an invalid VAT ID (for the country being saved) before writing anything.
        country = data.get("country", locked.country)
        clean_vat_id(data["vat_id"], getattr(country, "code", country) or "")
    changed = []
    for field in PROFILE_FIELDS:
        if field in data and getattr(locked, field) != data[field]:
            setattr(locked, field, data[field])
            changed.append(field)
    if changed:
        locked.version += 1
        locked.full_clean(exclude=["signed_up_by"])
        locked.save(update_fields=[*changed, "version"])
    if "vat_id" in data:
        locked = vat_number_set(account=locked, vat_id=data["vat_id"], actor=actor)
    return locked


@transaction.atomic
def user_set_language(*, user: User, language: str) -> User:
    from django.conf import settings

    if language not in dict(settings.LANGUAGES):
        raise InvalidInput(_("Unknown language."), code="unknown_language")
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
    return user


@transaction.atomic
def role_assign(
    *, user: User, role: str, account: BillingAccount, profile: BillingProfile | None = None
) -> RoleAssignment:
    """Give ``user`` a role on an account (``profile`` None) or on one of its profiles,
    refusing roles that do not exist on that agreement type or scope."""
    if profile is not None:
        if profile.account_id != account.pk:
            raise InvalidInput(_("The billing profile does not belong to this account."))
        if role not in PROFILE_ROLES or account.agreement_type != "customer_agreement":
            raise InvalidInput(_("This role cannot be given on a billing profile."), code="role_scope")
    elif role not in ACCOUNT_ROLES[account.agreement_type]:
        raise InvalidInput(_("This role does not exist on this agreement type."), code="role_scope")
    if role == "partner_admin" and account.channel != "indirect":
        raise InvalidInput(_("A partner admin exists only on an indirect enrollment."), code="role_scope")
    assignment, _created = RoleAssignment.objects.get_or_create(user=user, role=role, account=account, profile=profile)
    permissions.forget_grants(user)
    return assignment


@transaction.atomic
def billing_account_create(
    *, signed_up_by: User | None = None, profile_name: str | None = None, **fields
) -> BillingAccount:
    """Create an account with its default billing profile (web direct, enterprise) or
    its first billing profile (customer agreement, named ``profile_name``)."""
    account = BillingAccount(signed_up_by=signed_up_by, **fields)
    account.full_clean(exclude=["signed_up_by"])
    account.save()
    is_ca = account.agreement_type == "customer_agreement"
    BillingProfile.objects.create(account=account, name=profile_name or account.name, is_default=not is_ca)
    return account


def default_profile(account: BillingAccount) -> BillingProfile:
    return account.profiles.get(is_default=True)
