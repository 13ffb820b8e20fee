"""API Idempotency-Key records survive a process that died mid-request: after the
lease (payments.services.idempotency.IDEMPOTENCY_LEASE) a repeat of the same request takes the
record over and carries on, and the invoice is still charged at most once."""

import pytest

from payments import services
from payments.gateway import get_gateway
from payments.models import IdempotencyRecord, Payment, SandboxCharge
from payments.services.idempotency import IDEMPOTENCY_LEASE, api_request_key

from .conftest import make_invoice

pytestmark = pytest.mark.django_db

KEY = "crash-1"


def _url(invoice):
    return f"/api/v1/invoices/{invoice.pk}/pay/"


def _post(api, invoice, card, key=KEY, body=None):
    return api.post(_url(invoice), body or {"payment_method": card.pk}, format="json", HTTP_IDEMPOTENCY_KEY=key)


def _died_mid_request(api, invoice, card, monkeypatch, *, after_payment_start=False, after_charge=False):
    """Play a first request whose process dies: the record stays "in progress"."""

    class ProcessDied(BaseException):
        """Not an Exception: a killed process runs no clean-up."""

    def dying_pay(**kwargs):
        if after_payment_start or after_charge:
            payment, _created = services.payment_start(
                invoice=kwargs["invoice"],
                payment_method=kwargs["payment_method"],
                actor=kwargs["actor"],
                source=kwargs["source"],
                request_key=kwargs["request_key"],
            )
            if after_charge:
                get_gateway().charge(
                    token=payment.payment_method.token,
                    amount=payment.amount,
                    currency=payment.currency,
                    idempotency_key=payment.gateway_key,
                )
        raise ProcessDied

    with monkeypatch.context() as m:
        m.setattr(services, "invoice_pay", dying_pay)
        with pytest.raises(ProcessDied):
            _post(api, invoice, card)
    record = IdempotencyRecord.objects.get(key=KEY)
    assert not record.completed


@pytest.fixture
def payer(cards, api_for):
    admin = cards.users["wd_admin"]
    invoice = make_invoice(cards.profiles["contoso"])
    card = services.scope_active_card(cards.profiles["contoso"])
    return api_for(admin), invoice, card, admin


def test_pay_in_progress_key_is_409_inside_the_lease_then_taken_over(payer, clock, monkeypatch):
    api, invoice, card, _admin = payer
    _died_mid_request(api, invoice, card, monkeypatch)
    clock.advance(seconds=30)
    busy = _post(api, invoice, card)
    assert busy.status_code == 409 and busy.json()["code"] == "idempotency_in_progress"
    assert 1 <= int(busy["Retry-After"]) <= 90
    # Nothing was charged by the dead request; after the lease the repeat completes it.
    clock.advance(seconds=IDEMPOTENCY_LEASE.total_seconds())
    taken = _post(api, invoice, card)
    assert taken.status_code == 201 and taken.json()["status"] == "succeeded"
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    assert SandboxCharge.objects.count() == 1
    # From then on the record replays that answer.
    replay = _post(api, invoice, card)
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    assert replay.json() == taken.json()
    assert SandboxCharge.objects.count() == 1


def test_pay_take_over_finds_the_uncharged_payment_and_never_charges(payer, clock, monkeypatch):
    api, invoice, card, admin = payer
    _died_mid_request(api, invoice, card, monkeypatch, after_payment_start=True)
    payment = Payment.objects.get(invoice=invoice)
    assert payment.request_key == api_request_key(admin, KEY)
    clock.advance(minutes=3)
    taken = _post(api, invoice, card)
    assert taken.status_code == 202
    assert taken.json()["id"] == payment.pk and taken.json()["status"] == "pending"
    assert not SandboxCharge.objects.exists()
    assert Payment.objects.filter(invoice=invoice).count() == 1
    # The reconciler settles it: the gateway never saw it, so after the give-up time it
    # fails, nothing charged, and the invoice can be paid again with a new key.
    clock.advance(minutes=20)
    services.payments_reconcile_pending()
    payment.refresh_from_db()
    invoice.refresh_from_db()
    assert (payment.status, payment.failure_code) == ("failed", "not_processed")
    assert invoice.status == "due"
    again = _post(api, invoice, card, key="crash-2")
    assert again.status_code == 201
    assert SandboxCharge.objects.count() == 1


def test_pay_take_over_after_the_charge_answers_pending_and_reconciler_settles_once(payer, clock, monkeypatch):
    api, invoice, card, _admin = payer
    _died_mid_request(api, invoice, card, monkeypatch, after_charge=True)
    assert SandboxCharge.objects.count() == 1
    clock.advance(minutes=2, seconds=1)
    taken = _post(api, invoice, card)
    assert taken.status_code == 202 and taken.json()["status"] == "pending"
    assert SandboxCharge.objects.count() == 1
    assert services.payments_reconcile_pending() == 1
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    assert Payment.objects.get(invoice=invoice).status == "succeeded"
    assert SandboxCharge.objects.count() == 1
    # The taken-over record keeps the answer it gave.
    replay = _post(api, invoice, card)
    assert replay.status_code == 202 and replay["Idempotent-Replayed"] == "true"


def test_pay_stale_key_with_a_different_body_stays_refused(payer, clock, monkeypatch):
    api, invoice, card, _admin = payer
    _died_mid_request(api, invoice, card, monkeypatch)
    clock.advance(minutes=10)
    other = _post(api, invoice, card, body={"payment_method": card.pk + 1000})
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert not IdempotencyRecord.objects.get(key=KEY).completed
    assert not SandboxCharge.objects.exists()


def test_pay_only_one_repeat_takes_a_stale_record_over(payer, clock, monkeypatch):
    api, invoice, card, _admin = payer
    _died_mid_request(api, invoice, card, monkeypatch)
    clock.advance(minutes=5)
    seen = []
    real_pay = services.invoice_pay

    def pay_while_another_repeat_arrives(**kwargs):
        # A second repeat while the take-over runs finds the renewed lease: 409.
        seen.append(_post(api, invoice, card))
        return real_pay(**kwargs)

    monkeypatch.setattr(services, "invoice_pay", pay_while_another_repeat_arrives)
    taken = _post(api, invoice, card)
    assert taken.status_code == 201
    assert [r.status_code for r in seen] == [409]
    assert seen[0].json()["code"] == "idempotency_in_progress"
    assert SandboxCharge.objects.count() == 1
