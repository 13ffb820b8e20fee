"""Payment methods (cards), held as gateway tokens.

The portal never receives, stores or logs a card number or CVC: cards are entered on
the gateway's own page, which hands back a token. Only token, brand, last four
digits, expiry and holder (plus the card's billing address) are kept here.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_countries.fields import CountryField

from billing_portal import clock


class PaymentMethod(models.Model):
    account = models.ForeignKey("accounts.BillingAccount", on_delete=models.CASCADE, related_name="payment_methods")
    # The billing scope the card belongs to: the default profile of a web-direct
    # account, or a customer-agreement billing profile (PM-2).
    profile = models.ForeignKey("accounts.BillingProfile", on_delete=models.CASCADE, related_name="payment_methods")
    gateway = models.CharField(_("gateway"), max_length=32, default="sandbox")
    token = models.CharField(_("token"), max_length=64, unique=True)
    brand = models.CharField(_("brand"), max_length=32)
    last4 = models.CharField(_("last four digits"), max_length=4)
    exp_month = models.PositiveSmallIntegerField(_("expiry month"))
    exp_year = models.PositiveSmallIntegerField(_("expiry year"))
    holder_name = models.CharField(_("cardholder name"), max_length=150)
    address_line1 = models.CharField(_("billing address"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = CountryField(_("country"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("added"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    # Removed cards are kept (payments refer to them) but no longer offered.
    removed_at = models.DateTimeField(_("removed"), null=True, blank=True)

    class Meta:
        verbose_name = _("payment method")
        verbose_name_plural = _("payment methods")
        ordering = ["profile_id", "-created_at", "id"]
        indexes = [models.Index(fields=["profile", "removed_at"])]

    def __str__(self):
        return f"{self.brand} •••• {self.last4} ({self.exp_month:02d}/{self.exp_year})"

    @property
    def expiry(self) -> str:
        return f"{self.exp_month:02d}/{self.exp_year % 100:02d}"

    @property
    def is_expired(self) -> bool:
        """The card's expiry month is over (a card is valid through its expiry month)."""
        today = clock.today()
        return (self.exp_year, self.exp_month) < (today.year, today.month)


class CardSetupStatus(models.TextChoices):
    OPEN = "open", _("Open")
    COMPLETED = "completed", _("Completed")
    DECLINED = "declined", pgettext_lazy("card setup", "Declined")
    CANCELLED = "cancelled", pgettext_lazy("card setup", "Cancelled")


