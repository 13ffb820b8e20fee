from django.conf import settings
from django.utils import translation


class UserLanguageMiddleware:
    """Activates the signed-in user's chosen language (English or Dutch).

    Anonymous visitors get the language from the cookie / Accept-Language header via
    Django's LocaleMiddleware; a signed-in user's choice is stored on the user and wins.
    The cookie follows the user's choice, so that the sign-in page after signing out
    stays in the user's language.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        language = None
        if user is not None and user.is_authenticated and user.language:
            language = user.language
            translation.activate(language)
            request.LANGUAGE_CODE = language
        response = self.get_response(request)
        if language and request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != language:
            if settings.LANGUAGE_COOKIE_NAME not in response.cookies:  # the switch sets its own
                set_language_cookie(response, language)
        response.headers.setdefault("Content-Language", translation.get_language())
        return response


def set_language_cookie(response, language: str) -> None:
    """Remember the chosen language in the browser (for the pages before sign-in)."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=365 * 24 * 3600,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


class PrivateNoStoreMiddleware:
    """``Cache-Control: private, no-store`` on every answer for a signed-in user and on
    every API answer (invoices, PDFs, account data must not stay in a shared or browser
    cache). Static files (whitenoise answers before this) and anonymous public pages
    keep their own caching."""

    VALUE = "private, no-store"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        if signed_in or request.path.startswith("/api/"):
            response.headers["Cache-Control"] = self.VALUE
            response.headers.pop("Expires", None)
        return response
