"""The project's URLs plus the benchmark baselines, each the cheapest answer a signed-in
user can get through the same stack as the page or endpoint it is compared with:

* ``/bench/hello/``: plain text through the full middleware stack (session,
  authentication, language, CSRF);
* ``/bench/layout/``: the portal's page layout (``base.html`` with an empty content
  block: navigation, language switch, sign-out form) rendered through the same
  context processors, the baseline of the HTML pages;
* ``/bench/api/``: a DRF view with the API's default authentication, permission and
  renderer classes answering a one-field JSON object, the baseline of the API.

Benchmark-only (benchmarks.bench_settings); not part of the portal's URLs."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.template import engines
from django.urls import path
from django.views.decorators.http import require_safe
from rest_framework.response import Response
from rest_framework.views import APIView

from billing_portal import urls as project_urls

# Compiled once, as the cached template loader keeps the portal's own templates.
LAYOUT = engines["django"].from_string('{% extends "base.html" %}')


@login_required
@require_safe
def hello(request):
    return HttpResponse(f"hello {request.user.pk}", content_type="text/plain")


@login_required
@require_safe
def layout(request):
    return HttpResponse(LAYOUT.render({}, request))


class BareApi(APIView):
    """The API's default authentication, permissions and renderer; no query of its own."""

    def get(self, request):
        return Response({"user": request.user.pk})


urlpatterns = [
    path("bench/hello/", hello, name="bench_hello"),
    path("bench/layout/", layout, name="bench_layout"),
    path("bench/api/", BareApi.as_view(), name="bench_api"),
    *project_urls.urlpatterns,
]

handler400 = project_urls.handler400
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500
