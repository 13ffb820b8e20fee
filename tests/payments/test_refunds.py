"""Refunds of card payments by support staff: full and partial, to the cent, each backed
by a credit note of the same gross amount (VAT per line) unless it returns a surplus or a
payment flagged needs_refund; over-refund refused with nothing written; idempotent by the
refund's own key and the request's; a gateway timeout settled by the reconciler; who may
refund at every door (service, API, admin); the customer's e-mail; Pay now after a
partial credit charges the reduced amount."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from billing_portal.errors import Conflict, InvalidInput, NotAllowed
from billing_portal.money import quantize
from invoices import services as invoice_services
from invoices.models import Charge, CreditNote, Invoice, InvoiceStatus
from notifications.models import Notification
from payments import services
from payments.gateway import GatewayError, get_gateway
from payments.models import Payment, PaymentStatus, Refund, SandboxCharge, SandboxRefund
from tests.factories import UserFactory

from .conftest import APPROVED, TIMEOUT, give_card, make_invoice

pytestmark = pytest.mark.django_db

D = Decimal
JAN = dt.date(2026, 1, 1)


def _bill(subscription, capture, period=JAN):
    """Bill the subscription's scope for ``period``: 103.45 + 21 % VAT per line = 125.18.
    A card scope is charged automatically on commit."""
    for quantity, price in (("3", "0.35"), ("1", "2.50"), ("10", "9.99")):
        amount = quantize(D(quantity) * D(price), "EUR")
        Charge.objects.create(
            subscription=subscription,
            profile=subscription.profile,
            period=period,
            service_name="Virtual Machines",
            meter=f"{quantity} x {price}",
            quantity=D(quantity),
            unit_price=D(price),
            amount=amount,
            currency="EUR",
            source="test",
        )
    with capture(execute=True):
        invoice_services.billing_run_start(period=period)
    return Invoice.objects.get(profile=subscription.profile, period=period)


@pytest.fixture
def paid(cards, django_capture_on_commit_callbacks):
    """Contoso's invoice, charged to its Visa at issue: 125.18 paid by card."""
    invoice = _bill(cards.subscriptions["contoso_prod"], django_capture_on_commit_callbacks)
    assert invoice.status == InvoiceStatus.PAID and invoice.total == D("125.18")
    payment = Payment.objects.get(invoice=invoice, status=PaymentStatus.SUCCEEDED)
    assert payment.gateway_reference and payment.amount == D("125.18")
    return invoice, payment


def _refund(cards, payment, amount, capture, reason="Customer asked", **kwargs):
    with capture(execute=True):
        return services.payment_refund(
            payment=payment, amount=amount, reason=reason, actor=cards.users["support"], **kwargs
        )


def test_full_refund_is_backed_by_a_credit_note_and_voids_the_invoice(cards, paid, django_capture_on_commit_callbacks):
    invoice, payment = paid
    mail.outbox.clear()
    refund = _refund(cards, payment, "125.18", django_capture_on_commit_callbacks)
    assert refund.status == PaymentStatus.SUCCEEDED and refund.gateway_reference.startswith("re_")
    sandbox = SandboxRefund.objects.get(idempotency_key=refund.gateway_key)
    assert sandbox.amount == D("125.18") and sandbox.charge_id == payment.gateway_reference
    credit_note = refund.credit_note
    assert credit_note.kind == "refund" and credit_note.total == D("125.18")
    assert (credit_note.subtotal, credit_note.tax_amount) == (D("103.45"), D("21.73"))
    invoice.refresh_from_db()
    payment.refresh_from_db()
    assert payment.amount_refunded == D("125.18")
    assert (invoice.amount_paid, invoice.amount_credited, invoice.amount_due) == (D("0.00"), D("125.18"), D("0.00"))
    assert invoice.status == InvoiceStatus.VOID
    note = Notification.objects.get(kind="refund_issued", recipient=cards.users["wd_admin"].email)
    assert note.language == "en" and note.context["credit_note_number"] == credit_note.number
    message = next(m for m in mail.outbox if m.to == [cards.users["wd_admin"].email] and "Refund" in m.subject)
    assert "€125.18" in message.body and credit_note.number in message.body


