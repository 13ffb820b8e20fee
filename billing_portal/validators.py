"""Validation of PO numbers and VAT / tax IDs (VAT-1)."""

from django.utils.translation import gettext as _
from stdnum import get_cc_module
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError

from billing_portal.errors import InvalidInput

PO_MAX_LENGTH = 50


def clean_po_number(value: str) -> str:
    """Trim; at most 50 characters; printable characters only. Empty clears the PO."""
    value = (value or "").strip()
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


def clean_vat_id(value: str, country: str) -> str:
    """Validate a VAT / tax ID for the account's country (python-stdnum) and return it
    in its compact form, with the country prefix for EU numbers. Empty clears it."""
    raw = (value or "").strip()
    if not raw:
        return ""
    country = (country or "").upper()
    error = InvalidInput(
        _("%(value)s is not a valid VAT / tax ID for %(country)s.") % {"value": raw, "country": country or "?"},
        code="vat_invalid",
        fields={"vat_id": [_("Not a valid VAT / tax ID for the account's country.")]},
    )
    # stdnum lists member states in lower case ("gr" for Greece, whose VAT prefix is "EL").
    eu_country = "EL" if country == "GR" else country
    if country.lower() in eu_vat.MEMBER_STATES:
        compact = "".join(ch for ch in raw if ch.isalnum()).upper()
        if not compact[:2].isalpha():
            compact = eu_country + compact
        if compact[:2] != eu_country:
            raise error
        try:
            return eu_vat.validate(compact)
        except StdnumError:
            raise error from None
    module = None
    for kind in ("vat", "tin", "ein"):
        try:
            module = get_cc_module(country.lower(), kind)
        except Exception:  # noqa: BLE001 - stdnum raises ImportError variants
            module = None
        if module is not None:
            break
    if module is None:
        # No validator for this country: accept a plausible identifier.
        compact = "".join(ch for ch in raw if ch.isalnum()).upper()
        if not 4 <= len(compact) <= 32:
            raise error
        return compact
    try:
        return module.validate(raw)
    except StdnumError:
        raise error from None
