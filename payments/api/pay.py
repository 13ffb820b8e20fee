"""Pay API: pay an invoice (with ``Idempotency-Key``), list its payments, read one."""

import datetime as dt
import hashlib
import json
import math

from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils.crypto import salted_hmac
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import permissions
from billing_portal import clock
from billing_portal.api import error_body
from billing_portal.errors import DomainError, NotAllowed
from invoices import selectors as invoice_selectors
from payments import declines, selectors, services
from payments.models import IdempotencyRecord, PaymentMethod, PaymentSource, PaymentStatus

from .serializers import PaymentSerializer, PayRequestSerializer

ERROR = OpenApiResponse(description="Error: {code, detail, fields}")
# How long a request holds its Idempotency-Key record. A repeat inside the lease is
# answered 409 (with Retry-After); after it, the first request is taken for dead (the
# process crashed mid-request) and the repeat takes the record over and carries on.
# Taking over never charges twice: the payment is tied to the key (``request_key``), so
# the repeat finds a payment the first request made and answers with its current state.
IDEMPOTENCY_LEASE = dt.timedelta(minutes=2)
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=True,
    description="A unique key per payment attempt (max 200 characters). Repeating a request with the same key "
    "replays the first response; the same key with a different body is refused (422). A repeat while the first "
    "request is still running gets 409 with Retry-After; after two minutes an unfinished first request is taken "
    "for lost and the repeat completes it (answering with the state of the payment it made, if any).",
)


def _fingerprint(request, pk) -> str:
    """Tells a repeat of the request from a different one. Keyed with the site's secret:
    whatever a client put in the body (a card number by mistake) cannot be recovered from
    the stored value by trying candidates."""
    body = json.dumps(request.data, sort_keys=True, default=str)
    return salted_hmac("payments.idempotency", f"POST {pk} {body}", algorithm="sha256").hexdigest()


def api_request_key(user, key: str) -> str:
    """The payment's ``request_key`` for an API request: one payment per user and
    Idempotency-Key, whichever process (first request or a take-over) gets there."""
    return f"api:{user.pk}:{hashlib.sha256(key.encode()).hexdigest()}"


def _answer(payment) -> tuple[int, dict]:
    if payment.status == PaymentStatus.FAILED:
        return 402, error_body(payment.failure_code or "payment_declined", declines.explain(payment.failure_code))
    return (201 if payment.status == PaymentStatus.SUCCEEDED else 202), PaymentSerializer(payment).data


def _pay(request, pk, request_key: str) -> tuple[int, dict]:
    invoice = invoice_selectors.get_invoice_for_user(request.user, pk)
    if not permissions.can_pay_invoices(request.user, invoice.profile):
        raise NotAllowed("Your role may see this invoice but not pay it.")
    serializer = PayRequestSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    existing = selectors.payment_for_request_key(invoice, request_key)
    if existing is not None:
        # A take-over of a request that died after making the payment: its state now
        # (pending until the reconciler settles it), never a second charge.
        return _answer(existing)
    method = PaymentMethod.objects.filter(
        pk=serializer.validated_data["payment_method"], profile=invoice.profile, removed_at__isnull=True
    ).first()
    if method is None:
        return 400, error_body(
            "invalid_payment_method",
            "Choose one of the cards of this billing account.",
            {"payment_method": ["Unknown card for this invoice."]},
        )
    payment = services.invoice_pay(
        invoice=invoice, payment_method=method, actor=request.user, source=PaymentSource.API, request_key=request_key
    )
    return _answer(payment)


def _in_progress(record, now) -> Response:
    response = Response(
        error_body("idempotency_in_progress", "A request with this Idempotency-Key is still being processed."),
        status=409,
    )
    left = (record.leased_at + IDEMPOTENCY_LEASE - now).total_seconds()
    response["Retry-After"] = str(max(1, math.ceil(left)))
    return response


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
        now = clock.now()
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user=request.user, key=key, fingerprint=fingerprint, created_at=now, leased_at=now
                )
        except IntegrityError:
            record = IdempotencyRecord.objects.get(user=request.user, key=key)
            if record.fingerprint != fingerprint:
                return Response(
                    error_body("idempotency_key_reused", "This Idempotency-Key was used for a different request."),
                    status=422,
                )
            if not record.completed:
                if now - record.leased_at < IDEMPOTENCY_LEASE:
                    return _in_progress(record, now)
                # The lease ran out: take the record over, unless another repeat did so
                # first (compare-and-set on the lease we saw).
                taken = IdempotencyRecord.objects.filter(
                    pk=record.pk, completed=False, leased_at=record.leased_at
                ).update(leased_at=now)
                if not taken:
                    record.refresh_from_db()
                    if not record.completed:
                        return _in_progress(record, now)
                else:
                    record.leased_at = now
            if record.completed:
                response = Response(record.body, status=record.status_code)
                response["Idempotent-Replayed"] = "true"
                return response
        try:
            status_code, body = _pay(request, pk, api_request_key(request.user, key))
        except DomainError as exc:
            status_code, body = exc.status_code, error_body(exc.code, exc.message, exc.fields)
        except Http404:
            status_code, body = 404, error_body("not_found", "Not found.")
        except Exception:
            # Nothing was recorded: let the client retry with the same key (a payment
            # made meanwhile is found again through its request key).
            IdempotencyRecord.objects.filter(pk=record.pk, completed=False, leased_at=record.leased_at).delete()
            raise
        # The first answer is the one replayed (a slow original finishing after a
        # take-over does not overwrite it).
        IdempotencyRecord.objects.filter(pk=record.pk, completed=False).update(
            completed=True, status_code=status_code, body=body
        )
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
