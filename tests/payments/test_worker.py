"""The payments beat tasks in a real Celery worker process (Redis broker, PostgreSQL):
a payment left pending by a processor timeout is settled by
``payments.tasks.payments_reconcile_pending`` without a second charge."""

import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from billing_portal.celery import app
from payments import services
from payments.models import Payment, SandboxCharge

from .conftest import TIMEOUT, give_card, make_invoice

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def test_real_worker_reconciles_a_pending_payment(tmp_path, monkeypatch):
    from accounts import demo as accounts_demo
    from payments import demo as payments_demo

    demo = accounts_demo.seed()
    payments_demo.seed(demo)
    card = give_card(demo, demo.profiles["contoso"], TIMEOUT, make_active=False)
    invoice = make_invoice(demo.profiles["contoso"])
    payment = services.invoice_pay(invoice=invoice, payment_method=card, actor=demo.users["wd_admin"])
    assert payment.status == "pending"
    Payment.objects.filter(pk=payment.pk).update(created_at=payment.created_at - dt.timedelta(minutes=5))

    monkeypatch.setattr(app.conf, "task_always_eager", False)  # this process only sends
    settings_dict = connection.settings_dict
    database_url = (
        f"postgres://{settings_dict['USER']}@{settings_dict['HOST']}:{settings_dict['PORT']}/{settings_dict['NAME']}"
    )
    queue = f"test-payments-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "billing_portal.settings",
        "PYTHONPATH": str(ROOT),
    }
    log = tmp_path / "worker.log"
    celery = Path(sys.executable).parent / "celery"
    command = [str(celery), "-A", "billing_portal", "worker", "-Q", queue, "-n", f"{queue}@%h", "--pool", "solo"]
    command += ["--without-gossip", "--without-mingle", "-l", "info"]
    with open(log, "wb") as out:
        worker = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        result = app.send_task("payments.tasks.payments_reconcile_pending", queue=queue)
        deadline = time.monotonic() + 120
        answer = None
        while time.monotonic() < deadline:
            if worker.poll() is not None:
                pytest.fail(f"the worker exited with {worker.returncode}:\n{log.read_text()[-4000:]}")
            try:
                answer = result.get(timeout=2)
                break
            except Exception as exc:
                if type(exc).__name__ != "TimeoutError":
                    raise
        assert answer == 1, log.read_text()[-4000:]
        result.forget()
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
    payment.refresh_from_db()
    invoice.refresh_from_db()
    assert payment.status == "succeeded" and invoice.status == "paid"
    assert SandboxCharge.objects.filter(card_id=card.token).count() == 1
