"""Credit-note API: an invoice's credit notes (list; support staff issue one), a credit
note and its PDF. Reads follow the invoice's read rule (``can_view_invoices``); issuing
is ``can_credit_invoices`` (support staff), refused to every customer role."""

import hashlib

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response

from billing_portal.api import errors
from billing_portal.errors import InvalidInput
from invoices import downloads, selectors, services

from .serializers import CreditNoteRequestSerializer, CreditNoteSerializer, CreditNoteSummarySerializer
from .views import InvoicePdf

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=True,
    description="A unique key per credit note (max 200 characters). Repeating the request with the same key "
    "returns the first credit note (200, Idempotent-Replayed: true); the same key with another body is refused (422).",
)


def _request_key(request) -> str:
    key = (request.headers.get("Idempotency-Key") or "").strip()
    if not key or len(key) > 200:
        raise InvalidInput(
            "Send an Idempotency-Key header (1 to 200 characters).",
            code="idempotency_key_required",
            fields={"Idempotency-Key": ["Required."]},
        )
    return f"api:{request.user.pk}:{hashlib.sha256(key.encode()).hexdigest()}"


class InvoiceCreditNotes(generics.ListAPIView):
    """GET: the credit notes of an invoice. POST (support staff): credit the invoice in
    full (no ``amount`` nor ``lines``), by a gross ``amount`` split over its lines pro
    rata, or by net amounts per line; never more than it still has uncredited (400
    ``over_credit``)."""

    serializer_class = CreditNoteSummarySerializer

    def get_queryset(self):
        invoice = selectors.get_invoice_for_user(self.request.user, self.kwargs["pk"])
        return selectors.credit_notes_for_invoice(invoice)

    @extend_schema(
        parameters=[IDEMPOTENCY_HEADER],
        request=CreditNoteRequestSerializer,
        responses={
            200: CreditNoteSerializer,
            201: CreditNoteSerializer,
            **errors(400, 403, 404, 409, 422),
        },
    )
    def post(self, request, pk):
        invoice = selectors.get_invoice_to_credit(request.user, pk)
        services.check_may_credit(request.user)  # before the body is read: 403, not 400
        key = _request_key(request)
        serializer = CreditNoteRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        replayed = invoice.credit_notes.filter(request_key=key).exists()
        credit_note = services.credit_note_issue(
            invoice=invoice,
            actor=request.user,
            reason=data["reason"],
            amount=data.get("amount"),
            lines=[dict(line) for line in data["lines"]] if data.get("lines") else None,
            request_key=key,
        )
        credit_note = (
            selectors.credit_notes_for_invoice(credit_note.invoice).select_related("invoice").get(pk=credit_note.pk)
        )
        response = Response(
            CreditNoteSerializer(credit_note).data, status=status.HTTP_200_OK if replayed else status.HTTP_201_CREATED
        )
        if replayed:
            response["Idempotent-Replayed"] = "true"
        return response


class CreditNoteDetail(generics.RetrieveAPIView):
    """A credit note with its lines (the invoice it credits, the corrected invoice it was
    applied to, if any)."""

    serializer_class = CreditNoteSerializer

    def get_object(self):
        credit_note = selectors.get_credit_note_for_user(self.request.user, self.kwargs["pk"])
        credit_note._prefetched_objects_cache = {"lines": credit_note.lines.select_related("invoice_line")}
        return credit_note


class CreditNotePdf(InvoicePdf):
    """The PDF of a credit note, in the account's language (``Accept: application/pdf``
    or JSON; an error is the JSON error shape)."""

    @extend_schema(
        operation_id="v1_credit_notes_pdf_retrieve", responses={(200, "application/pdf"): OpenApiTypes.BINARY}
    )
    def get(self, request, pk, revision=None):
        return downloads.credit_note_pdf_response(request.user, pk)
