"""Validation of PO numbers and VAT / tax IDs (VAT-1), and of the version an editor read."""

from django.utils.translation import gettext as _
from stdnum import get_cc_module
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError

from billing_portal.card_numbers import refuse_card_number
from billing_portal.errors import Conflict, InvalidInput

PO_MAX_LENGTH = 50
# A country without a stdnum validator: any identifier of plausible length.
PLAUSIBLE_VAT_LENGTH = range(4, 33)


def clean_po_number(value: str) -> str:
    """Trim; at most 50 characters; printable characters only; never a card number.
    Empty clears the PO."""
    value = (value or "").strip()
    refuse_card_number(value, field="po_number")
    if len(value) > PO_MAX_LENGTH:
        raise InvalidInput(
            _("A PO number can be at most %(max)d characters long.") % {"max": PO_MAX_LENGTH},
            code="po_too_long",
            fields={"po_number": [_("At most %(max)d characters.") % {"max": PO_MAX_LENGTH}]},
        )
    if not value.isprintable():
        raise InvalidInput(
            _("A PO number can only contain printable characters."),
            code="po_invalid_characters",
            fields={"po_number": [_("Only printable characters are allowed.")]},
        )
    return value


def check_number_version(expected: int | None, actual: int, current_value: str) -> None:
    """Refuse a PO or VAT number edit made against an older version (``Conflict``, code
    ``stale_version``) naming the value saved in the meantime. ``None`` skips the check."""
    if expected is not None and int(expected) != actual:
        detail = _(
            "Someone else changed this number to “%(value)s” while you were editing it. "
            "Review the current value and save again if you still want your change."
        ) % {"value": current_value or "—"}
        raise Conflict(detail, code="stale_version", fields={"current_value": [current_value]})


def _vat_error(raw: str, country: str) -> InvalidInput:
    return InvalidInput(
        _("%(value)s is not a valid VAT / tax ID for %(country)s.") % {"value": raw, "country": country or "?"},
        code="vat_invalid",
        fields={"vat_id": [_("Not a valid VAT / tax ID for the account's country.")]},
    )


def _compact(raw: str) -> str:
    return "".join(ch for ch in raw if ch.isalnum()).upper()


def _eu_vat_id(raw: str, country: str) -> str:
    """An EU VAT number, with its country prefix (which must be the account's)."""
    # stdnum lists member states in lower case ("gr" for Greece, whose VAT prefix is "EL").
    prefix = "EL" if country == "GR" else country
    compact = _compact(raw)
    if not compact[:2].isalpha():
        compact = prefix + compact
    if compact[:2] != prefix:
        raise _vat_error(raw, country)
    try:
        return eu_vat.validate(compact)
    except StdnumError:
        raise _vat_error(raw, country) from None


def _national_validator(country: str):
    """stdnum's VAT, TIN or EIN module of a country outside the EU, or None."""
    for kind in ("vat", "tin", "ein"):
        try:
            module = get_cc_module(country.lower(), kind)
        except Exception:  # noqa: BLE001 - stdnum raises ImportError variants
            module = None
        if module is not None:
            return module
    return None


def _national_tax_id(raw: str, country: str) -> str:
    module = _national_validator(country)
    if module is None:
        compact = _compact(raw)
        if len(compact) not in PLAUSIBLE_VAT_LENGTH:
            raise _vat_error(raw, country)
        return compact
    try:
        return module.validate(raw)
    except StdnumError:
        raise _vat_error(raw, country) from None


def clean_vat_id(value: str, country: str) -> str:
    """Validate a VAT / tax ID for the account's country (python-stdnum) and return it
    in its compact form, with the country prefix for EU numbers. Empty clears it. A card
    number is refused first: the other errors repeat the value."""
    raw = (value or "").strip()
    if not raw:
        return ""
    refuse_card_number(raw, field="vat_id")
    country = (country or "").upper()
    if country.lower() in eu_vat.MEMBER_STATES:
        return _eu_vat_id(raw, country)
    return _national_tax_id(raw, country)
