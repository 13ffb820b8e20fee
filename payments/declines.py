"""Why a card was declined, and what the customer can do about it (PM-7).

Web pages, e-mails and the API use the same codes and texts: the API returns the code
as ``code`` and ``reason`` + guidance as ``detail``.

The guidance fits the code (docs/payments.md, "Declines"): an expired card is updated
(its expiry date) or replaced; insufficient funds: another card, or the bank; a wrong
security code: the card entered again; international or recurring payments refused:
the bank is asked to allow them; a generic decline: the PM-7 checklist of things to
check with the bank. ``advice(code)`` gives the parts for a page or an e-mail (the
checklist as a list, the next step the page offers first); ``guidance(code)`` the same
as one text (the API's ``detail``, plain-text e-mails, Stripe's card page).
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

REASONS = {
    "card_declined": _("Your bank declined the card."),
    "expired_card": _("Your bank reports that the card has expired."),
    "insufficient_funds": _("Your bank declined the payment: the card has insufficient funds."),
    "incorrect_cvc": _("Your bank declined the payment: the security code (CVC) does not match the card."),
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

# The next step a page offers first for a decline.
ANOTHER_CARD = "another_card"  # pay with another card, or add one
UPDATE_EXPIRY = "update_expiry"  # change the stored card's expiry date (PM-5), or use another card
REENTER_CARD = "reenter_card"  # enter the card again (its security code)


@dataclass(frozen=True)
class Advice:
    """What to do after a decline, in the active language: ``text``, then for a generic
    decline the PM-7 ``checklist`` (things to check with the bank) and ``closing``."""

    text: str
    checklist: tuple[str, ...] = ()
    closing: str = ""
    action: str = ANOTHER_CARD

    def __str__(self) -> str:
        return " ".join(part for part in (self.text, *self.checklist, self.closing) if part)


# PM-7: what to check with the bank, as questions to ask.
CHECKLIST = (
    _("Are international transactions enabled on your card?"),
    _("Is there enough balance on your card?"),
    _("Are recurring payments enabled on your card?"),
)
_GENERIC = (_("Contact your bank and check:"), CHECKLIST, _("Then try again, or use another card."), ANOTHER_CARD)
ADVICE = {
    "card_declined": _GENERIC,
    "expired_card": (
        _(
            "Check the card's expiry date. If your bank sent you a renewed card, update the expiry date or "
            "enter the new card; otherwise use another card."
        ),
        (),
        "",
        UPDATE_EXPIRY,
    ),
    "insufficient_funds": (
        _("Use another card, or contact your bank to make sure there is enough balance on the card."),
        (),
        "",
        ANOTHER_CARD,
    ),
    "incorrect_cvc": (
        _(
            "Enter the card again and check the security code (CVC): the 3 digits on the back of the card, "
            "or the 4 digits on the front of an American Express card."
        ),
        (),
        "",
        REENTER_CARD,
    ),
    "international_not_allowed": (
        _("Contact your bank to allow international transactions on your card, or use another card."),
        (),
        "",
        ANOTHER_CARD,
    ),
    "recurring_not_allowed": (
        _("Contact your bank to allow recurring payments on your card, or use another card."),
        (),
        "",
        ANOTHER_CARD,
    ),
    "authentication_failed": (
        _("Try again and confirm the payment when your bank asks for it, or use another card."),
        (),
        "",
        ANOTHER_CARD,
    ),
}
# The codes a bank gives when it declines; any other code is the processor's (a timeout,
# an error) and has no guidance beyond its reason.
BANK_DECLINES = set(ADVICE)


def reason(code: str) -> str:
    return str(REASONS.get(code, _("The payment could not be completed.")))


def advice(code: str) -> Advice | None:
    """What to do about a bank decline, in the active language (None for other codes)."""
    if code not in ADVICE:
        return None
    text, checklist, closing, action = ADVICE[code]
    return Advice(str(text), tuple(str(item) for item in checklist), str(closing), action)


def guidance(code: str) -> str:
    """The guidance for a bank decline as one text, in the active language ("" otherwise)."""
    found = advice(code)
    return str(found) if found else ""


def explain(code: str) -> str:
    """Reason plus, for a bank decline, the guidance."""
    return " ".join(part for part in (reason(code), guidance(code)) if part)
