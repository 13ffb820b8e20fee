"""Stripe's webhooks (payments/stripe_views.webhook, payments/services/webhooks.py):
signature checked, each event stored and processed once, in any order; localstripe
delivers one to a live server."""

import json
import time
import uuid

import pytest
from django.urls import reverse

from notifications.models import Notification
from payments import services
from payments.models import CardSetup, Payment, PaymentMethod, PaymentMethodEvent, WebhookEvent
from tests.localstripe import sign

from .conftest import APPROVED, make_invoice
from .test_stripe_payments import AUTHENTICATION_CARD, add_card, pay

pytestmark = pytest.mark.django_db

URL = "/payments/webhooks/stripe/"


def event(kind: str, obj: dict, *, event_id: str = "") -> bytes:
    return json.dumps(
        {
            "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
            "object": "event",
            "api_version": "2025-01-27",
            "created": int(time.time()),
            "livemode": False,
            "type": kind,
            "data": {"object": obj},
        }
    ).encode()


def deliver(client, payload: bytes, **headers):
    headers.setdefault("HTTP_STRIPE_SIGNATURE", sign(payload))
    return client.post(URL, data=payload, content_type="application/json", **headers)


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """Deliver a signed event as Stripe does, its processing task run on commit."""

    def do(payload: bytes):
        with django_capture_on_commit_callbacks(execute=True):
            return deliver(client, payload)

    return do


def _intent(localstripe, payment) -> dict:
    return localstripe.client().v1.payment_intents.retrieve(payment.gateway_reference).to_dict()


@pytest.fixture
def waiting(on_stripe, client_for, localstripe):
    """A Pay now payment that waits for the customer's 3-D Secure check at Stripe."""
    client = client_for(on_stripe.users["wd_admin"])
    add_card(
        client,
        localstripe,
        reverse("payments:subscription_add_card", args=[str(on_stripe.subscriptions["contoso_prod"].subscription_id)]),
        AUTHENTICATION_CARD,
        make_active=False,
    )
    invoice = make_invoice(on_stripe.profiles["contoso"])
    pay(client, invoice, PaymentMethod.objects.get(gateway="stripe"))
    payment = Payment.objects.get(invoice=invoice)
    assert payment.status == "pending" and payment.action_url
    return payment


def test_a_missing_or_wrong_signature_is_refused_and_changes_nothing(waiting, client, localstripe):
    localstripe.authenticate(waiting.gateway_reference, success=True)
    payload = event("payment_intent.succeeded", _intent(localstripe, waiting))
    other = sign(payload, secret="whsec_someone_else")
    stale = sign(payload, timestamp=int(time.time()) - 3600)
    tampered = payload.replace(b'"livemode": false', b'"livemode": true')
    for response in (
        client.post(URL, data=payload, content_type="application/json"),
        deliver(client, payload, HTTP_STRIPE_SIGNATURE="t=1,v1=deadbeef"),
        deliver(client, payload, HTTP_STRIPE_SIGNATURE=other),
        deliver(client, payload, HTTP_STRIPE_SIGNATURE=stale),
        client.post(URL, data=tampered, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(payload)),
    ):
        assert response.status_code == 400
    assert not WebhookEvent.objects.exists()
    waiting.refresh_from_db()
    assert waiting.status == "pending"
    assert client.get(URL).status_code == 405


def test_an_event_is_processed_once_however_often_it_is_delivered(
    waiting, client, localstripe, django_capture_on_commit_callbacks
):
    localstripe.authenticate(waiting.gateway_reference, success=True)
    payload = event("payment_intent.succeeded", _intent(localstripe, waiting))
    with django_capture_on_commit_callbacks(execute=True):
        first = deliver(client, payload)
    assert first.status_code == 200 and first.json() == {"received": True, "duplicate": False}
    waiting.refresh_from_db()
    waiting.invoice.refresh_from_db()
    assert (waiting.status, waiting.invoice.status) == ("succeeded", "paid")
    with django_capture_on_commit_callbacks(execute=True):
        again = deliver(client, payload)
    assert again.json() == {"received": True, "duplicate": True}
    stored = WebhookEvent.objects.get()
    assert stored.processed_at is not None and stored.attempts == 1
    assert Notification.objects.filter(kind="payment_received", invoice=waiting.invoice).count() == 1


def test_out_of_order_events_never_flip_a_settled_payment(
    waiting, client, localstripe, django_capture_on_commit_callbacks
):
    before = _intent(localstripe, waiting)  # the snapshot while it waited
    localstripe.authenticate(waiting.gateway_reference, success=True)
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, event("payment_intent.succeeded", _intent(localstripe, waiting)))
        # Older news arrive late: the portal reads the PaymentIntent, not the snapshot.
        deliver(client, event("payment_intent.requires_action", before))
        deliver(client, event("payment_intent.payment_failed", {**before, "status": "requires_payment_method"}))
    waiting.refresh_from_db()
    assert (waiting.status, waiting.needs_refund) == ("succeeded", False)
    assert WebhookEvent.objects.filter(processed_at__isnull=False).count() == 3
    assert Notification.objects.filter(kind="payment_received", invoice=waiting.invoice).count() == 1
    assert not Notification.objects.filter(kind="payment_failed", invoice=waiting.invoice).exists()


