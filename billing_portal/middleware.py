import logging

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.utils import translation

from .api import error_body
from .storage import StorageUnavailable

logger = logging.getLogger(__name__)

# The errors of an unreachable database (refused, timed out, dropped connection).
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
# Seconds a client is asked to wait before trying again.
RETRY_AFTER = 30


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
        response = self._respond(request)
        # What a request activated (here, or the API's token authentication) ends with
        # it: the next request on this thread starts from the default. (Not on an error:
        # the error page is rendered after this, in the request's language.)
        translation.deactivate()
        return response

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
        if _signed_in(request) or request.path.startswith("/api/"):
            response.headers["Cache-Control"] = self.VALUE
            response.headers.pop("Expires", None)
        return response


def _signed_in(request) -> bool:
    user = getattr(request, "user", None)
    try:
        return user is not None and user.is_authenticated
    except DatabaseError:  # the session could not be read: keep the answer private
        return True


def database_unavailable_response(request) -> HttpResponse:
    """503 for a request that met an unreachable database: the API's error shape under
    /api/, otherwise a page that needs no database (no user, no navigation).

    The request's transaction (if any) was rolled back with the error, so nothing of
    it is left half-written."""
    return _unavailable_response(
        request,
        "database_unavailable",
        translation.gettext("The service is temporarily unavailable. Try again in a few minutes."),
    )


def storage_unavailable_response(request) -> HttpResponse:
    """503 for a download that met an unreachable document storage (the S3 bucket): the
    same page and shape as ``database_unavailable_response``, with its own reason."""
    return _unavailable_response(
        request,
        "storage_unavailable",
        translation.gettext("Documents cannot be read right now. Try again in a few minutes."),
        storage=True,
    )


def _unavailable_response(request, code: str, detail: str, *, storage: bool = False) -> HttpResponse:
    if request.path.startswith("/api/"):
        response = JsonResponse(error_body(code, detail), status=503)
    else:
        context = {"LANGUAGE_CODE": translation.get_language(), "storage": storage}
        response = HttpResponse(loader.render_to_string("503.html", context), status=503)
    response["Retry-After"] = str(RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """A view that fails because the database is unreachable answers 503 instead of 500
    (errors in other middleware reach ``handler500``, which does the same); so does one
    that fails because the document storage is (``StorageUnavailable``: a PDF download)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_UNAVAILABLE):
            logger.error("database unavailable during %s %s: %s", request.method, request.path, exception)
            return database_unavailable_response(request)
        if isinstance(exception, StorageUnavailable):
            logger.error("document storage unavailable during %s %s: %s", request.method, request.path, exception)
            return storage_unavailable_response(request)
        return None
