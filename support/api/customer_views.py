"""The customer's side of the support API (PBI-1, PBI-2, PBI-8): problem types, the
scopes one may ask for, the pre-checks, and pay-by-invoice requests with their steps.

Same selectors, predicates and services as the pages: a view parses, calls one service
and renders; the service refuses (``DomainError``: 400, 403, 409), another tenant's
request is 404."""

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors as account_selectors
from billing_portal.errors import InvalidInput
from support import prechecks, scopes, selectors, services

from .common import customer_view, errors
from .serializers import (
    PayByInvoiceRequestCreateSerializer,
    PayByInvoiceRequestDetailSerializer,
    PayByInvoiceRequestSerializer,
    PbiCreditApplicationInputSerializer,
    PbiMessageInputSerializer,
    PrecheckResultSerializer,
    SupportRequestTypeSerializer,
    SupportScopeSerializer,
)


def _visible_profile(user, value: str):
    """The billing profile a scope value names, if the user can see it (else 404)."""
    kind, number = value[:1], value[1:]
    if not number.isdigit():
        raise Http404
    if kind == "p":
        return account_selectors.get_profile_for_user(user, int(number))
    if kind == "s":
        subscription = account_selectors.subscriptions_for_user(user).filter(pk=int(number)).first()
        if subscription is not None:
            return subscription.profile
    raise Http404


def resolve_scope(user, value: str) -> scopes.Scope:
    """The scope named ``value`` among those the user may ask for. A scope the user can
    see but not ask for is refused by the service (403, with its reason); one they
    cannot see is 404; a visible one that is no scope of a request is 400."""
    try:
        return scopes.resolve(user, value)
    except Http404:
        profile = _visible_profile(user, value)
    services.check_may_request(user, profile)
    msg = _("Select one of the available choices.")
    raise InvalidInput(msg, code="invalid_scope", fields={"scope": [msg]})


def _detail(request, pbi, status_code=status.HTTP_200_OK):
    pbi = selectors.get_request_for_user(request.user, pbi.pk)
    return Response(PayByInvoiceRequestDetailSerializer(customer_view(pbi)).data, status=status_code)


class RequestTypeList(APIView):
    """The problem types of New support request › Billing."""

    pagination_class = None

    @extend_schema(
        responses={200: SupportRequestTypeSerializer(many=True), **errors(401)},
        operation_id="support_request_types_list",
    )
    def get(self, request):
        return Response(SupportRequestTypeSerializer(services.request_types(request.user), many=True).data)


class ScopeList(APIView):
    """The billing scopes you may ask to pay by invoice for (PBI-1): a web-direct
    subscription or a customer agreement's billing profile."""

    @extend_schema(
        responses={200: SupportScopeSerializer(many=True), **errors(401)}, operation_id="support_scopes_list"
    )
    def get(self, request):
        # The same list that scopes.resolve() and the New support request form read.
        return Response(SupportScopeSerializer(scopes._scopes(request.user), many=True).data)


class PrecheckList(APIView):
    """The pre-checks of a request for a scope, each with its fix. Pass the company name
    and address as you would type them to check them against the profile (PBI-6)."""

    @extend_schema(
        parameters=[
            OpenApiParameter("scope", OpenApiTypes.STR, required=True, description="A value of support/scopes/."),
            OpenApiParameter("company_name", OpenApiTypes.STR, description="PBI-6: the company name as typed."),
            OpenApiParameter("company_address", OpenApiTypes.STR, description="PBI-6: the address as typed."),
        ],
        responses={200: PrecheckResultSerializer, **errors(400, 401, 403, 404)},
        operation_id="support_prechecks_read",
    )
    def get(self, request):
        value = request.query_params.get("scope", "")
        if not value:
            raise ValidationError({"scope": [_("This field is required.")]})
        scope = resolve_scope(request.user, value)
        services.check_may_request(request.user, scope.profile)
        params = request.query_params
        typed = {field: params[field] for field in prechecks.ADDRESS_FIELDS if field in params}
        checks = prechecks.run_prechecks(profile=scope.profile, subscription=scope.subscription, data=typed or None)
        payload = {
            "scope": scope.value,
            "blocked": bool(prechecks.blockers(checks)),
            "checks": [prechecks.describe(check) for check in checks],
        }
        return Response(PrecheckResultSerializer(payload).data)


