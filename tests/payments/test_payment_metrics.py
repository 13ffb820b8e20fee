"""Payments by outcome (billing_portal.observability.PAYMENTS): a settled card payment is
counted once its settling transaction commits, a rolled-back one never."""

import pytest
from django.db import transaction

from billing_portal import observability
from payments import services
from payments.models import PaymentMethod

from .conftest import make_invoice

pytestmark = pytest.mark.django_db(transaction=True)


def _count(outcome: str, source: str) -> float:
    return observability.PAYMENTS.labels(outcome, source)._value.get()


def test_a_settled_card_payment_is_counted_by_outcome_once_it_commits(cards):
    profile = cards.profiles["contoso"]
    card = services.scope_active_card(profile)
    before = _count("succeeded", "pay_now")
    payment = services.invoice_pay(invoice=make_invoice(profile), payment_method=card, actor=cards.users["wd_admin"])
    assert payment.status == "succeeded" and _count("succeeded", "pay_now") == before + 1


def test_a_payment_whose_transaction_rolls_back_is_not_counted(cards):
    profile = cards.profiles["contoso"]
    card = PaymentMethod.objects.get(pk=services.scope_active_card(profile).pk)
    before = _count("succeeded", "automatic")
    with pytest.raises(RuntimeError), transaction.atomic():
        services.invoice_pay(invoice=make_invoice(profile), payment_method=card, source="automatic")
        raise RuntimeError("rolled back")
    assert _count("succeeded", "automatic") == before
