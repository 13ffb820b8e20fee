"""Keeping card data out of what the portal stores, logs and echoes.

The portal never receives a card number or CVC on purpose, but a customer (or an API
client) can type or post one into a field the portal does keep: the name on the card,
the billing address. Those fields refuse anything that looks like a card number (the
one scan, for every app, is billing_portal.card_numbers), and input that fails
validation is never echoed back in an error message.
"""

from django.utils.translation import gettext_lazy as _

from billing_portal.card_numbers import CARD_NUMBER_REFUSED, contains_card_number

__all__ = ["CARD_NUMBER_REFUSED", "INVALID_CHOICE", "contains_card_number"]

# The error for a value outside a list of choices, without repeating the value
# (Django's and DRF's default messages quote the input).
INVALID_CHOICE = _("Select one of the available choices.")
