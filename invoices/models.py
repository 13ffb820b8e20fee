"""Charges, invoices (with revisions and lines) and e-mail notifications.

An ``Invoice`` belongs to one billing scope (``profile``, see accounts.models) and one
billing period (``period``: the month's first day), at most one per scope and period. Its
printed facts (sold-to, bill-to, VAT ID, PO number, tax) live on ``InvoiceRevision``: an
amendment (PO-5, PO-7) adds a revision with its own PDF, the earlier ones stay readable
(PO-8); ``Invoice.current_revision`` is the newest."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing_portal.money import CURRENCY_CHOICES

from .printed import RevisionReason, TaxNote

MONEY = {"max_digits": 14, "decimal_places": 2}
QUANTITY = {"max_digits": 18, "decimal_places": 6}


class Charge(models.Model):
    """What a subscription cost in a period: one usage or fee line."""

    subscription = models.ForeignKey("accounts.Subscription", on_delete=models.PROTECT, related_name="charges")
    profile = models.ForeignKey("accounts.BillingProfile", on_delete=models.PROTECT, related_name="charges")
    period = models.DateField(_("billing period"))
    service_name = models.CharField(_("service"), max_length=200)
    meter = models.CharField(_("meter"), max_length=200)
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    unit_price = models.DecimalField(_("unit price"), **QUANTITY)
    amount = models.DecimalField(_("amount"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    is_marketplace = models.BooleanField(_("marketplace service"), default=False)
    source = models.CharField(_("source"), max_length=64, blank=True)
    # The usage record this charge came from (unique when given): importing a file twice adds nothing.
    external_id = models.CharField(_("usage record ID"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)
    # Why the billing run did not invoice it ("" while billable), e.g. ``MARKETPLACE_ON_INVOICE_SCOPE`` (PBI-4).
    not_billed_reason = models.CharField(_("not billed because"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("charge")
        verbose_name_plural = _("charges")
        indexes = [models.Index(fields=["period", "profile"])]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"], condition=~Q(external_id=""), name="charge_external_id_unique"
            ),
        ]

    def __str__(self):
        return f"{self.service_name} / {self.meter}: {self.amount} {self.currency}"


class InvoiceStatus(models.TextChoices):
    DUE = "due", _("Due")
    PAST_DUE = "past_due", _("Past due")
    PAID = "paid", _("Paid")
    VOID = "void", _("Void")


class PaymentTerms(models.TextChoices):
    CARD = "card", _("Card, charged at issue")
    BANK_TRANSFER = "bank_transfer", _("Bank transfer within 30 days")


def amount_due(balance):
    """An invoice's amount due for its balance (total - credited - paid): never below zero."""
    return balance if balance > 0 else (balance * 0).copy_abs()


def surplus(balance):
    """What an invoice's balance says is to be refunded: the negative part, as a positive amount."""
    return -balance if balance < 0 else (balance * 0).copy_abs()


