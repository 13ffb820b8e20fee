"""A Pay now attempt whose process died between recording the payment and charging it:
a replay of the same form finds the payment and charges nothing; the reconciler asks
the gateway by the payment's idempotency key and, as the gateway has no charge, fails
it after RECONCILE_GIVE_UP; the invoice stays payable and is charged exactly once."""

import pytest
from django.urls import reverse

from notifications.models import Notification
from payments.gateway import get_gateway
from payments.models import Payment, PaymentSource, SandboxCharge
from payments.services import charges as services

from .conftest import make_invoice

pytestmark = pytest.mark.django_db


def _pay_url(invoice):
    return reverse("payments:pay", args=[invoice.pk])


def _token(client, invoice):
    page = client.get(_pay_url(invoice)).content.decode()
    return page.split('name="token" value="', 1)[1].split('"', 1)[0]


class ProcessDied(BaseException):
    """Not an Exception: a killed process runs no clean-up."""


def _die_after_payment_start(monkeypatch):
    def dying_charge(payment, in_settlement=None):
        raise ProcessDied

    monkeypatch.setattr(services, "_charge", dying_charge)


def test_pay_replayed_form_of_an_uncharged_payment_charges_nothing_and_reconciler_fails_it(
    cards, client_for, clock, monkeypatch, django_capture_on_commit_callbacks
):
    admin = cards.users["wd_admin"]
    client = client_for(admin)
    invoice = make_invoice(cards.profiles["contoso"])
    card = services.scope_active_card(cards.profiles["contoso"])
    token = _token(client, invoice)
    with monkeypatch.context() as m:
        _die_after_payment_start(m)
        with pytest.raises(ProcessDied):
            client.post(_pay_url(invoice), {"method": card.pk, "token": token})
    payment = Payment.objects.get(invoice=invoice)
    assert payment.status == "pending" and payment.request_key.startswith("web:")
    assert not SandboxCharge.objects.exists()

    # The browser resends the same form: the same payment, still pending, no charge.
    replay = client.post(_pay_url(invoice), {"method": card.pk, "token": token})
    assert replay.status_code == 302
    assert Payment.objects.filter(invoice=invoice).count() == 1
    assert not SandboxCharge.objects.exists()
    # A new attempt meanwhile is refused (one open card payment per invoice).
    refused = client.post(_pay_url(invoice), {"method": card.pk, "token": _token(client, invoice)}, follow=True)
    assert "already being processed" in refused.content.decode()
    assert not SandboxCharge.objects.exists()

    # The reconciler asks the gateway by the payment's key, which has nothing: pending
    # until the give-up time, then failed as not processed.
    looked_up = []
    gateway_cls = type(get_gateway())
    real_get_charge = gateway_cls.get_charge

    def spy(self, *, idempotency_key):
        looked_up.append(idempotency_key)
        return real_get_charge(self, idempotency_key=idempotency_key)

    monkeypatch.setattr(gateway_cls, "get_charge", spy)
    clock.advance(minutes=3)
    assert services.payments_reconcile_pending() == 0
    assert looked_up == [payment.gateway_key]
    payment.refresh_from_db()
    assert payment.status == "pending"
    clock.advance(seconds=services.RECONCILE_GIVE_UP.total_seconds())
    with django_capture_on_commit_callbacks(execute=True):
        assert services.payments_reconcile_pending() == 1
    payment.refresh_from_db()
    invoice.refresh_from_db()
    assert (payment.status, payment.failure_code) == ("failed", "not_processed")
    assert invoice.status == "due" and invoice.amount_due == invoice.total
    failed_mail = Notification.objects.get(kind="payment_failed", recipient=admin.email)
    assert failed_mail.context["failure_code"] == "not_processed"

    # The old form again: it shows that attempt's outcome and charges nothing.
    stale = client.post(_pay_url(invoice), {"method": card.pk, "token": token})
    assert stale.status_code == 402
    assert "Nothing was charged" in stale.content.decode()
    assert not SandboxCharge.objects.exists()

    # The customer pays again: charged exactly once, invoice paid.
    paid = client.post(_pay_url(invoice), {"method": card.pk, "token": _token(client, invoice)})
    assert paid.status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    assert SandboxCharge.objects.count() == 1
    assert Payment.objects.filter(invoice=invoice, status="succeeded").count() == 1


def test_pay_charge_that_arrives_after_the_give_up_is_flagged_for_refund_not_lost(cards, clock):
    """The process was not dead but stalled past the give-up time, then charged: the
    late success is kept on the failed payment and flagged for a refund."""
    invoice = make_invoice(cards.profiles["contoso"])
    card = services.scope_active_card(cards.profiles["contoso"])
    payment, _created = services.payment_start(
        invoice=invoice, payment_method=card, source=PaymentSource.AUTOMATIC, request_key="stalled"
    )
    clock.advance(minutes=20)
    services.payments_reconcile_pending()
    payment.refresh_from_db()
    assert payment.failure_code == "not_processed"
    # The stalled process wakes up and charges with the payment's own key.
    result = get_gateway().charge(
        token=card.token, amount=payment.amount, currency=payment.currency, idempotency_key=payment.gateway_key
    )
    settled = services.payment_settle(payment=payment, status="succeeded", gateway_reference=result.reference)
    assert settled.status == "failed" and settled.needs_refund
    assert settled.gateway_reference == result.reference
    invoice.refresh_from_db()
    assert invoice.status == "due"


def test_pay_stalled_charge_is_not_sent_once_the_payment_was_given_up(cards, clock, monkeypatch):
    invoice = make_invoice(cards.profiles["contoso"])
    card = services.scope_active_card(cards.profiles["contoso"])
    payment, _created = services.payment_start(
        invoice=invoice, payment_method=card, source=PaymentSource.AUTOMATIC, request_key="stalled-2"
    )
    stale_copy = Payment.objects.select_related("invoice", "payment_method").get(pk=payment.pk)
    clock.advance(minutes=20)
    services.payments_reconcile_pending()
    # The stalled process resumes with its in-memory copy (still "pending").
    result = services._charge(stale_copy)
    assert result.status == "failed" and not SandboxCharge.objects.exists()
