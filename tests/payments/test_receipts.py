"""Receipts: every succeeded payment (card or recorded bank transfer) has one, numbered
RC-YYYY-NNNNNN without gaps in the transaction that records the payment as succeeded; the
receipt e-mail names and links it; the data migration gives earlier payments theirs in the
order of settlement. (Concurrency on PostgreSQL: test_receipts_postgres.py.)"""

import datetime as dt
import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.core import mail
from django.db import transaction
from django.urls import reverse

from payments import services
from payments.models import Payment, Receipt, ReceiptNumberSequence
from payments.services import collection

from .conftest import INSUFFICIENT, give_card, make_invoice

pytestmark = pytest.mark.django_db


def _transfer(cards, invoice, amount, *, received_on=None, reference="wire-1"):
    return services.payment_record_bank_transfer(
        invoice=invoice,
        amount=amount,
        received_on=received_on or dt.date(2026, 3, 2),
        reference=reference,
        actor=cards.users["support"],
    )


def _numbers() -> list[str]:
    return list(Receipt.objects.order_by("number").values_list("number", flat=True))


def test_a_card_payment_that_succeeds_has_a_receipt_with_card_amount_and_invoice(cards, clock):
    clock.set(dt.datetime(2026, 3, 4, 9, 30))
    invoice = make_invoice(cards.profiles["contoso"], total="242.00")
    card = services.scope_active_card(cards.profiles["contoso"])
    payment = services.invoice_pay(invoice=invoice, payment_method=card, actor=cards.users["wd_admin"])
    receipt = Receipt.objects.get(payment=payment)
    assert receipt.number == "RC-2026-000001"
    assert (receipt.method, receipt.card_brand, receipt.card_last4) == ("card", card.brand, card.last4)
    assert (receipt.amount, receipt.currency, receipt.invoice_id) == (Decimal("242.00"), "EUR", invoice.pk)
    assert receipt.issue_date == receipt.paid_on == dt.date(2026, 3, 4)
    assert receipt.reference == payment.gateway_reference and receipt.language == "en"
    assert (receipt.account_id, receipt.profile_id) == (invoice.account_id, invoice.profile_id)


def test_a_declined_card_payment_has_no_receipt(cards):
    profile = cards.profiles["contoso"]
    card = give_card(cards, profile, INSUFFICIENT, make_active=False)
    payment = services.invoice_pay(invoice=make_invoice(profile), payment_method=card, actor=cards.users["wd_admin"])
    assert payment.status == "failed"
    assert not Receipt.objects.exists()


def test_a_recorded_bank_transfer_has_a_receipt_with_its_reference_and_day(cards, clock):
    clock.set(dt.datetime(2026, 3, 4, 9, 30))
    invoice = make_invoice(cards.profiles["fabrikam"], total="200.00", status="past_due")
    first = _transfer(cards, invoice, "150.00", received_on=dt.date(2026, 3, 2), reference="NL-WIRE-77")
    second = _transfer(cards, invoice, "50.00", received_on=dt.date(2026, 3, 3), reference="NL-WIRE-78")
    one, two = Receipt.objects.get(payment=first), Receipt.objects.get(payment=second)
    assert (one.number, two.number) == ("RC-2026-000001", "RC-2026-000002")
    assert (one.method, one.reference, one.paid_on, one.amount) == (
        "bank_transfer",
        "NL-WIRE-77",
        dt.date(2026, 3, 2),
        Decimal("150.00"),
    )
    assert one.issue_date == dt.date(2026, 3, 4) and one.card_last4 == "" and one.language == "nl"
    assert two.amount == Decimal("50.00")


def test_numbers_are_gap_free_per_year_and_a_failed_transaction_takes_none(cards, clock, monkeypatch):
    clock.set(dt.datetime(2026, 12, 31, 22))
    profile = cards.profiles["fabrikam"]
    for _ in range(3):
        _transfer(cards, make_invoice(profile, total="10.00"), "10.00")
    # The e-mail fails after the receipt took its number: the whole transaction is undone.
    broken = make_invoice(profile, total="10.00")

    def fail(*args, **kwargs):
        raise RuntimeError("mail queue down")

    with monkeypatch.context() as patched, pytest.raises(RuntimeError):
        patched.setattr(collection, "notify", fail)
        _transfer(cards, broken, "10.00")
    broken.refresh_from_db()
    assert broken.amount_paid == 0 and not Payment.objects.filter(invoice=broken).exists()
    _transfer(cards, broken, "10.00")
    assert _numbers() == [f"RC-2026-{n:06d}" for n in range(1, 5)]
    # A new year starts its own series.
    clock.set(dt.datetime(2027, 1, 1, 0, 5))
    _transfer(cards, make_invoice(profile, total="10.00"), "10.00", received_on=dt.date(2026, 12, 31))
    assert _numbers()[-1] == "RC-2027-000001"
    assert dict(ReceiptNumberSequence.objects.values_list("year", "last_number")) == {2026: 4, 2027: 1}


