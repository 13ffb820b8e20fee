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
        try:
            return self._respond(request)
        finally:
            # What a request activated (here, or the API's token authentication) ends
            # with it: the next request on this thread starts from the default.
            translation.deactivate()

    def _respond(self, request):
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
