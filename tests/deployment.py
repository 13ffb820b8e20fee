"""A deployment of several nodes on one machine, for tests/billing_portal/test_several_nodes.py:
web nodes (gunicorn with the repository's gunicorn.conf.py, each on its own port) and
Celery workers (tests/workers.py) against one PostgreSQL database, one Redis and one
bucket, all configured through the environment as docs/operations.md says.

* ``node_env(...)``: the environment every node gets (the test database, ``REDIS_URL``,
  tasks published to the broker, e-mail into a folder; the ``STORAGE_*`` variables that
  the ``s3_bucket`` fixture put in this process's environment are inherited).
* ``WebNode``: one gunicorn process; ``wait_healthy()`` waits until ``/healthz`` answers
  200 (database, broker and bucket reachable), ``stop()`` stops its process group.
* ``mail_messages(folder)``: the messages Django's file-based e-mail backend wrote there.
"""

import email
import email.policy
import http.client
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[1]
# Django's file-based backend writes each message followed by a line of 79 dashes.
_MAIL_SEPARATOR = b"\n" + b"-" * 79 + b"\n"


def node_env(*, database_url: str, mail_dir: Path, **extra: str) -> dict:
    """The environment of a web or worker node of the test deployment."""
    env = {k: v for k, v in os.environ.items() if k not in ("EMAIL_HOST", "DJANGO_SETTINGS_MODULE")}
    env.update(
        DJANGO_SETTINGS_MODULE="billing_portal.settings",
        DATABASE_URL=database_url,
        CELERY_TASK_ALWAYS_EAGER="false",
        EMAIL_FILE_PATH=str(mail_dir),
        DEBUG="false",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
        **extra,
    )
    return env


class WebNode:
    """gunicorn as every start of the web process runs it (gunicorn.conf.py: threaded
    workers), bound to a free port of 127.0.0.1, in its own process group."""

    def __init__(self, name: str, env: dict, log_dir: Path, *, workers: int = 2, threads: int = 4):
        self.name = name
        self.port = free_port()
        self.log_path = log_dir / f"{name}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        node = {**env, "WEB_BIND": f"127.0.0.1:{self.port}", "WEB_CONCURRENCY": str(workers)}
        node["WEB_THREADS"] = str(threads)
        self.process = subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "--log-level", "warning"],
            cwd=ROOT,
            env=node,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def request(self, method: str, path: str, body: bytes | None = None, headers=None) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.output()}")
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name}: /healthz did not answer 200 within {timeout} s:\n{self.output()}")

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()


def mail_messages(folder: Path) -> list:
    """Every message the file-based e-mail backend wrote into ``folder`` (each process
    writes its own files), parsed."""
    messages = []
    for path in sorted(folder.glob("*.log")):
        for chunk in path.read_bytes().split(_MAIL_SEPARATOR):
            if chunk.strip():
                messages.append(email.message_from_bytes(chunk.lstrip(b"\n"), policy=email.policy.default))
    return messages
