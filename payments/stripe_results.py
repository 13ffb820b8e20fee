"""Stripe's objects as the gateway's results, and Stripe's decline codes as the portal's.

A declined card payment at Stripe carries an error ``code`` (``card_declined``,
``expired_card``, ``processing_error``, ...) and, for ``card_declined``, the issuer's
``decline_code`` (``insufficient_funds``, ``do_not_honor``, ...): see Stripe's
documentation of error codes and decline codes. The more specific decline code wins;
what the portal has no own text for is a generic decline (``card_declined``), which is
also what Stripe advises to show for lost, stolen or fraud-suspected cards.
"""

from decimal import Decimal

from django.urls import reverse

from billing_portal.money import CURRENCIES

from .card_data import contains_card_number
from .gateway import CardDetails, CardSessionResult, ChargeResult, RefundResult

BRANDS = {
    "visa": "Visa",
    "mastercard": "Mastercard",
    "amex": "American Express",
    "discover": "Discover",
    "diners": "Diners Club",
    "jcb": "JCB",
    "unionpay": "UnionPay",
    "cartes_bancaires": "Cartes Bancaires",
}
# Stripe decline_code / error code -> portal code. Not listed: card_declined.
PORTAL_CODES = {
    "insufficient_funds": "insufficient_funds",
    "card_velocity_exceeded": "insufficient_funds",
    "withdrawal_count_limit_exceeded": "insufficient_funds",
    "expired_card": "expired_card",
    "incorrect_cvc": "incorrect_cvc",
    "currency_not_supported": "international_not_allowed",
    "revocation_of_authorization": "recurring_not_allowed",
    "revocation_of_all_authorizations": "recurring_not_allowed",
    "stop_payment_order": "recurring_not_allowed",
    "processing_error": "processing_error",
    "reenter_transaction": "processing_error",
    "try_again_later": "processing_error",
    "issuer_not_available": "processing_error",
    "payment_intent_authentication_failure": "authentication_failed",
    "authentication_not_handled": "authentication_failed",
}
# Stripe asks the customer to authenticate (an off-session charge, 3-D Secure): not a
# decline, the payment waits for the customer.
AUTHENTICATION_REQUIRED = {"authentication_required"}


def portal_code(error: dict | None) -> str:
    """The portal's decline code of a Stripe error object (``last_payment_error``,
    ``last_setup_error`` or the ``error`` of a 402 answer)."""
    error = error or {}
    for key in ("decline_code", "code"):
        code = error.get(key) or ""
        if code in PORTAL_CODES:
            return PORTAL_CODES[code]
    return "card_declined"


def needs_authentication(error: dict | None) -> bool:
    error = error or {}
    return bool({error.get("code"), error.get("decline_code")} & AUTHENTICATION_REQUIRED)


def decline_texts(explain) -> dict:
    """Every Stripe code the card page may meet -> the portal's reason and guidance,
    for the card page's script (``explain(portal_code)`` -> (reason, guidance))."""
    codes = {**PORTAL_CODES, "card_declined": "card_declined", "generic_decline": "card_declined"}
    return {
        stripe_code: dict(zip(("reason", "guidance"), explain(code), strict=True))
        for stripe_code, code in codes.items()
    }


def to_minor(amount: Decimal, currency: str) -> int:
    return int(Decimal(amount).scaleb(CURRENCIES[currency.upper()]))


def from_minor(value: int, currency: str) -> Decimal:
    currency = currency.upper()
    return Decimal(int(value)).scaleb(-CURRENCIES[currency]).quantize(Decimal(1).scaleb(-CURRENCIES[currency]))


def object_id(value) -> str:
    """The id of a field that is an id or an expanded object."""
    if isinstance(value, dict):
        return value.get("id", "")
    return value or ""


def card_details(method: dict) -> CardDetails:
    card = method.get("card") or {}
    holder = " ".join(str((method.get("billing_details") or {}).get("name") or "").split())
    return CardDetails(
        token=method["id"],
        brand=BRANDS.get(card.get("brand", ""), str(card.get("brand", "Card")).title()),
        last4=str(card.get("last4", "")),
        exp_month=int(card.get("exp_month") or 0),
        exp_year=int(card.get("exp_year") or 0),
        # The portal keeps no card number, not even one typed as the holder's name.
        holder_name="" if contains_card_number(holder) else holder[:150],
    )


def session_result(intent: dict) -> CardSessionResult:
    status = intent.get("status")
    error = intent.get("last_setup_error")
    if status == "succeeded":
        return CardSessionResult(status="completed", card=card_details(intent["payment_method"]))
    if status == "canceled":
        if error:
            return CardSessionResult(status="declined", decline_code=portal_code(error))
        return CardSessionResult(status="cancelled")
    if error and status == "requires_payment_method":
        return CardSessionResult(status="declined", decline_code=portal_code(error))
    return CardSessionResult(status="open")


def charge_status(intent: dict) -> tuple[str, str]:
    """(status, failure code) of a PaymentIntent; "pending" while it is not final."""
    status = intent.get("status")
    error = intent.get("last_payment_error")
    if status == "succeeded":
        return "succeeded", ""
    if status == "requires_action":
        return "requires_action", ""
    if status == "requires_payment_method":
        if needs_authentication(error):
            return "requires_action", ""
        return "failed", portal_code(error)
    if status == "canceled":
        return "failed", "payment_canceled"
    return "pending", ""


def charge_result(intent: dict) -> ChargeResult:
    status, failure = charge_status(intent)
    action_url = reverse("payments:stripe_authenticate", args=[intent["id"]]) if status == "requires_action" else ""
    return ChargeResult(
        reference=intent["id"],
        status=status,
        amount=from_minor(intent["amount"], intent["currency"]),
        currency=intent["currency"].upper(),
        failure_code=failure,
        action_url=action_url,
    )


def refund_result(refund: dict) -> RefundResult:
    status = {"succeeded": "succeeded", "failed": "failed", "canceled": "failed"}.get(refund.get("status"), "pending")
    return RefundResult(
        reference=refund["id"],
        status=status,
        amount=from_minor(refund["amount"], refund["currency"]),
        currency=refund["currency"].upper(),
        failure_code=refund.get("failure_reason") or "",
    )
