"""API for PO and VAT numbers, enterprise periods, history and amendment requests.

Same selectors, predicates and services as the pages; errors are ``{code, detail, fields}``.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import permissions
from accounts.selectors import get_account_for_user, get_profile_for_user
from billing_portal.api import refuse_blank_params
from billing_portal.errors import InvalidInput
from purchase_orders import selectors, services
from purchase_orders.models import AmendmentStatus

from .serializers import (
    AmendmentRequestCreateSerializer,
    AmendmentRequestSerializer,
    DeclineSerializer,
    NumberChangeSerializer,
    PeriodPONumberSerializer,
    PONumberUpdateSerializer,
    ProfilePONumberSerializer,
    VATNumberSerializer,
    VATNumberUpdateSerializer,
)


def _profile_payload(user, profile) -> dict:
    refusal = services.profile_po_refusal(user, profile)
    return {"profile": profile, "can_edit": refusal is None, "refusal_code": refusal.code if refusal else None}


class ProfilePONumberView(APIView):
    """PO number of a billing profile's next invoice (web direct: PO-1/PO-3; customer
    agreement). Enterprise PO numbers are per period: see ``po-periods``."""

    @extend_schema(responses=ProfilePONumberSerializer, operation_id="billing_profile_po_number_read")
    def get(self, request, pk):
        profile = get_profile_for_user(request.user, pk)
        return Response(ProfilePONumberSerializer(_profile_payload(request.user, profile)).data)

    @extend_schema(
        request=PONumberUpdateSerializer,
        responses=ProfilePONumberSerializer,
        operation_id="billing_profile_po_number_set",
    )
    def put(self, request, pk):
        profile = get_profile_for_user(request.user, pk)
        serializer = PONumberUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.profile_po_number_set(
            profile=profile,
            po_number=serializer.validated_data["po_number"],
            actor=request.user,
            version=serializer.validated_data["version"],
        )
        return Response(ProfilePONumberSerializer(_profile_payload(request.user, profile)).data)


class VATNumberView(APIView):
    """The billing account's VAT / tax ID (VAT-1), applied to the next invoice."""

    @extend_schema(responses=VATNumberSerializer, operation_id="billing_account_vat_number_read")
    def get(self, request, pk):
        account = get_account_for_user(request.user, pk)
        return Response(
            VATNumberSerializer({"account": account, "can_edit": permissions.can_edit_vat(request.user, account)}).data
        )

    @extend_schema(
        request=VATNumberUpdateSerializer, responses=VATNumberSerializer, operation_id="billing_account_vat_number_set"
    )
    def put(self, request, pk):
        account = get_account_for_user(request.user, pk)
        serializer = VATNumberUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.vat_number_set(
            account=account,
            vat_id=serializer.validated_data["vat_id"],
            actor=request.user,
            version=serializer.validated_data["version"],
        )
        return Response(VATNumberSerializer({"account": account, "can_edit": True}).data)


def _enterprise(request, pk):
    account = selectors.get_enterprise_account_for_user(request.user, pk)
    return account, selectors.enterprise_profile(account)


class PeriodPONumberList(generics.ListAPIView):
    """An enrollment's billing periods, newest first, each with its PO number, whether it
    is the default (PO-6) and until when it can change (PO-7)."""

    serializer_class = PeriodPONumberSerializer

    def get_queryset(self):
        _account, self.profile = _enterprise(self.request, self.kwargs["pk"])
        return selectors.enterprise_periods(self.profile)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        profile = getattr(self, "profile", None)
        context["can_edit"] = profile is not None and permissions.can_edit_po(self.request.user, profile)
        return context


class PeriodPONumberDetail(APIView):
    """One billing period's PO number; PUT sets it (empty: back to the default). Inside
    the seven days after the invoice notification, the issued invoice gets a new revision."""

    def _state(self, request, pk, period):
        account, profile = _enterprise(request, pk)
        return profile, selectors.get_period(account, period)

    @extend_schema(responses=PeriodPONumberSerializer, operation_id="enrollment_period_po_number_read")
    def get(self, request, pk, period):
        profile, day = self._state(request, pk, period)
        context = {"can_edit": permissions.can_edit_po(request.user, profile)}
        return Response(PeriodPONumberSerializer(selectors.period_state(profile, day), context=context).data)

    @extend_schema(
        request=PONumberUpdateSerializer,
        responses=PeriodPONumberSerializer,
        operation_id="enrollment_period_po_number_set",
    )
    def put(self, request, pk, period):
        profile, day = self._state(request, pk, period)
        serializer = PONumberUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.period_po_number_set(
            profile=profile,
            period=day,
            po_number=serializer.validated_data["po_number"],
            actor=request.user,
            version=serializer.validated_data["version"],
        )
        context = {"can_edit": True}
        return Response(PeriodPONumberSerializer(selectors.period_state(profile, day), context=context).data)


