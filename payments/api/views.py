"""Payment-method API (PM-1..PM-7): the same predicates and services as the pages."""

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import permissions
from accounts import selectors as account_selectors
from billing_portal.api import errors, refuse_blank_params
from billing_portal.errors import NotAllowed, PaymentDeclined
from payments import declines, selectors, services
from payments.models import CardSetupStatus, PaymentMethodEvent

from .serializers import (
    ActivateResultSerializer,
    ActivateSerializer,
    CardSetupCreateSerializer,
    CardSetupSerializer,
    PaymentMethodEventSerializer,
    PaymentMethodSerializer,
    PaymentMethodUpdateSerializer,
    SubscriptionRefSerializer,
)


def _visible_method(request, pk):
    method = selectors.get_method_for_user(request.user, pk)
    if not permissions.can_view_payment_methods(request.user, method.profile):
        raise NotAllowed("Your role may not see payment methods.")
    return method


def _scope(request, *, profile_id=None, subscription_id=None):
    """(profile, subscription) from the query or body; 404 for what the user cannot see."""
    subscription = None
    if subscription_id:
        subscription = account_selectors.get_subscription_for_user(request.user, subscription_id)
        profile = subscription.profile
    else:
        profile = account_selectors.get_profile_for_user(request.user, profile_id)
    if not permissions.can_view_payment_methods(request.user, profile):
        raise NotAllowed("Your role may not see payment methods.")
    return profile, subscription


SCOPE_PARAMS = [
    OpenApiParameter("profile", OpenApiTypes.INT, description="Only the cards of this billing profile."),
    OpenApiParameter("subscription", OpenApiTypes.UUID, description="Only the cards of this subscription's account."),
]


@extend_schema(parameters=SCOPE_PARAMS)
class PaymentMethodList(generics.ListAPIView):
    """Cards the caller may see (web direct: account admin; customer agreement: profile roles)."""

    serializer_class = PaymentMethodSerializer

    def get_queryset(self):
        qs = selectors.methods_for_user(self.request.user)
        refuse_blank_params(self.request.query_params, ("profile", "subscription"))
        profile_id = self.request.query_params.get("profile")
        subscription_id = self.request.query_params.get("subscription")
        if profile_id or subscription_id:
            profile, _sub = _scope(self.request, profile_id=profile_id, subscription_id=subscription_id)
            qs = qs.filter(profile=profile)
        return qs


class PaymentMethodDetail(APIView):
    """Read a card; PATCH updates holder, expiry and billing address (PM-5); DELETE
    removes a card that is not in use (PM-1, PM-6: 409 listing the subscriptions)."""

    @extend_schema(responses={200: PaymentMethodSerializer, **errors(403, 404)})
    def get(self, request, pk):
        return Response(PaymentMethodSerializer(_visible_method(request, pk)).data)

    @extend_schema(
        request=PaymentMethodUpdateSerializer,
        responses={200: PaymentMethodSerializer, **errors(400, 403, 404)},
    )
    def patch(self, request, pk):
        method = _visible_method(request, pk)
        serializer = PaymentMethodUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        method = services.payment_method_update(payment_method=method, actor=request.user, data=data)
        return Response(PaymentMethodSerializer(selectors.get_method_for_user(request.user, method.pk)).data)

    @extend_schema(responses={204: None, **errors(403, 404, 409)})
    def delete(self, request, pk):
        method = _visible_method(request, pk)
        services.payment_method_remove(payment_method=method, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PaymentMethodActivate(APIView):
    """Make a card active (PM-4: web direct, for the subscription and every subscription
    that used the same card; PM-2: customer agreement, for the billing profile)."""

    @extend_schema(request=ActivateSerializer, responses={200: ActivateResultSerializer, **errors(400, 403, 404)})
    def post(self, request, pk):
        method = _visible_method(request, pk)
        serializer = ActivateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription = None
        if serializer.validated_data.get("subscription_id"):
            subscription = account_selectors.get_subscription_for_user(
                request.user, serializer.validated_data["subscription_id"]
            )
            if subscription.profile_id != method.profile_id:
                raise Http404
        changed = services.payment_method_activate(payment_method=method, actor=request.user, subscription=subscription)
        method = selectors.get_method_for_user(request.user, method.pk)
        return Response(
            {
                "payment_method": PaymentMethodSerializer(method).data,
                "subscriptions": SubscriptionRefSerializer(changed, many=True).data,
            }
        )


class CardSetupCreate(APIView):
    """Start adding a card: returns the gateway's card-entry URL. Send the customer there;
    afterwards call ``complete``."""

    @extend_schema(
        request=CardSetupCreateSerializer,
        responses={201: CardSetupSerializer, **errors(400, 403, 404, 409)},
    )
    def post(self, request):
        serializer = CardSetupCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        profile, subscription = _scope(
            request, profile_id=data.get("profile"), subscription_id=data.get("subscription_id")
        )
        setup, url = services.card_setup_start(
            actor=request.user,
            profile=profile,
            subscription=subscription,
            make_active=data.get("make_active", False),
            address={k: data[k] for k in services.ADDRESS_FIELDS if k in data},
        )
        return Response(
            CardSetupSerializer(setup, context={"gateway_url": request.build_absolute_uri(url)}).data,
            status=status.HTTP_201_CREATED,
        )


class CardSetupDetail(APIView):
    @extend_schema(responses={200: CardSetupSerializer, **errors(404)})
    def get(self, request, pk):
        return Response(CardSetupSerializer(selectors.get_setup_for_user(request.user, pk)).data)


class CardSetupComplete(APIView):
    """Exchange the finished card entry for the card. A decline answers 402 with the
    gateway's code and the reason plus the PM-7 guidance as ``detail``."""

    @extend_schema(request=None, responses={201: CardSetupSerializer, **errors(400, 402, 403, 404)})
    def post(self, request, pk):
        setup = selectors.get_setup_for_user(request.user, pk)
        setup = services.card_setup_complete(setup=setup, actor=request.user)
        if setup.status == CardSetupStatus.DECLINED:
            raise PaymentDeclined(declines.explain(setup.decline_code), code=setup.decline_code)
        return Response(CardSetupSerializer(setup).data, status=status.HTTP_201_CREATED)


@extend_schema(parameters=[OpenApiParameter("profile", OpenApiTypes.INT, required=False), SCOPE_PARAMS[1]])
class PaymentMethodEventList(generics.ListAPIView):
    """History of adds, updates, activations and removals (who, when, what, which subscriptions)."""

    serializer_class = PaymentMethodEventSerializer

    def get_queryset(self):
        refuse_blank_params(self.request.query_params, ("profile", "subscription"))
        profile_id = self.request.query_params.get("profile")
        subscription_id = self.request.query_params.get("subscription")
        if profile_id or subscription_id:
            profile, _sub = _scope(self.request, profile_id=profile_id, subscription_id=subscription_id)
            ids = [profile.pk]
        else:
            ids = [
                p.pk
                for p in account_selectors.profiles_for_user(self.request.user)
                if permissions.can_view_payment_methods(self.request.user, p)
            ]
        return PaymentMethodEvent.objects.filter(profile_id__in=ids).select_related("actor").order_by("-at", "-pk")
