"""Strong Customer Authentication (3-D Secure) with the sandbox gateway: Pay now goes to
the bank's page and back, an automatic charge e-mails a link, the reconciler lets an
unconfirmed payment lapse (PAY-2..PAY-4, PM-7)."""

import pytest
from django.urls import reverse

from notifications.models import Notification
from notifications.services import render_notification
from payments import services
from payments.models import Payment, SandboxCharge
from payments.sandbox import SandboxGateway
from tests.factories import UserFactory, make_account

from .conftest import give_card, make_invoice

pytestmark = pytest.mark.django_db

AUTHENTICATION_CARD = "4000002760003184"


def _pay(client, invoice, card):
    page = client.get(reverse("payments:pay", args=[invoice.pk])).content.decode()
    token = page.split('name="token" value="', 1)[1].split('"', 1)[0]
    return client.post(reverse("payments:pay", args=[invoice.pk]), {"method": card.pk, "token": token})


def _pending_with_authentication(cards, client_for):
    admin = cards.users["wd_admin"]
    card = give_card(cards, cards.profiles["contoso"], AUTHENTICATION_CARD, make_active=False)
    invoice = make_invoice(cards.profiles["contoso"])
    client = client_for(admin)
    response = _pay(client, invoice, card)
    payment = Payment.objects.get(invoice=invoice)
    return client, invoice, payment, response


def test_pay_now_that_needs_authentication_goes_to_the_bank_and_back_paid(
    cards, client_for, django_capture_on_commit_callbacks
):
    client, invoice, payment, response = _pending_with_authentication(cards, client_for)
    assert payment.status == "pending" and payment.action_url.startswith("/sandbox-gateway/authentications/")
    assert response.status_code == 302 and response["Location"] == payment.action_url
    charge = SandboxCharge.objects.get(idempotency_key=payment.gateway_key)
    assert (charge.status, payment.gateway_reference) == ("requires_action", charge.reference)
    assert charge.return_url == reverse("payments:pay_return", args=[invoice.pk, payment.pk])
    # While it waits, the pay page offers the confirmation instead of another payment.
    page = client.get(reverse("payments:pay", args=[invoice.pk])).content.decode()
    assert 'id="pay-confirm"' in page and 'id="pay-now"' not in page
    bank = client.get(payment.action_url)
    assert bank.status_code == 200 and "121.00" in bank.content.decode()
    back = client.post(payment.action_url, {"action": "approve"})
    assert back["Location"] == charge.return_url
    with django_capture_on_commit_callbacks(execute=True):
        settled = client.get(back["Location"])
    assert settled.status_code == 302 and settled["Location"] == reverse("invoices:detail", args=[invoice.pk])
    invoice.refresh_from_db()
    payment.refresh_from_db()
    assert (payment.status, invoice.status) == ("succeeded", "paid")
    assert Notification.objects.filter(kind="payment_received", invoice=invoice).count() == 1
    # Coming back again settles nothing twice; the bank's page is done.
    client.get(back["Location"])
    assert Notification.objects.filter(kind="payment_received", invoice=invoice).count() == 1
    assert client.get(payment.action_url)["Location"] == charge.return_url
    assert SandboxCharge.objects.filter(idempotency_key=payment.gateway_key).count() == 1


@pytest.mark.parametrize(
    ("language", "phrase"),
    [("en", "not confirmed with your bank"), ("nl", "niet bij uw bank bevestigd")],
)
def test_pm_7_a_failed_authentication_is_a_decline_with_guidance(
    cards, client_for, language, phrase, django_capture_on_commit_callbacks
):
    admin = cards.users["wd_admin"]
    admin.language = language
    admin.save()
    client, invoice, payment, _response = _pending_with_authentication(cards, client_for)
    back = client.post(payment.action_url, {"action": "decline"})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(back["Location"])
    assert response.status_code == 402
    text = response.content.decode()
    assert phrase in text and 'class="guidance"' in text
    payment.refresh_from_db()
    invoice.refresh_from_db()
    assert (payment.status, payment.failure_code, invoice.status) == ("failed", "authentication_failed", "due")
    failed = Notification.objects.get(kind="payment_failed", invoice=invoice)
    assert phrase in render_notification(failed)[1]