def test_a_failure_event_while_waiting_for_authentication_then_success_pays_once(
    on_stripe, client_for, localstripe, client, django_capture_on_commit_callbacks
):
    profile = on_stripe.profiles["woodgrove_nl"]
    add_card(
        client_for(on_stripe.users["ca_owner"]),
        localstripe,
        reverse("payments:profile_add_card", args=[profile.pk]),
        AUTHENTICATION_CARD,
    )
    invoice = make_invoice(profile)
    with django_capture_on_commit_callbacks(execute=True):
        payment = services.invoice_charge_automatically(invoice_id=invoice.pk)
    intent = _intent(localstripe, payment)
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, event("payment_intent.payment_failed", {**intent, "status": "requires_payment_method"}))
    payment.refresh_from_db()
    assert payment.status == "pending"  # Stripe still waits for the customer
    localstripe.authenticate(payment.gateway_reference, success=True)
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, event("payment_intent.succeeded", _intent(localstripe, payment)))
    payment.refresh_from_db()
    assert payment.status == "succeeded" and not payment.needs_refund
    assert Notification.objects.filter(kind="payment_action_required", invoice=invoice).count() == 2  # both contacts


def _paid(on_stripe, client_for, localstripe):
    client = client_for(on_stripe.users["wd_admin"])
    add_card(
        client,
        localstripe,
        reverse("payments:subscription_add_card", args=[str(on_stripe.subscriptions["contoso_prod"].subscription_id)]),
        APPROVED,
    )
    invoice = make_invoice(on_stripe.profiles["contoso"])
    pay(client, invoice, PaymentMethod.objects.get(gateway="stripe"))
    payment = Payment.objects.get(invoice=invoice)
    assert payment.status == "succeeded"
    return payment


@pytest.mark.parametrize("with_intent", [True, False], ids=["dispute-with-intent", "dispute-with-charge-only"])
def test_a_dispute_flags_the_payment_and_tells_support_once(
    on_stripe, client_for, localstripe, client, with_intent, django_capture_on_commit_callbacks
):
    payment = _paid(on_stripe, client_for, localstripe)
    intent = _intent(localstripe, payment)
    dispute = {
        "id": "dp_1Test",
        "object": "dispute",
        "amount": 12100,
        "currency": "eur",
        "charge": intent["latest_charge"]["id"],
        "reason": "fraudulent",
        "status": "needs_response",
    }
    if with_intent:
        dispute["payment_intent"] = payment.gateway_reference
    payload = event("charge.dispute.created", dispute)
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, payload)
        deliver(client, event("charge.dispute.created", dispute))  # a second event about it
    payment.refresh_from_db()
    assert payment.disputed_at is not None and payment.dispute_reason == "fraudulent"
    notices = Notification.objects.filter(kind="payment_disputed")
    assert [n.recipient for n in notices] == [on_stripe.users["support"].email]
    from notifications.services import render_notification

    subject, text, _html = render_notification(notices[0])
    assert payment.invoice.number in subject and "fraudulent" in text and f"/payments/payment/{payment.pk}/" in text


def test_a_refund_at_stripe_clears_the_needs_refund_flag(on_stripe, client_for, localstripe, post):
    payment = _paid(on_stripe, client_for, localstripe)
    Payment.objects.filter(pk=payment.pk).update(needs_refund=True)
    charge = {
        "id": "ch_refunded",
        "object": "charge",
        "payment_intent": payment.gateway_reference,
        "amount": 12100,
        "currency": "eur",
        "refunded": False,
    }
    post(event("charge.refunded", {**charge, "amount_refunded": 5000}))
    payment.refresh_from_db()
    assert payment.needs_refund
    post(event("charge.refunded", {**charge, "amount_refunded": 12100, "refunded": True}))
    payment.refresh_from_db()
    assert not payment.needs_refund
    # A malformed event is kept with its error (and tried again by the sweep a few times).
    post(event("charge.refunded", {**charge, "currency": "xyz"}, event_id="evt_malformed"))
    malformed = WebhookEvent.objects.get(event_id="evt_malformed")
    assert (malformed.processed_at, malformed.attempts) == (None, 1) and malformed.last_error.startswith("KeyError")


