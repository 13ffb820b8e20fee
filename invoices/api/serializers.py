from decimal import Decimal

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import scope_name
from billing_portal.api import DecimalField, ModelSerializer
from invoices import epc, printed, selectors
from invoices.models import CreditNote, CreditNoteLine, Invoice, InvoiceLine, InvoiceRevision, amount_due, surplus


class InvoiceRevisionSerializer(serializers.ModelSerializer):
    pdf_url = serializers.SerializerMethodField()
    tax_note = serializers.SerializerMethodField()
    reason = serializers.SerializerMethodField()

    class Meta:
        model = InvoiceRevision
        fields = [
            "number",
            "language",
            "sold_to",
            "bill_to",
            "vat_id",
            "po_number",
            "tax_rate",
            "reverse_charge",
            "tax_note_code",
            "tax_note",
            "reason_code",
            "reason",
            "created_at",
            "pdf_url",
        ]

    def get_pdf_url(self, revision) -> str:
        return reverse("api-invoice-pdf-revision", args=[revision.invoice_id, revision.number])

    def get_tax_note(self, revision) -> str:
        """The tax note in the caller's language ("" for none)."""
        return printed.tax_note_text(revision.tax_note_code)

    def get_reason(self, revision) -> str:
        """Why the revision was made, in the caller's language (as typed when support typed it)."""
        return printed.reason_text(revision)


class InvoiceLineSerializer(serializers.ModelSerializer):
    subscription_id = serializers.UUIDField(source="subscription.subscription_id", allow_null=True, default=None)

    class Meta:
        model = InvoiceLine
        fields = [
            "position",
            "subscription_id",
            "service_name",
            "meter",
            "quantity",
            "unit_price",
            "amount",
            "tax_amount",
            "is_marketplace",
        ]


@extend_schema_field(OpenApiTypes.STR)
class PeriodField(serializers.Field):
    """A billing period (the first day of its month) as ``YYYY-MM``."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value) -> str:
        return f"{value:%Y-%m}"


def _balance(row):
    return row["total"] - row["amount_credited"] - row["amount_paid"]


class InvoiceSerializer(ModelSerializer):
    profile_name = serializers.StringRelatedField(source="profile")
    po_number = serializers.CharField(source="current_revision.po_number", default="", read_only=True)
    vat_id = serializers.CharField(source="current_revision.vat_id", default="", read_only=True)
    period = PeriodField()
    amount_due = DecimalField(
        max_digits=14, decimal_places=2, read_only=True, help_text="Total - amount credited - amount paid, not below 0."
    )
    surplus = DecimalField(
        max_digits=14, decimal_places=2, read_only=True, help_text="Paid more than the invoice still asks: to refund."
    )

    class Meta:
        model = Invoice
        fields = [
            "id",
            "number",
            "account",
            "profile",
            "profile_name",
            "period",
            "issue_date",
            "due_date",
            "status",
            "currency",
            "subtotal",
            "tax_amount",
            "total",
            "amount_paid",
            "amount_credited",
            "amount_due",
            "surplus",
            "replaces",
            "payment_terms",
            "payment_reference",
            "po_number",
            "vat_id",
            "notified_at",
            "paid_at",
        ]
        # The values of the fields that are not a column, for rows of values (represent_values).
        value_functions = {
            "profile_name": lambda row: scope_name(
                row["profile__account__name"], row["profile__name"], row["profile__is_default"]
            ),
            "amount_due": lambda row: amount_due(_balance(row)),
            "surplus": lambda row: surplus(_balance(row)),
        }
        value_function_columns = ("profile__account__name", "profile__name", "profile__is_default")


class CreditNoteLineSerializer(serializers.ModelSerializer):
    invoice_line_position = serializers.IntegerField(source="invoice_line.position", read_only=True)

    class Meta:
        model = CreditNoteLine
        fields = ["position", "invoice_line_position", "service_name", "meter", "amount", "tax_amount"]


class CreditNoteSummarySerializer(serializers.ModelSerializer):
    applied_to_number = serializers.CharField(source="applied_to.number", default=None, allow_null=True, read_only=True)
    pdf_url = serializers.SerializerMethodField()

    class Meta:
        model = CreditNote
        fields = [
            "id",
            "number",
            "invoice",
            "kind",
            "issue_date",
            "currency",
            "subtotal",
            "tax_amount",
            "total",
            "reason",
            "applied_to",
            "applied_to_number",
            "amount_applied",
            "created_at",
            "pdf_url",
        ]
        read_only_fields = fields

    def get_pdf_url(self, credit_note) -> str:
        return reverse("api-credit-note-pdf", args=[credit_note.pk])


class CreditNoteSerializer(CreditNoteSummarySerializer):
    invoice_number = serializers.CharField(source="invoice.number", read_only=True)
    lines = CreditNoteLineSerializer(many=True, read_only=True)

    class Meta(CreditNoteSummarySerializer.Meta):
        fields = [*CreditNoteSummarySerializer.Meta.fields, "invoice_number", "lines"]
        read_only_fields = fields


class CreditLineRequestSerializer(serializers.Serializer):
    position = serializers.IntegerField(min_value=1, max_value=2_000_000, help_text="The invoice line's position.")
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal("0.01"), help_text="Net amount to credit on the line."
    )


class CreditNoteRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)
    amount = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        help_text="Gross amount (VAT included) split over the lines pro rata. Omit amount and lines: credit in full.",
    )
    lines = CreditLineRequestSerializer(many=True, required=False, max_length=10_000, allow_empty=False)


class InvoiceDetailSerializer(InvoiceSerializer):
    lines = InvoiceLineSerializer(many=True, read_only=True)
    revisions = InvoiceRevisionSerializer(many=True, read_only=True)
    credit_notes = CreditNoteSummarySerializer(many=True, read_only=True)
    replaced_by = serializers.SerializerMethodField()
    epc_qr_payload = serializers.SerializerMethodField()

    class Meta(InvoiceSerializer.Meta):
        fields = [*InvoiceSerializer.Meta.fields, "lines", "revisions", "credit_notes", "replaced_by", "epc_qr_payload"]

    def get_replaced_by(self, invoice) -> int | None:
        """The corrected invoice that replaces this one, if any."""
        corrected = selectors.replacing_invoice(invoice.credit_notes.all())
        return corrected.pk if corrected else None

    def get_epc_qr_payload(self, invoice) -> str | None:
        """The text of the invoice's EPC QR code (SEPA credit transfer, EPC069-12): euro
        invoices paid by bank transfer with an amount due; null otherwise."""
        return epc.epc_payload(invoice) if epc.shows_epc_qr(invoice) else None


class UsageRowSerializer(serializers.Serializer):
    subscription_id = serializers.CharField(max_length=64)
    period = serializers.CharField(max_length=7, help_text="YYYY-MM")
    service_name = serializers.CharField(max_length=200)
    meter = serializers.CharField(max_length=200)
    quantity = serializers.CharField(max_length=32)
    unit_price = serializers.CharField(max_length=32)
    currency = serializers.CharField(max_length=3)
    is_marketplace = serializers.BooleanField(required=False, default=False)
    record_id = serializers.CharField(max_length=100, required=False, allow_blank=True)


class UsageImportSerializer(serializers.Serializer):
    rows = serializers.ListField(child=serializers.DictField(), max_length=50_000, allow_empty=False)


class UsageImportReportSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    rejected = serializers.ListField(child=serializers.DictField())
