"""Support requests of the Help + support area.

A pay-by-invoice request (PBI-1..PBI-9) is a ``PayByInvoiceRequest`` with its details
(PBI-2), the pre-checks as they stood when it was submitted, its history
(``RequestEvent``: who, when, what), its messages (to the customer, or internal notes)
and, once support asks for one, a ``CreditApplication`` (PBI-8). The other kind of
request, a change of the PO or VAT number on an issued invoice, is
``purchase_orders.AmendmentRequest``; the support queue lists both.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_countries.fields import CountryField


class RequestStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Waiting for support")
    NEEDS_INFORMATION = "needs_information", _("Waiting for your answer")
    CREDIT_APPLICATION_SENT = "credit_application_sent", _("Credit application sent")
    CREDIT_REVIEW = "credit_review", _("Credit check in progress")
    APPROVED = "approved", pgettext_lazy("support request", "Approved")
    REJECTED = "rejected", pgettext_lazy("support request", "Rejected")
    CANCELLED = "cancelled", pgettext_lazy("support request", "Cancelled")


OPEN_STATUSES = (
    RequestStatus.SUBMITTED,
    RequestStatus.NEEDS_INFORMATION,
    RequestStatus.CREDIT_APPLICATION_SENT,
    RequestStatus.CREDIT_REVIEW,
)
# Open statuses in which support staff have the next step.
WAITING_FOR_SUPPORT = (RequestStatus.SUBMITTED, RequestStatus.CREDIT_REVIEW)


class SupportPlan(models.TextChoices):
    BASIC = "basic", _("Basic")
    DEVELOPER = "developer", _("Developer")
    STANDARD = "standard", _("Standard")
    PROFESSIONAL = "professional", _("Professional Direct")


class CustomerType(models.TextChoices):
    NEW = "new", _("New customer")
    EXISTING = "existing", _("Existing customer")


class ContactMethod(models.TextChoices):
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")


class CreditDecision(models.TextChoices):
    APPROVED = "approved", _("Credit approved")
    DECLINED = "declined", _("Credit declined")


class PayByInvoiceRequest(models.Model):
    """PBI-1, PBI-2: a customer asks to pay by invoice (cheque / wire transfer) instead
    of by card. The scope that switches on approval is ``profile``: the default profile
    of a web-direct account, or a customer agreement's billing profile."""

    account = models.ForeignKey("accounts.BillingAccount", on_delete=models.CASCADE, related_name="pbi_requests")
    profile = models.ForeignKey("accounts.BillingProfile", on_delete=models.CASCADE, related_name="pbi_requests")
    subscription = models.ForeignKey(
        "accounts.Subscription", on_delete=models.SET_NULL, null=True, blank=True, related_name="pbi_requests"
    )
    support_plan = models.CharField(_("support plan"), max_length=16, choices=SupportPlan.choices)
    status = models.CharField(
        _("status"), max_length=32, choices=RequestStatus.choices, default=RequestStatus.SUBMITTED
    )
    # The status to go back to when the customer answers a question.
    resume_status = models.CharField(max_length=32, choices=RequestStatus.choices, blank=True)
    # PBI-2: the details.
    customer_type = models.CharField(_("new or existing customer"), max_length=16, choices=CustomerType.choices)
    current_payment_method = models.CharField(_("current payment method"), max_length=100, blank=True)
    order_id = models.CharField(_("order ID"), max_length=100, blank=True)
    admin_sign_in = models.EmailField(_("account admin's sign-in ID"))
    commerce_account_id = models.CharField(_("commerce account ID"), max_length=100)
    company_name = models.CharField(_("company name"), max_length=200)
    company_address = models.TextField(_("company address"), max_length=1000)
    website = models.URLField(_("company website"), max_length=300)
    country = CountryField(_("country"))
    vat_id = models.CharField(_("tax ID / VAT ID"), max_length=32)
    year_established = models.PositiveSmallIntegerField(_("year established"))
    prior_business = models.TextField(_("prior business with us"), max_length=2000, blank=True)
    contact_name = models.CharField(_("contact name"), max_length=150)
    contact_phone = models.CharField(_("contact phone"), max_length=40)
    contact_email = models.EmailField(_("contact e-mail"))
    justification = models.TextField(_("why invoice instead of card"), max_length=4000)
    existing_cores = models.PositiveIntegerField(_("existing cores"), null=True, blank=True)
    requested_cores = models.PositiveIntegerField(_("requested cores"), null=True, blank=True)
    quota_region = models.CharField(_("region"), max_length=64, blank=True)
    quota_series = models.CharField(_("series"), max_length=64, blank=True)
    preferred_contact = models.CharField(
        _("preferred contact method"), max_length=8, choices=ContactMethod.choices, default=ContactMethod.EMAIL
    )
    # The pre-checks as they stood when the request was submitted (support.prechecks).
    prechecks = models.JSONField(_("pre-checks at submission"), default=list)
    credit_decision = models.CharField(_("credit decision"), max_length=16, choices=CreditDecision.choices, blank=True)
    credit_limit = models.DecimalField(_("credit limit"), max_digits=14, decimal_places=2, null=True, blank=True)
    rejection_reason = models.TextField(_("reason for rejecting"), max_length=2000, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("requested by")
    )
    created_at = models.DateTimeField(_("requested"), default=timezone.now)
    updated_at = models.DateTimeField(_("last change"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("pay-by-invoice request")
        verbose_name_plural = _("pay-by-invoice requests")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status", "created_at"]), models.Index(fields=["account", "-created_at"])]
        constraints = [
            # One open request per billing scope at a time.
            models.UniqueConstraint(
                fields=["profile"],
                condition=Q(status__in=["submitted", "needs_information", "credit_application_sent", "credit_review"]),
                name="pbi_one_open_request_per_profile",
            ),
        ]

    def __str__(self):
        return f"PBI-{self.pk}"

    @property
    def reference(self) -> str:
        return f"PBI-{self.pk:06d}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def waits_for_support(self) -> bool:
        return self.status in WAITING_FOR_SUPPORT


class EventAction(models.TextChoices):
    """The steps of a request's history, as its page names them."""

    CREATED = "created", _("Request submitted")
    ANSWERED = "answered", _("Customer answered")
    CUSTOMER_MESSAGE = "customer_message", _("Message from the customer")
    CANCELLED = "cancelled", _("Request withdrawn")
    ASKED_INFORMATION = "asked_information", _("More information asked")
    NOTE = "note", _("Internal note")
    CREDIT_APPLICATION_SENT = "credit_application_sent", _("Credit application sent")
    CREDIT_APPLICATION_RETURNED = "credit_application_returned", _("Credit application returned")
    CREDIT_DECISION = "credit_decision", _("Credit decision recorded")
    APPROVED = "approved", _("Request approved")
    REJECTED = "rejected", _("Request rejected")


class RequestEvent(models.Model):
    """One step in a request's history: who did what, when."""

    request = models.ForeignKey(PayByInvoiceRequest, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("action"), max_length=32, choices=EventAction.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    status = models.CharField(_("status after"), max_length=32, choices=RequestStatus.choices)
    detail = models.TextField(_("detail"), blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("request event")
        verbose_name_plural = _("request events")
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.get_action_display()} ({self.created_at:%Y-%m-%d %H:%M})"


class RequestMessage(models.Model):
    """A message on a request: to the customer (and from them), or an internal note of
    support staff that the customer never sees."""

    request = models.ForeignKey(PayByInvoiceRequest, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    from_support = models.BooleanField(_("from support"), default=False)
    internal = models.BooleanField(_("internal note"), default=False)
    body = models.TextField(_("message"), max_length=4000)
    created_at = models.DateTimeField(_("sent"), default=timezone.now)

    class Meta:
        verbose_name = _("request message")
        verbose_name_plural = _("request messages")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(internal=False) | Q(from_support=True), name="pbi_note_from_support"),
        ]

    def __str__(self):
        return self.body[:60]


class RevenueBand(models.TextChoices):
    UNDER_1M = "under_1m", _("Under €1 million")
    FROM_1M = "1m_10m", _("€1 million to €10 million")
    FROM_10M = "10m_100m", _("€10 million to €100 million")
    OVER_100M = "over_100m", _("Over €100 million")


class CreditApplication(models.Model):
    """PBI-8: the credit application that support sends and the customer fills in. The
    decision is expected 5 to 7 days after it came back."""

    request = models.OneToOneField(PayByInvoiceRequest, on_delete=models.CASCADE, related_name="credit_application")
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)
    requested_limit = models.DecimalField(_("requested credit limit"), max_digits=14, decimal_places=2, null=True)
    annual_revenue = models.CharField(_("annual revenue"), max_length=16, choices=RevenueBand.choices, blank=True)
    bank_name = models.CharField(_("bank"), max_length=200, blank=True)
    trade_references = models.TextField(_("trade references"), max_length=4000, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(_("returned"), null=True, blank=True)

    class Meta:
        verbose_name = _("credit application")
        verbose_name_plural = _("credit applications")

    def __str__(self):
        return f"{self.request} credit application"
