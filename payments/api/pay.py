"""Pay API: pay an invoice (with ``Idempotency-Key``), list its payments, read one."""

import hashlib
import json

from django.db import IntegrityError, transaction
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import permissions
from billing_portal.api import error_body
from billing_portal.errors import DomainError, NotAllowed
from invoices import selectors as invoice_selectors
from payments import declines, selectors, services
from payments.models import IdempotencyRecord, PaymentMethod, PaymentSource, PaymentStatus

from .serializers import PaymentSerializer, PayRequestSerializer

ERROR = OpenApiResponse(description="Error: {code, detail, fields}")
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=True,
    description="A unique key per payment attempt (max 200 characters). Repeating a request with the same key "
    "replays the first response; the same key with a different body is refused (422).",
)


def _fingerprint(request, pk) -> str:
    body = json.dumps(request.data, sort_keys=True, default=str)
    return hashlib.sha256(f"POST {pk} {body}".encode()).hexdigest()


def _pay(request, pk) -> tuple[int, dict]:
    invoice = invoice_selectors.get_invoice_for_user(request.user, pk)
    if not permissions.can_pay_invoices(request.user, invoice.profile):
        raise NotAllowed("Your role may see this invoice but not pay it.")
    serializer = PayRequestSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    method = PaymentMethod.objects.filter(
        pk=serializer.validated_data["payment_method"], profile=invoice.profile, removed_at__isnull=True
    ).first()
    if method is None:
        return 400, error_body(
            "invalid_payment_method",
            "Choose one of the cards of this billing account.",
            {"payment_method": ["Unknown card for this invoice."]},
        )
    payment = services.invoice_pay(invoice=invoice, payment_method=method, actor=request.user, source=PaymentSource.API)
    data = PaymentSerializer(payment).data
    if payment.status == PaymentStatus.FAILED:
        return 402, error_body(payment.failure_code or "payment_declined", declines.explain(payment.failure_code))
    return (201 if payment.status == PaymentStatus.SUCCEEDED else 202), data


class InvoicePay(APIView):
    """Pay an invoice's amount due with one of the scope's cards (PAY-1..PAY-4). 201: paid;
    202: pending (processor timeout, settled later); 402: declined, with the code and the
    reason plus PM-7 guidance; 409: already paid, being paid, void or paid by bank transfer."""

    @extend_schema(
        parameters=[IDEMPOTENCY_HEADER],
        request=PayRequestSerializer,
        responses={
            201: PaymentSerializer,
            202: PaymentSerializer,
            400: ERROR,
            402: ERROR,
            403: ERROR,
            404: ERROR,
            409: ERROR,
            422: ERROR,
        },
    )
    def post(self, request, pk):
        key = (request.headers.get("Idempotency-Key") or "").strip()
        if not key or len(key) > 200:
            return Response(
                error_body(
                    "idempotency_key_required",
                    "Send an Idempotency-Key header (1 to 200 characters).",
                    {"Idempotency-Key": ["Required."]},
                ),
                status=400,
            )
        # Visibility first, so that another tenant learns nothing from the key.
        invoice_selectors.get_invoice_for_user(request.user, pk)
        fingerprint = _fingerprint(request, pk)
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(user=request.user, key=key, fingerprint=fingerprint)
        except IntegrityError:
            record = IdempotencyRecord.objects.get(user=request.user, key=key)
            if record.fingerprint != fingerprint:
                return Response(
                    error_body("idempotency_key_reused", "This Idempotency-Key was used for a different request."),
                    status=422,
                )
            if not record.completed:
                return Response(
                    error_body(
                        "idempotency_in_progress", "A request with this Idempotency-Key is still being processed."
                    ),
                    status=409,
                )
            response = Response(record.body, status=record.status_code)
            response["Idempotent-Replayed"] = "true"
            return response
        try:
            status_code, body = _pay(request, pk)
        except DomainError as exc:
            status_code, body = exc.status_code, error_body(exc.code, exc.message, exc.fields)
        except Http404:
            status_code, body = 404, error_body("not_found", "Not found.")
        except Exception:
            record.delete()  # nothing was recorded: let the client retry with the same key
            raise
        IdempotencyRecord.objects.filter(pk=record.pk).update(completed=True, status_code=status_code, body=body)
        return Response(body, status=status_code)


class InvoicePaymentList(generics.ListAPIView):
    """Payment attempts of an invoice (card charges and recorded bank transfers)."""

    serializer_class = PaymentSerializer

    def get_queryset(self):
        invoice = invoice_selectors.get_invoice_for_user(self.request.user, self.kwargs["pk"])
        return selectors.payments_for_invoice(invoice).select_related("invoice")


class PaymentDetail(generics.RetrieveAPIView):
    serializer_class = PaymentSerializer

    def get_object(self):
        return selectors.get_payment_for_user(self.request.user, self.kwargs["pk"])
