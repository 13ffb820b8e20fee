"""Request ids, structured logs and the portal's metrics (docs/operations.md, "Observability").

* **Request id.** ``RequestIdMiddleware`` (first in the stack) gives every request an id:
  the ``X-Request-ID`` a proxy sent when it looks like one (8 to 64 letters, digits, ``.``,
  ``_``, ``-``), a new one otherwise. It is in the response's ``X-Request-ID``, in every
  log line of the request (``PortalLogFilter``: ``request_id``), and in the headers of
  every task the request publishes (``before_task_publish``), so that the worker's log
  lines of that task carry it too (``task_prerun``).
* **Logs.** ``LOG_FORMAT=json`` gives one JSON object per line (python-json-logger):
  time, level, logger, message, request id, and the exception when there is one;
  ``plain`` (the default) the same as text. Either way a card number in a log line is
  masked (``card_numbers.mask_card_numbers``).
* **Metrics** (prometheus-client): request latency by route (the URL pattern, not the
  path: a bounded set of labels), method and status class; task runs by task and
  outcome; payments by outcome (``count_payment``, counted once the settling
  transaction commits). With ``PROMETHEUS_MULTIPROC_DIR`` set (gunicorn's workers and
  Celery's on one machine write there; gunicorn.conf.py clears a dead worker's files),
  a scrape adds them all up. Queue depth and billing-run progress are read when scraped
  (billing_portal.metrics_view, behind the operator's token).
"""

import contextvars
import logging
import re
import time
import uuid

from celery import signals
from django.core.signals import request_finished
from django.db import transaction
from django.dispatch import receiver
from prometheus_client import Counter, Histogram

from .card_numbers import mask_card_numbers

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")

REQUEST_LATENCY = Histogram(
    "portal_request_duration_seconds",
    "Time to answer a request, by URL pattern, method and status class.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
TASK_RUNS = Counter("portal_task_runs_total", "Celery task runs, by task and outcome.", ["task", "outcome"])
PAYMENTS = Counter(
    "portal_payments_total", "Card payments settled, by outcome and where they came from.", ["outcome", "source"]
)


def current_request_id() -> str:
    return _request_id.get()


class PortalLogFilter(logging.Filter):
    """Adds ``request_id`` to every record and masks card numbers in its message."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get() or "-"
        message = record.getMessage()
        masked = mask_card_numbers(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def _route(request) -> str:
    match = getattr(request, "resolver_match", None)
    return match.route if match is not None and match.route else "unmatched"


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if _VALID_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        # Kept until the response is closed (``request_finished``): Django logs an error
        # answer ("Not Found: ...") after the middleware has returned it.
        _request_id.set(request_id)
        started = time.perf_counter()
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        REQUEST_LATENCY.labels(_route(request), request.method, f"{response.status_code // 100}xx").observe(
            time.perf_counter() - started
        )
        return response


@receiver(request_finished, weak=False)
def _forget_request_id(**_kwargs):
    _request_id.set("")


def count_payment(outcome: str, source: str) -> None:
    """A card payment settled (succeeded or failed): counted once its transaction commits."""
    transaction.on_commit(lambda: PAYMENTS.labels(outcome, source).inc())


# --- Celery: the request id travels with the task; runs are counted -------------------------

_task_tokens: dict[str, contextvars.Token] = {}


@signals.before_task_publish.connect(weak=False)
def _publish_with_request_id(headers=None, **_kwargs):
    request_id = _request_id.get()
    if request_id and headers is not None:
        headers.setdefault("request_id", request_id)


@signals.task_prerun.connect(weak=False)
def _task_started(task_id=None, task=None, **_kwargs):
    request_id = getattr(task.request, "request_id", None) if task is not None else None
    if request_id and task_id:
        _task_tokens[task_id] = _request_id.set(str(request_id))


@signals.task_postrun.connect(weak=False)
def _task_finished(task_id=None, task=None, state=None, **_kwargs):
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        _request_id.reset(token)
    if task is not None:
        TASK_RUNS.labels(task.name, {"SUCCESS": "succeeded", "RETRY": "retried"}.get(state, "failed")).inc()
