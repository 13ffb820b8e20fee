"""Celery: the configuration the design asks for, and a real worker process that
takes a task from the Redis of REDIS_URL and answers it."""

import uuid

import pytest

from billing_portal.celery import app
from billing_portal.queue import using_broker
from tests.workers import run_in_worker


def test_celery_configuration():
    conf = app.conf
    assert conf.task_serializer == "json" and conf.result_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_time_limit > conf.task_soft_time_limit > 0
    assert conf.task_default_queue == "default"
    queues = {route["queue"] for route in conf.task_routes.values()}
    assert queues == {"billing", "pdf", "email"}


def test_tasks_are_routed_to_their_queues():
    router = app.amqp.router
    assert router.route({}, "invoices.tasks.billing_run_chunk")["queue"].name == "billing"
    assert router.route({}, "invoices.tasks.render_invoice_pdf")["queue"].name == "pdf"
    # A billing chunk's after-issue work: one list message per kind, each to its workers.
    assert router.route({}, "invoices.tasks.render_invoice_pdfs")["queue"].name == "pdf"
    assert router.route({}, "invoices.tasks.send_invoices_ready")["queue"].name == "email"
    assert router.route({}, "payments.tasks.payments_charge_invoices")["queue"].name == "default"
    assert router.route({}, "notifications.tasks.send_notification")["queue"].name == "email"
    assert router.route({}, "billing_portal.ping")["queue"].name == "default"


def test_ping_runs_in_process_without_a_broker():
    assert app.tasks["billing_portal.ping"].delay("hello").get(timeout=5) == "hello"


@pytest.mark.redis
def test_real_worker_process_answers_a_task(tmp_path):
    value = f"pong-{uuid.uuid4().hex}"
    assert run_in_worker("billing_portal.ping", args=[value], tmp_path=tmp_path) == value


def test_a_list_task_does_every_item_on_its_own_and_raises_the_first_failure_afterwards():
    from billing_portal import queue

    done = []

    def work(*, item_id):
        if item_id == 2:
            raise ValueError("item 2 is broken")
        done.append(item_id)
        return item_id != 3  # 3: nothing to do (done before)

    with pytest.raises(ValueError, match="item 2"):
        queue.each(work, [1, 2, 3, 4], key="item_id")
    assert done == [1, 3, 4]
    assert queue.each(work, [1, 3, 4], key="item_id") == 2


def test_a_list_task_stops_at_once_when_the_database_is_gone():
    from django.db import OperationalError

    from billing_portal import queue

    tried = []

    def work(*, item_id):
        tried.append(item_id)
        raise OperationalError("server closed the connection unexpectedly")

    with pytest.raises(OperationalError):
        queue.each(work, [1, 2, 3], key="item_id")
    assert tried == [1]  # not three connect timeouts


@pytest.mark.redis
def test_a_published_task_asks_for_no_result(monkeypatch):
    """Nothing waits for the result of a task the portal publishes (its work is recorded
    in the database): the message tells the worker to store none, and the publisher
    does not subscribe to it (two fewer round trips to Redis a publish)."""
    import json
    import os

    import redis

    from billing_portal import queue

    url = os.environ["REDIS_URL"]
    value = f"no-result-{uuid.uuid4().hex}"
    subscribed = []
    monkeypatch.setattr(app.backend, "on_task_call", lambda producer, task_id: subscribed.append(task_id))
    with using_broker(url, eager=False):
        assert queue.publish("billing_portal.ping", value)
    client = redis.Redis.from_url(url)
    ours = [raw for raw in client.lrange("default", 0, -1) if value.encode() in raw]
    assert len(ours) == 1
    client.lrem("default", 1, ours[0])
    headers = json.loads(ours[0])["headers"]
    assert headers["task"] == "billing_portal.ping" and headers["ignore_result"] is True
    assert subscribed == []


def test_publishing_still_works_after_the_broker_is_switched_again():
    """Switching the broker closes kombu's pools; Celery's own reference to the producer pool is
    dropped with them, or every later publish in the process would fail ("Acquire on
    closed pool") and be left to the sweeper (as the benchmarks' in-process payment was)."""
    from billing_portal import queue

    for _ in range(2):
        with using_broker("memory://", eager=False):
            assert queue.publish("billing_portal.ping", "again")
            assert not queue.broker_marked_down()
