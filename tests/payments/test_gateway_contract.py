"""The gateway contract (payments/gateway.py), one suite for every adapter: the sandbox,
and the Stripe adapter against localstripe (tests/localstripe.py).

What localstripe cannot produce is answered from recorded responses of Stripe's
documented API (stripe_recorded.json, served by stripe_recorded.RecordedHTTPClient):
every charge decline but ``card_declined``, a declined SetupIntent, an off-session
charge that needs authentication, a server error. docs/payments.md lists which is which.
"""

import uuid
from decimal import Decimal

import pytest
import stripe

from payments import declines
from payments.gateway import GatewayError, GatewayTimeout, IdempotencyMismatch
from payments.models import SandboxCharge, SandboxRefund
from payments.sandbox import SandboxGateway
from payments.stripe_gateway import StripeGateway, new_client

from .conftest import APPROVED, DECLINED, EXPIRED, INCORRECT_CVC, INSUFFICIENT, INTERNATIONAL, RECURRING, TIMEOUT
from .stripe_recorded import RecordedHTTPClient, answer, charge_answered_with

pytestmark = pytest.mark.django_db

AMOUNT = Decimal("121.00")
AUTHENTICATION_CARD = "4000002760003184"
CHARGE_DECLINED_CARD = "4000000000000341"
CHARGE_DECLINES = [
    "card_declined",
    "insufficient_funds",
    "incorrect_cvc",
    "international_not_allowed",
    "recurring_not_allowed",
]


def key() -> str:
    return f"pay_{uuid.uuid4().hex}"


class SandboxDriver:
    """Plays the customer and the bank for the sandbox."""

    name = "sandbox"
    CARDS = {
        "approved": APPROVED,
        "authentication": AUTHENTICATION_CARD,
        "card_declined": CHARGE_DECLINED_CARD,
        "insufficient_funds": INSUFFICIENT,
        "incorrect_cvc": INCORRECT_CVC,
        "international_not_allowed": INTERNATIONAL,
        "recurring_not_allowed": RECURRING,
    }
    AT_ENTRY = {"card_declined": DECLINED, "expired_card": EXPIRED}
    ACTION_PAGE = "/sandbox-gateway/authentications/"

    def __init__(self, request):
        self.gateway = SandboxGateway()

    def enter(self, session_id, number):
        self.gateway.submit_card(
            session_id, number=number, exp_month=11, exp_year=2031, cvc="123", holder_name="Ava de Vries"
        )

    def card(self, outcome: str) -> str:
        session = self.gateway.create_card_session(return_url="/back/", reference=uuid.uuid4().hex)
        self.enter(session.id, self.CARDS[outcome])
        return self.gateway.card_session_result(session.id).card.token

    def declined_session(self, code):
        session = self.gateway.create_card_session(return_url="/back/", reference=uuid.uuid4().hex)
        self.enter(session.id, self.AT_ENTRY[code])
        return self.gateway, session.id

    def declining(self, code):
        return self.gateway, self.card(code)

    def lose_answer(self):
        """A gateway and card whose next charge is made while its answer is lost."""
        session = self.gateway.create_card_session(return_url="/back/", reference=uuid.uuid4().hex)
        self.enter(session.id, TIMEOUT)
        return self.gateway, self.gateway.card_session_result(session.id).card.token

    def authenticate(self, result, *, success: bool):
        self.gateway.authenticate(result.reference, approve=success)

    def charges(self, idempotency_key) -> int:
        return SandboxCharge.objects.filter(idempotency_key=idempotency_key).count()

    def refunds(self, reference) -> int:
        return SandboxRefund.objects.filter(charge_id=reference).count()


