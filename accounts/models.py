"""Users, billing accounts, billing profiles, subscriptions and role assignments.

Billing scope: invoices, payment methods and PO numbers hang off a ``BillingProfile``.
A customer agreement has one or more billing profiles that its users see and name.
A web-direct account and an enterprise enrollment each have exactly one *default*
profile (``is_default=True``), created with the account and never shown as a separate
thing in the interface: for them the profile *is* the account. This keeps one code
path for "the scope an invoice belongs to" across the three agreement types.
"""

import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from billing_portal.card_numbers import refuse_card_number, validate_no_card_numbers
from billing_portal.money import CURRENCY_CHOICES

from .member_models import Invitation, InvitationStatus, MemberAction, MemberChange  # noqa: F401 (members)
from .roles import Role

# The free-text fields a person fills in: none of them may hold a card number.
USER_TEXT_FIELDS = ("email", "full_name")
ACCOUNT_TEXT_FIELDS = (
    "name",
    "partner_name",
    "company_name",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "region",
    "vat_id",
    "billing_contact_name",
    "billing_contact_email",
    "billing_contact_phone",
)
PROFILE_TEXT_FIELDS = (
    "name",
    "bill_to_name",
    "bill_to_address_line1",
    "bill_to_postal_code",
    "bill_to_city",
    "invoice_email",
    "po_number",
)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An e-mail address is required")
        email = self.normalize_email(email).lower()
        refuse_card_number(email, field="email")
        refuse_card_number(extra.get("full_name"), field="full_name")
        user = self.model(email=email, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(_("e-mail address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="en")
    is_support_staff = models.BooleanField(
        _("support staff"), default=False, help_text=_("Works the support-request queue.")
    )
    is_staff = models.BooleanField(_("staff status"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self):
        return self.email

    def clean(self):
        super().clean()
        validate_no_card_numbers(self, USER_TEXT_FIELDS)

    def get_full_name(self):
        return self.full_name or self.email

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email


class AgreementType(models.TextChoices):
    WEB_DIRECT = "web_direct", _("Web direct")
    ENTERPRISE = "enterprise", _("Enterprise agreement")
    CUSTOMER_AGREEMENT = "customer_agreement", _("Customer agreement")


class AccountKind(models.TextChoices):
    BUSINESS = "business", _("Business")
    INDIVIDUAL = "individual", _("Individual")


class Channel(models.TextChoices):
    DIRECT = "direct", _("Direct")
    INDIRECT = "indirect", _("Indirect (through a partner)")


class PaymentMode(models.TextChoices):
    CARD = "card", _("Card")
    INVOICE = "invoice", _("Invoice (cheque / wire transfer)")


class BillingAccount(models.Model):
    name = models.CharField(_("name"), max_length=200)
    agreement_type = models.CharField(_("agreement type"), max_length=32, choices=AgreementType.choices)
    kind = models.CharField(_("account kind"), max_length=16, choices=AccountKind.choices, default=AccountKind.BUSINESS)
    enrollment_number = models.CharField(_("enrollment number"), max_length=20, blank=True)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, blank=True)
    partner_name = models.CharField(_("partner"), max_length=200, blank=True)
    # Sold-to: the company as registered for VAT or with the government.
    company_name = models.CharField(_("company name"), max_length=200, blank=True)
    address_line1 = models.CharField(_("address"), max_length=200)
    address_line2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20)
    city = models.CharField(_("city"), max_length=100)
    region = models.CharField(_("state or province"), max_length=100, blank=True)
    country = CountryField(_("country"))
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES, default="EUR")
    vat_id = models.CharField(_("VAT / tax ID"), max_length=32, blank=True)
    billing_contact_name = models.CharField(_("billing contact name"), max_length=150, blank=True)
    billing_contact_email = models.EmailField(_("billing contact e-mail"), blank=True)
    billing_contact_phone = models.CharField(_("billing contact phone"), max_length=40, blank=True)
    payment_mode = models.CharField(
        _("payment mode"), max_length=16, choices=PaymentMode.choices, default=PaymentMode.CARD
    )
    language = models.CharField(_("invoice language"), max_length=8, choices=settings.LANGUAGES, default="en")
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Amsterdam")
    signed_up_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("signed up by"),
        on_delete=models.PROTECT,
        related_name="signed_up_accounts",
        null=True,
        blank=True,
    )
    # Bumped by every profile edit; forms carry it to detect concurrent edits.
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("billing account")
        verbose_name_plural = _("billing accounts")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment_number"],
                condition=~Q(enrollment_number=""),
                name="account_enrollment_number_unique",
            ),
            models.CheckConstraint(
                condition=~Q(agreement_type="enterprise") | (~Q(enrollment_number="") & ~Q(channel="")),
                name="account_enterprise_has_enrollment_and_channel",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        validate_no_card_numbers(self, ACCOUNT_TEXT_FIELDS)

    @property
    def is_business(self) -> bool:
        return self.kind == AccountKind.BUSINESS

    @property
    def is_web_direct(self) -> bool:
        return self.agreement_type == AgreementType.WEB_DIRECT

    @property
    def is_enterprise(self) -> bool:
        return self.agreement_type == AgreementType.ENTERPRISE

    @property
    def is_customer_agreement(self) -> bool:
        return self.agreement_type == AgreementType.CUSTOMER_AGREEMENT

    @property
    def sold_to_lines(self) -> list[str]:
        lines = [self.company_name or self.name, self.address_line1, self.address_line2]
        lines.append(" ".join(p for p in [self.postal_code, self.city] if p))
        lines.append(self.region)
        lines.append(str(self.country.name) if self.country else "")
        return [line for line in lines if line]


def scope_name(account_name: str, profile_name: str, is_default: bool) -> str:
    """A billing profile's name as the interface shows it (``str(profile)``): the
    account's name, followed by the profile's unless it is the implicit default."""
    return account_name if is_default else f"{account_name} / {profile_name}"


class BillingProfile(models.Model):
    account = models.ForeignKey(BillingAccount, on_delete=models.CASCADE, related_name="profiles")
    name = models.CharField(_("name"), max_length=200)
    is_default = models.BooleanField(
        _("default profile"),
        default=False,
        help_text=_("The single implicit profile of a web-direct account or an enterprise enrollment."),
    )
    # Bill-to; blank fields fall back to the account's sold-to address.
    bill_to_name = models.CharField(_("bill-to name"), max_length=200, blank=True)
    bill_to_address_line1 = models.CharField(_("bill-to address"), max_length=200, blank=True)
    bill_to_postal_code = models.CharField(_("bill-to postal code"), max_length=20, blank=True)
    bill_to_city = models.CharField(_("bill-to city"), max_length=100, blank=True)
    bill_to_country = CountryField(_("bill-to country"), blank=True)
    invoice_email = models.EmailField(_("invoice e-mail"), blank=True)
    # PO number for the next invoice (web direct and customer agreement; enterprise
    # enrollments have one per billing period, see purchase_orders.PeriodPONumber).
    po_number = models.CharField(_("PO number"), max_length=50, blank=True)
    # A customer agreement pays per billing profile: by card, or by invoice once support
    # approved its pay-by-invoice request (PBI-9; for good, PBI-5). Web direct and
    # enterprise decide on the account (``BillingAccount.payment_mode``).
    payment_mode = models.CharField(
        _("payment mode"), max_length=16, choices=PaymentMode.choices, default=PaymentMode.CARD
    )
    # Active card of a customer-agreement billing profile (PM-2).
    payment_method = models.ForeignKey(
        "payments.PaymentMethod",
        verbose_name=_("active payment method"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="active_for_profiles",
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("billing profile")
        verbose_name_plural = _("billing profiles")
        ordering = ["account_id", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"], condition=Q(is_default=True), name="profile_one_default_per_account"
            ),
        ]

    def __str__(self):
        return scope_name(self.account.name, self.name, self.is_default)

    def clean(self):
        super().clean()
        validate_no_card_numbers(self, PROFILE_TEXT_FIELDS)

    @property
    def bill_to_lines(self) -> list[str]:
        if not self.bill_to_address_line1:
            return self.account.sold_to_lines
        lines = [self.bill_to_name or self.account.company_name or self.account.name, self.bill_to_address_line1]
        lines.append(" ".join(p for p in [self.bill_to_postal_code, self.bill_to_city] if p))
        country = self.bill_to_country or self.account.country
        lines.append(str(country.name) if country else "")
        return [line for line in lines if line]


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    DISABLED = "disabled", _("Disabled")
    CANCELLED = "cancelled", _("Cancelled")


class Subscription(models.Model):
    account = models.ForeignKey(BillingAccount, on_delete=models.CASCADE, related_name="subscriptions")
    profile = models.ForeignKey(BillingProfile, on_delete=models.PROTECT, related_name="subscriptions")
    subscription_id = models.UUIDField(_("subscription ID"), default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200)
    offer = models.CharField(_("offer"), max_length=100, default="Pay-As-You-Go")
    status = models.CharField(
        _("status"), max_length=16, choices=SubscriptionStatus.choices, default=SubscriptionStatus.ACTIVE
    )
    # Active card of a web-direct subscription (PM-4 spreads a new card to every
    # subscription that used the same card).
    payment_method = models.ForeignKey(
        "payments.PaymentMethod",
        verbose_name=_("active payment method"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="active_for_subscriptions",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        ordering = ["account_id", "name", "id"]
        indexes = [models.Index(fields=["status", "profile"])]

    def __str__(self):
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == SubscriptionStatus.ACTIVE


class MarketplaceService(models.Model):
    """A third-party (marketplace) service held by a subscription (PBI-4)."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="marketplace_services")
    name = models.CharField(_("name"), max_length=200)
    publisher = models.CharField(_("publisher"), max_length=200)
    created_at = models.DateTimeField(_("added"), default=timezone.now)

    class Meta:
        verbose_name = _("marketplace service")
        verbose_name_plural = _("marketplace services")
        ordering = ["name", "id"]

    def __str__(self):
        return f"{self.name} ({self.publisher})"


class RoleAssignment(models.Model):
    """A user's role on a billing account (``profile`` empty) or on one billing profile."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    account = models.ForeignKey(BillingAccount, on_delete=models.CASCADE, related_name="role_assignments")
    profile = models.ForeignKey(
        BillingProfile, on_delete=models.CASCADE, related_name="role_assignments", null=True, blank=True
    )
    created_at = models.DateTimeField(_("assigned"), default=timezone.now)

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "account"], condition=Q(profile__isnull=True), name="role_account_unique"
            ),
            models.UniqueConstraint(
                fields=["user", "role", "profile"], condition=Q(profile__isnull=False), name="role_profile_unique"
            ),
        ]

    def __str__(self):
        return f"{self.user} – {self.get_role_display()} – {self.profile or self.account}"


# API tokens live in their own module; importing them here registers them with this app.
from .token_models import ApiToken, ApiTokenOrigin  # noqa: E402, F401
