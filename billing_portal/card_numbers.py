"""Keeping card numbers out of every free-text field the portal keeps, shows or mails.

The portal never receives a card number or CVC on purpose, but a customer (or an API
client, an admin, the demo) can type one into a PO number, a phone number, an address
line or a message to support. Every service that keeps such a field calls
``refuse_card_number`` before it writes anything: a Luhn-valid run of 13 to 19 digits,
with or without single spaces or dashes between them, is refused with the code
``card_number_refused``. The refused value is never repeated in the error.
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from billing_portal.errors import InvalidInput

CARD_NUMBER_REFUSED = _("This looks like a card number. Never enter a card number here.")
CARD_NUMBER_REFUSED_CODE = "card_number_refused"
MIN_DIGITS, MAX_DIGITS = 13, 19

# A run of digits, optionally split by single spaces or dashes ("4242 4242 4242 4242").
_DIGIT_RUN = re.compile(r"\d(?:[ \-]?\d)*")


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        digit = int(char)
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _windows(digits: str):
    for length in range(MIN_DIGITS, min(MAX_DIGITS, len(digits)) + 1):
        for start in range(len(digits) - length + 1):
            yield digits[start : start + length]


def _candidates(run: str):
    """The 13-19 digit numbers a run may hold: the whole run; every span of whole groups
    ("4242 4242 4242 4242 123" holds "4242 4242 4242 4242"); and, in a group longer than
    19 digits, every window of it."""
    groups = re.split(r"[ \-]", run)
    for first in range(len(groups)):
        digits = ""
        for group in groups[first:]:
            digits += group
            if len(digits) > MAX_DIGITS:
                break
            if len(digits) >= MIN_DIGITS:
                yield digits
    for group in groups:
        if len(group) > MAX_DIGITS:
            yield from _windows(group)


def contains_card_number(value) -> bool:
    """Whether ``value`` holds a Luhn-valid run of 13 to 19 digits (single spaces or
    dashes between them allowed)."""
    if not value:
        return False
    for run in _DIGIT_RUN.findall(str(value)):
        if sum(ch.isdigit() for ch in run) >= MIN_DIGITS and any(luhn_valid(c) for c in _candidates(run)):
            return True
    return False


CARD_NUMBER_MASK = "[card number removed]"


def mask_card_numbers(value: str) -> str:
    """``value`` with every run of digits that holds a card number replaced by
    ``CARD_NUMBER_MASK`` (log lines and error reports: never a card number leaves)."""
    if not value or not any(ch.isdigit() for ch in value):
        return value

    def mask(match):
        run = match.group(0)
        if sum(ch.isdigit() for ch in run) >= MIN_DIGITS and any(luhn_valid(c) for c in _candidates(run)):
            return CARD_NUMBER_MASK
        return run

    return _DIGIT_RUN.sub(mask, value)


def card_number_error(field: str) -> InvalidInput:
    message = str(CARD_NUMBER_REFUSED)
    return InvalidInput(message, code=CARD_NUMBER_REFUSED_CODE, fields={field: [message]})


def refuse_card_number(value, *, field: str) -> None:
    """Raise ``InvalidInput`` (code ``card_number_refused``, on ``field``) when ``value``
    holds a card number; the value itself is not part of the error."""
    if contains_card_number(value):
        raise card_number_error(field)


def refuse_card_numbers(values: dict, fields) -> None:
    """``refuse_card_number`` for each of ``fields`` present in ``values``; every
    refused field is named in one error."""
    refused = [field for field in fields if contains_card_number(values.get(field))]
    if refused:
        message = str(CARD_NUMBER_REFUSED)
        raise InvalidInput(message, code=CARD_NUMBER_REFUSED_CODE, fields={field: [message] for field in refused})


def validate_no_card_numbers(instance, fields) -> None:
    """For a model's ``clean()`` (the admin and ``full_clean``): a Django
    ``ValidationError`` on each of ``fields`` of ``instance`` that holds a card number."""
    refused = [field for field in fields if contains_card_number(getattr(instance, field, ""))]
    if refused:
        raise ValidationError(
            {field: ValidationError(CARD_NUMBER_REFUSED, code=CARD_NUMBER_REFUSED_CODE) for field in refused}
        )
