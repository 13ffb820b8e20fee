"""Receipts and the payment history in the API: the same selectors (and so the same
invoice read rule) as the pages (docs/payments.md, "Receipts and the payment history")."""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from billing_portal.api import errors, refuse_blank_params
from invoices import selectors as invoice_selectors
from invoices.api.renderers import PDFRenderer
from payments import downloads, history, labels, receipt_selectors
from payments.models import Receipt, ReceiptMethod

PROFILE_PARAM = OpenApiParameter(
    "profile",
    OpenApiTypes.INT,
    description="Only this billing profile (one whose invoices you may read; otherwise 404).",
)


class ReceiptSerializer(serializers.ModelSerializer):
    invoice_number = serializers.CharField(source="invoice.number", read_only=True)
    method = serializers.ChoiceField(choices=ReceiptMethod.choices, read_only=True)
    method_display = serializers.SerializerMethodField(help_text='"Visa •••• 4242" or "Bank transfer".')
    pdf_url = serializers.SerializerMethodField(help_text="The receipt's PDF (Accept: application/pdf).")

    class Meta:
        model = Receipt
        fields = [
            "id",
            "number",
            "payment",
            "invoice",
            "invoice_number",
            "issue_date",
            "paid_on",
            "method",
            "method_display",
            "card_brand",
            "card_last4",
            "reference",
            "amount",
            "currency",
            "pdf_url",
        ]
        read_only_fields = fields

    def get_method_display(self, obj) -> str:
        return labels.receipt_method(obj)

    def get_pdf_url(self, obj) -> str:
        request = self.context.get("request")
        url = reverse("api-receipt-pdf", args=[obj.pk])
        return request.build_absolute_uri(url) if request is not None else url


class HistoryRowSerializer(serializers.Serializer):
    """One row of the payment history (``payments.history.HistoryRow``)."""

    kind = serializers.CharField(help_text='"payment", "refund" or "credit_note"; further kinds may follow.')
    kind_label = serializers.CharField()
    id = serializers.IntegerField(help_text="The id of the row's object within its kind (a payment's id).")
    date = serializers.DateTimeField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="Negative for money given back.")
    currency = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    method = serializers.CharField()
    reference = serializers.CharField()
    invoice_id = serializers.IntegerField(allow_null=True)
    invoice_number = serializers.CharField()
    scope = serializers.CharField()
    document = serializers.CharField(help_text='The number of the row\'s document (a receipt), "" when none.')
    document_url = serializers.SerializerMethodField(help_text="The document's PDF in the API, null when none.")

    def get_document_url(self, row) -> str | None:
        request = self.context.get("request")
        if not row.api_link:
            return None
        return request.build_absolute_uri(row.api_link) if request is not None else row.api_link


def _scope(request) -> history.HistoryScope:
    refuse_blank_params(request.query_params, ("profile",))
    return history.history_scope(request.user, request.query_params.get("profile"))


@extend_schema(parameters=[PROFILE_PARAM])
class ReceiptList(generics.ListAPIView):
    """Receipts of the invoices the caller may read (every succeeded payment has one), newest first."""

    serializer_class = ReceiptSerializer

    def get_queryset(self):
        return receipt_selectors.receipts_for_user(self.request.user, _scope(self.request).profile)


class InvoiceReceiptList(generics.ListAPIView):
    """Receipts of one invoice, by number (404 for an invoice the caller may not read)."""

    serializer_class = ReceiptSerializer

    def get_queryset(self):
        invoice = invoice_selectors.get_invoice_for_user(self.request.user, self.kwargs["pk"])
        return receipt_selectors.receipts_for_invoice(invoice)


class ReceiptDetail(generics.RetrieveAPIView):
    """One receipt, for everyone who may read its invoice."""

    serializer_class = ReceiptSerializer

    def get_object(self):
        return receipt_selectors.get_receipt_for_user(self.request.user, self.kwargs["pk"])


class ReceiptPdf(APIView):
    """A receipt's PDF, in the account's language. It answers ``Accept: application/pdf``
    as well as JSON or no Accept header; an error is always the JSON error shape."""

    renderer_classes = [JSONRenderer, PDFRenderer]

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY, **errors(401, 403, 404)})
    def get(self, request, pk):
        return downloads.receipt_pdf_response(request.user, pk)

    def finalize_response(self, request, response, *args, **kwargs):
        if isinstance(response, Response):  # an error (the PDF is a FileResponse)
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


@extend_schema(parameters=[PROFILE_PARAM])
class PaymentHistoryList(generics.ListAPIView):
    """The payment history: every payment (succeeded, failed, pending; card or bank transfer)
    of the billing scopes whose invoices the caller may read, newest first, with its
    receipt. Rows have a ``kind``; kinds other than ``payment`` may be added."""

    serializer_class = HistoryRowSerializer

    def get_queryset(self):
        return history.payment_history(_scope(self.request))
