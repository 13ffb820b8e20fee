"""API authentication (kept apart from billing_portal.api: DRF loads these classes while
its own views module is still importing)."""

from django.conf import settings
from django.utils import translation
from rest_framework.authentication import TokenAuthentication


class UserLanguageTokenAuthentication(TokenAuthentication):
    """Token authentication that answers in the caller's language, as the pages do for a
    signed-in user (billing_portal.middleware): a refusal has one translated text,
    whichever door it came through."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if user.language in dict(settings.LANGUAGES):
            translation.activate(user.language)
        return user, token
