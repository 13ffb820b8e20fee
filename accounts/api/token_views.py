"""The caller's API tokens (accounts.api_tokens): list them, read one, revoke one. A
token is made at the token endpoint (``POST /api/v1/auth/token/``) or on the API tokens
page; keys are never shown again. Another user's token is a 404."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import api_tokens
from accounts.token_models import ApiToken
from billing_portal import clock


@extend_schema_field(serializers.ChoiceField(choices=[api_tokens.ACTIVE, api_tokens.EXPIRED]))
class TokenStateField(serializers.SerializerMethodField):
    pass


class ApiTokenSerializer(serializers.ModelSerializer):
    state = TokenStateField(help_text="active, or expired (a revoked token is not listed).")
    current = serializers.SerializerMethodField(help_text="True for the token this request was made with.")

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "origin", "created_at", "expires_at", "last_used_at", "state", "current"]
        read_only_fields = fields

    def get_state(self, token):
        return api_tokens.token_status(token, self.context.get("now"))

    def get_current(self, token) -> bool:
        request = self.context.get("request")
        return isinstance(getattr(request, "auth", None), ApiToken) and request.auth.pk == token.pk


def _context(request) -> dict:
    return {"request": request, "now": clock.now()}


class ApiTokenList(generics.ListAPIView):
    """Your API tokens, newest first: the working ones and those that expired in the
    last 30 days."""

    serializer_class = ApiTokenSerializer

    def get_queryset(self):
        return api_tokens.tokens_for_user(self.request.user)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": clock.now()}


class ApiTokenDetail(APIView):
    """One of your API tokens; DELETE revokes it (calls with it then get 401)."""

    @extend_schema(responses=ApiTokenSerializer)
    def get(self, request, pk):
        token = api_tokens.get_token_for_user(request.user, pk)
        return Response(ApiTokenSerializer(token, context=_context(request)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        token = api_tokens.get_token_for_user(request.user, pk)
        api_tokens.api_token_revoke(token=token, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
