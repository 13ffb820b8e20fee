"""Token authentication of the API (``Authorization: Token <key>``) with the portal's
own tokens (accounts.api_tokens): one query per call, ``last_used_at`` at most once a
minute, and the caller's language for every answer, as the pages do for a signed-in
user (billing_portal.middleware): a refusal has one translated text, whichever door it
came through.

An unknown key, a revoked or an expired token and an inactive user get 401 in the one
error shape (``authentication_failed``, ``token_revoked``, ``token_expired``).

Kept apart from the API views: DRF imports the authentication classes while its own
views module is still importing.
"""

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from billing_portal import clock

from . import api_tokens


class ApiTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        token = api_tokens.token_for_key(key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user = token.user
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        if user.language in dict(settings.LANGUAGES):
            translation.activate(user.language)
        now = clock.now()
        refusal = api_tokens.token_refusal(token, now)
        if refusal is not None:
            code, message = refusal
            raise exceptions.AuthenticationFailed(message, code=code)
        api_tokens.note_use(token, now)
        return user, token
