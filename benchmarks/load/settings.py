"""Settings of the load test's gunicorn (``python -m benchmarks.load``): the portal's
settings, run with ``PORTAL_MODE=production`` by the runner, plus the benchmark URLconf
(``benchmarks.bench_settings``: the bare logged-in ``/bench/hello/`` as the baseline).

One change: the API token throttle (30 requests a minute per client address) is raised,
because every simulated user comes from 127.0.0.1 and the token scenario sends hundreds
a minute. The sign-in lock-out (django-axes) stays as it is: it counts failures only,
and the load test's sign-ins all succeed. Never used by the portal itself."""

from benchmarks.bench_settings import *  # noqa: F403
from benchmarks.bench_settings import REST_FRAMEWORK, STORAGES

REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {**REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "token": "1000000/min"},
}

# The static files keep their hashed names (the manifest the pages link to), without
# whitenoise's compressed copies: compressing them takes a minute per run, and the
# simulated users fetch pages, not static files.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}}