class Invoice(models.Model):
    number = models.CharField(_("invoice number"), max_length=32, unique=True)
    # Indexed by invoice_account_list_idx (its first column): every index costs each
    # query's planning and each insert, so none is kept twice.
    account = models.ForeignKey(
        "accounts.BillingAccount", on_delete=models.PROTECT, related_name="invoices", db_index=False
    )
    # Indexed by the (profile, -issue_date) index (its first column).
    profile = models.ForeignKey(
        "accounts.BillingProfile", on_delete=models.PROTECT, related_name="invoices", db_index=False
    )
    period = models.DateField(_("billing period"))
    issue_date = models.DateField(_("invoice date"))
    due_date = models.DateField(_("due date"))
    status = models.CharField(_("status"), max_length=16, choices=InvoiceStatus.choices, default=InvoiceStatus.DUE)
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    subtotal = models.DecimalField(_("subtotal"), **MONEY)
    tax_amount = models.DecimalField(_("tax"), **MONEY)
    total = models.DecimalField(_("total"), **MONEY)
    amount_paid = models.DecimalField(_("amount paid"), default=0, **MONEY)
    # The sum of the totals of the invoice's credit notes (net + VAT).
    amount_credited = models.DecimalField(_("amount credited"), default=0, **MONEY)
    # A corrected invoice names the invoice it replaces (credited in full by a credit note).
    replaces = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaced_by", verbose_name=_("replaces")
    )
    # Quoted on a bank transfer (PBI-9).
    payment_reference = models.CharField(_("payment reference"), max_length=64, blank=True)
    payment_terms = models.CharField(
        _("payment terms"), max_length=16, choices=PaymentTerms.choices, default=PaymentTerms.CARD
    )
    billing_run = models.ForeignKey(
        "BillingRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="invoices"
    )
    current_revision = models.ForeignKey(
        "InvoiceRevision", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # When the invoice-ready e-mail went out; for enterprise it opens the seven-day PO window of PO-7.
    notified_at = models.DateTimeField(_("notification sent"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-issue_date", "-number"]
        constraints = [
            # One invoice per scope and period; a corrected invoice (it names the one it replaces) is another.
            models.UniqueConstraint(
                fields=["profile", "period"],
                condition=Q(replaces__isnull=True),
                name="invoice_one_per_scope_and_period",
            ),
        ]
        indexes = [
            models.Index(fields=["profile", "-issue_date"]),
            models.Index(fields=["status", "due_date"]),
            # The invoice list's order: the first page of a large account is read in
            # index order and stops after a page, instead of sorting every invoice.
            models.Index(fields=["-issue_date", "-number"], name="invoice_list_order_idx"),
            # The same per account (an account-level role sees the account's invoices),
            # whole and filtered by status or period: a page of one account is read in
            # index order without passing other accounts' invoices, whatever their number.
            models.Index(fields=["account", "-issue_date", "-number"], name="invoice_account_list_idx"),
            models.Index(fields=["account", "status", "-issue_date", "-number"], name="invoice_account_status_idx"),
            models.Index(fields=["account", "period", "-issue_date", "-number"], name="invoice_account_period_idx"),
            # The list's other orders and its amount search (invoices.filters), per account, either way.
            models.Index(fields=["account", "number"], name="invoice_account_number_idx"),
            models.Index(fields=["account", "total", "number"], name="invoice_account_total_idx"),
            models.Index(fields=["account", "due_date", "number"], name="invoice_account_due_idx"),
        ]

    def __str__(self):
        return self.number

    @property
    def balance(self):
        """Total minus credited minus paid (net of refunds): below zero is a surplus."""
        return self.total - self.amount_credited - self.amount_paid

    @property
    def amount_due(self):
        """What is still to pay: the balance, never below zero."""
        return amount_due(self.balance)

    @property
    def surplus(self):
        """Paid more than the invoice still asks (credited after it was paid): to refund."""
        return surplus(self.balance)

    @property
    def is_payable(self) -> bool:
        return self.status in (InvoiceStatus.DUE, InvoiceStatus.PAST_DUE)

    @property
    def pays_by_bank_transfer(self) -> bool:
        return self.payment_terms == PaymentTerms.BANK_TRANSFER


class InvoiceRevision(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveSmallIntegerField(_("revision"))
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="en")
    sold_to = models.TextField(_("sold-to"))
    bill_to = models.TextField(_("bill-to"))
    vat_id = models.CharField(_("VAT / tax ID"), max_length=32, blank=True)
    po_number = models.CharField(_("PO number"), max_length=50, blank=True)
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=5, decimal_places=2)
    reverse_charge = models.BooleanField(_("reverse charge"), default=False)
    tax_note_code = models.CharField(_("tax note"), max_length=16, choices=TaxNote.choices, blank=True)
    pdf = models.FileField(_("PDF"), upload_to="invoices/%Y/%m/", blank=True)
    pdf_rendered_at = models.DateTimeField(_("PDF rendered"), null=True, blank=True)
    reason = models.TextField(_("reason for the revision"), blank=True)
    reason_code = models.CharField(_("reason code"), max_length=16, choices=RevisionReason.choices, blank=True)
    reason_ref = models.PositiveIntegerField(_("support request"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("invoice revision")
        verbose_name_plural = _("invoice revisions")
        ordering = ["invoice_id", "number"]
        constraints = [models.UniqueConstraint(fields=["invoice", "number"], name="revision_number_unique")]
        indexes = [
            models.Index(fields=["pdf_rendered_at"], name="revision_pdf_pending_idx", condition=Q(pdf="")),
            # The list's search by PO number (invoices.filters.search: case does not matter).
            models.Index(Upper("po_number"), name="revision_po_number_idx"),
        ]

    def __str__(self):
        return f"{self.invoice.number} r{self.number}"


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    subscription = models.ForeignKey(
        "accounts.Subscription", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    position = models.PositiveIntegerField(_("position"))
    service_name = models.CharField(_("service"), max_length=200)
    meter = models.CharField(_("meter"), max_length=200)
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    unit_price = models.DecimalField(_("unit price"), **QUANTITY)
    amount = models.DecimalField(_("amount"), **MONEY)
    # VAT on this line, rounded half-up on its own; the invoice's tax is their sum.
    tax_amount = models.DecimalField(_("tax"), default=0, **MONEY)
    is_marketplace = models.BooleanField(_("marketplace service"), default=False)

    class Meta:
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        ordering = ["invoice_id", "position"]

    def __str__(self):
        return f"{self.service_name} / {self.meter}"


class InvoiceNumberSequence(models.Model):
    """The last invoice number handed out in a year. Numbers are taken under a row lock
    in the same short transaction that inserts the invoices, so they have no gaps."""

    year = models.PositiveSmallIntegerField(_("year"), primary_key=True)
    last_number = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("invoice number sequence")
        verbose_name_plural = _("invoice number sequences")

    def __str__(self):
        return f"{self.year}: {self.last_number}"


class BillingRunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    FINISHED = "finished", _("Finished")


class BillingRun(models.Model):
    """Turning one period's charges into invoices, split into chunks (one task each)."""

    period = models.DateField(_("billing period"), unique=True)
    issue_date = models.DateField(_("invoice date"))
    status = models.CharField(
        _("status"), max_length=16, choices=BillingRunStatus.choices, default=BillingRunStatus.RUNNING
    )
    total_chunks = models.PositiveIntegerField(_("chunks"), default=0)
    done_chunks = models.PositiveIntegerField(_("chunks done"), default=0)
    total_scopes = models.PositiveIntegerField(_("billing scopes"), default=0)
    invoices_created = models.PositiveIntegerField(_("invoices created"), default=0)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("billing run")
        verbose_name_plural = _("billing runs")
        ordering = ["-period"]

    def __str__(self):
        return f"{self.period:%Y-%m}"

    @property
    def progress_percent(self) -> int:
        if not self.total_chunks:
            return 100 if self.status == BillingRunStatus.FINISHED else 0
        return int(100 * self.done_chunks / self.total_chunks)


class BillingRunChunk(models.Model):
    run = models.ForeignKey(BillingRun, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField(_("chunk"))
    profile_ids = models.JSONField(_("billing scopes"), default=list)
    done = models.BooleanField(_("done"), default=False)
    invoices_created = models.PositiveIntegerField(_("invoices created"), default=0)
    enqueued_at = models.DateTimeField(_("enqueued"), default=timezone.now)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)

    class Meta:
        verbose_name = _("billing run chunk")
        verbose_name_plural = _("billing run chunks")
        ordering = ["run_id", "index"]
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="billing_chunk_unique")]
        indexes = [models.Index(fields=["done", "enqueued_at"])]

    def __str__(self):
        return f"{self.run} #{self.index}"


class CreditNoteKind(models.TextChoices):
    CREDIT = "credit", _("Credit")
    REFUND = "refund", _("Refund")
    CORRECTION = "correction", _("Correction")


class CreditNote(models.Model):
    """Credits an issued invoice in full or in part (docs/invoices.md, "Credit notes").

    Its lines credit the invoice's lines with VAT per line at the invoice's rate; the
    total never exceeds what the invoice still has uncredited. A correction credits the
    invoice in full and names the corrected invoice that replaces it (``applied_to``),
    to which ``amount_applied`` of the money already paid was carried over."""

    number = models.CharField(_("credit note number"), max_length=32, unique=True)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    # The invoice revision credited: its parties, VAT ID, rate and note are printed.
    revision = models.ForeignKey(InvoiceRevision, on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey("accounts.BillingAccount", on_delete=models.PROTECT, related_name="credit_notes")
    profile = models.ForeignKey("accounts.BillingProfile", on_delete=models.PROTECT, related_name="credit_notes")
    kind = models.CharField(_("kind"), max_length=16, choices=CreditNoteKind.choices, default=CreditNoteKind.CREDIT)
    issue_date = models.DateField(_("credit note date"))
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="en")
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    subtotal = models.DecimalField(_("subtotal"), **MONEY)
    tax_amount = models.DecimalField(_("tax"), **MONEY)
    total = models.DecimalField(_("total"), **MONEY)
    reason = models.TextField(_("reason"))
    applied_to = models.ForeignKey(
        Invoice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="applied_credit_notes",
        verbose_name=_("applied to"),
    )
    amount_applied = models.DecimalField(_("amount applied"), default=0, **MONEY)
    pdf = models.FileField(_("PDF"), upload_to="credit_notes/%Y/%m/", blank=True)
    pdf_rendered_at = models.DateTimeField(_("PDF rendered"), null=True, blank=True)
    # A repeat of a request (API Idempotency-Key, admin form token, a refund) finds this credit note.
    request_key = models.CharField(max_length=200, unique=True, null=True, blank=True)
    request_fingerprint = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("credit note")
        verbose_name_plural = _("credit notes")
        ordering = ["-issue_date", "-number"]
        constraints = [models.CheckConstraint(condition=Q(total__gt=0), name="credit_note_total_positive")]
        indexes = [models.Index(fields=["invoice", "number"])]

    def __str__(self):
        return self.number


class CreditNoteLine(models.Model):
    credit_note = models.ForeignKey(CreditNote, on_delete=models.CASCADE, related_name="lines")
    invoice_line = models.ForeignKey(InvoiceLine, on_delete=models.PROTECT, related_name="credit_lines")
    position = models.PositiveIntegerField(_("position"))
    service_name = models.CharField(_("service"), max_length=200)
    meter = models.CharField(_("meter"), max_length=200)
    amount = models.DecimalField(_("amount"), **MONEY)
    tax_amount = models.DecimalField(_("tax"), **MONEY)

    class Meta:
        verbose_name = _("credit note line")
        verbose_name_plural = _("credit note lines")
        ordering = ["credit_note_id", "position"]

    def __str__(self):
        return f"{self.service_name} / {self.meter}"


class CreditNoteNumberSequence(models.Model):
    """The last credit note number handed out in a year (CN-YYYY-NNNNNN), taken under a
    row lock in the transaction that inserts the credit note, like invoice numbers."""

    year = models.PositiveSmallIntegerField(_("year"), primary_key=True)
    last_number = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("credit note number sequence")
        verbose_name_plural = _("credit note number sequences")

    def __str__(self):
        return f"{self.year}: {self.last_number}"
