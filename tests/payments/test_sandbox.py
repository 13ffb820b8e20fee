"""The sandbox gateway: card checks, tokens and every test-card outcome."""

from decimal import Decimal

import pytest

from payments.gateway import GatewayTimeout, IdempotencyMismatch, get_gateway
from payments.models import SandboxCharge
from payments.sandbox import CardInvalid, SandboxGateway, luhn_valid, validate_card

from .conftest import APPROVED, APPROVED_MC, DECLINED, EXPIRED, INSUFFICIENT, INTERNATIONAL, RECURRING, TIMEOUT

pytestmark = pytest.mark.django_db


def tokenize(number, **kw):
    args = {"number": number, "exp_month": 12, "exp_year": 2035, "cvc": "123", "holder_name": "A Holder"} | kw
    return SandboxGateway().tokenize(**args)


def test_default_gateway_is_sandbox():
    assert get_gateway().name == "sandbox"


def test_luhn():
    assert luhn_valid(APPROVED)
    assert not luhn_valid("4242424242424241")
    assert not luhn_valid("42424242x4242424")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"number": "4242424242424241"}, "number"),
        ({"number": "4242"}, "number"),
        ({"number": "4242 4242 4242 424x"}, "number"),
        ({"exp_month": 13}, "expiry"),
        ({"exp_month": 1, "exp_year": 2020}, "expiry"),
        ({"cvc": "12"}, "cvc"),
        ({"number": "378282246310005", "cvc": "123"}, "cvc"),
        ({"holder_name": "   "}, "holder_name"),
    ],
)
def test_card_checks_refuse_bad_input(kwargs, field):
    args = {"number": APPROVED, "exp_month": 12, "exp_year": 2035, "cvc": "123", "holder_name": "A"} | kwargs
    with pytest.raises(CardInvalid) as exc:
        validate_card(**args)
    assert field in exc.value.errors


def test_card_summary_keeps_no_number_or_cvc():
    summary = validate_card(
        number="4242 4242 4242 4242", exp_month="12", exp_year="35", cvc="123", holder_name=" Ava  V "
    )
    assert summary == {
        "brand": "Visa",
        "last4": "4242",
        "exp_month": 12,
        "exp_year": 2035,
        "holder_name": "Ava V",
        "outcome": "approved",
    }
    assert (
        validate_card(number="378282246310005", exp_month=1, exp_year=2035, cvc="1234", holder_name="X")["brand"]
        == "American Express"
    )
    assert (
        validate_card(number=APPROVED_MC, exp_month=1, exp_year=2035, cvc="123", holder_name="X")["brand"]
        == "Mastercard"
    )


def test_approved_card_gives_token_and_charges():
    result = tokenize(APPROVED)
    assert result.status == "completed" and result.card.token.startswith("tok_") and result.card.last4 == "4242"
    charge = get_gateway().charge(
        token=result.card.token, amount=Decimal("10.00"), currency="EUR", idempotency_key="k1"
    )
    assert charge.succeeded and charge.reference.startswith("ch_")
    assert get_gateway().get_charge(idempotency_key="k1") == charge


@pytest.mark.parametrize(("number", "code"), [(DECLINED, "card_declined"), (EXPIRED, "expired_card")])
def test_declined_at_card_entry(number, code):
    result = tokenize(number)
    assert result.status == "declined"
    assert result.decline_code == code
    assert result.card is None


@pytest.mark.parametrize(
    ("number", "code"),
    [
        (INSUFFICIENT, "insufficient_funds"),
        (INTERNATIONAL, "international_not_allowed"),
        (RECURRING, "recurring_not_allowed"),
    ],
)
def test_declined_on_every_charge(number, code):
    result = tokenize(number)
    assert result.status == "completed"
    charge = get_gateway().charge(
        token=result.card.token, amount=Decimal("5"), currency="EUR", idempotency_key=f"k-{code}"
    )
    assert charge.status == "failed" and charge.failure_code == code


def test_processor_timeout_charges_once_and_lookup_finds_it():
    token = tokenize(TIMEOUT).card.token
    gateway = get_gateway()
    with pytest.raises(GatewayTimeout):
        gateway.charge(token=token, amount=Decimal("7.50"), currency="EUR", idempotency_key="t-1")
    record = gateway.get_charge(idempotency_key="t-1")
    assert record is not None and record.succeeded
    # A retry with the same key returns the record; it does not charge again.
    again = gateway.charge(token=token, amount=Decimal("7.50"), currency="EUR", idempotency_key="t-1")
    assert again.reference == record.reference
    assert SandboxCharge.objects.filter(card_id=token).count() == 1


def test_idempotency_key_replays_and_refuses_other_charge():
    token = tokenize(APPROVED).card.token
    gateway = get_gateway()
    first = gateway.charge(token=token, amount=Decimal("3.00"), currency="EUR", idempotency_key="same")
    second = gateway.charge(token=token, amount=Decimal("3.00"), currency="EUR", idempotency_key="same")
    assert first == second
    assert SandboxCharge.objects.count() == 1
    with pytest.raises(IdempotencyMismatch):
        gateway.charge(token=token, amount=Decimal("4.00"), currency="EUR", idempotency_key="same")


def test_unknown_charge_lookup_is_none():
    assert get_gateway().get_charge(idempotency_key="nope") is None
