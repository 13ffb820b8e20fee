"""The project's URLs plus ``/bench/hello/``: the cheapest page a signed-in user can
get through the same middleware stack (session, authentication, language, CSRF).
Benchmark-only (benchmarks.bench_settings); not part of the portal's URLs."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.http import require_safe

from billing_portal import urls as project_urls


@login_required
@require_safe
def hello(request):
    return HttpResponse(f"hello {request.user.pk}", content_type="text/plain")


urlpatterns = [path("bench/hello/", hello, name="bench_hello"), *project_urls.urlpatterns]

handler400 = project_urls.handler400
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500
