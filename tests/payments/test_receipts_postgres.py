"""Receipt numbers under concurrency (PostgreSQL): card payments and bank transfers of
many invoices settled at the same moment, some of whose transactions fail after taking a
number, leave RC-YYYY-NNNNNN without gaps and every succeeded payment with a receipt."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from billing_portal import clock, queue
from payments import services
from payments.models import Payment, PaymentSource, Receipt, ReceiptNumberSequence
from payments.services import collection

from .conftest import make_invoice

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 24


def test_receipt_numbers_have_no_gaps_when_many_payments_settle_at_once(monkeypatch):
    from accounts import demo as accounts_demo
    from payments import demo as payments_demo

    demo = accounts_demo.seed()
    payments_demo.seed(demo)
    contoso, fabrikam = demo.profiles["contoso"], demo.profiles["fabrikam"]
    card = services.scope_active_card(contoso)
    support = demo.users["support"]
    plans = ["card"] * 12 + ["transfer"] * 8 + ["failing"] * 4
    invoices = [make_invoice(contoso if plan == "card" else fabrikam, total="10.00") for plan in plans]
    failing = {invoice.pk for plan, invoice in zip(plans, invoices, strict=True) if plan == "failing"}
    real_notify = collection.notify

    def notify(payment, kind, receipt=None):
        # After the receipt took its number: this transaction fails and must take none.
        if payment.invoice_id in failing:
            raise RuntimeError("e-mail queue down")
        real_notify(payment, kind, receipt=receipt)

    monkeypatch.setattr(collection, "notify", notify)
    # No eager Celery task in the threads (the e-mails are not what is tested here; eager
    # tasks run at once in several threads leave Celery's global join flag set).
    published = []
    monkeypatch.setattr(queue, "publish", lambda name, *args: published.append(name) or True)
    barrier = threading.Barrier(THREADS)

    def settle(i):
        plan, invoice = plans[i], invoices[i]
        try:
            barrier.wait(timeout=30)
            if plan == "card":
                return services.invoice_pay(invoice=invoice, payment_method=card, source=PaymentSource.AUTOMATIC).status
            services.payment_record_bank_transfer(
                invoice=invoice, amount="10.00", received_on=clock.today(), reference=f"W{i}", actor=support
            )
            return "succeeded"
        except RuntimeError:
            return "rolled back"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        outcomes = list(pool.map(settle, range(THREADS)))

    assert outcomes.count("succeeded") == 20 and outcomes.count("rolled back") == 4
    year = clock.today().year
    numbers = sorted(int(n.rsplit("-", 1)[1]) for n in Receipt.objects.values_list("number", flat=True))
    assert numbers == list(range(1, 21))
    assert ReceiptNumberSequence.objects.get(year=year).last_number == 20
    succeeded = Payment.objects.filter(status="succeeded")
    assert succeeded.count() == 20 and not succeeded.filter(receipt__isnull=True).exists()
    assert not Payment.objects.filter(invoice_id__in=failing).exists()
    assert published.count("notifications.tasks.send_notification") >= 20  # the receipts' e-mails