def test_api_answers_202_with_the_authentication_page(cards, api_for):
    card = give_card(cards, cards.profiles["contoso"], AUTHENTICATION_CARD, make_active=False)
    invoice = make_invoice(cards.profiles["contoso"])
    api = api_for(cards.users["wd_admin"])
    response = api.post(
        f"/api/v1/invoices/{invoice.pk}/pay/", {"payment_method": card.pk}, format="json", HTTP_IDEMPOTENCY_KEY="sca-1"
    )
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "pending" and body["action_url"].startswith("/sandbox-gateway/authentications/")
    SandboxGateway().authenticate(Payment.objects.get(pk=body["id"]).gateway_reference, approve=True)
    services.payment_refresh(payment=Payment.objects.get(pk=body["id"]))
    detail = api.get(f"/api/v1/payments/{body['id']}/").json()
    assert (detail["status"], detail["action_url"]) == ("succeeded", "")


def test_an_automatic_charge_that_needs_authentication_emails_a_link_once(cards, django_capture_on_commit_callbacks):
    profile = cards.profiles["woodgrove_nl"]
    give_card(cards, profile, AUTHENTICATION_CARD)  # the profile's active card
    invoice = make_invoice(profile)
    with django_capture_on_commit_callbacks(execute=True):
        payment = services.invoice_charge_automatically(invoice_id=invoice.pk)
    assert payment.status == "pending" and payment.action_url
    charge = SandboxCharge.objects.get(idempotency_key=payment.gateway_key)
    assert charge.status == "requires_action"
    notices = list(Notification.objects.filter(kind="payment_action_required", invoice=invoice))
    account = profile.account
    assert {n.recipient for n in notices} == {account.signed_up_by.email, account.billing_contact_email}
    texts = {}
    for notice in notices:
        subject, text, html = render_notification(notice)
        assert payment.action_url in text and payment.action_url in html and invoice.number in subject
        texts[notice.language] = subject + text
    if "nl" in texts:
        assert "Bevestig de betaling" in texts["nl"] and "3-D Secure" in texts["nl"]
    if "en" in texts:
        assert "Confirm the payment" in texts["en"]
    # The webhook, the reconciler or a repeat of the task asks again: no second e-mail.
    with django_capture_on_commit_callbacks(execute=True):
        services.payment_refresh(payment=payment)
        services.invoice_charge_automatically(invoice_id=invoice.pk)
    assert Notification.objects.filter(kind="payment_action_required", invoice=invoice).count() == len(notices)


def test_an_unconfirmed_payment_lapses_and_a_late_confirmation_is_flagged_for_refund(cards, client_for, clock):
    client, invoice, payment, _response = _pending_with_authentication(cards, client_for)
    clock.advance(minutes=20)
    services.payments_reconcile_pending()
    payment.refresh_from_db()
    assert payment.status == "pending"  # the customer has a day to confirm
    clock.advance(days=1)
    services.payments_reconcile_pending()
    payment.refresh_from_db()
    assert (payment.status, payment.failure_code) == ("failed", "authentication_expired")
    # The bank's page was still open somewhere and is confirmed after all.
    SandboxGateway().authenticate(payment.gateway_reference, approve=True)
    services.payment_refresh(payment=payment)
    payment.refresh_from_db()
    invoice.refresh_from_db()
    assert (payment.status, payment.needs_refund, invoice.status) == ("failed", True, "due")


def test_pay_return_access(cards, client_for, client):
    _client, invoice, payment, _response = _pending_with_authentication(cards, client_for)
    url = reverse("payments:pay_return", args=[invoice.pk, payment.pk])
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "/sign-in/" in anonymous["Location"]
    stranger = UserFactory()
    from accounts.services import role_assign

    role_assign(user=stranger, role="account_admin", account=make_account(signed_up_by=stranger))
    assert client_for(stranger).get(url).status_code == 404
    assert client_for(cards.users["ca_owner"]).get(url).status_code == 404
    other = make_invoice(cards.profiles["contoso"])
    wrong = reverse("payments:pay_return", args=[other.pk, payment.pk])
    assert client_for(cards.users["wd_admin"]).get(wrong).status_code == 404
    assert client_for(cards.users["wd_admin"]).post(url).status_code == 405


def test_the_sandbox_authentication_page(cards, client, settings):
    assert client.get("/sandbox-gateway/authentications/ch_unknown/").status_code == 404
    card = give_card(cards, cards.profiles["contoso"], AUTHENTICATION_CARD, make_active=False)
    invoice = make_invoice(cards.profiles["contoso"])
    payment = services.invoice_pay(invoice=invoice, payment_method=card, actor=cards.users["wd_admin"])
    assert client.get(payment.action_url).status_code == 200
    settings.PAYMENT_GATEWAY = "stripe"
    assert client.get(payment.action_url).status_code == 404
