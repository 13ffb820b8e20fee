"""The portal with ``PAYMENT_GATEWAY=stripe`` against localstripe: cards added with
Stripe Elements, Pay now, automatic charges, 3-D Secure, timeouts and reconciliation,
the Stripe pages' access and Content-Security-Policy."""

import pytest
import stripe
from django.urls import reverse

from notifications.models import Notification
from payments import services
from payments.models import CardSetup, Payment, PaymentMethod, StripeRequest
from payments.stripe_gateway import StripeGateway
from tests.factories import UserFactory, make_account

from .conftest import APPROVED, DECLINED, make_invoice, subscription_add_url

pytestmark = pytest.mark.django_db

AUTHENTICATION_CARD = "4000002760003184"


def add_card(client, localstripe, add_url, number, *, make_active=True):
    """The "+" form, Stripe's card page, the card confirmed by Stripe.js, back to the portal."""
    response = client.post(add_url, {"make_active": "on"} if make_active else {})
    assert response.status_code == 302 and response["Location"].startswith("/stripe/setup-intents/seti_")
    page_url = response["Location"]
    page = client.get(page_url)
    assert page.status_code == 200
    intent_id = page_url.rstrip("/").rsplit("/", 1)[1]
    status = localstripe.enter_card(intent_id, number)
    setup = CardSetup.objects.get(gateway_session_id=intent_id)
    return status, setup, client.get(reverse("payments:card_setup_return", args=[setup.pk]))


def pay(client, invoice, card):
    url = reverse("payments:pay", args=[invoice.pk])
    token = client.get(url).content.decode().split('name="token" value="', 1)[1].split('"', 1)[0]
    return client.post(url, {"method": card.pk, "token": token})


def test_a_card_is_entered_with_stripe_elements_and_only_the_summary_is_kept(on_stripe, client_for, localstripe):
    admin = on_stripe.users["wd_admin"]
    client = client_for(admin)
    subscription = on_stripe.subscriptions["contoso_prod"]
    response = client.post(subscription_add_url(subscription), {"make_active": "on"})
    page = client.get(response["Location"])
    html = page.content.decode()
    assert f'<script src="{localstripe.url}/js.stripe.com/v3/"></script>' in html
    assert 'data-client-secret="seti_' in html and 'name="number"' not in html and 'name="cvc"' not in html
    policy = page["Content-Security-Policy"]
    assert f"script-src 'self' {localstripe.url}" in policy and f"connect-src 'self' {localstripe.url}" in policy
    # Only this page may load Stripe.js.
    assert localstripe.url not in client.get(reverse("payments:index"))["Content-Security-Policy"]
    intent_id = response["Location"].rstrip("/").rsplit("/", 1)[1]
    assert localstripe.enter_card(intent_id, APPROVED, holder="Ava de Vries") == 200
    setup = CardSetup.objects.get(gateway_session_id=intent_id)
    back = client.get(reverse("payments:card_setup_return", args=[setup.pk]))
    assert back.status_code == 302
    card = PaymentMethod.objects.get(token__startswith="pm_")
    assert (card.gateway, card.brand, card.last4, card.exp_month, card.exp_year, card.holder_name) == (
        "stripe",
        "Visa",
        "4242",
        11,
        2031,
        "Ava de Vries",
    )
    subscription.refresh_from_db()
    assert subscription.payment_method == card
    # The page of a finished setup sends the customer on.
    assert client.get(response["Location"]).status_code == 302


def test_a_declined_card_or_cancel_adds_nothing(on_stripe, client_for, localstripe):
    client = client_for(on_stripe.users["wd_admin"])
    add_url = subscription_add_url(on_stripe.subscriptions["contoso_prod"])
    status, setup, back = add_card(client, localstripe, add_url, DECLINED)
    assert status == 402  # Stripe.js shows the decline on the card page
    setup.refresh_from_db()
    assert setup.payment_method is None
    response = client.post(add_url, {"make_active": "on"})
    cancelled = client.post(response["Location"], {"action": "cancel"})
    setup = CardSetup.objects.get(gateway_session_id=response["Location"].rstrip("/").rsplit("/", 1)[1])
    assert cancelled["Location"] == reverse("payments:card_setup_return", args=[setup.pk])
    client.get(cancelled["Location"])
    setup.refresh_from_db()
    assert setup.status == "cancelled"
    assert not PaymentMethod.objects.filter(gateway="stripe").exists()


