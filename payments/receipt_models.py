"""Receipts of payments: every succeeded payment has one (docs/payments.md, "Receipts").

A receipt is a document like an invoice: a number of its own gap-free yearly series
(``RC-YYYY-NNNNNN``, ``ReceiptNumberSequence``), taken in the transaction that records the
payment as succeeded, and the facts it prints, copied from the payment when it is issued
(method, card brand and last four or the transfer's reference, amount, the invoice it
paid, the account's language). Its PDF is rendered on first download and stored.

Imported by ``payments.models`` (so Django and the migrations see these models); the
relations to the payment and the invoice are lazy references, so this module imports no
other module of the app.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ReceiptMethod(models.TextChoices):
    """How the money came (the values of ``PaymentKind``)."""

    CARD = "card", _("Card")
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")


class Receipt(models.Model):
    number = models.CharField(_("receipt number"), max_length=32, unique=True)
    payment = models.OneToOneField("payments.Payment", on_delete=models.PROTECT, related_name="receipt")
    invoice = models.ForeignKey("invoices.Invoice", on_delete=models.PROTECT, related_name="receipts")
    account = models.ForeignKey("accounts.BillingAccount", on_delete=models.PROTECT, related_name="+")
    profile = models.ForeignKey("accounts.BillingProfile", on_delete=models.PROTECT, related_name="+")
    issue_date = models.DateField(_("receipt date"))
    # The day of the payment: a card charge's settlement, the day a transfer arrived.
    paid_on = models.DateField(_("paid on"))
    method = models.CharField(_("method"), max_length=16, choices=ReceiptMethod.choices)
    card_brand = models.CharField(_("card brand"), max_length=32, blank=True)
    card_last4 = models.CharField(_("last four digits"), max_length=4, blank=True)
    # Bank transfer: the remitter's reference; card: the gateway's charge reference.
    reference = models.CharField(_("reference"), max_length=64, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="en")
    pdf = models.FileField(_("PDF"), upload_to="receipts/%Y/%m/", blank=True)
    pdf_rendered_at = models.DateTimeField(_("PDF rendered"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        ordering = ["-issue_date", "-number"]
        indexes = [models.Index(fields=["invoice", "number"])]

    def __str__(self):
        return self.number

    @property
    def is_card(self) -> bool:
        return self.method == ReceiptMethod.CARD


class ReceiptNumberSequence(models.Model):
    """The last receipt number handed out in a year (RC-YYYY-NNNNNN), taken under a row
    lock in the transaction that records the payment as succeeded, like invoice numbers."""

    year = models.PositiveSmallIntegerField(_("year"), primary_key=True)
    last_number = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("receipt number sequence")
        verbose_name_plural = _("receipt number sequences")

    def __str__(self):
        return f"{self.year}: {self.last_number}"
