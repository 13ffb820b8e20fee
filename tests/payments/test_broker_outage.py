"""Outages degrade, they do not break: with the broker unreachable, Pay now (form and
API), token sign-in, a PO change and adding a card each answer their normal status
within 2 s, and the work they recorded is done once the broker is back (the sweeper).
The broker is a closed port on 127.0.0.1, and the cache a Redis there too: never the
machine's own services."""

import socket
import time

import pytest
from django.core import mail
from rest_framework.test import APIClient

from billing_portal import queue
from billing_portal.celery import app
from billing_portal.queue import use_broker, using_broker
from invoices import services as invoice_services
from notifications.models import Notification, NotificationStatus
from payments.models import Payment, PaymentStatus
from tests.factories import api_key_for

from .conftest import APPROVED, enter_card, give_card, make_invoice
from .test_pay import web_pay

pytestmark = pytest.mark.django_db

LIMIT = 2.0


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def broker_down(settings):
    """Celery publishes to a closed port; the cache is a fail-open Redis on another."""
    port = _closed_port()
    settings.CACHES = {
        "default": {
            "BACKEND": "billing_portal.cache.FailOpenRedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    with using_broker(f"redis://127.0.0.1:{port}/0", eager=False):
        yield


def _timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_pay_now_form_and_api_answer_normally_and_the_receipt_follows(
    cards, client_for, broker_down, django_capture_on_commit_callbacks
):
    admin = cards.users["wd_admin"]
    method = give_card(cards, cards.profiles["contoso"], APPROVED, subscription=cards.subscriptions["contoso_prod"])
    first, second = make_invoice(cards.profiles["contoso"]), make_invoice(cards.profiles["contoso"])
    client = client_for(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response, seconds = _timed(lambda: web_pay(client, first, method))
    assert response.status_code == 302 and seconds < LIMIT
    api = APIClient()
    api.force_authenticate(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response, seconds = _timed(
            lambda: api.post(
                f"/api/v1/invoices/{second.pk}/pay/",
                {"payment_method": method.pk},
                format="json",
                HTTP_IDEMPOTENCY_KEY="outage-1",
            )
        )
    assert response.status_code in (200, 201) and seconds < LIMIT, (response.status_code, seconds)
    assert Payment.objects.filter(invoice__in=[first, second], status=PaymentStatus.SUCCEEDED).count() == 2
    first.refresh_from_db()
    assert first.status == "paid"
    pending = Notification.objects.filter(kind="payment_received", status=NotificationStatus.PENDING)
    assert pending.count() >= 2  # recorded, not sent: the broker is down
    # The broker is back: the sweeper publishes what is still pending, and it is sent.
    use_broker(app.conf.broker_url, eager=True)
    mail.outbox.clear()
    invoice_services.sweep_unfinished_work(older_than=invoice_services.SWEEP_AFTER * 0)
    assert not Notification.objects.filter(kind="payment_received", status=NotificationStatus.PENDING).exists()
    assert any("payment" in m.subject.lower() for m in mail.outbox)


def test_token_sign_in_fails_open_when_the_throttle_cache_is_down(demo, broker_down):
    response, seconds = _timed(
        lambda: APIClient().post(
            "/api/v1/auth/token/", {"email": "wd.admin@contoso.example", "password": "demo-portal-2026"}, format="json"
        )
    )
    assert response.status_code == 200 and response.json()["token"] and seconds < LIMIT


def test_a_po_change_and_adding_a_card_answer_normally(demo, client_for, broker_down):
    admin = demo.users["wd_invoice_admin"]  # Fabrikam pays by invoice: it has a PO number
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_key_for(admin)}")
    url = f"/api/v1/billing-profiles/{demo.profiles['fabrikam'].pk}/po-number/"
    version = api.get(url).json()["version"]
    response, seconds = _timed(lambda: api.put(url, {"po_number": "PO-OUTAGE", "version": version}, format="json"))
    assert response.status_code == 200 and seconds < LIMIT
    contoso = client_for(demo.users["wd_admin"])
    subscription = demo.subscriptions["contoso_prod"]
    add = f"/subscriptions/{subscription.subscription_id}/payment-methods/add/"
    started = time.monotonic()
    response = contoso.post(
        add, {"make_active": "on", "address_line1": "", "postal_code": "", "city": "", "country": ""}
    )
    assert response.status_code == 302
    response = enter_card(contoso, response["Location"], APPROVED)
    assert response.status_code == 200 and time.monotonic() - started < LIMIT


def test_a_silent_broker_stalls_a_publish_once_then_not_at_all():
    """A listener that accepts and never answers: the first publish gives up within the
    socket timeout, and the next ones do not wait at all."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    try:
        with using_broker(f"redis://127.0.0.1:{listener.getsockname()[1]}/0", eager=False):
            started = time.monotonic()
            assert queue.publish("billing_portal.ping", "x") is False
            first = time.monotonic() - started
            started = time.monotonic()
            assert queue.publish("billing_portal.ping", "y") is False
            second = time.monotonic() - started
    finally:
        listener.close()
    assert first < 5 and second < 0.1, (first, second)
