"""Why a card was declined, and what the customer can do about it (PM-7).

Web pages, e-mails and the API use the same codes and texts: the API returns the code
as ``code`` and ``reason`` + guidance as ``detail``.
"""

from django.utils.translation import gettext_lazy as _

REASONS = {
    "card_declined": _("Your bank declined the card."),
    "expired_card": _("Your bank reports that the card has expired."),
    "insufficient_funds": _("Your bank declined the payment: the card has insufficient funds."),
    "international_not_allowed": _(
        "Your bank declined the payment: international transactions are not allowed on this card."
    ),
    "recurring_not_allowed": _("Your bank declined the payment: recurring payments are not allowed on this card."),
    "processor_timeout": _(
        "The card processor did not answer in time. The payment is pending; we will settle it and let you know."
    ),
    "not_processed": _("The payment did not reach the card processor. Nothing was charged."),
    "processing_error": _(
        "The card processor could not process the payment. Nothing was charged. Try again in a few minutes."
    ),
    "authentication_failed": _("The payment was not confirmed with your bank (3-D Secure). Nothing was charged."),
    "authentication_expired": _("The payment was not confirmed with your bank in time. Nothing was charged."),
}

# PM-7: shown with every bank decline.
GUIDANCE = _(
    "Contact your bank and check that international transactions are enabled, that the card "
    "has sufficient balance, and that recurring payments are enabled. Then try again or use another card."
)

BANK_DECLINES = {
    "card_declined",
    "expired_card",
    "insufficient_funds",
    "international_not_allowed",
    "recurring_not_allowed",
    "authentication_failed",
}


def reason(code: str) -> str:
    return str(REASONS.get(code, _("The payment could not be completed.")))


def guidance(code: str) -> str:
    """The PM-7 guidance for a bank decline, in the active language ("" otherwise)."""
    return str(GUIDANCE) if code in BANK_DECLINES else ""


def explain(code: str) -> str:
    """Reason plus, for a bank decline, the PM-7 guidance."""
    return " ".join(part for part in (reason(code), guidance(code)) if part)