def test_partial_refunds_to_the_cent_then_the_rest(cards, paid, django_capture_on_commit_callbacks):
    invoice, payment = paid
    first = _refund(cards, payment, "25.00", django_capture_on_commit_callbacks)
    credit_note = first.credit_note
    assert credit_note.total == D("25.00") and credit_note.subtotal + credit_note.tax_amount == D("25.00")
    assert sum(line.amount + line.tax_amount for line in credit_note.lines.all()) == D("25.00")
    invoice.refresh_from_db()
    # Credits + payments still cover the total: settled.
    assert (invoice.amount_paid, invoice.amount_credited, invoice.balance) == (D("100.18"), D("25.00"), D("0.00"))
    assert invoice.status == InvoiceStatus.PAID
    second = _refund(cards, payment, "100.18", django_capture_on_commit_callbacks)
    assert second.credit_note.total == D("100.18")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.VOID and invoice.amount_credited == D("125.18")
    # Every line is credited exactly, VAT included.
    for line in invoice.lines.all():
        credited = line.credit_lines.all()
        assert sum(c.amount for c in credited) == line.amount and sum(c.tax_amount for c in credited) == line.tax_amount
    with pytest.raises(InvalidInput) as refused:
        _refund(cards, payment, "0.01", django_capture_on_commit_callbacks)
    assert refused.value.code == "over_refund"


def test_over_refund_refused_with_a_clear_error_and_nothing_written(cards, paid, django_capture_on_commit_callbacks):
    invoice, payment = paid
    with pytest.raises(InvalidInput) as refused:
        _refund(cards, payment, "125.19", django_capture_on_commit_callbacks)
    assert refused.value.code == "over_refund" and "125.18" in refused.value.message
    for bad in ("0", "-5", "1.001", "abc"):
        with pytest.raises(InvalidInput):
            _refund(cards, payment, bad, django_capture_on_commit_callbacks)
    with pytest.raises(InvalidInput):
        _refund(cards, payment, "1.00", django_capture_on_commit_callbacks, reason=" ")
    assert not Refund.objects.exists() and not SandboxRefund.objects.exists() and not CreditNote.objects.exists()
    invoice.refresh_from_db()
    assert invoice.amount_paid == D("125.18") and invoice.status == InvoiceStatus.PAID


def test_refund_of_a_surplus_left_by_a_credit_note_needs_no_second_credit_note(
    cards, paid, django_capture_on_commit_callbacks
):
    invoice, payment = paid
    with django_capture_on_commit_callbacks(execute=True):
        invoice_services.credit_note_issue(invoice=invoice, actor=None, reason="Goodwill", amount="20.00")
    invoice.refresh_from_db()
    assert invoice.surplus == D("20.00")
    refund = _refund(cards, payment, "30.00", django_capture_on_commit_callbacks)
    # 20.00 returns the surplus already credited; 10.00 is credited now.
    assert refund.credit_amount == D("10.00") and refund.credit_note.total == D("10.00")
    invoice.refresh_from_db()
    assert (invoice.amount_paid, invoice.amount_credited, invoice.balance) == (D("95.18"), D("30.00"), D("0.00"))
    assert invoice.status == InvoiceStatus.PAID


def test_refund_of_a_payment_flagged_needs_refund_leaves_the_invoice_settled(cards, clock):
    support = cards.users["support"]
    card = give_card(cards, cards.profiles["contoso"], TIMEOUT, make_active=False)
    invoice = make_invoice(cards.profiles["contoso"], total="80.00")
    services.invoice_pay(invoice=invoice, payment_method=card, actor=cards.users["wd_admin"])  # timeout: pending
    services.payment_record_bank_transfer(
        invoice=invoice, amount="80.00", received_on=clock.now().date(), reference="wire", actor=support
    )
    clock.advance(minutes=5)
    services.payments_reconcile_pending()
    payment = Payment.objects.get(invoice=invoice, kind="card")
    assert payment.status == PaymentStatus.SUCCEEDED and payment.needs_refund
    refund = services.payment_refund(payment=payment, amount="80.00", reason="Paid twice", actor=support)
    assert refund.status == PaymentStatus.PENDING  # the timeout card: the answer is lost
    clock.advance(minutes=3)
    services.payments_reconcile_pending()
    refund.refresh_from_db()
    assert refund.status == PaymentStatus.SUCCEEDED and refund.credit_note is None and refund.credit_amount == 0
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID and invoice.amount_paid == D("80.00")
    assert not CreditNote.objects.filter(invoice=invoice).exists()


