from django.db.models import Prefetch, prefetch_related_objects
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from accounts import api_tokens, selectors, self_service, services
from accounts.models import RoleAssignment
from billing_portal.api import errors

from .serializers import (
    BillingAccountProfileUpdateSerializer,
    BillingAccountSerializer,
    BillingProfileSerializer,
    MeSerializer,
    SubscriptionSerializer,
    TokenRequestSerializer,
    TokenSerializer,
)


class TokenThrottle(AnonRateThrottle):
    """Token requests per client address: REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["token"]
    (30/min in billing_portal/settings.py)."""

    scope = "token"


class ObtainTokenView(APIView):
    """Exchange e-mail and password for a new API token (``Authorization: Token <key>``),
    named "API (sign-in)", working for 90 days; the key is in this answer only. A user
    with two-factor sign-in also sends ``otp``, the current code of the authenticator
    app (accounts.two_factor). Your tokens: ``/api/v1/tokens/`` (accounts.api_tokens)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [TokenThrottle]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: TokenSerializer,
            **errors(
                400,
                403,
                429,
                descriptions={
                    400: "Invalid input, a wrong e-mail address or password (invalid), no code for a user with "
                    "two-factor sign-in (otp_required) or a wrong code (otp_invalid).",
                    403: "Two-factor sign-in is required for this user and not set up yet "
                    "(two_factor_setup_required): sign in on the portal's sign-in page once to set it up.",
                    429: "Too many requests, too many failed sign-ins (locked_out) or too many wrong codes "
                    "(otp_throttled): try again later.",
                },
            ),
        },
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        token, key = api_tokens.api_token_sign_in(user=user, code=serializer.validated_data.get("otp", ""))
        return Response(TokenSerializer({"token": key, "expires_at": token.expires_at}).data)


class MeView(APIView):
    """The signed-in user with their role assignments; PATCH changes the name and the
    language (the profile page's service)."""

    @staticmethod
    def _me(user):
        # The role assignments with their accounts in one extra query.
        prefetch_related_objects(
            [user], Prefetch("role_assignments", queryset=RoleAssignment.objects.select_related("account"))
        )
        return MeSerializer(user).data

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(self._me(request.user))

    @extend_schema(request=MeSerializer, responses=MeSerializer)
    def patch(self, request):
        serializer = MeSerializer(request.user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user, data = request.user, serializer.validated_data
        self_service.user_update_profile(
            user=user, full_name=data.get("full_name", user.full_name), language=data.get("language", user.language)
        )
        return Response(self._me(user))


class BillingAccountList(generics.ListAPIView):
    serializer_class = BillingAccountSerializer

    def get_queryset(self):
        return selectors.accounts_for_user(self.request.user)


class BillingAccountDetail(APIView):
    """Read a billing account; PATCH updates sold-to, billing contact and VAT ID."""

    @extend_schema(responses=BillingAccountSerializer)
    def get(self, request, pk):
        account = selectors.get_account_for_user(request.user, pk)
        return Response(BillingAccountSerializer(account).data)

    @extend_schema(request=BillingAccountProfileUpdateSerializer, responses=BillingAccountSerializer)
    def patch(self, request, pk):
        account = selectors.get_account_for_user(request.user, pk)
        serializer = BillingAccountProfileUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = data.pop("version")
        account = services.billing_account_update_profile(
            account=account, actor=request.user, version=version, data=data
        )
        return Response(BillingAccountSerializer(account).data, status=status.HTTP_200_OK)


class BillingProfileList(generics.ListAPIView):
    serializer_class = BillingProfileSerializer

    def get_queryset(self):
        return selectors.profiles_for_user(self.request.user)


class BillingProfileDetail(generics.RetrieveAPIView):
    serializer_class = BillingProfileSerializer

    def get_object(self):
        return selectors.get_profile_for_user(self.request.user, self.kwargs["pk"])


class SubscriptionList(generics.ListAPIView):
    serializer_class = SubscriptionSerializer

    def get_queryset(self):
        return selectors.subscriptions_for_user(self.request.user).prefetch_related("marketplace_services")


class SubscriptionDetail(generics.RetrieveAPIView):
    serializer_class = SubscriptionSerializer

    def get_object(self):
        return selectors.get_subscription_for_user(self.request.user, self.kwargs["subscription_id"])
