"""Real Celery worker processes for the tests marked ``redis``.

The test process only sends tasks; a worker started here (``celery -A billing_portal
worker`` with eager mode off) takes them from the Redis of ``REDIS_URL`` and, when
given ``database_url_of(connection)``, works on the test database.
"""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def database_url_of(connection) -> str:
    """A DATABASE_URL pointing a worker process at this test run's PostgreSQL database."""
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_worker(
    *, queues: str, log, env: dict | None = None, extra_args=(), slow_chunks: float | None = None
) -> subprocess.Popen:
    """Start a solo-pool worker on ``queues`` in its own process group, output to ``log``.
    ``slow_chunks`` seconds: the worker waits that long after each billing chunk
    (tests/slow_billing_worker.py), so that a kill lands mid-run."""
    full_env = {
        **os.environ,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DJANGO_SETTINGS_MODULE": "billing_portal.settings",
        "PYTHONPATH": str(ROOT),
        **(env or {}),
    }
    command = [sys.executable, "-m", "celery", "-A", "billing_portal", "worker", "-Q", queues, "--pool", "solo"]
    if slow_chunks is not None:
        full_env["SLOW_AFTER_ISSUE_SECONDS"] = str(slow_chunks)
        command = [sys.executable, str(ROOT / "tests" / "slow_billing_worker.py"), "worker", "-Q", queues]
        command += ["--pool", "solo"]
    command += ["--without-gossip", "--without-mingle", "-l", "info", *extra_args]
    return subprocess.Popen(
        command, cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def purge_queues(app) -> None:
    """Empty the portal's queues (``control.purge`` empties only the default one), so that
    no message of an earlier test reaches this test's workers."""
    app.control.purge()
    with app.connection_for_write() as connection:
        for name in ("default", "billing", "pdf", "email"):
            connection.default_channel.queue_purge(name)


def stop_worker(worker: subprocess.Popen) -> None:
    worker.terminate()
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()


def run_in_worker(task_name: str, *, tmp_path, args=(), env: dict | None = None, timeout: float = 120):
    """Send ``task_name`` to a fresh worker on a queue of its own and return its result."""
    from billing_portal.celery import app

    queue = f"test-{uuid.uuid4().hex[:12]}"
    log_path = tmp_path / "worker.log"
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False  # this process only sends; the worker runs it
    with open(log_path, "wb") as log:
        worker = start_worker(queues=queue, log=log, env=env, extra_args=["-n", f"{queue}@%h"])
    try:
        result = app.send_task(task_name, args=list(args), queue=queue)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if worker.poll() is not None:
                pytest.fail(f"the worker exited with {worker.returncode}:\n{log_path.read_text()[-4000:]}")
            try:
                answer = result.get(timeout=2)
                break
            except Exception as exc:  # noqa: BLE001 - celery's TimeoutError; keep waiting
                if type(exc).__name__ != "TimeoutError":
                    raise
        else:
            pytest.fail(f"no answer from the worker within {timeout} s:\n{log_path.read_text()[-4000:]}")
        assert result.status == "SUCCESS", log_path.read_text()[-4000:]
        result.forget()
        return answer
    finally:
        stop_worker(worker)
        app.conf.task_always_eager = eager
