"""A private PostgreSQL server for fault tests: its own data directory under /tmp, its own
free port on 127.0.0.1, trust authentication for ``postgres``. A test can stop it the
way a crash does (``pg_ctl stop -m immediate``: every backend dies at once, nothing is
flushed or rolled back politely, the next start runs crash recovery) and start it again,
without touching the machine's own PostgreSQL on 5432.

The fixture ``private_postgres`` (tests/conftest.py) starts one per test session, with a
migrated template database; ``private_database`` clones it for one test. A portal
process run with ``run_child`` chooses the moment itself: it calls ``pause("stop")``
at the point inside its work, the test stops the server, and the work goes on against
the dead server (``pause("start")`` brings it back).

As root (CI) the server runs as the ``postgres`` OS user (``runuser``), which owns the
data directory; otherwise as the current user.
"""

import glob
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = "portal_template"


def postgres_bin_dir() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin holding initdb and pg_ctl, or None."""
    found = []
    for path in glob.glob("/usr/lib/postgresql/*/bin"):
        version = Path(path).parent.name
        if (Path(path) / "initdb").exists() and (Path(path) / "pg_ctl").exists() and version.isdigit():
            found.append((int(version), Path(path)))
    return max(found)[1] if found else None


def unavailable_reason() -> str | None:
    """Why no private server can be started here, or None."""
    if postgres_bin_dir() is None:
        return "needs the PostgreSQL server binaries (initdb and pg_ctl in /usr/lib/postgresql/<version>/bin)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "runs as the postgres OS user when the tests run as root, and there is no such user"
    return None


class PrivatePostgres:
    def __init__(self, *, bin_dir: Path, data_dir: Path, port: int, os_user: str | None):
        self.bin_dir, self.data_dir, self.port, self.os_user = Path(bin_dir), Path(data_dir), int(port), os_user

    # --- running the server's own tools ---------------------------------------------------

    def _run(self, tool: str, *args: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bin_dir / tool), *args]
        if self.os_user:
            command = ["runuser", "-u", self.os_user, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd="/")
        if check and result.returncode != 0:
            raise RuntimeError(f"{tool} {' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
        return result

    @classmethod
    def create(cls, bin_dir: Path) -> "PrivatePostgres":
        """initdb into a new directory under /tmp (the pytest tmp dirs are private to root)."""
        os_user = "postgres" if os.geteuid() == 0 else None
        base = Path(tempfile.mkdtemp(prefix="bp-private-pg-"))
        if os_user:
            entry = pwd.getpwnam(os_user)
            os.chown(base, entry.pw_uid, entry.pw_gid)
        instance = cls(bin_dir=bin_dir, data_dir=base / "data", port=free_port(), os_user=os_user)
        instance._run("initdb", "-D", str(instance.data_dir), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                      "--locale=C", "--no-sync", timeout=120)  # fmt: skip
        settings = [
            "listen_addresses = '127.0.0.1'",
            f"port = {instance.port}",
            f"unix_socket_directories = '{base}'",
            # An immediate stop kills the server's processes, not the machine: what was
            # written is in the kernel's page cache and crash recovery replays the WAL.
            "fsync = off",
            "max_connections = 40",
            "shared_buffers = 32MB",
            "log_min_messages = warning",
        ]
        with open(instance.data_dir / "postgresql.conf", "a") as conf:
            conf.write("\n# private fault-test server\n" + "\n".join(settings) + "\n")
        return instance

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    # --- start, crash, start again -----------------------------------------------------------

    def start(self) -> None:
        log = self.data_dir.parent / "server.log"
        self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data_dir), "-l", str(log), timeout=90)
        self.wait_ready()

    def stop_immediate(self) -> None:
        """Stop as a crash does: no checkpoint, open transactions lost, clients cut off."""
        self._run("pg_ctl", "stop", "-m", "immediate", "-w", "-t", "30", "-D", str(self.data_dir), timeout=60)

    def ensure_running(self) -> None:
        if not self.is_running():
            self.start()

    def is_running(self) -> bool:
        return self._run("pg_ctl", "status", "-D", str(self.data_dir), check=False).returncode == 0

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready = self._run("pg_isready", "-q", "-h", "127.0.0.1", "-p", str(self.port), check=False)
            if ready.returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError(f"the private PostgreSQL on port {self.port} did not become ready")

    def destroy(self) -> None:
        if self.data_dir.exists() and self.is_running():
            self.stop_immediate()
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)

    # --- databases -----------------------------------------------------------------------------

    def psql(self, sql: str, database: str = "postgres") -> str:
        result = self._run("psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                           "-p", str(self.port), "-U", "postgres", "-d", database, "-c", sql)  # fmt: skip
        return result.stdout.strip()

    def make_template(self) -> None:
        """A template database with the portal's schema (``manage.py migrate``)."""
        self.psql(f'CREATE DATABASE "{TEMPLATE}"')
        env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DJANGO_SETTINGS_MODULE", "PORTAL_MODE"}}
        env.update(
            DATABASE_URL=self.url(TEMPLATE), DJANGO_SETTINGS_MODULE="billing_portal.settings", PYTHONPATH=str(ROOT)
        )
        result = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"migrate on the private server failed:\n{result.stdout}{result.stderr}")

    def fresh_database(self, name: str) -> str:
        """A new database cloned from the migrated template; returns its URL."""
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.psql(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
        return self.url(name)


# --- a portal process that pauses at a chosen point ---------------------------------------------
#
# The child writes ``PAUSE <what>`` on its stdout and waits for one line on its stdin; the
# parent does <what> to the server (``stop``: pg_ctl stop -m immediate, ``start``) and
# answers ``OK``. So the work itself chooses the moment the database goes away, and the
# parent, which owns the server, pulls the plug. The child ends with ``RESULT <json>``.


def pause(what: str) -> None:
    """In the child: have the parent do ``what`` to the server, and wait until it has."""
    sys.stdout.write(f"PAUSE {what}\n")
    sys.stdout.flush()
    answer = sys.stdin.readline()
    if answer.strip() != "OK":
        raise RuntimeError(f"the parent could not {what} the database: {answer.strip()}")


def result(data) -> None:
    """In the child: hand ``data`` (JSON-serialisable) to the parent."""
    sys.stdout.write("RESULT " + json.dumps(data, default=str) + "\n")
    sys.stdout.flush()


def run_child(command: list[str], *, env: dict, instance: PrivatePostgres, log_path: Path, timeout: float = 120):
    """Run ``command`` (a portal process on ``instance``) to its end, doing its pauses;
    returns its RESULT. Its stderr goes to ``log_path``, shown when it fails."""
    actions = {"stop": instance.stop_immediate, "start": instance.start}
    with open(log_path, "w") as log:
        child = subprocess.Popen(
            command, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True
        )
        watchdog = threading.Timer(timeout, child.kill)
        watchdog.start()
        data, pauses = None, []
        try:
            for line in child.stdout:
                if line.startswith("PAUSE "):
                    what = line.split(" ", 1)[1].strip()
                    pauses.append(what)
                    try:
                        actions[what]()
                        child.stdin.write("OK\n")
                    except Exception as exc:  # handed to the child, which fails with it
                        child.stdin.write("ERROR " + " ".join(f"{type(exc).__name__}: {exc}".split()) + "\n")
                    child.stdin.flush()
                elif line.startswith("RESULT "):
                    data = json.loads(line[len("RESULT ") :])
            child.wait()
        finally:
            watchdog.cancel()
            if child.poll() is None:
                child.kill()
                child.wait()
    if child.returncode != 0 or data is None:
        raise AssertionError(
            f"the portal process failed ({child.returncode}; pauses {pauses}):\n{log_path.read_text()[-6000:]}"
        )
    data["pauses"] = pauses
    return data
