from django.urls import reverse
from rest_framework import serializers

from invoices.models import Invoice, InvoiceLine, InvoiceRevision


class InvoiceRevisionSerializer(serializers.ModelSerializer):
    pdf_url = serializers.SerializerMethodField()

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
            "tax_note",
            "reason",
            "created_at",
            "pdf_url",
        ]

    def get_pdf_url(self, revision) -> str:
        return reverse("api-invoice-pdf-revision", args=[revision.invoice_id, revision.number])


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


class InvoiceSerializer(serializers.ModelSerializer):
    profile_name = serializers.CharField(source="profile.__str__", read_only=True)
    po_number = serializers.CharField(source="current_revision.po_number", default="", read_only=True)
    vat_id = serializers.CharField(source="current_revision.vat_id", default="", read_only=True)
    period = serializers.SerializerMethodField()
    amount_due = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)

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
            "amount_due",
            "payment_terms",
            "payment_reference",
            "po_number",
            "vat_id",
            "notified_at",
            "paid_at",
        ]

    def get_period(self, invoice) -> str:
        return f"{invoice.period:%Y-%m}"


class InvoiceDetailSerializer(InvoiceSerializer):
    lines = InvoiceLineSerializer(many=True, read_only=True)
    revisions = InvoiceRevisionSerializer(many=True, read_only=True)

    class Meta(InvoiceSerializer.Meta):
        fields = [*InvoiceSerializer.Meta.fields, "lines", "revisions"]


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
