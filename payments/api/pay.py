"""Pay API: pay an invoice (with ``Idempotency-Key``), list its payments, read one."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.views import APIView

from billing_portal.api import error_body, errors
from billing_portal.errors import DomainError
from invoices import selectors as invoice_selectors
from invoices.models import Invoice
from payments import declines, selectors, services
from payments.models import PaymentMethod, PaymentSource, PaymentStatus

from .serializers import PaymentSerializer, PayRequestSerializer

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


def _answer(payment) -> tuple[int, dict]:
    if payment.status == PaymentStatus.FAILED:
        return 402, error_body(payment.failure_code or "payment_declined", declines.explain(payment.failure_code))
    return (201 if payment.status == PaymentStatus.SUCCEEDED else 202), PaymentSerializer(payment).data


def _pay(request, pk, key: str, keep) -> tuple[int, dict]:
    """The work of a pay request, as the answer to keep: a refusal is an answer too. The
    pay service reads the invoice and the card under the invoice's lock, and answers 404
    for an invoice the caller may not see; the answer about a settled payment is kept in
    the transaction that settles it."""
    settled = []

    def keep_settled(payment) -> None:
        settled.append(_answer(payment))
        keep(*settled[0])

    try:
        serializer = PayRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        payment = services.invoice_pay(
            invoice=Invoice(pk=pk),
            payment_method=PaymentMethod(pk=serializer.validated_data["payment_method"]),
            actor=request.user,
            source=PaymentSource.API,
            request_key=services.api_request_key(request.user, key),
            in_settlement=keep_settled,
        )
    except DomainError as exc:
        return exc.status_code, error_body(exc.code, exc.message, exc.fields)
    # Http404 (an invoice the caller may not see) is not an answer to keep: the key stays
    # unused, as if the request had been refused before it was claimed.
    return settled[0] if settled else _answer(payment)


def _render(answer: services.Answer) -> Response:
    response = Response(answer.body, status=answer.status_code)
    if answer.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def _render_in_progress(exc: services.IdempotencyInProgress) -> Response:
    response = Response(error_body(exc.code, exc.message), status=exc.status_code)
    response["Retry-After"] = str(exc.retry_after)
    return response


class InvoicePay(APIView):
    """Pay an invoice's amount due with one of the scope's cards (PAY-1..PAY-4). 201: paid;
    202: pending (processor timeout, settled later; or waiting for the customer's 3-D Secure
    check at ``action_url``, settled once they confirmed it); 402: declined, with the code and the
    reason plus PM-7 guidance; 409: already paid, being paid, void or paid by bank transfer."""

    @extend_schema(
        parameters=[IDEMPOTENCY_HEADER],
        request=PayRequestSerializer,
        responses={201: PaymentSerializer, 202: PaymentSerializer, **errors(400, 402, 403, 404, 409, 422)},
    )
    def post(self, request, pk):
        key = services.clean_key(request.headers.get("Idempotency-Key"))
        try:
            answer = services.answer_once(
                user=request.user,
                key=key,
                fingerprint=services.request_fingerprint(invoice_id=pk, data=request.data),
                answer=lambda keep: _pay(request, pk, key, keep),
                # A key used before is answered (replayed, refused, in progress) only to
                # someone who may see the invoice: another tenant learns nothing from it.
                may_answer=lambda: invoice_selectors.get_invoice_for_user(request.user, pk),
            )
        except services.IdempotencyInProgress as exc:
            return _render_in_progress(exc)
        return _render(answer)


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