def test_the_card_page_is_the_setup_owners_only(on_stripe, client_for, client):
    response = client_for(on_stripe.users["wd_admin"]).post(
        subscription_add_url(on_stripe.subscriptions["contoso_prod"]), {"make_active": "on"}
    )
    page_url = response["Location"]
    anonymous = client.get(page_url)
    assert anonymous.status_code == 302 and "/sign-in/" in anonymous["Location"]
    assert client_for(on_stripe.users["ca_owner"]).get(page_url).status_code == 404
    assert client_for(on_stripe.users["wd_admin"]).get("/stripe/setup-intents/seti_unknown/").status_code == 404


def test_pay_now_and_the_automatic_charge_are_payment_intents_with_the_payments_key(
    on_stripe, client_for, localstripe, django_capture_on_commit_callbacks
):
    admin = on_stripe.users["wd_admin"]
    client = client_for(admin)
    add_card(client, localstripe, subscription_add_url(on_stripe.subscriptions["contoso_prod"]), APPROVED)
    card = PaymentMethod.objects.get(gateway="stripe")
    invoice = make_invoice(on_stripe.profiles["contoso"])
    with django_capture_on_commit_callbacks(execute=True):
        response = pay(client, invoice, card)
    assert response["Location"] == reverse("invoices:detail", args=[invoice.pk])
    payment = Payment.objects.get(invoice=invoice)
    invoice.refresh_from_db()
    assert (payment.status, payment.gateway, invoice.status) == ("succeeded", "stripe", "paid")
    (intent,) = localstripe.payment_intents(payment.gateway_key)
    assert (intent["id"], intent["amount"], intent["currency"]) == (payment.gateway_reference, 12100, "eur")
    assert intent["metadata"]["description"] == f"Invoice {invoice.number}"
    assert Notification.objects.filter(kind="payment_received", invoice=invoice).count() == 1
    # The automatic charge of the next invoice, off-session, with the active card.
    second = make_invoice(on_stripe.profiles["contoso"], total="60.50")
    with django_capture_on_commit_callbacks(execute=True):
        automatic = services.invoice_charge_automatically(invoice_id=second.pk)
    assert (automatic.status, automatic.payment_method) == ("succeeded", card)
    assert localstripe.payment_intents(automatic.gateway_key)[0]["amount"] == 6050


def _pay_with_authentication(on_stripe, client_for, localstripe):
    client = client_for(on_stripe.users["ca_owner"])
    profile = on_stripe.profiles["woodgrove_nl"]
    add_url = reverse("payments:profile_add_card", args=[profile.pk])
    add_card(client, localstripe, add_url, AUTHENTICATION_CARD, make_active=False)
    card = PaymentMethod.objects.get(gateway="stripe")
    invoice = make_invoice(profile)
    response = pay(client, invoice, card)
    return client, invoice, Payment.objects.get(invoice=invoice), response


@pytest.mark.parametrize("success", [True, False], ids=["approved", "declined"])
def test_pay_now_with_3d_secure_on_stripe(on_stripe, client_for, localstripe, success):
    client, invoice, payment, response = _pay_with_authentication(on_stripe, client_for, localstripe)
    assert payment.status == "pending" and payment.gateway_reference.startswith("pi_")
    assert response["Location"] == payment.action_url == f"/stripe/payment-intents/{payment.gateway_reference}/"
    page = client.get(payment.action_url)
    html = page.content.decode()
    assert page.status_code == 200 and f'data-client-secret="{payment.gateway_reference}_secret_' in html
    return_url = reverse("payments:pay_return", args=[invoice.pk, payment.pk])
    assert f'data-return-url="{return_url}"' in html
    assert f"script-src 'self' {localstripe.url}" in page["Content-Security-Policy"]
    localstripe.authenticate(payment.gateway_reference, success=success)
    back = client.get(return_url)
    payment.refresh_from_db()
    invoice.refresh_from_db()
    if success:
        assert back["Location"] == reverse("invoices:detail", args=[invoice.pk])
        assert (payment.status, invoice.status) == ("succeeded", "paid")
    else:
        assert back.status_code == 402 and 'class="guidance"' in back.content.decode()
        assert (payment.status, payment.failure_code, invoice.status) == ("failed", "authentication_failed", "due")
    # The authentication page of a settled payment sends the customer on.
    assert client.get(payment.action_url)["Location"] == return_url
    assert len(localstripe.payment_intents(payment.gateway_key)) == 1


def test_the_authentication_page_is_for_those_who_may_pay_the_invoice(on_stripe, client_for, localstripe, client):
    _client, _invoice, payment, _response = _pay_with_authentication(on_stripe, client_for, localstripe)
    anonymous = client.get(payment.action_url)
    assert anonymous.status_code == 302 and "/sign-in/" in anonymous["Location"]
    assert client_for(on_stripe.users["ca_ba_reader"]).get(payment.action_url).status_code == 403
    assert client_for(on_stripe.users["wd_admin"]).get(payment.action_url).status_code == 404
    stranger = UserFactory()
    from accounts.services import role_assign

    role_assign(user=stranger, role="account_admin", account=make_account(signed_up_by=stranger))
    assert client_for(stranger).get(payment.action_url).status_code == 404
    assert client_for(on_stripe.users["ca_owner"]).get("/stripe/payment-intents/pi_unknown/").status_code == 404


