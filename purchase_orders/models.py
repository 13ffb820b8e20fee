"""PO numbers per billing period (enterprise) and the history of PO and VAT changes.

Where the number in force lives:
* web direct and customer agreement: ``BillingProfile.po_number`` (applies to the
  profile's next invoice, PO-5);
* enterprise: one ``PeriodPONumber`` per enrollment and billing period; without one,
  the default is the enrollment number (PO-6);
* VAT number: ``BillingAccount.vat_id`` (sold-to).
Every change is a ``NumberChange`` row (VAT-1, PO history).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class PeriodPONumber(models.Model):
    profile = models.ForeignKey("accounts.BillingProfile", on_delete=models.CASCADE, related_name="period_po_numbers")
    period = models.DateField(_("billing period"))
    po_number = models.CharField(_("PO number"), max_length=50)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    set_at = models.DateTimeField(_("set"), default=timezone.now)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("period PO number")
        verbose_name_plural = _("period PO numbers")
        constraints = [models.UniqueConstraint(fields=["profile", "period"], name="period_po_unique")]

    def __str__(self):
        return f"{self.period:%Y-%m}: {self.po_number}"


class ChangedField(models.TextChoices):
    PO_NUMBER = "po_number", _("PO number")
    VAT_ID = "vat_id", _("VAT number")


class ChangeSource(models.TextChoices):
    """Why a number changed: an edit for the next invoice (or an enterprise period), an
    enterprise edit inside the PO-7 window that amended the issued invoice, or a support
    request that amended an issued invoice (PO-5)."""

    EDIT = "edit", _("Edit")
    WINDOW_AMENDMENT = "window_amendment", _("Edit inside the seven-day window")
    SUPPORT_AMENDMENT = "support_amendment", _("Support request")


class NumberChange(models.Model):
    account = models.ForeignKey("accounts.BillingAccount", on_delete=models.CASCADE, related_name="number_changes")
    profile = models.ForeignKey(
        "accounts.BillingProfile", on_delete=models.CASCADE, null=True, blank=True, related_name="number_changes"
    )
    period = models.DateField(_("billing period"), null=True, blank=True)
    field = models.CharField(_("field"), max_length=16, choices=ChangedField.choices)
    old_value = models.CharField(_("old value"), max_length=50, blank=True)
    new_value = models.CharField(_("new value"), max_length=50, blank=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    changed_at = models.DateTimeField(_("changed"), default=timezone.now)
    # The invoice a change was applied to (a new revision), if any.
    invoice = models.ForeignKey(
        "invoices.Invoice", on_delete=models.SET_NULL, null=True, blank=True, related_name="number_changes"
    )
    source = models.CharField(_("source"), max_length=24, choices=ChangeSource.choices, default=ChangeSource.EDIT)
    amendment_request = models.ForeignKey(
        "AmendmentRequest", on_delete=models.SET_NULL, null=True, blank=True, related_name="changes"
    )

    class Meta:
        verbose_name = _("PO / VAT change")
        verbose_name_plural = _("PO / VAT changes")
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["account", "-changed_at"])]

    def __str__(self):
        return f"{self.get_field_display()}: {self.old_value or '—'} → {self.new_value or '—'}"


class AmendmentStatus(models.TextChoices):
    OPEN = "open", _("Open")
    APPROVED = "approved", _("Approved")
    DECLINED = "declined", pgettext_lazy("support request", "Declined")


class AmendmentRequest(models.Model):
    """PO-5: a customer asks support to change the PO and/or VAT number printed on an
    invoice that has already been generated. Support staff approve it (a new revision
    of the invoice with a new PDF) or decline it with a reason."""

    account = models.ForeignKey("accounts.BillingAccount", on_delete=models.CASCADE, related_name="amendment_requests")
    profile = models.ForeignKey("accounts.BillingProfile", on_delete=models.CASCADE, related_name="amendment_requests")
    invoice = models.ForeignKey("invoices.Invoice", on_delete=models.CASCADE, related_name="amendment_requests")
    change_po_number = models.BooleanField(_("change the PO number"), default=False)
    po_number = models.CharField(_("new PO number"), max_length=50, blank=True)
    change_vat_id = models.BooleanField(_("change the VAT number"), default=False)
    vat_id = models.CharField(_("new VAT number"), max_length=32, blank=True)
    # What the invoice printed when the request was opened (shown to support staff).
    current_po_number = models.CharField(_("PO number on the invoice"), max_length=50, blank=True)
    current_vat_id = models.CharField(_("VAT number on the invoice"), max_length=32, blank=True)
    message = models.TextField(_("reason"), max_length=2000)
    status = models.CharField(_("status"), max_length=16, choices=AmendmentStatus.choices, default=AmendmentStatus.OPEN)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("requested by")
    )
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handled by"),
    )
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)
    decline_reason = models.TextField(_("reason for declining"), max_length=2000, blank=True)
    revision = models.ForeignKey(
        "invoices.InvoiceRevision",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("new invoice revision"),
    )

    class Meta:
        verbose_name = _("invoice amendment request")
        verbose_name_plural = _("invoice amendment requests")
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(fields=["status", "requested_at"]),
            models.Index(fields=["account", "-requested_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(change_po_number=True) | models.Q(change_vat_id=True),
                name="amendment_changes_something",
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.invoice_id} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status == AmendmentStatus.OPEN
