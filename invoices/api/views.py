from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from billing_portal.api import refuse_blank_params
from invoices import downloads, selectors, services
from invoices.forms import InvoiceFilterForm

from .renderers import PDFRenderer
from .serializers import InvoiceDetailSerializer, InvoiceSerializer, UsageImportReportSerializer, UsageImportSerializer


@extend_schema(
    parameters=[
        OpenApiParameter("status", str, enum=["due", "past_due", "paid", "void"]),
        OpenApiParameter("period", str, description="YYYY-MM"),
    ]
)
class InvoiceList(generics.ListAPIView):
    """Invoices of the billing scopes the caller may see, newest first."""

    serializer_class = InvoiceSerializer

    def get_queryset(self):
        # Only the columns the serializer returns, as values: no model instance per row.
        invoices = selectors.invoice_values_for_user(self.request.user, InvoiceSerializer.value_columns(), named=True)
        params = self.request.query_params
        if not any(name in params for name in InvoiceFilterForm.base_fields):
            return invoices
        refuse_blank_params(params, InvoiceFilterForm.base_fields)
        form = InvoiceFilterForm(params)
        if not form.is_valid():
            raise ValidationError(form.errors)
        return form.apply(invoices)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer_class().represent_values(page))


class InvoiceDetail(generics.RetrieveAPIView):
    """One invoice with its lines, revisions and credit notes."""

    serializer_class = InvoiceDetailSerializer

    def get_object(self):
        invoice = selectors.get_invoice_for_user(self.request.user, self.kwargs["pk"])
        # Loaded here so the serializer does a fixed number of queries.
        invoice._prefetched_objects_cache = {
            "lines": invoice.lines.select_related("subscription"),
            "revisions": selectors.revisions_for_invoice(invoice)[::-1],
            "credit_notes": selectors.credit_notes_on_invoice(invoice),
        }
        return invoice


class InvoicePdf(APIView):
    """The PDF of the current revision (or of revision ``revision``). It answers
    ``Accept: application/pdf`` as well as JSON or no Accept header; an error is
    always the JSON error shape."""

    renderer_classes = [JSONRenderer, PDFRenderer]

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request, pk, revision=None):
        return self._pdf(request, pk, revision)

    def _pdf(self, request, pk, revision):
        return downloads.revision_pdf_response(request.user, pk, revision)

    def finalize_response(self, request, response, *args, **kwargs):
        if isinstance(response, Response):  # an error (the PDF is a FileResponse)
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


class InvoiceRevisionPdf(InvoicePdf):
    """The PDF of one revision of an invoice (earlier revisions stay readable, PO-5)."""

    @extend_schema(
        operation_id="v1_invoices_revision_pdf_retrieve", responses={(200, "application/pdf"): OpenApiTypes.BINARY}
    )
    def get(self, request, pk, revision=None):
        return self._pdf(request, pk, revision)


class UsageImport(APIView):
    """Import usage charges (operator staff). Valid rows are added; rejected rows are
    listed with their row number and reasons; rows with a known ``record_id`` are
    skipped as duplicates."""

    @extend_schema(request=UsageImportSerializer, responses={200: UsageImportReportSerializer})
    def post(self, request):
        services.check_may_import(request.user)  # before the body is read: 403, not 400
        serializer = UsageImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report = services.charge_import(rows=serializer.validated_data["rows"], actor=request.user, source="api")
        return Response(report.as_dict(), status=status.HTTP_200_OK)