def test_setup_intent_succeeded_adds_the_card_without_the_customer_coming_back(
    on_stripe, client_for, localstripe, post
):
    customer = client_for(on_stripe.users["wd_admin"])
    add_url = reverse(
        "payments:subscription_add_card", args=[str(on_stripe.subscriptions["contoso_prod"].subscription_id)]
    )
    page_url = customer.post(add_url, {"make_active": "on"})["Location"]
    intent_id = page_url.rstrip("/").rsplit("/", 1)[1]
    localstripe.enter_card(intent_id, APPROVED)
    intent = localstripe.client().v1.setup_intents.retrieve(intent_id).to_dict()
    post(event("setup_intent.succeeded", intent))
    setup = CardSetup.objects.get(gateway_session_id=intent_id)
    assert setup.status == "completed" and setup.payment_method.last4 == "4242"
    on_stripe.subscriptions["contoso_prod"].refresh_from_db()
    assert on_stripe.subscriptions["contoso_prod"].payment_method == setup.payment_method
    # Coming back later adds nothing twice.
    customer.get(reverse("payments:card_setup_return", args=[setup.pk]))
    assert PaymentMethod.objects.filter(gateway="stripe").count() == 1


def test_payment_method_updated_and_detached_change_the_stored_card(on_stripe, client_for, localstripe, post):
    payment = _paid(on_stripe, client_for, localstripe)
    card = payment.payment_method
    method = {
        "id": card.token,
        "object": "payment_method",
        "type": "card",
        "card": {"exp_month": 4, "exp_year": 2034, "last4": "4242"},
    }
    post(event("payment_method.updated", method))
    post(event("payment_method.updated", method))
    card.refresh_from_db()
    assert (card.exp_month, card.exp_year) == (4, 2034)
    update = PaymentMethodEvent.objects.get(payment_method=card, action="updated")
    assert update.actor is None and update.changes == {"exp_month": ["11", "4"], "exp_year": ["2031", "2034"]}
    post(event("payment_method.detached", {**method, "customer": None}))
    card.refresh_from_db()
    on_stripe.subscriptions["contoso_prod"].refresh_from_db()
    assert card.removed_at is not None and on_stripe.subscriptions["contoso_prod"].payment_method_id is None
    assert PaymentMethodEvent.objects.filter(payment_method=card, action="removed", actor=None).count() == 1


def test_an_event_stripe_could_not_be_asked_about_is_processed_by_the_sweep(
    waiting, client, localstripe, silent_listener, stripe_settings, clock, django_capture_on_commit_callbacks
):
    localstripe.authenticate(waiting.gateway_reference, success=True)
    payload = event("payment_intent.succeeded", _intent(localstripe, waiting))
    stripe_settings.STRIPE_API_BASE, stripe_settings.STRIPE_TIMEOUT_SECONDS = silent_listener, 1
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, payload).status_code == 200
    stored = WebhookEvent.objects.get()
    assert stored.processed_at is None and stored.last_error.startswith("GatewayTimeout")
    waiting.refresh_from_db()
    assert waiting.status == "pending"
    stripe_settings.STRIPE_API_BASE = localstripe.url
    assert services.webhook_events_process_pending() == 0  # not yet: a minute's patience
    clock.advance(minutes=2)
    from payments.tasks import payments_process_webhook_events

    with django_capture_on_commit_callbacks(execute=True):
        assert payments_process_webhook_events.delay().get() == 1
    waiting.refresh_from_db()
    stored.refresh_from_db()
    assert waiting.status == "succeeded" and stored.processed_at is not None and stored.attempts == 2


def test_events_of_other_types_are_kept_and_left_alone(stripe_settings, post):
    response = post(event("customer.created", {"id": "cus_1", "object": "customer"}))
    assert response.status_code == 200
    assert WebhookEvent.objects.get().processed_at is not None


@pytest.mark.django_db(transaction=True)
def test_localstripe_delivers_a_signed_webhook_that_settles_the_payment(
    on_stripe, client_for, localstripe, live_server
):
    localstripe.send_webhooks_to(live_server.url + URL)
    try:
        client = client_for(on_stripe.users["wd_admin"])
        add_card(
            client,
            localstripe,
            reverse(
                "payments:subscription_add_card", args=[str(on_stripe.subscriptions["contoso_prod"].subscription_id)]
            ),
            AUTHENTICATION_CARD,
            make_active=False,
        )
        invoice = make_invoice(on_stripe.profiles["contoso"])
        pay(client, invoice, PaymentMethod.objects.get(gateway="stripe"))
        payment = Payment.objects.get(invoice=invoice)
        assert payment.status == "pending"
        # The customer passes the check; nobody comes back to the portal: the webhook does it.
        localstripe.authenticate(payment.gateway_reference, success=True)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            payment.refresh_from_db()
            if payment.status != "pending":
                break
            time.sleep(0.2)
        assert payment.status == "succeeded"
        assert WebhookEvent.objects.filter(type="payment_intent.succeeded", processed_at__isnull=False).exists()
    finally:
        localstripe.send_webhooks_to("http://127.0.0.1:9/")