def test_timeout_leaves_the_refund_pending_and_the_reconciler_settles_it(cards, clock):
    card = give_card(cards, cards.profiles["contoso"], TIMEOUT, make_active=False)
    subscription = cards.subscriptions["contoso_prod"]
    invoice = make_invoice(subscription.profile, total="121.00")
    invoice.lines.create(
        position=1,
        service_name="VM",
        meter="hours",
        quantity=1,
        unit_price=D("100"),
        amount=D("100.00"),
        tax_amount=D("21.00"),
    )
    invoice.current_revision.tax_rate = D("21")
    invoice.current_revision.save()
    services.invoice_pay(invoice=invoice, payment_method=card, actor=cards.users["wd_admin"])
    clock.advance(minutes=5)
    services.payments_reconcile_pending()
    payment = Payment.objects.get(invoice=invoice)
    assert payment.status == PaymentStatus.SUCCEEDED
    refund = services.payment_refund(payment=payment, amount="60.50", reason="Outage", actor=cards.users["support"])
    assert refund.status == PaymentStatus.PENDING and SandboxRefund.objects.filter(amount=D("60.50")).count() == 1
    invoice.refresh_from_db()
    assert invoice.amount_paid == D("121.00") and not CreditNote.objects.exists()
    # While it is pending, a credit note on the invoice waits (the balance would move).
    with pytest.raises(Conflict) as waiting:
        invoice_services.credit_note_issue(invoice=invoice, actor=None, reason="x", amount="1.00")
    assert waiting.value.code == "payment_in_progress"
    assert services.payments_reconcile_pending() == 0  # not yet: younger than two minutes
    clock.advance(minutes=3)
    assert services.payments_reconcile_pending() == 1
    refund.refresh_from_db()
    assert refund.status == PaymentStatus.SUCCEEDED and refund.credit_note.total == D("60.50")
    assert (refund.credit_note.subtotal, refund.credit_note.tax_amount) == (D("50.00"), D("10.50"))
    invoice.refresh_from_db()
    assert invoice.amount_paid == D("60.50") and invoice.amount_credited == D("60.50")
    assert SandboxRefund.objects.count() == 1  # never refunded twice


def test_repeat_with_the_same_request_key_refunds_once(cards, paid, django_capture_on_commit_callbacks):
    _invoice, payment = paid
    first = _refund(cards, payment, "10.00", django_capture_on_commit_callbacks, request_key="form-1")
    again = _refund(cards, payment, "10.00", django_capture_on_commit_callbacks, request_key="form-1")
    assert again.pk == first.pk and Refund.objects.count() == 1 and SandboxRefund.objects.count() == 1
    with pytest.raises(services.RefundKeyReused):
        _refund(cards, payment, "11.00", django_capture_on_commit_callbacks, request_key="form-1")
    # The gateway is idempotent by the refund's own key too.
    gateway = get_gateway()
    result = gateway.refund(
        charge_reference=payment.gateway_reference, amount=D("10.00"), currency="EUR", idempotency_key=first.gateway_key
    )
    assert result.reference == first.gateway_reference and SandboxRefund.objects.count() == 1
    assert gateway.get_refund(idempotency_key=first.gateway_key).status == "succeeded"
    assert gateway.get_refund(idempotency_key="unknown") is None


def test_sandbox_refuses_more_than_the_charge(cards, paid):
    _invoice, payment = paid
    with pytest.raises(GatewayError):
        get_gateway().refund(
            charge_reference=payment.gateway_reference, amount=D("125.19"), currency="EUR", idempotency_key="direct"
        )
    assert not SandboxRefund.objects.filter(idempotency_key="direct").exists()


def test_customer_roles_may_not_refund(cards, paid):
    _invoice, payment = paid
    for persona in ("wd_admin", "ca_owner", "wd_individual"):
        with pytest.raises(NotAllowed):
            services.payment_refund(payment=payment, amount="1.00", reason="x", actor=cards.users[persona])
    assert not Refund.objects.exists()


def test_a_failed_charge_cannot_be_refunded(cards, django_capture_on_commit_callbacks):
    invoice = _bill(cards.subscriptions["individual"], django_capture_on_commit_callbacks)  # insufficient funds
    payment = Payment.objects.get(invoice=invoice)
    assert payment.status == PaymentStatus.FAILED
    with pytest.raises(Conflict) as refused:
        _refund(cards, payment, "1.00", django_capture_on_commit_callbacks)
    assert refused.value.code == "not_refundable"


# --- API and admin ----------------------------------------------------------------------------


def _api_refund(api, payment, key="r-1", **body):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return api.post(f"/api/v1/payments/{payment.pk}/refunds/", body, format="json", **headers)