class StripeDriver:
    """Plays the customer's browser and the bank for the Stripe adapter (localstripe)."""

    name = "stripe"
    CARDS = {"approved": APPROVED, "authentication": AUTHENTICATION_CARD, "card_declined": CHARGE_DECLINED_CARD}
    RECORDED_DECLINES = {
        "insufficient_funds": "charge_declined_insufficient_funds",
        "incorrect_cvc": "charge_incorrect_cvc",
        "international_not_allowed": "charge_declined_currency_not_supported",
        "recurring_not_allowed": "charge_declined_revocation_of_authorization",
    }
    RECORDED_AT_ENTRY = {
        "card_declined": ("setup_intent_card_declined", "seti_1RecordedDeclined"),
        "expired_card": ("setup_intent_expired_card", "seti_1RecordedExpired"),
    }
    ACTION_PAGE = "/stripe/payment-intents/"

    def __init__(self, request):
        request.getfixturevalue("stripe_settings")
        self.request = request
        self.localstripe = request.getfixturevalue("localstripe")
        self.gateway = StripeGateway()

    def enter(self, session_id, number):
        self.localstripe.enter_card(session_id, number)

    def card(self, outcome: str) -> str:
        session = self.gateway.create_card_session(return_url="/back/", reference=uuid.uuid4().hex)
        self.enter(session.id, self.CARDS[outcome])
        return self.gateway.card_session_result(session.id).card.token

    def recorded(self, routes) -> StripeGateway:
        return StripeGateway(client=new_client(http_client=RecordedHTTPClient(routes)))

    def declined_session(self, code):
        name, session_id = self.RECORDED_AT_ENTRY[code]
        return self.recorded({("GET", f"/v1/setup_intents/{session_id}"): answer(name)}), session_id

    def declining(self, code):
        if code == "card_declined":
            return self.gateway, self.card(code)  # localstripe declines this card on every charge
        return self.recorded(charge_answered_with(self.RECORDED_DECLINES[code])), self.card("approved")

    def lose_answer(self):
        proxy = self.request.getfixturevalue("lost_answer_proxy")
        client = new_client(api_base=proxy, http_client=stripe.RequestsClient(timeout=1))
        return StripeGateway(client=client), self.card("approved")

    def authenticate(self, result, *, success: bool):
        self.localstripe.authenticate(result.reference, success=success)

    def charges(self, idempotency_key) -> int:
        return len(self.localstripe.payment_intents(idempotency_key))

    def refunds(self, reference) -> int:
        return len(self.localstripe.refunds(reference))


@pytest.fixture(params=[SandboxDriver, StripeDriver], ids=lambda cls: cls.name)
def driver(request):
    return request.param(request)


# --- card entry -------------------------------------------------------------------------------


def test_a_card_entered_on_the_gateways_page_gives_a_token_and_its_summary(driver):
    gateway = driver.gateway
    session = gateway.create_card_session(return_url="/back/", reference=uuid.uuid4().hex)
    assert session.url.startswith("/") and session.id
    assert gateway.card_session_result(session.id).status == "open"
    driver.enter(session.id, APPROVED)
    result = gateway.card_session_result(session.id)
    assert result.status == "completed"
    card = result.card
    assert card.token and card.token != APPROVED
    assert (card.brand, card.last4, card.exp_month, card.exp_year, card.holder_name) == (
        "Visa",
        "4242",
        11,
        2031,
        "Ava de Vries",
    )


def test_an_unknown_session_or_a_foreign_return_url_is_refused(driver):
    with pytest.raises(GatewayError):
        driver.gateway.card_session_result("seti_unknown" if driver.name == "stripe" else "cs_unknown")
    with pytest.raises(GatewayError):
        driver.gateway.create_card_session(return_url="https://elsewhere.example/", reference="x")


@pytest.mark.parametrize("code", ["card_declined", "expired_card"])
def test_pm_7_a_card_declined_at_entry_gives_the_code_and_no_card(driver, code):
    gateway, session_id = driver.declined_session(code)
    result = gateway.card_session_result(session_id)
    assert (result.status, result.decline_code, result.card) == ("declined", code, None)
    assert declines.guidance(code)


# --- charges ------------------------------------------------------------------------------------


def test_a_charge_is_made_once_per_idempotency_key(driver):
    gateway, token, k = driver.gateway, driver.card("approved"), key()
    first = gateway.charge(token=token, amount=AMOUNT, currency="EUR", idempotency_key=k, description="Invoice 1")
    assert first.succeeded and first.reference
    assert (first.amount, first.currency, first.failure_code, first.action_url) == (AMOUNT, "EUR", "", "")
    again = gateway.charge(token=token, amount=AMOUNT, currency="EUR", idempotency_key=k, description="Invoice 1")
    assert again == first
    assert gateway.get_charge(idempotency_key=k) == first
    assert driver.charges(k) == 1
    with pytest.raises(IdempotencyMismatch):
        gateway.charge(token=token, amount=Decimal("50.00"), currency="EUR", idempotency_key=k)
    assert gateway.get_charge(idempotency_key=key()) is None


def test_bad_charges_are_refused(driver):
    token = driver.card("approved")
    with pytest.raises(GatewayError):
        driver.gateway.charge(token=token, amount=Decimal("0"), currency="EUR", idempotency_key=key())
    with pytest.raises(GatewayError):
        driver.gateway.charge(token="pm_unknown", amount=AMOUNT, currency="EUR", idempotency_key=key())