def test_an_automatic_charge_needing_authentication_on_stripe_waits_and_is_reconciled(
    on_stripe, client_for, localstripe, clock, django_capture_on_commit_callbacks
):
    profile = on_stripe.profiles["woodgrove_nl"]
    client = client_for(on_stripe.users["ca_owner"])
    add_card(client, localstripe, reverse("payments:profile_add_card", args=[profile.pk]), AUTHENTICATION_CARD)
    invoice = make_invoice(profile)
    with django_capture_on_commit_callbacks(execute=True):
        payment = services.invoice_charge_automatically(invoice_id=invoice.pk)
    assert payment.status == "pending" and payment.action_url == f"/stripe/payment-intents/{payment.gateway_reference}/"
    assert Notification.objects.filter(kind="payment_action_required", invoice=invoice).exists()
    # The customer confirms it from the e-mail; no webhook arrives: the reconciler settles it.
    localstripe.authenticate(payment.gateway_reference, success=True)
    clock.advance(minutes=3)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.payments_reconcile_pending() == 1
    payment.refresh_from_db()
    invoice.refresh_from_db()
    assert (payment.status, invoice.status) == ("succeeded", "paid")


def test_a_stripe_that_does_not_answer_leaves_the_payment_pending_until_reconciled(
    on_stripe, client_for, localstripe, silent_listener, clock, stripe_settings
):
    client = client_for(on_stripe.users["wd_admin"])
    add_card(client, localstripe, subscription_add_url(on_stripe.subscriptions["contoso_prod"]), APPROVED)
    card = PaymentMethod.objects.get(gateway="stripe")
    invoice = make_invoice(on_stripe.profiles["contoso"])
    stripe_settings.STRIPE_API_BASE, stripe_settings.STRIPE_TIMEOUT_SECONDS = silent_listener, 1
    response = pay(client, invoice, card)
    assert response["Location"] == reverse("invoices:detail", args=[invoice.pk])
    payment = Payment.objects.get(invoice=invoice)
    assert payment.status == "pending"
    stripe_settings.STRIPE_API_BASE = localstripe.url
    clock.advance(minutes=3)
    services.payments_reconcile_pending()
    payment.refresh_from_db()
    assert payment.status == "pending"  # not found at Stripe yet: wait
    clock.advance(minutes=15)
    services.payments_reconcile_pending()
    payment.refresh_from_db()
    assert (payment.status, payment.failure_code) == ("failed", "not_processed")
    assert localstripe.payment_intents(payment.gateway_key) == []


def test_a_charge_whose_answer_was_lost_is_settled_from_stripe_once(
    on_stripe, client_for, localstripe, lost_answer_proxy, silent_listener, clock, stripe_settings
):
    client = client_for(on_stripe.users["wd_admin"])
    add_card(client, localstripe, subscription_add_url(on_stripe.subscriptions["contoso_prod"]), APPROVED)
    card = PaymentMethod.objects.get(gateway="stripe")
    invoice = make_invoice(on_stripe.profiles["contoso"])
    stripe_settings.STRIPE_API_BASE, stripe_settings.STRIPE_TIMEOUT_SECONDS = lost_answer_proxy, 1
    pay(client, invoice, card)
    payment = Payment.objects.get(invoice=invoice)
    assert payment.status == "pending"
    assert StripeRequest.objects.get(idempotency_key=payment.gateway_key).object_id == ""
    clock.advance(minutes=3)
    # Stripe cannot be asked yet: the sweep leaves the payment for the next one.
    stripe_settings.STRIPE_API_BASE = silent_listener
    assert services.payments_reconcile_pending() == 0
    stripe_settings.STRIPE_API_BASE = localstripe.url
    assert services.payments_reconcile_pending() == 1
    payment.refresh_from_db()
    invoice.refresh_from_db()
    assert (payment.status, invoice.status) == ("succeeded", "paid")
    (intent,) = localstripe.payment_intents(payment.gateway_key)
    assert payment.gateway_reference == intent["id"]


def test_the_stripe_gateway_needs_its_secret_key(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.STRIPE_SECRET_KEY = ""
    with pytest.raises(ImproperlyConfigured):
        StripeGateway()
    assert isinstance(StripeGateway(client=stripe.StripeClient("sk_test_x")), StripeGateway)
