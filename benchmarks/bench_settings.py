"""Settings for the invoice-list load benchmark only: the project's settings with a
URLconf that adds the baselines (``benchmarks.bench_urls``: ``/bench/hello/``,
``/bench/layout/``, ``/bench/api/``). Never used by the portal itself."""

from billing_portal.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.bench_urls"
