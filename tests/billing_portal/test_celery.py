"""Celery: the configuration the design asks for, and a real worker process that
takes a task from the Redis of REDIS_URL and answers it."""

import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from billing_portal.celery import app

from .conftest import PYTHON, ROOT


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
    assert router.route({}, "invoices.tasks.send_notification")["queue"].name == "email"
    assert router.route({}, "billing_portal.ping")["queue"].name == "default"


def test_ping_runs_in_process_without_a_broker():
    assert app.tasks["billing_portal.ping"].delay("hello").get(timeout=5) == "hello"


@pytest.mark.redis
def test_real_worker_process_answers_a_task(tmp_path):
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False  # this process only sends; the worker runs it
    try:
        _round_trip(tmp_path)
    finally:
        app.conf.task_always_eager = eager


def _round_trip(tmp_path):
    redis_url = os.environ["REDIS_URL"]
    queue = f"test-ping-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "REDIS_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "billing_portal.settings",
        "PYTHONPATH": str(ROOT),
    }
    log = tmp_path / "worker.log"
    celery = Path(PYTHON).parent / "celery"
    command = [str(celery), "-A", "billing_portal", "worker", "-Q", queue, "-n", f"{queue}@%h", "--pool", "solo"]
    command += ["--without-gossip", "--without-mingle", "-l", "info"]
    with open(log, "wb") as out:
        worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        value = f"pong-{uuid.uuid4().hex}"
        result = app.send_task("billing_portal.ping", args=[value], queue=queue)
        deadline = time.monotonic() + 120
        answer = None
        while time.monotonic() < deadline:
            if worker.poll() is not None:
                pytest.fail(f"the worker exited with {worker.returncode}:\n{log.read_text()[-4000:]}")
            try:
                answer = result.get(timeout=2)
                break
            except Exception as exc:  # noqa: BLE001 - celery's TimeoutError; keep waiting
                if type(exc).__name__ != "TimeoutError":
                    raise
        assert answer == value, log.read_text()[-4000:]
        assert result.status == "SUCCESS"
        result.forget()
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)
        import redis

        client = redis.Redis.from_url(redis_url)
        client.delete(queue, f"_kombu.binding.{queue}")
        client.close()
    assert f"Task billing_portal.ping[{result.id}] succeeded" in log.read_text()
