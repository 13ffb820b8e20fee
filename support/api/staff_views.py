"""Support staff's side of the support API (PBI-7, PBI-8, PBI-9): the one support queue
(both kinds of request, oldest first) and a pay-by-invoice request with everything
needed to decide it, with its steps. Anyone else gets 403, as on the HTML queue; every
step is the staff service, which checks ``can_work_support_queue`` itself."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import AgreementType
from billing_portal.api import refuse_blank_params
from support import selectors, services

from .common import errors, staff_view
from .serializers import (
    QUEUE_KINDS,
    QUEUE_STATUSES,
    PayByInvoiceStaffDetailSerializer,
    PbiCreditDecisionInputSerializer,
    PbiMessageInputSerializer,
    PbiNoteInputSerializer,
    PbiRejectInputSerializer,
    SupportQueueRowSerializer,
)


class QueueFilterSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["", *QUEUE_KINDS], required=False, default="")
    status = serializers.ChoiceField(choices=QUEUE_STATUSES, required=False, default="open")
    older_than_days = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=0, max_value=3650
    )
    country = serializers.CharField(required=False, allow_blank=True, default="", max_length=2)
    agreement_type = serializers.ChoiceField(choices=["", *AgreementType.values], required=False, default="")

    def queue_filter(self) -> selectors.QueueFilter:
        data = self.validated_data
        return selectors.QueueFilter(
            kind=data["kind"],
            status="" if data["status"] == "all" else data["status"],
            older_than_days=data["older_than_days"],
            country=data["country"].upper(),
            agreement_type=data["agreement_type"],
        )


QUEUE_PARAMETERS = [
    OpenApiParameter("kind", OpenApiTypes.STR, enum=list(QUEUE_KINDS), description="Only this kind of request."),
    OpenApiParameter(
        "status",
        OpenApiTypes.STR,
        enum=list(QUEUE_STATUSES),
        description="open (default), waiting (for support), closed or all.",
    ),
    OpenApiParameter("older_than_days", OpenApiTypes.INT, description="Only requests at least this many days old."),
    OpenApiParameter("country", OpenApiTypes.STR, description="The account's country (ISO 3166 code)."),
    OpenApiParameter("agreement_type", OpenApiTypes.STR, enum=AgreementType.values),
]


class QueueList(generics.ListAPIView):
    """Support staff: pay-by-invoice and invoice amendment requests, oldest first."""

    serializer_class = SupportQueueRowSerializer

    @extend_schema(
        parameters=QUEUE_PARAMETERS,
        responses={200: SupportQueueRowSerializer(many=True), **errors(400, 401, 403)},
        operation_id="support_queue_list",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        # Only staff see the queue: refuse before the filters say anything.
        services.check_staff(self.request.user)
        refuse_blank_params(self.request.query_params, QueueFilterSerializer().fields)
        filters = QueueFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.support_queue(self.request.user, filters.queue_filter())


def _detail(request, pk):
    pbi = selectors.get_request_for_staff(request.user, pk)
    return Response(PayByInvoiceStaffDetailSerializer(staff_view(pbi)).data)


def _step(operation_id: str, request_serializer=None, codes=(400, 401, 403, 404, 409)):
    return extend_schema(
        request=request_serializer,
        responses={200: PayByInvoiceStaffDetailSerializer, **errors(*codes)},
        operation_id=operation_id,
    )


class StaffRequestDetail(APIView):
    """A pay-by-invoice request with its details, the pre-checks as submitted and as they
    stand now for approval, its history, every message (internal notes included) and the
    credit application."""

    @extend_schema(
        responses={200: PayByInvoiceStaffDetailSerializer, **errors(401, 403, 404)},
        operation_id="support_queue_pay_by_invoice_read",
    )
    def get(self, request, pk):
        return _detail(request, pk)


class _Step(APIView):
    input_serializer = None

    def post(self, request, pk):
        pbi = selectors.get_request_for_staff(request.user, pk)
        data = {}
        if self.input_serializer is not None:
            serializer = self.input_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
        self.run(pbi, request.user, data)
        return _detail(request, pk)


class AskInformation(_Step):
    """Ask the customer a question; the request waits for their answer."""

    input_serializer = PbiMessageInputSerializer

    @_step("support_queue_pay_by_invoice_ask_information", PbiMessageInputSerializer)
    def post(self, request, pk):
        return super().post(request, pk)

    def run(self, pbi, actor, data):
        services.pbi_ask_information(request=pbi, actor=actor, message=data.get("message"))


class AddNote(_Step):
    """An internal note, never shown to the customer."""

    input_serializer = PbiNoteInputSerializer

    @_step("support_queue_pay_by_invoice_note", PbiNoteInputSerializer)
    def post(self, request, pk):
        return super().post(request, pk)

    def run(self, pbi, actor, data):
        services.pbi_add_note(request=pbi, actor=actor, note=data.get("note"))


class SendCreditApplication(_Step):
    """PBI-8: send the credit application for the customer to fill in."""

    @_step("support_queue_pay_by_invoice_send_credit_application", codes=(401, 403, 404, 409))
    def post(self, request, pk):
        return super().post(request, pk)

    def run(self, pbi, actor, data):
        services.pbi_send_credit_application(request=pbi, actor=actor)


class CreditDecision(_Step):
    """Record the outcome of the credit check: approved with a credit limit, or declined."""

    input_serializer = PbiCreditDecisionInputSerializer

    @_step("support_queue_pay_by_invoice_credit_decision", PbiCreditDecisionInputSerializer)
    def post(self, request, pk):
        return super().post(request, pk)

    def run(self, pbi, actor, data):
        services.pbi_record_credit_decision(
            request=pbi, actor=actor, decision=data.get("decision"), credit_limit=data.get("credit_limit")
        )


class Approve(_Step):
    """PBI-9: approve; the scope pays by invoice from now on (PBI-5) and the customer is
    sent the instructions. Refused while a pre-check blocks (409, pbi_precheck_failed)
    or without an approved credit decision (409, credit_not_approved)."""

    @_step("support_queue_pay_by_invoice_approve", codes=(401, 403, 404, 409))
    def post(self, request, pk):
        return super().post(request, pk)

    def run(self, pbi, actor, data):
        services.pbi_approve(request=pbi, actor=actor)


class Reject(_Step):
    """Reject with a reason the customer reads; the scope keeps paying by card."""

    input_serializer = PbiRejectInputSerializer

    @_step("support_queue_pay_by_invoice_reject", PbiRejectInputSerializer)
    def post(self, request, pk):
        return super().post(request, pk)

    def run(self, pbi, actor, data):
        services.pbi_reject(request=pbi, actor=actor, reason=data.get("reason"))
