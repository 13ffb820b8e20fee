"""Refund API: the refunds of a payment (list; support staff refund with an
``Idempotency-Key``) and one refund. Reads follow the invoice's read rule
(``can_view_invoices``); refunding is ``can_refund_payments`` (support staff)."""

from decimal import Decimal

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers

from billing_portal.api import error_body, errors
from billing_portal.errors import DomainError
from payments import selectors, services
from payments.models import PaymentStatus, Refund

from .pay import _render, _render_in_progress

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=True,
    description="A unique key per refund (max 200 characters). Repeating the request with the same key replays the "
    "first response; the same key with a different body is refused (422); a repeat while the first is running gets 409.",
)


class RefundSerializer(serializers.ModelSerializer):
    credit_note_number = serializers.CharField(
        source="credit_note.number", default=None, allow_null=True, read_only=True
    )

    class Meta:
        model = Refund
        fields = [
            "id",
            "payment",
            "invoice",
            "amount",
            "credit_amount",
            "currency",
            "reason",
            "status",
            "gateway_reference",
            "failure_code",
            "credit_note",
            "credit_note_number",
            "created_at",
            "settled_at",
        ]
        read_only_fields = fields


class RefundRequestSerializer(serializers.Serializer):
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=Decimal("0.01"), help_text="Amount to refund."
    )
    reason = serializers.CharField(max_length=2000)


def _answer(refund: Refund) -> tuple[int, dict]:
    if refund.status == PaymentStatus.FAILED:
        detail = _("The gateway refused the refund (%(code)s).") % {"code": refund.failure_code or "failed"}
        return 409, error_body("refund_failed", detail)
    return (201 if refund.status == PaymentStatus.SUCCEEDED else 202), RefundSerializer(refund).data


def _refund(request, payment, key: str) -> tuple[int, dict]:
    try:
        serializer = RefundRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        refund = services.payment_refund(
            payment=payment,
            amount=serializer.validated_data["amount"],
            reason=serializer.validated_data["reason"],
            actor=request.user,
            request_key=services.api_request_key(request.user, key),
        )
    except DomainError as exc:
        return exc.status_code, error_body(exc.code, exc.message, exc.fields)
    except Http404:
        return 404, error_body("not_found", "Not found.")
    return _answer(Refund.objects.select_related("credit_note").get(pk=refund.pk))


class PaymentRefunds(generics.ListAPIView):
    """GET: the refunds of a payment. POST (support staff): refund a card payment fully or
    in part (at most what was paid minus what was refunded). 201 refunded; 202 pending
    (processor timeout, settled later); 409 the gateway refused it, or not refundable."""

    serializer_class = RefundSerializer

    def get_queryset(self):
        payment = selectors.get_payment_for_user(self.request.user, self.kwargs["pk"])
        return selectors.refunds_for_payment(payment)

    @extend_schema(
        parameters=[IDEMPOTENCY_HEADER],
        request=RefundRequestSerializer,
        responses={201: RefundSerializer, 202: RefundSerializer, **errors(400, 403, 404, 409, 422)},
    )
    def post(self, request, pk):
        payment = selectors.get_payment_to_refund(request.user, pk)
        services.check_may_refund(request.user)
        key = services.clean_key(request.headers.get("Idempotency-Key"))
        try:
            answer = services.answer_once(
                user=request.user,
                key=key,
                fingerprint=services.request_fingerprint(invoice_id=f"refund:{payment.pk}", data=request.data),
                answer=lambda _keep: _refund(request, payment, key),
            )
        except services.IdempotencyInProgress as exc:
            return _render_in_progress(exc)
        return _render(answer)


class RefundDetail(generics.RetrieveAPIView):
    serializer_class = RefundSerializer

    def get_object(self):
        return selectors.get_refund_for_user(self.request.user, self.kwargs["pk"])
