"""``/metrics``: the portal's Prometheus metrics, for the operator's scraper only.

Off (404) unless ``METRICS_TOKEN`` is set; a scrape must send
``Authorization: Bearer <METRICS_TOKEN>`` (401 otherwise, compared in constant time).
It answers the counters and histograms of billing_portal.observability (all gunicorn
and Celery processes of this machine with ``PROMETHEUS_MULTIPROC_DIR``), and, read at
scrape time, the depth of each Celery queue (``portal_queue_depth``, Redis brokers)
and the progress of the billing runs still running (``portal_billing_run_*``).
A part that cannot be read (Redis down) is left out and counted in
``portal_metrics_scrape_errors``; the scrape still answers.
"""

import hmac
import logging
import os

import redis
from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from invoices.models import BillingRun, BillingRunStatus

from .api import error_body

logger = logging.getLogger(__name__)

QUEUES = ("default", "billing", "pdf", "email")
_TIMEOUT = 0.5


class _ScrapeTime:
    """The metrics read when scraped."""

    def collect(self):
        errors = 0
        depth = GaugeMetricFamily("portal_queue_depth", "Messages waiting in each Celery queue.", labels=["queue"])
        url = settings.CELERY_BROKER_URL
        if url.startswith(("redis://", "rediss://")):
            try:
                client = redis.Redis.from_url(url, socket_connect_timeout=_TIMEOUT, socket_timeout=_TIMEOUT)
                try:
                    with client.pipeline(transaction=False) as pipe:
                        for queue in QUEUES:
                            pipe.llen(queue)
                        for queue, length in zip(QUEUES, pipe.execute(), strict=True):
                            depth.add_metric([queue], length)
                finally:
                    client.close()
            except redis.RedisError as exc:
                logger.warning("metrics: queue depth not read: %s", exc)
                errors += 1
        yield depth
        chunks = GaugeMetricFamily(
            "portal_billing_run_chunks", "Chunks of each running billing run.", labels=["period", "state"]
        )
        invoices = GaugeMetricFamily(
            "portal_billing_run_invoices_created", "Invoices created so far by each running run.", labels=["period"]
        )
        for run in BillingRun.objects.filter(status=BillingRunStatus.RUNNING).values(
            "period", "total_chunks", "done_chunks", "invoices_created"
        ):
            period = f"{run['period']:%Y-%m}"
            chunks.add_metric([period, "done"], run["done_chunks"])
            chunks.add_metric([period, "total"], run["total_chunks"])
            invoices.add_metric([period], run["invoices_created"])
        yield chunks
        yield invoices
        yield GaugeMetricFamily("portal_metrics_scrape_errors", "Parts of this scrape that could not be read.", errors)


def _unauthorized() -> JsonResponse:
    response = JsonResponse(error_body("not_authenticated", "A metrics token is required."), status=401)
    response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response


@never_cache
@require_safe
def metrics(request):
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404
    supplied = request.headers.get("Authorization", "")
    if not hmac.compare_digest(supplied.encode(), f"Bearer {token}".encode()):
        return _unauthorized()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        multiprocess.MultiProcessCollector(processes)
    else:
        processes = REGISTRY
    scrape_time = CollectorRegistry()
    scrape_time.register(_ScrapeTime())
    return HttpResponse(generate_latest(processes) + generate_latest(scrape_time), content_type=CONTENT_TYPE_LATEST)
