"""One scheduler across nodes (billing_portal/celery_settings.py): two ``celery beat``
processes run at once against one Redis, and every periodic task is sent once per
period, by one of them; when it stops, the other takes over within the lock timeout.
The contrast: with celery's own file-based scheduler two beats send everything twice."""

import os
import subprocess
import sys
import time
import uuid

import pytest
import redis

from tests.servers import stop
from tests.workers import ROOT

pytestmark = [pytest.mark.redis, pytest.mark.slow]

LOCK_TIMEOUT = 4


def _start_beat(tmp_path, name: str, queue: str, prefix: str, *, default_scheduler: bool = False):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.beat_settings",
        "PYTHONPATH": str(ROOT),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "BEAT_TEST_QUEUE": queue,
        "CELERY_REDBEAT_KEY_PREFIX": prefix,
        "CELERY_REDBEAT_LOCK_TIMEOUT": str(LOCK_TIMEOUT),
        "CELERY_BEAT_MAX_LOOP_INTERVAL": "1",
    }
    if default_scheduler:
        env["BEAT_TEST_DEFAULT_SCHEDULER"] = "1"
    log = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
    command = [sys.executable, "-m", "celery", "-A", "billing_portal", "beat", "-l", "info"]
    command += ["--schedule", str(tmp_path / f"{name}-schedule"), "--pidfile", ""]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    process.log_file = log
    return process


def _stop(process) -> None:
    stop(process, timeout=20)
    process.log_file.close()


def _sends(tmp_path, name: str) -> int:
    return (tmp_path / f"{name}.log").read_text(errors="replace").count("Sending due task ping-every-second")


def _wait_for_sends(tmp_path, names, at_least: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while sum(_sends(tmp_path, n) for n in names) < at_least:
        if time.monotonic() > deadline:
            logs = {n: (tmp_path / f"{n}.log").read_text(errors="replace")[-3000:] for n in names}
            pytest.fail(f"no periodic task sent in time: {logs}")
        time.sleep(0.2)


@pytest.fixture
def broker():
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    queue, prefix = f"beat-test-{uuid.uuid4().hex[:10]}", f"beat-test-{uuid.uuid4().hex[:10]}:"
    yield client, queue, prefix
    client.delete(queue)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


def test_two_beats_send_each_periodic_task_once_per_period_and_one_takes_over(tmp_path, broker):
    client, queue, prefix = broker
    first = _start_beat(tmp_path, "a", queue, prefix)
    second = _start_beat(tmp_path, "b", queue, prefix)
    try:
        _wait_for_sends(tmp_path, ["a", "b"], 1)
        started, sent_before = time.monotonic(), client.llen(queue)
        time.sleep(6)
        window, sent = time.monotonic() - started, client.llen(queue) - sent_before
        # Once a second by one beat: never the twice a second two schedulers would send.
        assert window - 2 <= sent <= window + 1, (sent, window)
        active, standby = ("a", "b") if _sends(tmp_path, "a") else ("b", "a")
        assert _sends(tmp_path, standby) == 0
        assert client.llen(queue) == _sends(tmp_path, active)
        # The active beat stops: the standby one takes over within the lock timeout.
        _stop(first if active == "a" else second)
        stopped = time.monotonic()
        _wait_for_sends(tmp_path, [standby], 1, timeout=LOCK_TIMEOUT + 15)
        assert time.monotonic() - stopped <= LOCK_TIMEOUT + 10
        assert client.llen(queue) == _sends(tmp_path, "a") + _sends(tmp_path, "b")
    finally:
        for process in (first, second):
            if process.poll() is None:
                _stop(process)


def test_the_contrast_two_beats_with_celerys_own_scheduler_send_twice(tmp_path, broker):
    """What the lock prevents (so the test above can fail): two independent schedulers."""
    client, queue, prefix = broker
    beats = [_start_beat(tmp_path, n, queue, prefix, default_scheduler=True) for n in ("a", "b")]
    try:
        _wait_for_sends(tmp_path, ["a"], 1)
        _wait_for_sends(tmp_path, ["b"], 1)
        started, sent_before = time.monotonic(), client.llen(queue)
        time.sleep(4)
        window, sent = time.monotonic() - started, client.llen(queue) - sent_before
        assert sent >= 2 * (window - 1), (sent, window)
    finally:
        for process in beats:
            _stop(process)
