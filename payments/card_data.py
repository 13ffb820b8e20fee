"""Keeping card data out of what the portal stores, logs and echoes.

The portal never receives a card number or CVC on purpose, but a customer (or an API
client) can type or post one into a field the portal does keep: the name on the card,
the billing address. Those fields refuse anything that looks like a card number, and
input that fails validation is never echoed back in an error message.
"""

import re

from django.utils.translation import gettext_lazy as _

# 13 or more digits, optionally split by single spaces or dashes ("4242 4242 4242 4242").
# No name, street or postal code holds such a run, so no Luhn check is needed to refuse it.
_CARD_LIKE = re.compile(r"\d(?:[ \-]?\d){12,}")

CARD_NUMBER_REFUSED = _("This looks like a card number. Never enter a card number here.")
# The error for a value outside a list of choices, without repeating the value
# (Django's and DRF's default messages quote the input).
INVALID_CHOICE = _("Select one of the available choices.")


def contains_card_number(value) -> bool:
    return bool(value) and bool(_CARD_LIKE.search(str(value)))
