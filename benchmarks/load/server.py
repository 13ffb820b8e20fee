"""gunicorn serving the production WSGI app (``billing_portal.wsgi``) in production mode
(``PORTAL_MODE=production``, DEBUG off, secure cookies, SSL redirect, HSTS) on a free port
of 127.0.0.1, against the load-test database and REDIS_URL, as behind a TLS-terminating
proxy: every request of the load test carries ``X-Forwarded-Proto: https``.

Settings: ``benchmarks.load.settings`` (the production settings, the bare logged-in
``/bench/hello/`` and a raised API token throttle). The process group is stopped (TERM,
then KILL) whatever happens."""

import http.client
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.invoice_list import ROOT, _database_url, _free_port

# Taken from the runner's environment, but never into the server's: the server gets
# the production defaults.
DROPPED = ("DEBUG", "CELERY_TASK_ALWAYS_EAGER", "AXES_ENABLED", "TEST_DATABASE_NAME", "SQLITE_PATH")
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}


def production_env(redis_url: str, media_root: str, static_root: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in DROPPED}
    env.update(
        DJANGO_SETTINGS_MODULE="benchmarks.load.settings",
        PORTAL_MODE="production",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        PAYMENT_GATEWAY="sandbox",
        DATABASE_URL=_database_url(),
        REDIS_URL=redis_url,
        MEDIA_ROOT=media_root,
        STATIC_ROOT=static_root,
        LOG_LEVEL="WARNING",
    )
    return env


def collectstatic(env: dict) -> None:
    """Production mode serves the hashed names of the static manifest: collect them first."""
    subprocess.run(  # noqa: S603 - fixed command
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )


class Server:
    def __init__(self, env: dict, workers: int, threads: int, log_path: Path):
        self.port = _free_port()
        self.log_path = log_path
        self.log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        command = [
            str(Path(sys.executable).with_name("gunicorn")),
            "billing_portal.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--backlog",
            "2048",
        ]
        command += ["--threads", str(threads)]  # the rest of gunicorn.conf.py applies (gthread)
        self.process = subprocess.Popen(  # noqa: S603 - fixed command
            command,
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 60) -> None:
        """Until /healthz answers 200 (database and broker reachable)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn exited: " + self.output()[-2000:])
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz", headers=PROXY_HEADERS)
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer in time")

    def output(self) -> str:
        """What gunicorn and the portal logged (warnings and errors only)."""
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()