class CardSetup(models.Model):
    """One "add a card" journey: the portal's side of a gateway card-entry session.

    It remembers what the customer chose before leaving for the gateway's page (make
    the card active, billing address, where to return) and, once the gateway hands back
    the result, which card it produced or why it was declined. No card data here.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey("accounts.BillingAccount", on_delete=models.CASCADE, related_name="+")
    profile = models.ForeignKey("accounts.BillingProfile", on_delete=models.CASCADE, related_name="card_setups")
    # Web direct: the subscription the card was added from (PM-4 spreads from it).
    subscription = models.ForeignKey(
        "accounts.Subscription", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    make_active = models.BooleanField(_("use this card as my active payment method"), default=False)
    address_line1 = models.CharField(_("billing address"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = CountryField(_("country"), blank=True)
    # A portal path to return to afterwards (the Pay now flow), validated on input.
    next_path = models.CharField(max_length=300, blank=True)
    gateway = models.CharField(max_length=32, default="sandbox")
    gateway_session_id = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=16, choices=CardSetupStatus.choices, default=CardSetupStatus.OPEN)
    decline_code = models.CharField(max_length=40, blank=True)
    payment_method = models.ForeignKey(
        PaymentMethod, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("card setup")
        verbose_name_plural = _("card setups")

    def __str__(self):
        return f"{self.pk} ({self.status})"


class PaymentMethodAction(models.TextChoices):
    ADDED = "added", _("Added")
    UPDATED = "updated", _("Updated")
    ACTIVATED = "activated", _("Made active")
    REMOVED = "removed", _("Removed")


class PaymentMethodEvent(models.Model):
    """History of the payment methods of a scope: who did what, when, to which card and
    on which subscriptions (issue: history shown on the payment-methods page)."""

    profile = models.ForeignKey(
        "accounts.BillingProfile", on_delete=models.CASCADE, related_name="payment_method_events"
    )
    payment_method = models.ForeignKey(PaymentMethod, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("action"), max_length=16, choices=PaymentMethodAction.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    at = models.DateTimeField(_("when"), default=timezone.now)
    # Card summary at the time ("Visa •••• 4242 (12/2030)").
    card = models.CharField(_("card"), max_length=80)
    # [{"subscription_id": "...", "name": "..."}] the action applied to (web direct).
    subscriptions = models.JSONField(_("subscriptions"), default=list, blank=True)
    # Changed fields of an update: {"field": [old, new]} (never card data: holder,
    # expiry and address only).
    changes = models.JSONField(_("changes"), default=dict, blank=True)

    class Meta:
        verbose_name = _("payment method event")
        verbose_name_plural = _("payment method events")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["profile", "-at"])]

    def __str__(self):
        return f"{self.get_action_display()}: {self.card}"


# --- The sandbox gateway's own records ------------------------------------------------------
# These tables play the part of the processor's database. They hold what a real
# processor would tell a merchant: token, brand, last four, expiry, holder and the
# outcome class of the test card; never the number or the CVC.


class SandboxCard(models.Model):
    token = models.CharField(max_length=64, primary_key=True)
    brand = models.CharField(max_length=32)
    last4 = models.CharField(max_length=4)
    exp_month = models.PositiveSmallIntegerField()
    exp_year = models.PositiveSmallIntegerField()
    holder_name = models.CharField(max_length=150)
    outcome = models.CharField(max_length=40)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("sandbox card")
        verbose_name_plural = _("sandbox cards")

    def __str__(self):
        return f"{self.brand} •••• {self.last4} ({self.outcome})"


class SandboxSession(models.Model):
    id = models.CharField(max_length=64, primary_key=True)
    return_url = models.CharField(max_length=500)
    reference = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=16, default="open")  # open / completed / declined / cancelled
    card = models.ForeignKey(SandboxCard, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    decline_code = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("sandbox card-entry session")
        verbose_name_plural = _("sandbox card-entry sessions")

    def __str__(self):
        return f"{self.pk} ({self.status})"


class SandboxCharge(models.Model):
    reference = models.CharField(max_length=64, primary_key=True)
    idempotency_key = models.CharField(max_length=128, unique=True)
    card = models.ForeignKey(SandboxCard, on_delete=models.PROTECT, related_name="charges")
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    description = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16)  # succeeded / failed / requires_action
    failure_code = models.CharField(max_length=40, blank=True)
    # Where the sandbox's authentication page sends the customer back (3-D Secure).
    return_url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("sandbox charge")
        verbose_name_plural = _("sandbox charges")
        ordering = ["created_at"]

    def __str__(self):
        return f"{self.reference}: {self.amount} {self.currency} {self.status}"


class SandboxRefund(models.Model):
    reference = models.CharField(max_length=64, primary_key=True)
    idempotency_key = models.CharField(max_length=128, unique=True)
    charge = models.ForeignKey(SandboxCharge, on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16)  # succeeded / failed
    failure_code = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("sandbox refund")
        verbose_name_plural = _("sandbox refunds")
        ordering = ["created_at"]

    def __str__(self):
        return f"{self.reference}: {self.amount} {self.currency} {self.status}"


# --- Payments of invoices (PAY-1..PAY-4) -----------------------------------------------------------


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class PaymentKind(models.TextChoices):
    CARD = "card", _("Card")
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")


class PaymentSource(models.TextChoices):
    PAY_NOW = "pay_now", _("Pay now (portal)")
    API = "api", _("API")
    AUTOMATIC = "automatic", _("Automatic charge at issue")
    RETRY = "retry", _("Automatic retry")
    SUPPORT = "support", _("Recorded by support")


class Payment(models.Model):
    """One attempt to pay an invoice: a card charge or a received bank transfer.

    At most one card charge per invoice can be pending or succeeded at a time (DB
    constraint; the pay service also locks the invoice row). ``gateway_key`` is the
    idempotency key sent to the gateway, so a retried or reconciled charge is never
    made twice. ``request_key`` ties the attempt to the request that asked for it (the
    web form's one-time token, an automatic charge or a retry step).
    """

    invoice = models.ForeignKey("invoices.Invoice", on_delete=models.PROTECT, related_name="payments")
    account = models.ForeignKey("accounts.BillingAccount", on_delete=models.PROTECT, related_name="+")
    profile = models.ForeignKey("accounts.BillingProfile", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=16, choices=PaymentKind.choices, default=PaymentKind.CARD)
    source = models.CharField(_("source"), max_length=16, choices=PaymentSource.choices)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    payment_method = models.ForeignKey(
        PaymentMethod, on_delete=models.PROTECT, null=True, blank=True, related_name="payments"
    )
    card = models.CharField(_("card"), max_length=80, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.PENDING)
    gateway = models.CharField(_("gateway"), max_length=32, blank=True)
    gateway_key = models.CharField(_("gateway idempotency key"), max_length=128, unique=True, null=True, blank=True)
    gateway_reference = models.CharField(_("gateway reference"), max_length=64, blank=True)
    failure_code = models.CharField(_("failure code"), max_length=40, blank=True)
    request_key = models.CharField(max_length=200, unique=True, null=True, blank=True)
    # Bank transfers: the remitter's reference and the day the money arrived.
    reference = models.CharField(_("reference"), max_length=64, blank=True)
    received_on = models.DateField(_("received on"), null=True, blank=True)
    initiated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    settled_at = models.DateTimeField(_("settled"), null=True, blank=True)
    # A card charge that succeeded after the invoice was already paid by another route
    # (e.g. a bank transfer recorded meanwhile): to be refunded by support.
    needs_refund = models.BooleanField(_("needs refund"), default=False)
    # What succeeded refunds gave back of this payment (services.refunds).
    amount_refunded = models.DecimalField(_("amount refunded"), max_digits=14, decimal_places=2, default=0)
    # A pending charge the customer must authenticate with their bank (3-D Secure): the
    # gateway's page for it.
    action_url = models.CharField(_("authentication page"), max_length=300, blank=True)
    # The cardholder disputed the charge with their bank (a chargeback).
    disputed_at = models.DateTimeField(_("disputed"), null=True, blank=True)
    dispute_reason = models.CharField(_("dispute reason"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice"],
                condition=models.Q(kind="card", status__in=["pending", "succeeded"]),
                name="payment_one_open_card_charge_per_invoice",
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_amount_positive"),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["invoice", "-created_at"]),
        ]

    def __str__(self):
        return f"{self.invoice_id}: {self.amount} {self.currency} {self.status}"


class Refund(models.Model):
    """Money of a card payment given back by support (docs/payments.md, "Refunds"): a
    pending record, the gateway's refund with the refund's own idempotency key
    (``gateway_key``), then the outcome. ``credit_amount`` is the part backed by a credit
    note (``credit_note``, issued when the refund succeeds); the rest returns a surplus
    the invoice no longer owes (or a payment flagged ``needs_refund``)."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    invoice = models.ForeignKey("invoices.Invoice", on_delete=models.PROTECT, related_name="refunds")
    account = models.ForeignKey("accounts.BillingAccount", on_delete=models.PROTECT, related_name="+")
    profile = models.ForeignKey("accounts.BillingProfile", on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    credit_amount = models.DecimalField(_("credited by a credit note"), max_digits=14, decimal_places=2, default=0)
    currency = models.CharField(_("currency"), max_length=3)
    reason = models.TextField(_("reason"))
    status = models.CharField(_("status"), max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.PENDING)
    gateway = models.CharField(_("gateway"), max_length=32, blank=True)
    gateway_key = models.CharField(_("gateway idempotency key"), max_length=128, unique=True)
    gateway_reference = models.CharField(_("gateway reference"), max_length=64, blank=True)
    failure_code = models.CharField(_("failure code"), max_length=40, blank=True)
    request_key = models.CharField(max_length=200, unique=True, null=True, blank=True)
    credit_note = models.ForeignKey(
        "invoices.CreditNote", on_delete=models.PROTECT, null=True, blank=True, related_name="refunds"
    )
    initiated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    settled_at = models.DateTimeField(_("settled"), null=True, blank=True)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_amount_positive")]
        indexes = [models.Index(fields=["status", "created_at"]), models.Index(fields=["invoice", "status"])]

    def __str__(self):
        return f"{self.payment_id}: -{self.amount} {self.currency} {self.status}"


class IdempotencyRecord(models.Model):
    """The first response to an API request with an ``Idempotency-Key`` header, replayed
    for a repeat of the same request; a different request with the same key is refused.

    While the first request runs, the record is "in progress" (``completed`` false) and
    a repeat is answered 409. The request holds the record for a lease
    (``payments.services.idempotency.IDEMPOTENCY_LEASE``) from ``leased_at``: if the process died
    mid-request, a repeat of the same request after the lease takes the record over
    (``leased_at`` renewed, compare-and-set) and carries on.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)
    completed = models.BooleanField(default=False)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    leased_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key_unique")]

    def __str__(self):
        return f"{self.user_id}:{self.key}"


# Receipts (payments/receipt_models.py), the Stripe adapter's records and the stored webhook
# events (payments/stripe_models.py): imported here so that Django and the migrations find them.
from .receipt_models import Receipt, ReceiptMethod, ReceiptNumberSequence  # noqa: E402, F401
from .stripe_models import StripeRequest, WebhookEvent  # noqa: E402, F401
