"""Observability (billing_portal/observability.py, metrics_view.py, error_reporting.py):
request ids in responses, log lines and published tasks; JSON log lines with card numbers
masked; the metrics endpoint, off without its token and refused without it; the metrics
it answers; error reports scrubbed of card numbers."""

import io
import json
import logging
import re
import uuid
from types import SimpleNamespace

import pytest
from django.test import Client, override_settings
from pythonjsonlogger.json import JsonFormatter

from billing_portal import error_reporting, observability
from billing_portal.celery import app
from billing_portal.observability_settings import LOGGING
from invoices.models import BillingRun

pytestmark = pytest.mark.django_db

TOKEN = "m" * 40
CARD = "4242 4242 4242 4242"


def _scrape(client=None, token=TOKEN):
    client = client or Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.get("/metrics", **headers)


def _sample(text: str, name: str, **labels) -> float | None:
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


@pytest.fixture
def json_log():
    """The root logger writing through the portal's JSON formatter and filter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    options = dict(LOGGING["formatters"]["json"])
    options.pop("()")
    handler.setFormatter(JsonFormatter(options.pop("format"), **options))
    handler.addFilter(observability.PortalLogFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


def test_every_response_has_a_request_id_and_a_good_incoming_one_is_kept(client):
    first, second = client.get("/healthz"), client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", first["X-Request-ID"]) and first["X-Request-ID"] != second["X-Request-ID"]
    assert client.get("/healthz", HTTP_X_REQUEST_ID="proxy-1234.abc_9")["X-Request-ID"] == "proxy-1234.abc_9"
    for bad in ("short", "x" * 65, "spaces are bad", "new\nline-1234"):
        assert client.get("/healthz", HTTP_X_REQUEST_ID=bad)["X-Request-ID"] != bad


def test_log_lines_are_json_with_the_request_id_and_no_card_number(client, json_log):
    client.get("/no-such-page/", HTTP_X_REQUEST_ID="req-abcdef-123")
    logging.getLogger("billing_portal.test").warning("card %s given", CARD)
    lines = json_log()
    not_found = next(line for line in lines if line["message"].startswith("Not Found: /no-such-page/"))
    assert not_found["request_id"] == "req-abcdef-123" and not_found["level"] == "WARNING"
    assert {"time", "logger"} <= set(not_found)
    outside = next(line for line in lines if line["logger"] == "billing_portal.test")
    assert outside["request_id"] == "-" and CARD not in outside["message"]
    assert outside["message"] == "card [card number removed] given"


def test_a_pdf_render_logs_none_of_weasyprints_progress_steps(json_log):
    from invoices import pdf

    root = logging.getLogger()
    level, root.level = root.level, logging.INFO  # the workers' default LOG_LEVEL
    try:
        pdf.html_to_pdf("<p>Invoice INV-LOG-1</p>")
    finally:
        root.level = level
    assert not [line for line in json_log() if line["logger"].startswith("weasyprint")]
    assert logging.getLogger("weasyprint.progress").isEnabledFor(logging.WARNING)


def test_the_request_id_travels_in_the_headers_of_a_published_task_and_back_in_the_worker():
    token = observability._request_id.set("req-travels-0001")
    try:
        headers = {}
        observability._publish_with_request_id(headers=headers)
    finally:
        observability._request_id.reset(token)
    assert headers == {"request_id": "req-travels-0001"}
    task = SimpleNamespace(name="billing_portal.ping", request=SimpleNamespace(request_id="req-travels-0001"))
    observability._task_started(task_id="t1", task=task)
    assert observability.current_request_id() == "req-travels-0001"
    observability._task_finished(task_id="t1", task=task, state="SUCCESS")
    assert observability.current_request_id() == ""


@pytest.mark.redis
def test_a_real_worker_logs_the_request_id_of_the_request_that_published(tmp_path, settings):
    """End to end: a task published while a request id is current; the worker's log line
    of that task carries it."""
    from tests.workers import run_in_worker

    request_id = f"req-{uuid.uuid4().hex[:12]}"
    token = observability._request_id.set(request_id)
    try:
        assert run_in_worker("billing_portal.ping", tmp_path=tmp_path, args=["hello"]) == "hello"
    finally:
        observability._request_id.reset(token)
    log = (tmp_path / "worker.log").read_text(errors="replace")
    assert re.search(rf"\[{request_id}\].*billing_portal\.ping", log), log[-3000:]


def test_metrics_are_off_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert _scrape(client).status_code == 404


@pytest.mark.parametrize("token", [None, "wrong", TOKEN + "x", TOKEN[:-1]])
def test_metrics_are_refused_without_the_operators_token(client, settings, token):
    settings.METRICS_TOKEN = TOKEN
    response = _scrape(client, token=token)
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
    assert b"portal_" not in response.content


def test_metrics_answer_request_latency_by_route_tasks_payments_and_billing_progress(client, settings, demo):
    settings.METRICS_TOKEN = TOKEN
    client.force_login(demo.users["ca_owner"])
    before = _scrape(client).content.decode()
    client.get("/invoices/")
    app.tasks["billing_portal.ping"].delay("x")  # eager: runs here
    observability.PAYMENTS.labels("succeeded", "api").inc()
    BillingRun.objects.create(period="2026-10-01", issue_date="2026-11-01", total_chunks=8, done_chunks=3)
    after = _scrape(client).content.decode()
    route = {"route": "invoices/", "method": "GET", "status": "2xx"}
    assert (
        _sample(after, "portal_request_duration_seconds_count", **route)
        == (_sample(before, "portal_request_duration_seconds_count", **route) or 0) + 1
    )
    task = {"task": "billing_portal.ping", "outcome": "succeeded"}
    assert (
        _sample(after, "portal_task_runs_total", **task) == (_sample(before, "portal_task_runs_total", **task) or 0) + 1
    )
    assert _sample(after, "portal_payments_total", outcome="succeeded", source="api") >= 1
    assert _sample(after, "portal_billing_run_chunks", period="2026-10", state="done") == 3
    assert _sample(after, "portal_billing_run_chunks", period="2026-10", state="total") == 8
    assert _sample(after, "portal_metrics_scrape_errors") == 0
    # No path with an id in a label: routes are URL patterns.
    assert not re.search(r'route="[^"]*/\d+/', after)


@pytest.mark.redis
def test_metrics_read_the_depth_of_every_queue(client, settings):
    import redis

    settings.METRICS_TOKEN = TOKEN
    settings.CELERY_BROKER_URL = __import__("os").environ["REDIS_URL"]
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete("pdf")
    broker.rpush("pdf", "a", "b", "c")
    try:
        text = _scrape(client).content.decode()
    finally:
        broker.delete("pdf")
    assert _sample(text, "portal_queue_depth", queue="pdf") == 3
    assert _sample(text, "portal_queue_depth", queue="email") is not None


def test_an_unreachable_broker_leaves_queue_depth_out_and_the_scrape_answers(client, settings):
    settings.METRICS_TOKEN = TOKEN
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:9/0"):
        response = _scrape(client)
    text = response.content.decode()
    assert response.status_code == 200 and _sample(text, "portal_queue_depth", queue="pdf") is None
    assert _sample(text, "portal_metrics_scrape_errors") == 1


def test_error_reports_have_card_numbers_masked_everywhere_and_no_personal_data(monkeypatch):
    event = {
        "message": f"failed for {CARD}",
        "exception": {"values": [{"type": "ValueError", "value": "bad 4111111111111111 and 1234"}]},
        "breadcrumbs": {"values": [{"message": f"sql {CARD}"}]},
        "extra": {"vars": [CARD, 12]},
    }
    scrubbed = json.dumps(error_reporting.scrub(event))
    assert "4242" not in scrubbed and "4111111111111111" not in scrubbed and "1234" in scrubbed
    seen = {}
    monkeypatch.setattr(error_reporting.sentry_sdk, "init", lambda **options: seen.update(options))
    error_reporting.start_error_reporting(dsn="http://key@127.0.0.1:9/1", environment="test", traces_sample_rate=0)
    assert seen["send_default_pii"] is False and seen["before_send"] is error_reporting.scrub
