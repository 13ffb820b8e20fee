from django.http import FileResponse, Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import permissions
from billing_portal.errors import NotAllowed
from invoices import selectors, services
from invoices.forms import InvoiceFilterForm

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
        form = InvoiceFilterForm(self.request.query_params)
        if not form.is_valid():
            from rest_framework.exceptions import ValidationError

            raise ValidationError(form.errors)
        return form.apply(selectors.invoices_for_user(self.request.user))


class InvoiceDetail(generics.RetrieveAPIView):
    """One invoice with its lines and revisions."""

    serializer_class = InvoiceDetailSerializer

    def get_object(self):
        invoice = selectors.get_invoice_for_user(self.request.user, self.kwargs["pk"])
        # Loaded here so the serializer does a fixed number of queries.
        invoice._prefetched_objects_cache = {
            "lines": invoice.lines.select_related("subscription"),
            "revisions": invoice.revisions.order_by("number"),
        }
        return invoice


class InvoicePdf(APIView):
    """The PDF of the current revision (or of revision ``revision``)."""

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request, pk, revision=None):
        return self._pdf(request, pk, revision)

    def _pdf(self, request, pk, revision):
        revision_obj = selectors.get_revision_for_user(request.user, pk, revision)
        if not revision_obj.pdf:
            services.invoice_revision_render_pdf(revision_id=revision_obj.pk)
            revision_obj.refresh_from_db(fields=["pdf", "pdf_rendered_at"])
        if not revision_obj.pdf:
            raise Http404
        return FileResponse(
            revision_obj.pdf.open("rb"),
            as_attachment=True,
            filename=f"{revision_obj.invoice.number}-r{revision_obj.number}.pdf",
            content_type="application/pdf",
        )


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
        if not permissions.can_import_usage(request.user):
            raise NotAllowed(_("Only the portal operator’s staff may import usage."))
        serializer = UsageImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report = services.charge_import(rows=serializer.validated_data["rows"], source="api")
        return Response(report.as_dict(), status=status.HTTP_200_OK)
