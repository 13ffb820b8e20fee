"""A Celery worker for the kill test: after each billing chunk it waits, so that a kill
lands in the middle of a run. The wait is a receiver of the public hook
``invoices.hooks.after_issue``; production code has no delay of its own.

Run as ``python tests/slow_billing_worker.py worker -Q billing ...`` with
``SLOW_AFTER_ISSUE_SECONDS`` set (tests/workers.py, ``start_worker(slow_chunks=...)``).
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billing_portal.settings")

import django  # noqa: E402

django.setup()

from billing_portal.celery import app  # noqa: E402
from invoices import hooks  # noqa: E402

DELAY = float(os.environ["SLOW_AFTER_ISSUE_SECONDS"])


def wait_after_issue(**_kwargs):
    time.sleep(DELAY)


hooks.after_issue.register(wait_after_issue)

if __name__ == "__main__":
    app.worker_main(sys.argv[1:])