class NumberChangeList(generics.ListAPIView):
    """History of PO and VAT changes of a billing account (who, when, old, new, invoice)."""

    serializer_class = NumberChangeSerializer

    @extend_schema(
        parameters=[OpenApiParameter("field", OpenApiTypes.STR, enum=["po_number", "vat_id"], required=False)]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        account = get_account_for_user(self.request.user, self.kwargs["pk"])
        refuse_blank_params(self.request.query_params, ("field",))
        field = self.request.query_params.get("field")
        if field not in (None, "po_number", "vat_id"):
            message = "field must be po_number or vat_id."
            raise InvalidInput(message, code="invalid_filter", fields={"field": [message]})
        return selectors.number_changes_for_user(self.request.user, account, field=field)


class AmendmentRequestList(generics.ListAPIView):
    """Your requests to amend issued invoices (PO-5); POST opens one."""

    serializer_class = AmendmentRequestSerializer

    def get_queryset(self):
        return selectors.amendment_requests_for_user(self.request.user)

    @extend_schema(request=AmendmentRequestCreateSerializer, responses={201: AmendmentRequestSerializer})
    def post(self, request):
        serializer = AmendmentRequestCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        invoice = selectors.get_invoice_for_amendment(request.user, data["invoice"])
        amendment = services.amendment_request_create(
            invoice=invoice,
            actor=request.user,
            message=data["message"],
            po_number=data.get("po_number"),
            vat_id=data.get("vat_id"),
        )
        return Response(AmendmentRequestSerializer(amendment).data, status=status.HTTP_201_CREATED)


class AmendmentRequestDetail(generics.RetrieveAPIView):
    serializer_class = AmendmentRequestSerializer

    def get_object(self):
        return selectors.get_amendment_request_for_user(self.request.user, self.kwargs["pk"])


class SupportQueueList(generics.ListAPIView):
    """Support staff: amendment requests, open ones first-come first-served."""

    serializer_class = AmendmentRequestSerializer

    @extend_schema(
        parameters=[OpenApiParameter("status", OpenApiTypes.STR, enum=[*AmendmentStatus.values, "all"], required=False)]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        refuse_blank_params(self.request.query_params, ("status",))
        wanted = self.request.query_params.get("status", AmendmentStatus.OPEN)
        if wanted not in (*AmendmentStatus.values, "all"):
            raise InvalidInput("Unknown status.", code="invalid_filter", fields={"status": ["Unknown status."]})
        return selectors.support_queue(self.request.user, status=None if wanted == "all" else wanted)


class SupportRequestDetail(generics.RetrieveAPIView):
    serializer_class = AmendmentRequestSerializer

    def get_object(self):
        return selectors.get_support_request(self.request.user, self.kwargs["pk"])


class SupportRequestApprove(APIView):
    """Approve: the invoice gets a new revision and a new PDF; the customer is notified."""

    @extend_schema(request=None, responses=AmendmentRequestSerializer)
    def post(self, request, pk):
        amendment = selectors.get_support_request(request.user, pk)
        amendment = services.amendment_request_approve(request=amendment, actor=request.user)
        return Response(AmendmentRequestSerializer(amendment).data)


class SupportRequestDecline(APIView):
    """Decline with a reason; the customer is notified."""

    @extend_schema(request=DeclineSerializer, responses=AmendmentRequestSerializer)
    def post(self, request, pk):
        amendment = selectors.get_support_request(request.user, pk)
        serializer = DeclineSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        amendment = services.amendment_request_decline(
            request=amendment, actor=request.user, reason=serializer.validated_data["reason"]
        )
        return Response(AmendmentRequestSerializer(amendment).data)
