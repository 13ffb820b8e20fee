"""The payments beat tasks in a real Celery worker process (Redis broker, PostgreSQL):
a payment left pending by a processor timeout is settled by
``payments.tasks.payments_reconcile_pending`` without a second charge."""

import datetime as dt

import pytest
from django.db import connection

from payments import services
from payments.models import Payment, SandboxCharge
from tests.workers import database_url_of, run_in_worker

from .conftest import TIMEOUT, give_card, make_invoice

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_real_worker_reconciles_a_pending_payment(tmp_path):
    from accounts import demo as accounts_demo
    from payments import demo as payments_demo

    demo = accounts_demo.seed()
    payments_demo.seed(demo)
    card = give_card(demo, demo.profiles["contoso"], TIMEOUT, make_active=False)
    invoice = make_invoice(demo.profiles["contoso"])
    payment = services.invoice_pay(invoice=invoice, payment_method=card, actor=demo.users["wd_admin"])
    assert payment.status == "pending"
    Payment.objects.filter(pk=payment.pk).update(created_at=payment.created_at - dt.timedelta(minutes=5))

    answer = run_in_worker(
        "payments.tasks.payments_reconcile_pending",
        tmp_path=tmp_path,
        env={"DATABASE_URL": database_url_of(connection)},
    )
    assert answer == 1
    payment.refresh_from_db()
    invoice.refresh_from_db()
    assert payment.status == "succeeded" and invoice.status == "paid"
    assert SandboxCharge.objects.filter(card_id=card.token).count() == 1