def test_api_support_refunds_and_a_repeat_replays(cards, paid, api_for, django_capture_on_commit_callbacks):
    invoice, payment = paid
    support = api_for(cards.users["support"])
    with django_capture_on_commit_callbacks(execute=True):
        response = _api_refund(support, payment, amount="25.00", reason="Outage")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "succeeded" and body["amount"] == "25.00" and body["credit_note_number"].startswith("CN-")
    again = _api_refund(support, payment, amount="25.00", reason="Outage")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true" and again.json()["id"] == body["id"]
    assert _api_refund(support, payment, amount="26.00", reason="Outage").status_code == 422
    over = _api_refund(support, payment, key="r-2", amount="200.00", reason="Outage")
    assert over.status_code == 400 and over.json()["code"] == "over_refund"
    assert Refund.objects.count() == 1
    admin = api_for(cards.users["wd_admin"])  # the customer reads refunds and the payment's refunded amount
    assert admin.get(f"/api/v1/payments/{payment.pk}/").json()["amount_refunded"] == "25.00"
    listed = admin.get(f"/api/v1/payments/{payment.pk}/refunds/").json()["results"]
    assert [r["id"] for r in listed] == [body["id"]]
    assert admin.get(f"/api/v1/refunds/{body['id']}/").json()["credit_note"] == body["credit_note"]
    detail = admin.get(f"/api/v1/invoices/{invoice.pk}/").json()
    assert detail["amount_paid"] == "100.18" and detail["amount_credited"] == "25.00" and detail["status"] == "paid"


def test_api_refuses_customers_other_tenants_and_anonymous(cards, paid, api_for):
    _invoice, payment = paid
    response = _api_refund(api_for(cards.users["wd_admin"]), payment, amount="1.00", reason="x")
    assert response.status_code == 403 and response.json()["code"] == "refund_not_allowed"
    for persona in ("ca_owner", "ea_admin", "wd_individual"):
        assert _api_refund(api_for(cards.users[persona]), payment, amount="1.00", reason="x").status_code == 404
    assert _api_refund(api_for(None), payment, amount="1.00", reason="x").status_code == 401
    assert _api_refund(api_for(cards.users["support"]), payment, key="", amount="1.00", reason="x").status_code == 400
    assert not Refund.objects.exists()
    refund = services.payment_refund(payment=payment, amount="1.00", reason="x", actor=None)
    for path in (f"/api/v1/refunds/{refund.pk}/", f"/api/v1/payments/{payment.pk}/refunds/"):
        assert api_for(None).get(path).status_code == 401
        for persona in ("ca_owner", "ea_admin", "wd_individual", "support"):
            assert api_for(cards.users[persona]).get(path).status_code == 404, (persona, path)
        assert api_for(cards.users["wd_admin"]).get(path).status_code == 200


def test_admin_support_refunds_from_the_payments_list(cards, paid, client_for, django_capture_on_commit_callbacks):
    invoice, payment = paid
    support = client_for(cards.users["support"])
    action = support.post(
        reverse("admin:payments_payment_changelist"), {"action": "refund_selected", "_selected_action": [payment.pk]}
    )
    url = reverse("admin:payments_refund_new", args=[payment.pk])
    assert action.status_code == 302 and action["Location"] == url
    assert support.get(url).status_code == 200
    form = {"amount": "5.00", "reason": "Outage", "token": "tok-1"}
    with django_capture_on_commit_callbacks(execute=True):
        assert support.post(url, form).status_code == 302
        assert support.post(url, form).status_code == 302  # a double submission
    assert Refund.objects.get().amount == D("5.00") and SandboxRefund.objects.count() == 1
    refused = support.post(url, {"amount": "500.00", "reason": "Outage", "token": "tok-2"})
    assert refused.status_code == 200 and Refund.objects.count() == 1
    assert support.get(reverse("admin:payments_refund_changelist")).status_code == 200
    for persona in ("wd_admin", "ca_owner"):  # not staff: the admin's sign-in
        assert client_for(cards.users[persona]).post(url, {**form, "token": "tok-3"}).status_code == 302
    staff = UserFactory(is_staff=True)  # staff without the support role
    assert client_for(staff).get(url).status_code == 403
    assert Refund.objects.count() == 1


# --- Pay now after a credit note ------------------------------------------------------------------


def test_pay_now_after_a_partial_credit_charges_the_reduced_amount(cards, django_capture_on_commit_callbacks):
    jan = cards.users["wd_individual"]
    invoice = _bill(cards.subscriptions["individual"], django_capture_on_commit_callbacks)  # declined: still due
    assert invoice.status == InvoiceStatus.DUE and invoice.amount_due == D("125.18")
    with django_capture_on_commit_callbacks(execute=True):
        invoice_services.credit_note_issue(
            invoice=invoice, actor=cards.users["support"], reason="Outage", amount="25.18"
        )
    invoice.refresh_from_db()
    assert invoice.amount_due == D("100.00")
    card = give_card(cards, cards.profiles["individual"], APPROVED, make_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        payment = services.invoice_pay(invoice=invoice, payment_method=card, actor=jan)
    assert payment.status == PaymentStatus.SUCCEEDED and payment.amount == D("100.00")
    assert SandboxCharge.objects.get(reference=payment.gateway_reference).amount == D("100.00")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID and invoice.amount_due == D("0.00")
    assert (invoice.amount_paid, invoice.amount_credited) == (D("100.00"), D("25.18"))
