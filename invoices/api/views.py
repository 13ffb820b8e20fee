from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from billing_portal.api import refuse_blank_params
from invoices import downloads, exports, selectors, services
from invoices.filters import PARAMS, SORTS

from .renderers import CSVRenderer, FileAnswer, PDFRenderer, ZIPRenderer
from .serializers import InvoiceDetailSerializer, InvoiceSerializer, UsageImportReportSerializer, UsageImportSerializer

# The list's filters (invoices.filters), for the list and its exports.
FILTER_PARAMETERS = [
    OpenApiParameter(
        "q",
        str,
        description="Search: an invoice number from its start, a whole PO number (case does not matter), or the "
        "total as an amount (1234.50, 1.234,50).",
    ),
    OpenApiParameter("status", str, enum=["due", "past_due", "paid", "void"]),
    OpenApiParameter("period", str, description="One billing period, YYYY-MM."),
    OpenApiParameter("period_from", str, description="Billing periods from this month on, YYYY-MM."),
    OpenApiParameter("period_to", str, description="Billing periods up to this month, YYYY-MM."),
    OpenApiParameter("profile", int, description="A billing profile's id (its invoices only)."),
    OpenApiParameter("subscription", str, description="A subscription ID: the invoices with a line of it."),
    OpenApiParameter("sort", str, enum=list(SORTS), description="Order; -date (newest first) by default."),
]


def filter_params(request):
    """The query parameters, after refusing a filter given empty or as "null" (400)."""
    params = request.query_params
    refuse_blank_params(params, PARAMS)
    return params


@extend_schema(parameters=FILTER_PARAMETERS)
class InvoiceList(generics.ListAPIView):
    """Invoices of the billing scopes the caller may see, newest first unless ``sort`` says
    otherwise, searched and filtered as the Invoices page is."""

    serializer_class = InvoiceSerializer

    def get_queryset(self):
        # Only the columns the serializer returns, as values: no model instance per row.
        columns = InvoiceSerializer.value_columns()
        params = self.request.query_params
        if not any(name in params for name in PARAMS):  # its first page read prepared
            return selectors.FirstRowsPrepared(self.request.user, columns, named=True)
        form = exports.filter_form(self.request.user, filter_params(self.request))
        if not form.is_valid():
            raise ValidationError(form.errors)
        return form.apply(selectors.invoice_values_for_user(self.request.user, columns, named=True))

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer_class().represent_values(page))


@extend_schema(
    parameters=[
        OpenApiParameter(
            "invoice",
            {"type": "array", "items": {"type": "integer"}},
            description="The invoices to download (repeat the parameter). Without it: every invoice the filters list.",
        ),
        *FILTER_PARAMETERS,
    ],
    responses={(200, "application/zip"): OpenApiTypes.BINARY},
)
class InvoiceDownload(FileAnswer, APIView):
    """The PDFs of the given invoices, or of every invoice the filters list, as one ZIP
    (at most INVOICE_ZIP_MAX_INVOICES, default 500: more is a 400 ``too_many_invoices``).
    An invoice the caller may not see is a 404."""

    renderer_classes = [JSONRenderer, ZIPRenderer]

    def get(self, request):
        return exports.zip_response(request.user, filter_params(request))


@extend_schema(parameters=FILTER_PARAMETERS, responses={(200, "text/csv"): OpenApiTypes.BINARY})
class InvoiceExport(FileAnswer, APIView):
    """The invoices the filters list as CSV (UTF-8 with a byte-order mark): number, dates,
    period, status, PO number, currency, subtotal, VAT, total, amount due."""

    renderer_classes = [JSONRenderer, CSVRenderer]

    def get(self, request):
        return exports.csv_response(request.user, filter_params(request))


class InvoiceLinesExport(FileAnswer, APIView):
    """One invoice's lines as CSV (UTF-8 with a byte-order mark), with their subscription."""

    renderer_classes = [JSONRenderer, CSVRenderer]

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.BINARY})
    def get(self, request, pk):
        return exports.lines_csv_response(request.user, pk)


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


class InvoicePdf(FileAnswer, APIView):
    """The PDF of the current revision (or of revision ``revision``). It answers
    ``Accept: application/pdf`` as well as JSON or no Accept header; an error is
    always the JSON error shape."""

    renderer_classes = [JSONRenderer, PDFRenderer]

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request, pk, revision=None):
        return self._pdf(request, pk, revision)

    def _pdf(self, request, pk, revision):
        return downloads.revision_pdf_response(request.user, pk, revision)


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
