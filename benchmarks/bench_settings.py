"""Settings for the invoice-list load benchmark only: the project's settings with a
URLconf that adds the baselines (``benchmarks.bench_urls``: ``/bench/hello/``,
``/bench/layout/``, ``/bench/api/``). Never used by the portal itself."""

from os import environ as _env

from billing_portal.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.bench_urls"

# The Pay now benchmark (benchmarks/pay.py) has the server publish its tasks to this
# broker, as production does, instead of running them in the request.
if _env.get("BENCH_BROKER_URL"):
    CELERY_BROKER_URL = _env["BENCH_BROKER_URL"]
    CELERY_TASK_ALWAYS_EAGER = False