def test_every_succeeded_payment_has_a_receipt_whatever_the_route(cards, client_for, api_for, clock):
    from .conftest import TIMEOUT
    from .test_pay import web_pay

    admin = cards.users["wd_admin"]
    contoso = cards.profiles["contoso"]
    card = services.scope_active_card(contoso)
    web_pay(client_for(admin), make_invoice(contoso), card)  # Pay now
    invoice = make_invoice(contoso)
    response = api_for(admin).post(
        f"/api/v1/invoices/{invoice.pk}/pay/",
        {"payment_method": card.pk},
        format="json",
        HTTP_IDEMPOTENCY_KEY="receipt-api",
    )
    assert response.status_code == 201
    services.invoice_charge_automatically(invoice_id=make_invoice(contoso).pk)  # automatic
    # A timeout settled later by the reconciler.
    slow = give_card(cards, contoso, TIMEOUT, make_active=False)
    web_pay(client_for(admin), make_invoice(contoso), slow)
    clock.advance(minutes=5)
    services.payments_reconcile_pending()
    _transfer(cards, make_invoice(cards.profiles["fabrikam"]), "121.00")
    succeeded = Payment.objects.filter(status="succeeded")
    assert succeeded.count() == 5
    assert not succeeded.filter(receipt__isnull=True).exists()
    assert Receipt.objects.count() == 5 and len(set(_numbers())) == 5


def test_receipt_issue_is_idempotent(cards):
    payment = _transfer(cards, make_invoice(cards.profiles["fabrikam"]), "1.00")
    with transaction.atomic():
        assert services.receipt_issue(payment=payment) == Receipt.objects.get(payment=payment)
    assert Receipt.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_receipt_issue_outside_the_settling_transaction_is_refused():
    with pytest.raises(RuntimeError):
        services.receipt_issue(payment=Payment(pk=1))


def test_receipt_email_names_the_receipt_and_links_its_pdf(cards, django_capture_on_commit_callbacks, settings):
    invoice = make_invoice(cards.profiles["contoso"], total="99.95")
    card = services.scope_active_card(cards.profiles["contoso"])
    with django_capture_on_commit_callbacks(execute=True):
        payment = services.invoice_pay(invoice=invoice, payment_method=card, actor=cards.users["wd_admin"])
    receipt = payment.receipt
    message = next(m for m in mail.outbox if invoice.number in m.subject)
    html = message.alternatives[0][0]
    url = reverse("payments:receipt_pdf", args=[receipt.pk])
    assert f"Your receipt is {receipt.number}." in message.body and url in message.body
    assert receipt.number in html and f'{url}"' in html and "Download the receipt (PDF)" in html


def test_receipt_email_in_dutch_for_a_bank_transfer(cards, django_capture_on_commit_callbacks):
    invoice = make_invoice(cards.profiles["fabrikam"], total="50.00")
    with django_capture_on_commit_callbacks(execute=True):
        payment = _transfer(cards, invoice, "50.00")
    bodies = [m.body for m in mail.outbox if invoice.number in m.subject]
    assert bodies and all(f"Uw betalingsbewijs is {payment.receipt.number}." in body for body in bodies)


def test_the_data_migration_gives_earlier_payments_receipts_in_order_of_settlement(cards):
    invoice = make_invoice(cards.profiles["fabrikam"], total="1000.00")
    card_invoice = make_invoice(cards.profiles["contoso"], total="10.00")
    card = services.scope_active_card(cards.profiles["contoso"])

    def old_payment(settled_at, **fields):
        defaults = {"invoice": invoice, "kind": "bank_transfer", "reference": "old", "received_on": settled_at.date()}
        defaults.update(fields)
        target = defaults["invoice"]
        return Payment.objects.create(
            account=target.account,
            profile=target.profile,
            source="support",
            amount=Decimal("10.00"),
            currency="EUR",
            status="succeeded",
            created_at=settled_at,
            settled_at=settled_at,
            **defaults,
        )

    late = old_payment(dt.datetime(2025, 6, 1, tzinfo=dt.UTC))
    early = old_payment(dt.datetime(2025, 2, 1, tzinfo=dt.UTC))
    next_year = old_payment(dt.datetime(2026, 1, 3, tzinfo=dt.UTC))
    by_card = old_payment(
        dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
        invoice=card_invoice,
        kind="card",
        payment_method=card,
        gateway_reference="ch_old",
        reference="",
        received_on=None,
    )
    Payment.objects.create(  # a failed payment gets none
        invoice=invoice,
        account=invoice.account,
        profile=invoice.profile,
        source="support",
        amount=Decimal("1.00"),
        currency="EUR",
        status="failed",
    )
    migration = importlib.import_module("payments.migrations.0007_receipts")
    migration.assign_receipts(apps, None)
    numbers = {p.pk: Receipt.objects.get(payment=p).number for p in (early, by_card, late, next_year)}
    assert numbers == {
        early.pk: "RC-2025-000001",
        by_card.pk: "RC-2025-000002",
        late.pk: "RC-2025-000003",
        next_year.pk: "RC-2026-000001",
    }
    card_receipt = Receipt.objects.get(payment=by_card)
    assert (card_receipt.card_brand, card_receipt.card_last4, card_receipt.reference) == (
        card.brand,
        card.last4,
        "ch_old",
    )
    assert Receipt.objects.get(payment=early).issue_date == dt.date(2025, 2, 1)
    assert Receipt.objects.count() == 4
    # Numbers issued afterwards continue each series.
    assert dict(ReceiptNumberSequence.objects.values_list("year", "last_number")) == {2025: 3, 2026: 1}
    migration.assign_receipts(apps, None)  # nothing left to do
    assert Receipt.objects.count() == 4


def test_support_staff_find_receipts_in_the_admin_site_read_only(cards, client_for):
    payment = _transfer(cards, make_invoice(cards.profiles["fabrikam"]), "5.00", reference="ADMIN-WIRE")
    client = client_for(cards.users["support"])
    listing = client.get(reverse("admin:payments_receipt_changelist"), {"q": payment.receipt.number})
    assert listing.status_code == 200 and payment.receipt.number in listing.content.decode()
    assert client.get(reverse("admin:payments_receipt_add")).status_code == 403
