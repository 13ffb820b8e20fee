"""Pay now (PAY-1..PAY-4, PM-7), automatic charges, dunning, reconciliation, bank transfers."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from invoices.models import Invoice
from notifications.models import Notification
from payments import services
from payments.models import Payment, PaymentMethod, SandboxCharge
from tests.factories import UserFactory, make_account, make_subscription

from .conftest import APPROVED_MC, INSUFFICIENT, TIMEOUT, enter_card, give_card, make_invoice

pytestmark = pytest.mark.django_db


def pay_url(invoice):
    return reverse("payments:pay", args=[invoice.pk])


def _token(client, invoice):
    page = client.get(pay_url(invoice)).content.decode()
    return page.split('name="token" value="', 1)[1].split('"', 1)[0]


def web_pay(client, invoice, method, token=None, follow=False):
    token = token or _token(client, invoice)
    return client.post(pay_url(invoice), {"method": method.pk, "token": token}, follow=follow)


def _active(profile):
    return services.scope_active_card(profile)


@pytest.mark.parametrize(
    ("persona", "profile_key", "expected"),
    [
        ("wd_admin", "contoso", 200),
        ("ca_owner", "woodgrove_nl", 200),
        ("ca_bp_contributor", "woodgrove_nl", 200),
        ("ca_invoice_manager", "woodgrove_nl", 200),
        ("ca_bp_owner", "woodgrove_de", 200),
        ("ca_ba_contributor", "woodgrove_nl", 403),
        ("ca_ba_reader", "woodgrove_nl", 403),
        ("ca_bp_reader", "woodgrove_nl", 403),
        ("ca_bp_owner", "woodgrove_nl", 404),
        ("ca_owner", "contoso", 404),
        ("ea_admin", "northwind", 403),
        ("ea_readonly", "northwind", 403),
    ],
)
def test_pay_1_who_may_pay(cards, client_for, api_for, persona, profile_key, expected):
    invoice = make_invoice(cards.profiles[profile_key])
    assert client_for(cards.users[persona]).get(pay_url(invoice)).status_code == expected
    api_status = (
        api_for(cards.users[persona])
        .post(
            f"/api/v1/invoices/{invoice.pk}/pay/",
            {"payment_method": 999999},
            format="json",
            HTTP_IDEMPOTENCY_KEY=f"k-{persona}",
        )
        .status_code
    )
    assert api_status == (400 if expected == 200 else expected)


def test_pay_1_anonymous_and_other_tenant(cards, client, api_for, client_for):
    invoice = make_invoice(cards.profiles["contoso"])
    response = client.get(pay_url(invoice))
    assert response.status_code == 302 and "/sign-in/" in response["Location"]
    assert api_for(None).post(f"/api/v1/invoices/{invoice.pk}/pay/", {}, format="json").status_code == 401
    assert api_for(None).get(f"/api/v1/invoices/{invoice.pk}/payments/").status_code == 401
    stranger = UserFactory()
    from accounts.services import role_assign

    role_assign(user=stranger, role="account_admin", account=make_account(signed_up_by=stranger))
    assert client_for(stranger).get(pay_url(invoice)).status_code == 404
    assert client_for(stranger).get(reverse("payments:pay_add_card", args=[invoice.pk])).status_code == 404
    api = api_for(stranger)
    assert (
        api.post(
            f"/api/v1/invoices/{invoice.pk}/pay/", {"payment_method": 1}, format="json", HTTP_IDEMPOTENCY_KEY="x"
        ).status_code
        == 404
    )
    assert api.get(f"/api/v1/invoices/{invoice.pk}/payments/").status_code == 404


def test_pay_2_3_4_pay_now_with_an_existing_card(cards, client_for, django_capture_on_commit_callbacks):
    admin = cards.users["wd_admin"]
    invoice = make_invoice(cards.profiles["contoso"], status="past_due")
    client = client_for(admin)
    page = client.get(pay_url(invoice)).content.decode()
    assert "Select a payment method" in page and "4242" in page and "4444" in page
    card = _active(cards.profiles["contoso"])
    with django_capture_on_commit_callbacks(execute=True):
        response = web_pay(client, invoice, card)
    assert response.status_code == 302 and response["Location"] == reverse("invoices:detail", args=[invoice.pk])
    invoice.refresh_from_db()
    assert invoice.status == "paid" and invoice.amount_paid == Decimal("121.00")
    payment = Payment.objects.get(invoice=invoice)
    assert (payment.status, payment.amount, payment.payment_method) == ("succeeded", Decimal("121.00"), card)
    assert SandboxCharge.objects.filter(card_id=card.token).count() == 1
    receipt = Notification.objects.get(kind="payment_received", invoice=invoice)
    assert receipt.recipient == admin.email and receipt.status == "sent"
    # PAY-4: the list shows Paid.
    listing = client.get(reverse("invoices:list")).content.decode()
    row = listing.split(f">{invoice.number}</a>", 1)[1][:600]  # the list row, not the message above
    assert "Paid" in row
    # Paying again is not offered, is refused, and charges nothing.
    assert 'id="pay-now"' not in client.get(pay_url(invoice)).content.decode()
    from billing_portal.errors import Conflict

    with pytest.raises(Conflict):
        services.invoice_pay(invoice=invoice, payment_method=card, actor=admin)
    assert SandboxCharge.objects.filter(card_id=card.token).count() == 1


def test_pay_paid_and_void_invoices_refuse_payment(cards, client_for, api_for):
    admin = cards.users["wd_admin"]
    card = _active(cards.profiles["contoso"])
    for status in ("paid", "void"):
        invoice = make_invoice(cards.profiles["contoso"], status=status)
        page = client_for(admin).get(pay_url(invoice)).content.decode()
        assert 'id="pay-now"' not in page
        response = api_for(admin).post(
            f"/api/v1/invoices/{invoice.pk}/pay/",
            {"payment_method": card.pk},
            format="json",
            HTTP_IDEMPOTENCY_KEY=f"s-{status}",
        )
        assert response.status_code == 409 and response.json()["code"] == f"invoice_{status}"
        with pytest.raises(Exception):  # noqa: B017
            services.invoice_pay(invoice=invoice, payment_method=card, actor=admin)
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    ("language", "phrase"), [("en", "Use another card, or contact your bank"), ("nl", "Gebruik een andere kaart")]
)
def test_pay_decline_keeps_invoice_due_with_guidance(
    cards, client_for, language, phrase, django_capture_on_commit_callbacks
):
    admin = cards.users["wd_admin"]
    admin.language = language
    admin.save()
    card = give_card(cards, cards.profiles["contoso"], INSUFFICIENT, make_active=False)
    invoice = make_invoice(cards.profiles["contoso"])
    with django_capture_on_commit_callbacks(execute=True):
        response = web_pay(client_for(admin), invoice, card)
    assert response.status_code == 402
    assert phrase in response.content.decode()
    assert 'id="payment-attempts"' in response.content.decode()
    invoice.refresh_from_db()
    assert invoice.status == "due" and invoice.amount_paid == 0
    payment = Payment.objects.get(invoice=invoice)
    assert (payment.status, payment.failure_code) == ("failed", "insufficient_funds")
    failed = Notification.objects.get(kind="payment_failed", invoice=invoice)
    from notifications.services import render_notification

    subject, text, html = render_notification(failed)
    assert phrase in text and phrase in html
    # The invoice can then be paid with another card.
    response = web_pay(client_for(admin), invoice, _active(cards.profiles["contoso"]))
    invoice.refresh_from_db()
    assert invoice.status == "paid"


def test_pay_same_form_token_submitted_twice_charges_once(cards, client_for):
    client = client_for(cards.users["wd_admin"])
    invoice = make_invoice(cards.profiles["contoso"])
    card = _active(cards.profiles["contoso"])
    token = _token(client, invoice)
    first = web_pay(client, invoice, card, token=token)
    second = web_pay(client, invoice, card, token=token)
    assert first.status_code == second.status_code == 302
    assert Payment.objects.filter(invoice=invoice).count() == 1
    assert SandboxCharge.objects.count() == 1
    # A forged or foreign token is refused.
    response = client.post(pay_url(make_invoice(cards.profiles["contoso"])), {"method": card.pk, "token": token})
    assert response.status_code == 400


def test_pay_3_add_a_new_card_without_leaving_the_flow(cards, client_for):
    client = client_for(cards.users["wd_admin"])
    invoice = make_invoice(cards.profiles["contoso"], status="past_due")
    response = client.post(reverse("payments:pay_add_card", args=[invoice.pk]), {})
    assert response.status_code == 302
    back = enter_card(client, response["Location"], "378282246310005", cvc="1234", follow=False)
    setup_return = back["Location"]
    response = client.get(setup_return)
    assert response.status_code == 302 and response["Location"].startswith(pay_url(invoice) + "?method=")
    page = client.get(response["Location"]).content.decode()
    new_id = response["Location"].rsplit("=", 1)[1]
    assert f'value="{new_id}" checked' in page
    from payments.models import PaymentMethod

    web_pay(client, invoice, PaymentMethod.objects.get(pk=new_id))
    invoice.refresh_from_db()
    assert invoice.status == "paid"


def test_pay_add_card_in_flow_needs_the_signup_user(cards, client_for):
    invoice = make_invoice(cards.profiles["woodgrove_nl"])
    client = client_for(cards.users["ca_invoice_manager"])
    assert client.get(pay_url(invoice)).status_code == 200
    assert client.get(reverse("payments:pay_add_card", args=[invoice.pk])).status_code == 403


def test_pay_api_idempotency_key(cards, api_for):
    admin = cards.users["wd_admin"]
    api = api_for(admin)
    invoice = make_invoice(cards.profiles["contoso"])
    card = _active(cards.profiles["contoso"])
    url = f"/api/v1/invoices/{invoice.pk}/pay/"
    assert api.post(url, {"payment_method": card.pk}, format="json").status_code == 400  # no key
    first = api.post(url, {"payment_method": card.pk}, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    assert first.status_code == 201 and first.json()["status"] == "succeeded"
    replay = api.post(url, {"payment_method": card.pk}, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    assert replay.status_code == 201 and replay.json() == first.json() and replay["Idempotent-Replayed"] == "true"
    other_body = api.post(url, {"payment_method": card.pk + 1}, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    assert other_body.status_code == 422 and other_body.json()["code"] == "idempotency_key_reused"
    again = api.post(url, {"payment_method": card.pk}, format="json", HTTP_IDEMPOTENCY_KEY="key-2")
    assert again.status_code == 409 and again.json()["code"] == "invoice_paid"
    assert SandboxCharge.objects.count() == 1
    payments = api.get(f"/api/v1/invoices/{invoice.pk}/payments/").json()
    assert len(payments["results"]) == 1
    detail = api.get(f"/api/v1/payments/{payments['results'][0]['id']}/")
    assert detail.status_code == 200 and detail.json()["gateway_reference"].startswith("ch_")
    assert api_for(cards.users["ca_owner"]).get(f"/api/v1/payments/{payments['results'][0]['id']}/").status_code == 404


def test_pay_api_key_used_before_is_answered_only_to_who_still_sees_the_invoice(cards, api_for):
    """PAY-1: a repeat is not replayed (nor refused as another request) to a user who has
    lost the right to see the invoice since: 404, as for any invoice they may not see."""
    from accounts.models import RoleAssignment
    from accounts.permissions import forget_grants
    from accounts.services import role_assign
    from payments.models import IdempotencyRecord

    co_admin = UserFactory()

    role_assign(user=co_admin, role="account_admin", account=cards.accounts["contoso"])
    invoice = make_invoice(cards.profiles["contoso"])
    card = _active(cards.profiles["contoso"])
    url = f"/api/v1/invoices/{invoice.pk}/pay/"
    first = api_for(co_admin).post(url, {"payment_method": card.pk}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert first.status_code == 201
    RoleAssignment.objects.filter(user=co_admin).delete()
    forget_grants(co_admin)  # as a new request would read them
    for body in ({"payment_method": card.pk}, {"payment_method": card.pk + 1}):
        repeat = api_for(co_admin).post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k")
        assert repeat.status_code == 404 and "Idempotent-Replayed" not in repeat
    fresh = api_for(co_admin).post(url, {"payment_method": card.pk}, format="json", HTTP_IDEMPOTENCY_KEY="new")
    assert fresh.status_code == 404 and fresh.json()["code"] == "not_found"
    # A 404 is not kept for the key: nothing was said about the invoice.
    assert not IdempotencyRecord.objects.filter(user=co_admin, key="new").exists()
    assert Payment.objects.filter(invoice=invoice).count() == 1


def test_pay_api_decline_is_402_with_code_and_guidance(cards, api_for):
    admin = cards.users["wd_admin"]
    card = give_card(cards, cards.profiles["contoso"], "4000000000003006", make_active=False)
    invoice = make_invoice(cards.profiles["contoso"])
    response = api_for(admin).post(
        f"/api/v1/invoices/{invoice.pk}/pay/", {"payment_method": card.pk}, format="json", HTTP_IDEMPOTENCY_KEY="d1"
    )
    assert response.status_code == 402
    body = response.json()
    assert body["code"] == "international_not_allowed" and "Contact your bank" in body["detail"]
    assert set(body) == {"code", "detail", "fields"}


def test_pay_gateway_timeout_leaves_pending_and_reconciler_settles_without_charging_again(cards, client_for, clock):
    admin = cards.users["wd_admin"]
    card = give_card(cards, cards.profiles["contoso"], TIMEOUT, make_active=False)
    invoice = make_invoice(cards.profiles["contoso"])
    response = web_pay(client_for(admin), invoice, card)
    assert response.status_code == 302
    payment = Payment.objects.get(invoice=invoice)
    assert payment.status == "pending"
    invoice.refresh_from_db()
    assert invoice.status == "due"
    # A second attempt while pending is refused.
    with pytest.raises(Exception, match="already being processed"):
        services.invoice_pay(invoice=invoice, payment_method=_active(cards.profiles["contoso"]), actor=admin)
    assert services.payments_reconcile_pending() == 0  # too recent
    clock.advance(minutes=3)
    from payments.tasks import payments_reconcile_pending

    assert payments_reconcile_pending.delay().get() == 1
    payment.refresh_from_db()
    invoice.refresh_from_db()
    assert payment.status == "succeeded" and invoice.status == "paid"
    assert SandboxCharge.objects.filter(card_id=card.token).count() == 1


def test_reconciler_fails_a_payment_the_gateway_never_saw(cards, clock):
    invoice = make_invoice(cards.profiles["contoso"])
    payment, _created = services.payment_start(
        invoice=invoice, payment_method=_active(cards.profiles["contoso"]), source="automatic", request_key="lost"
    )
    clock.advance(minutes=20)
    services.payments_reconcile_pending()
    payment.refresh_from_db()
    assert (payment.status, payment.failure_code) == ("failed", "not_processed")
    assert not SandboxCharge.objects.exists()


def _issue(profile, clock, django_capture_on_commit_callbacks, amount="50.00"):
    """Issue an invoice through the billing run (which calls the after-issue hook)."""
    from invoices import services as invoice_services
    from invoices.models import Charge

    clock.set(dt.datetime(2026, 3, 1, 6, 0))
    subscription = profile.subscriptions.filter(status="active").order_by("pk").first()
    Charge.objects.create(
        subscription=subscription,
        profile=profile,
        period=dt.date(2026, 2, 1),
        service_name="VM",
        meter="hours",
        quantity=Decimal("1"),
        unit_price=Decimal(amount),
        amount=Decimal(amount),
        currency=profile.account.currency,
    )
    with django_capture_on_commit_callbacks(execute=True):
        invoice_services.billing_run_start(period=dt.date(2026, 2, 1))
    return Invoice.objects.get(profile=profile, period=dt.date(2026, 2, 1))


def test_automatic_charge_when_a_card_invoice_is_issued(cards, clock, django_capture_on_commit_callbacks):
    invoice = _issue(cards.profiles["woodgrove_de"], clock, django_capture_on_commit_callbacks)
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    payment = Payment.objects.get(invoice=invoice)
    from accounts.models import BillingProfile

    assert payment.source == "automatic"
    assert payment.payment_method == BillingProfile.objects.get(pk=cards.profiles["woodgrove_de"].pk).payment_method
    # Running the task again changes nothing.
    from payments.tasks import payments_charge_invoice

    payments_charge_invoice.delay(invoice.pk)
    assert Payment.objects.filter(invoice=invoice).count() == 1


def test_invoice_paying_scope_is_not_charged(cards, clock, django_capture_on_commit_callbacks):
    invoice = _issue(cards.profiles["fabrikam"], clock, django_capture_on_commit_callbacks)
    assert invoice.pays_by_bank_transfer and not Payment.objects.filter(invoice=invoice).exists()


def test_dunning_retries_on_schedule_and_stops_when_paid(cards, clock, client_for, django_capture_on_commit_callbacks):
    profile = cards.profiles["woodgrove_nl"]
    give_card(cards, profile, INSUFFICIENT)  # becomes the profile's active card
    invoice = _issue(profile, clock, django_capture_on_commit_callbacks)
    invoice.refresh_from_db()
    assert invoice.status == "due"
    first = Payment.objects.get(invoice=invoice)
    assert (first.source, first.status, first.failure_code) == ("automatic", "failed", "insufficient_funds")
    assert Notification.objects.filter(kind="payment_failed", invoice=invoice).exists()
    from payments.tasks import payments_retry_declined

    assert payments_retry_declined.delay().get() == 0  # not yet a day
    clock.advance(days=1, minutes=1)
    assert payments_retry_declined.delay().get() == 1
    assert payments_retry_declined.delay().get() == 0  # next step is at day 3
    clock.advance(days=2)
    assert payments_retry_declined.delay().get() == 1
    assert Payment.objects.filter(invoice=invoice, source="retry").count() == 2
    # The customer pays by hand with another card: the retries stop.
    good = give_card(cards, profile, APPROVED_MC, make_active=False)
    web_pay(client_for(cards.users["ca_owner"]), invoice, good)
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    clock.advance(days=10)
    assert payments_retry_declined.delay().get() == 0
    assert Payment.objects.filter(invoice=invoice, source="retry").count() == 2


def test_bank_transfer_recorded_in_admin_partly_then_fully(cards, client_for, django_capture_on_commit_callbacks):
    invoice = make_invoice(cards.profiles["fabrikam"], total="200.00", status="past_due")
    support = cards.users["support"]
    client = client_for(support)
    url = reverse("admin:payments_payment_add")
    assert client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url,
            {
                "invoice_number": invoice.number,
                "amount": "150.00",
                "received_on": "2026-01-05",
                "reference": invoice.payment_reference,
            },
        )
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == "past_due" and invoice.amount_due == Decimal("50.00")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            url,
            {"invoice_number": invoice.number, "amount": "50.00", "received_on": "2026-01-06", "reference": "second"},
        )
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    assert Payment.objects.filter(invoice=invoice, kind="bank_transfer", status="succeeded").count() == 2
    receipts = Notification.objects.filter(kind="payment_received", invoice=invoice)
    assert receipts.count() >= 2 and all(r.status == "sent" for r in receipts)
    # More than is due, or a customer, is refused.
    response = client.post(
        url, {"invoice_number": invoice.number, "amount": "1.00", "received_on": "2026-01-06", "reference": "x"}
    )
    assert response.status_code == 200
    assert client_for(cards.users["wd_invoice_admin"]).get(url).status_code == 302  # not staff: admin sign-in


def test_bank_transfer_invoice_shows_reference_instead_of_card_form(cards, client_for):
    invoice = make_invoice(cards.profiles["fabrikam"])
    page = client_for(cards.users["wd_invoice_admin"]).get(pay_url(invoice)).content.decode()
    assert invoice.payment_reference in page and 'id="pay-now"' not in page


def test_constant_queries_on_payment_list_endpoint(cards, api_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api = api_for(cards.users["wd_admin"])
    invoice = make_invoice(cards.profiles["contoso"], total="1000.00")
    counts = []
    for n in (1, 6):
        for _ in range(n):
            Payment.objects.create(
                invoice=invoice,
                account=invoice.account,
                profile=invoice.profile,
                kind="bank_transfer",
                source="support",
                amount=Decimal("1.00"),
                currency="EUR",
                status="succeeded",
            )
        with CaptureQueriesContext(connection) as q:
            assert api.get(f"/api/v1/invoices/{invoice.pk}/payments/").status_code == 200
        counts.append(len(q))
    assert counts[0] == counts[1]


def test_unused_helpers():
    assert make_subscription


def test_card_charge_settled_after_a_bank_transfer_paid_the_invoice_is_flagged_for_refund(cards, client_for, clock):
    admin = cards.users["wd_admin"]
    card = give_card(cards, cards.profiles["contoso"], TIMEOUT, make_active=False)
    invoice = make_invoice(cards.profiles["contoso"], total="80.00")
    web_pay(client_for(admin), invoice, card)
    services.payment_record_bank_transfer(
        invoice=invoice, amount="80.00", received_on=clock.now().date(), reference="wire", actor=cards.users["support"]
    )
    clock.advance(minutes=5)
    services.payments_reconcile_pending()
    card_payment = Payment.objects.get(invoice=invoice, kind="card")
    invoice.refresh_from_db()
    assert card_payment.status == "succeeded" and card_payment.needs_refund
    assert invoice.status == "paid" and invoice.amount_paid == Decimal("80.00")


def test_bank_transfer_refused_for_customers(cards):
    from billing_portal.errors import NotAllowed

    invoice = make_invoice(cards.profiles["fabrikam"])
    with pytest.raises(NotAllowed):
        services.payment_record_bank_transfer(
            invoice=invoice,
            amount="1.00",
            received_on=dt.date(2026, 1, 1),
            reference="x",
            actor=cards.users["wd_invoice_admin"],
        )


@pytest.mark.parametrize("which", ["other_scope", "removed", "unknown", "beyond_64_bits"])
def test_pay_3_only_one_of_the_scopes_cards_is_charged(cards, client_for, api_for, which):
    """PAY-3: the card to pay with is one of the invoice's scope's cards that is not
    removed; any other id, whatever its size, is refused (400 in the API, the form's
    error on the page), nothing charged, no payment recorded, the invoice still due."""
    admin, contoso = cards.users["wd_admin"], cards.profiles["contoso"]
    invoice = make_invoice(contoso)
    if which == "other_scope":
        card_id = _active(cards.profiles["woodgrove_nl"]).pk
    elif which == "removed":
        removed = give_card(cards, contoso, APPROVED_MC, make_active=False)
        services.payment_method_remove(payment_method=removed, actor=admin)
        card_id = removed.pk
    elif which == "unknown":
        card_id = max(PaymentMethod.objects.values_list("pk", flat=True)) + 1000
    else:
        card_id = 2**70
    charges = SandboxCharge.objects.count()
    response = api_for(admin).post(
        f"/api/v1/invoices/{invoice.pk}/pay/", {"payment_method": card_id}, format="json", HTTP_IDEMPOTENCY_KEY="c1"
    )
    assert response.status_code == 400 and response.json()["code"] == "invalid_payment_method"
    browser = client_for(admin)
    page = browser.post(pay_url(invoice), {"method": card_id, "token": _token(browser, invoice)})
    assert page.status_code == 400 and "Select a payment method." in page.content.decode()
    assert not Payment.objects.filter(invoice=invoice).exists() and SandboxCharge.objects.count() == charges
    invoice.refresh_from_db()
    assert invoice.status == "due"
