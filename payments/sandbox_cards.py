"""The sandbox gateway's test cards and the checks of its hosted card-entry page: the
outcome class of each test card (payments/sandbox.py lists them) and the validation of
an entered card (Luhn, expiry, CVC, holder). Nothing here keeps a number or a CVC."""

from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from billing_portal import clock

from .card_data import CARD_NUMBER_REFUSED, contains_card_number
from .gateway import GatewayError

APPROVED = "approved"
CARD_DECLINED = "card_declined"
EXPIRED_CARD = "expired_card"
INSUFFICIENT_FUNDS = "insufficient_funds"
INCORRECT_CVC = "incorrect_cvc"
INTERNATIONAL_NOT_ALLOWED = "international_not_allowed"
RECURRING_NOT_ALLOWED = "recurring_not_allowed"
PROCESSOR_TIMEOUT = "processor_timeout"
CHARGE_DECLINED = "charge_declined"
AUTHENTICATION_REQUIRED = "authentication_required"
AUTHENTICATION_FAILED = "authentication_failed"

TEST_CARDS = {
    "4242424242424242": APPROVED,
    "5555555555554444": APPROVED,
    "378282246310005": APPROVED,
    "4000000000000002": CARD_DECLINED,
    "4000000000000069": EXPIRED_CARD,
    "4000000000009995": INSUFFICIENT_FUNDS,
    "4000000000000127": INCORRECT_CVC,
    "4000000000003006": INTERNATIONAL_NOT_ALLOWED,
    "4000000000003410": RECURRING_NOT_ALLOWED,
    "4000000000000341": CHARGE_DECLINED,
    "4000000000000119": PROCESSOR_TIMEOUT,
    "4000002760003184": AUTHENTICATION_REQUIRED,
}
# Outcomes the processor gives when the card is entered (a zero-amount check).
DECLINED_AT_ENTRY = {CARD_DECLINED, EXPIRED_CARD}
# Outcomes of every charge on the card.
DECLINED_ON_CHARGE = {
    INSUFFICIENT_FUNDS,
    INCORRECT_CVC,
    INTERNATIONAL_NOT_ALLOWED,
    RECURRING_NOT_ALLOWED,
    CHARGE_DECLINED,
}
# The decline code of an outcome, where it is not the outcome itself.
FAILURE_CODES = {CHARGE_DECLINED: CARD_DECLINED}


class CardInvalid(GatewayError):
    """The entered card details are not valid; ``errors`` maps field name to message."""

    code = "card_invalid"

    def __init__(self, errors: dict):
        super().__init__("invalid card details")
        self.errors = errors


def luhn_valid(digits: str) -> bool:
    if not digits.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def card_brand(digits: str) -> str:
    if digits.startswith("4"):
        return "Visa"
    if digits[:2] in {"34", "37"}:
        return "American Express"
    prefix4 = int(digits[:4]) if len(digits) >= 4 else 0
    if 51 <= int(digits[:2] or 0) <= 55 or 2221 <= prefix4 <= 2720:
        return "Mastercard"
    if digits.startswith("6011") or digits.startswith("65") or 644 <= int(digits[:3] or 0) <= 649:
        return "Discover"
    return "Card"


@sensitive_variables("number", "digits")
def _check_number(number: str, errors: dict) -> str:
    """The digits of the entered number ("" after an error)."""
    digits = "".join(ch for ch in (number or "") if ch not in " -")
    if not digits.isdigit() or not 13 <= len(digits) <= 19:
        errors["number"] = _("Enter the card number: 13 to 19 digits.")
    elif not luhn_valid(digits):
        errors["number"] = _("This card number is not valid. Check the digits.")
    return "" if "number" in errors else digits


def _check_expiry(exp_month, exp_year, errors: dict) -> tuple[int, int] | None:
    try:
        month = int(exp_month)
        year = int(exp_year)
        if year < 100:
            year += 2000
        if not 1 <= month <= 12 or not 2000 <= year <= 2100:
            raise ValueError
    except (TypeError, ValueError):
        errors["expiry"] = _("Enter the expiry date as month (1-12) and year.")
        return None
    today = clock.today()
    if (year, month) < (today.year, today.month):
        errors["expiry"] = _("This card has expired. Use a card with a future expiry date.")
    elif year > today.year + 20:
        errors["expiry"] = _("The expiry year is too far in the future.")
    return month, year


@sensitive_variables("cvc")
def _check_cvc(cvc: str, brand: str, errors: dict) -> None:
    cvc = (cvc or "").strip()
    cvc_length = 4 if brand == "American Express" else 3
    if not cvc.isdigit() or len(cvc) != cvc_length:
        errors["cvc"] = _("Enter the %(n)s-digit security code (CVC) from the card.") % {"n": cvc_length}


@sensitive_variables("holder_name", "holder")
def _check_holder(holder_name: str, errors: dict) -> str:
    holder = " ".join((holder_name or "").split())
    if not holder:
        errors["holder_name"] = _("Enter the name on the card.")
    elif len(holder) > 150:
        errors["holder_name"] = _("The name on the card can have at most 150 characters.")
    elif contains_card_number(holder):
        errors["holder_name"] = CARD_NUMBER_REFUSED
    return holder


@sensitive_variables("number", "cvc", "digits", "holder_name", "holder")
def validate_card(*, number: str, exp_month, exp_year, cvc: str, holder_name: str) -> dict:
    """Check the entered card; returns the safe summary or raises ``CardInvalid``."""
    errors = {}
    digits = _check_number(number, errors)
    brand = card_brand(digits) if digits else ""
    expiry = _check_expiry(exp_month, exp_year, errors)
    _check_cvc(cvc, brand, errors)
    holder = _check_holder(holder_name, errors)
    if errors:
        raise CardInvalid(errors)
    month, year = expiry
    return {
        "brand": brand,
        "last4": digits[-4:],
        "exp_month": month,
        "exp_year": year,
        "holder_name": holder,
        "outcome": TEST_CARDS.get(digits, APPROVED),
    }
