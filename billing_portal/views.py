import logging
import sys

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpResponsePermanentRedirect, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from accounts.services import user_set_language

from .api import error_body
from .celery import app as celery_app
from .middleware import DATABASE_UNAVAILABLE, database_unavailable_response, set_language_cookie
from .storage import storage_status

logger = logging.getLogger(__name__)


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return "ok"
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        logger.warning("health: database unreachable: %s", exc)
        return "unreachable"


# Seconds the health check waits for the broker before calling it unreachable.
BROKER_TIMEOUT = 1.0


def _check_broker() -> str:
    url = settings.CELERY_BROKER_URL
    if url.startswith("memory://"):
        return "embedded"
    try:
        if url.startswith(("redis://", "rediss://")):
            client = redis.Redis.from_url(url, socket_connect_timeout=BROKER_TIMEOUT, socket_timeout=BROKER_TIMEOUT)
            try:
                client.ping()
            finally:
                client.close()
        else:
            with celery_app.connection_for_write() as conn:
                # max_retries=0: one attempt, no back-off, so that a probe answers quickly.
                conn.ensure_connection(max_retries=0, timeout=BROKER_TIMEOUT)
        return "ok"
    except Exception as exc:  # noqa: BLE001
        logger.warning("health: broker unreachable: %s", exc)
        return "unreachable"


@require_safe
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page links: the SVG the pages link.
    Resolved per request, so that the static files' manifest is read once it exists."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


@never_cache
def healthz(request):
    """Database, broker and document storage reachability: 200 when each answers (or is
    embedded / local), 503 otherwise."""
    checks = {"database": _check_database(), "broker": _check_broker(), "storage": storage_status()}
    healthy = all(value in ("ok", "embedded", "local") for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks}, status=200 if healthy else 503
    )


@require_POST
def set_language(request):
    """Switch between English and Dutch; remembered on the user (and in a cookie)."""
    language = request.POST.get("language", "")
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/"
    response = HttpResponseRedirect(next_url)
    if language not in dict(settings.LANGUAGES):
        return response
    if request.user.is_authenticated:
        user_set_language(user=request.user, language=language)
    translation.activate(language)
    set_language_cookie(response, language)
    return response


def _wants_json(request) -> bool:
    return request.path.startswith("/api/")


def handler404(request, exception=None):
    if _wants_json(request):
        return JsonResponse(error_body("not_found", translation.gettext("Not found.")), status=404)
    return render(request, "404.html", status=404)


def handler403(request, exception=None):
    if _wants_json(request):
        return JsonResponse(
            error_body("permission_denied", translation.gettext("You do not have permission to do this.")), status=403
        )
    return render(request, "403.html", status=403)


def handler500(request):
    if isinstance(sys.exc_info()[1], DATABASE_UNAVAILABLE):
        return database_unavailable_response(request)
    if _wants_json(request):
        return JsonResponse(
            error_body("server_error", translation.gettext("Something went wrong on our side.")), status=500
        )
    return render(request, "500.html", status=500)


def handler400(request, exception=None):
    if _wants_json(request):
        return JsonResponse(
            error_body("bad_request", translation.gettext("The request could not be understood.")), status=400
        )
    return render(request, "400.html", status=400)
