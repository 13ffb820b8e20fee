"""How a payment's method reads on a receipt, the payment history and the invoice page:
"Visa •••• 4242" for a card, "Bank transfer" for a transfer (its reference is shown
apart). Translated in the active language."""

from django.utils.translation import gettext as _

BANK_TRANSFER = "bank_transfer"


def card_label(brand: str, last4: str) -> str:
    if not last4:
        return brand or _("Card")
    return f"{brand or _('Card')} •••• {last4}"


def receipt_method(receipt) -> str:
    if receipt.method == BANK_TRANSFER:
        return _("Bank transfer")
    return card_label(receipt.card_brand, receipt.card_last4)


def payment_method(payment) -> str:
    """A payment's method; its card from the payment method (removed cards included),
    else from the card summary kept on the payment."""
    if payment.kind == BANK_TRANSFER:
        return _("Bank transfer")
    method = payment.payment_method
    if method is not None:
        return card_label(method.brand, method.last4)
    return payment.card.split(" (")[0] or _("Card")
