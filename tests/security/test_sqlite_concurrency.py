"""The embedded SQLite database under concurrent writes: requests wait for the write
lock (IMMEDIATE transactions, a busy timeout, WAL) instead of failing with
"database is locked". Run in a subprocess on a file database with the portal's own
settings (the test database of the suite is in memory)."""

import json
import subprocess
import textwrap

from .conftest import PYTHON, ROOT

SCRIPT = textwrap.dedent(
    """
    import json, threading, time
    import django
    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections, transaction
    call_command("migrate", verbosity=0)
    from accounts.models import User

    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        journal = cursor.fetchone()[0]
    connection.close()

    barrier = threading.Barrier(20)
    errors = []

    def pay(n):
        try:
            barrier.wait()
            # The shape of Pay now: read, then write, in one transaction.
            with transaction.atomic():
                User.objects.filter(email__startswith="payer").count()
                time.sleep(0.05)
                User.objects.create(email=f"payer{n}@example.com")
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=pay, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    created = User.objects.filter(email__startswith="payer").count()
    print("RESULT" + json.dumps({"errors": errors, "created": created, "journal": journal}))
    """
)


def test_twenty_concurrent_writes_on_sqlite_all_succeed(production_env, tmp_path):
    env = {**production_env, "PORTAL_MODE": "development", "SQLITE_PATH": str(tmp_path / "portal.sqlite3")}
    result = subprocess.run([PYTHON, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.split("RESULT", 1)[1])
    assert out["errors"] == []
    assert out["created"] == 20
    assert out["journal"] == "wal"