class RequestList(generics.ListAPIView):
    """Your pay-by-invoice requests, newest first; POST files one (PBI-1, PBI-2). The
    pre-checks are run and stored with it; a blocking one refuses it (409,
    ``pbi_precheck_failed``, with each failing check's fix under ``fields``)."""

    serializer_class = PayByInvoiceRequestSerializer

    def get_queryset(self):
        return selectors.requests_for_user(self.request.user)

    @extend_schema(responses={200: PayByInvoiceRequestSerializer(many=True), **errors(401)})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=PayByInvoiceRequestCreateSerializer,
        responses={201: PayByInvoiceRequestDetailSerializer, **errors(400, 401, 403, 404, 409)},
        operation_id="support_pay_by_invoice_requests_create",
    )
    def post(self, request):
        serializer = PayByInvoiceRequestCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        scope = resolve_scope(request.user, serializer.validated_data["scope"])
        pbi = services.pbi_request_create(
            profile=scope.profile,
            subscription=scope.subscription,
            actor=request.user,
            data=serializer.details(),
            confirmed=serializer.validated_data["confirm"],
        )
        return _detail(request, pbi, status.HTTP_201_CREATED)


class RequestDetail(APIView):
    """A request as you see it: status, history, messages (not support's internal notes),
    the credit application and when its decision is expected (PBI-8)."""

    @extend_schema(
        responses={200: PayByInvoiceRequestDetailSerializer, **errors(401, 404)},
        operation_id="support_pay_by_invoice_requests_read",
    )
    def get(self, request, pk):
        return _detail(request, selectors.get_request_for_user(request.user, pk))


class RequestAnswer(APIView):
    """Answer support's question; the request goes back to support."""

    @extend_schema(
        request=PbiMessageInputSerializer,
        responses={200: PayByInvoiceRequestDetailSerializer, **errors(400, 401, 403, 404, 409)},
        operation_id="support_pay_by_invoice_requests_answer",
    )
    def post(self, request, pk):
        pbi = selectors.get_request_for_user(request.user, pk)
        serializer = PbiMessageInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pbi = services.pbi_request_answer(
            request=pbi, actor=request.user, message=serializer.validated_data.get("message")
        )
        return _detail(request, pbi)


class RequestMessage(APIView):
    """Write to support on an open request, whatever its step."""

    @extend_schema(
        request=PbiMessageInputSerializer,
        responses={200: PayByInvoiceRequestDetailSerializer, **errors(400, 401, 403, 404, 409)},
        operation_id="support_pay_by_invoice_requests_message",
    )
    def post(self, request, pk):
        pbi = selectors.get_request_for_user(request.user, pk)
        serializer = PbiMessageInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pbi = services.pbi_request_message(
            request=pbi, actor=request.user, message=serializer.validated_data.get("message")
        )
        return _detail(request, pbi)


class RequestCancel(APIView):
    """Withdraw an open request; the scope keeps paying by card."""

    @extend_schema(
        request=None,
        responses={200: PayByInvoiceRequestDetailSerializer, **errors(401, 403, 404, 409)},
        operation_id="support_pay_by_invoice_requests_cancel",
    )
    def post(self, request, pk):
        pbi = selectors.get_request_for_user(request.user, pk)
        return _detail(request, services.pbi_request_cancel(request=pbi, actor=request.user))


class RequestCreditApplication(APIView):
    """PBI-8: return the credit application support sent; the decision is expected 5 to
    7 days later."""

    @extend_schema(
        request=PbiCreditApplicationInputSerializer,
        responses={200: PayByInvoiceRequestDetailSerializer, **errors(400, 401, 403, 404, 409)},
        operation_id="support_pay_by_invoice_requests_credit_application",
    )
    def post(self, request, pk):
        pbi = selectors.get_request_for_user(request.user, pk)
        serializer = PbiCreditApplicationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.credit_application_submit(request=pbi, actor=request.user, data=dict(serializer.validated_data))
        return _detail(request, pbi)
