"""Exactly once under concurrency (PostgreSQL): 50 simultaneous pay requests on one
invoice — API with the same and with different Idempotency-Keys, and browser form posts
(double clicks with one form token, and separate forms) — charge it once."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from payments import services
from payments.models import Payment, SandboxCharge

from .conftest import make_invoice

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 50


def test_pay_fifty_concurrent_attempts_charge_the_invoice_once():
    from accounts import demo as accounts_demo
    from payments import demo as payments_demo
    from payments.pay_views import _form_token

    demo = accounts_demo.seed()
    payments_demo.seed(demo)
    admin = demo.users["wd_admin"]
    invoice = make_invoice(demo.profiles["contoso"])
    card = services.scope_active_card(demo.profiles["contoso"])
    url = f"/api/v1/invoices/{invoice.pk}/pay/"

    class _Req:
        user = admin

    shared_token = _form_token(_Req, invoice)
    # 20 API calls with one key, 20 with their own keys, 5 form posts with one token
    # (double click), 5 with their own tokens.
    plans = ["api-same"] * 20 + ["api-own"] * 20 + ["web-same"] * 5 + ["web-own"] * 5
    clients = []
    for plan in plans:
        if plan.startswith("api"):
            client = APIClient()
            client.force_authenticate(admin)
        else:
            client = Client()
            client.force_login(admin)
        clients.append(client)
    barrier = threading.Barrier(THREADS)

    def attempt(i):
        plan, client = plans[i], clients[i]
        try:
            barrier.wait(timeout=30)
            if plan == "api-same":
                r = client.post(url, {"payment_method": card.pk}, format="json", HTTP_IDEMPOTENCY_KEY="one-key")
            elif plan == "api-own":
                r = client.post(url, {"payment_method": card.pk}, format="json", HTTP_IDEMPOTENCY_KEY=f"key-{i}")
            else:
                token = shared_token if plan == "web-same" else _form_token(_Req, invoice)
                r = client.post(f"/invoices/{invoice.pk}/pay/", {"method": card.pk, "token": token})
            return plan, r.status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        results = list(pool.map(attempt, range(THREADS)))

    assert SandboxCharge.objects.filter(card_id=card.token).count() == 1
    assert Payment.objects.filter(invoice=invoice, status="succeeded").count() == 1
    assert Payment.objects.filter(invoice=invoice).count() == 1
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    codes = {plan: sorted({code for p, code in results if p == plan}) for plan in set(plans)}
    assert set(codes["api-same"]) <= {201, 409}  # the first, replays, or "still being processed"
    assert set(codes["api-own"]) <= {201, 409}
    assert set(codes["web-same"]) <= {302} and set(codes["web-own"]) <= {302}
    # The same key with another body is refused. (Only a final answer is kept for a key:
    # if every "one-key" attempt met another payment in progress, none was kept, so the
    # key is settled first with a repeat, which now finds the invoice paid.)
    api = APIClient()
    api.force_authenticate(admin)
    repeat = api.post(url, {"payment_method": card.pk}, format="json", HTTP_IDEMPOTENCY_KEY="one-key")
    assert repeat.status_code in (201, 409)
    other = api.post(url, {"payment_method": card.pk + 1000}, format="json", HTTP_IDEMPOTENCY_KEY="one-key")
    assert other.status_code == 422
