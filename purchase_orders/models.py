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


class PeriodPONumber(models.Model):
    profile = models.ForeignKey("accounts.BillingProfile", on_delete=models.CASCADE, related_name="period_po_numbers")
    period = models.DateField(_("billing period"))
    po_number = models.CharField(_("PO number"), max_length=50)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
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

    class Meta:
        verbose_name = _("PO / VAT change")
        verbose_name_plural = _("PO / VAT changes")
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["account", "-changed_at"])]

    def __str__(self):
        return f"{self.get_field_display()}: {self.old_value or '—'} → {self.new_value or '—'}"