@pytest.mark.parametrize("code", CHARGE_DECLINES)
def test_pm_7_each_decline_gives_its_code_and_the_guidance(driver, code):
    gateway, token = driver.declining(code)
    k = key()
    result = gateway.charge(token=token, amount=AMOUNT, currency="EUR", idempotency_key=k, off_session=True)
    assert (result.status, result.failure_code) == ("failed", code)
    looked_up = gateway.get_charge(idempotency_key=k)
    assert (looked_up.status, looked_up.failure_code) == ("failed", code)
    assert declines.guidance(code)


def test_a_lost_answer_is_found_by_its_key_and_never_charged_twice(driver):
    lossy, token = driver.lose_answer()
    k = key()
    with pytest.raises(GatewayTimeout):
        lossy.charge(token=token, amount=AMOUNT, currency="EUR", idempotency_key=k)
    found = driver.gateway.get_charge(idempotency_key=k)
    assert found is not None and found.succeeded and found.amount == AMOUNT
    again = driver.gateway.charge(token=token, amount=AMOUNT, currency="EUR", idempotency_key=k)
    assert again.reference == found.reference
    assert driver.charges(k) == 1


@pytest.mark.parametrize("success", [True, False], ids=["approved", "declined"])
@pytest.mark.parametrize("off_session", [False, True], ids=["on-session", "off-session"])
def test_a_charge_that_needs_authentication_waits_for_the_customer(driver, success, off_session):
    gateway, token, k = driver.gateway, driver.card("authentication"), key()
    result = gateway.charge(
        token=token, amount=AMOUNT, currency="EUR", idempotency_key=k, off_session=off_session, return_url="/back/"
    )
    assert result.status == "requires_action" and not result.succeeded
    assert result.action_url.startswith(driver.ACTION_PAGE)
    assert gateway.get_charge(idempotency_key=k).status == "requires_action"
    driver.authenticate(result, success=success)
    settled = gateway.get_charge(idempotency_key=k)
    if success:
        assert settled.succeeded and settled.reference == result.reference
    else:
        assert (settled.status, settled.failure_code) == ("failed", "authentication_failed")
        assert declines.guidance("authentication_failed")
    assert driver.charges(k) == 1


# --- refunds ------------------------------------------------------------------------------------


def test_refunds_give_back_at_most_the_charge_once_per_key(driver):
    gateway = driver.gateway
    charge = gateway.charge(token=driver.card("approved"), amount=AMOUNT, currency="EUR", idempotency_key=key())
    k = f"refund_{uuid.uuid4().hex}"
    first = gateway.refund(
        charge_reference=charge.reference, amount=Decimal("40.00"), currency="EUR", idempotency_key=k, reason="CN-1"
    )
    assert (first.status, first.amount, first.currency, first.failure_code) == (
        "succeeded",
        Decimal("40.00"),
        "EUR",
        "",
    )
    again = gateway.refund(
        charge_reference=charge.reference, amount=Decimal("40.00"), currency="EUR", idempotency_key=k
    )
    assert again == first and gateway.get_refund(idempotency_key=k) == first
    assert driver.refunds(charge.reference) == 1
    with pytest.raises(IdempotencyMismatch):
        gateway.refund(charge_reference=charge.reference, amount=Decimal("41.00"), currency="EUR", idempotency_key=k)
    with pytest.raises(GatewayError):  # more than is left
        gateway.refund(
            charge_reference=charge.reference, amount=Decimal("81.01"), currency="EUR", idempotency_key=key()
        )
    rest = gateway.refund(
        charge_reference=charge.reference, amount=Decimal("81.00"), currency="EUR", idempotency_key=key()
    )
    assert rest.status == "succeeded"
    with pytest.raises(GatewayError):
        gateway.refund(charge_reference=charge.reference, amount=Decimal("0.01"), currency="EUR", idempotency_key=key())
    assert driver.refunds(charge.reference) == 2
    assert gateway.get_refund(idempotency_key=key()) is None


def test_a_failed_charge_cannot_be_refunded(driver):
    gateway, token = driver.declining("card_declined")
    failed = gateway.charge(token=token, amount=AMOUNT, currency="EUR", idempotency_key=key())
    with pytest.raises(GatewayError):
        gateway.refund(charge_reference=failed.reference, amount=AMOUNT, currency="EUR", idempotency_key=key())
