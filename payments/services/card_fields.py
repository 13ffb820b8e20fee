"""Checking what a customer typed about a card: holder name, expiry and billing address
(never the number: that only reaches the gateway's page)."""

from django.utils.translation import gettext as _
from django_countries import countries

from billing_portal import clock
from billing_portal.card_numbers import refuse_card_number
from billing_portal.errors import InvalidInput

ADDRESS_FIELDS = ("address_line1", "postal_code", "city", "country")
UPDATABLE_FIELDS = ("holder_name", "exp_month", "exp_year", *ADDRESS_FIELDS)
_ADDRESS_LIMITS = {"address_line1": 200, "postal_code": 20, "city": 100, "country": 2}
HOLDER_MAX_LENGTH = 150


def check_expiry(month, year) -> tuple[int, int]:
    try:
        month, year = int(month), int(year)
    except (TypeError, ValueError):
        raise InvalidInput(_("Enter the expiry date as month (1-12) and year."), fields={"exp_month": [_("Invalid.")]})
    if year < 100:
        year += 2000
    errors = {}
    if not 1 <= month <= 12:
        errors["exp_month"] = [_("Enter a month from 1 to 12.")]
    today = clock.today()
    if not today.year <= year <= today.year + 20:
        errors["exp_year"] = [_("Enter a year from this year up to 20 years ahead.")]
    elif 1 <= month <= 12 and (year, month) < (today.year, today.month):
        errors["exp_month"] = [_("This expiry date is in the past.")]
    if errors:
        raise InvalidInput(_("The expiry date is not valid."), code="invalid_expiry", fields=errors)
    return month, year


def clean_address(data: dict) -> dict:
    """The billing-address fields present in ``data``, trimmed (country upper-cased)."""
    out = {}
    for field in ADDRESS_FIELDS:
        if field in data:
            value = (data.get(field) or "").strip()
            if len(value) > _ADDRESS_LIMITS[field]:
                raise InvalidInput(_("%(field)s is too long.") % {"field": field}, fields={field: [_("Too long.")]})
            refuse_card_number(value, field=field)
            out[field] = value.upper() if field == "country" else value
    if out.get("country") and out["country"] not in dict(countries):
        raise InvalidInput(_("Unknown country."), fields={"country": [_("Unknown country.")]})
    return out


def clean_holder_name(value) -> str:
    holder = " ".join(str(value or "").split())
    if not holder or len(holder) > HOLDER_MAX_LENGTH:
        raise InvalidInput(
            _("Enter the name on the card (at most 150 characters)."),
            fields={"holder_name": [_("Enter the name on the card (at most 150 characters).")]},
        )
    refuse_card_number(holder, field="holder_name")
    return holder


def safe_next_path(path: str) -> str:
    """A path on the portal to come back to after the gateway's page, or ""."""
    if path and path.startswith("/") and not path.startswith("//") and "\\" not in path and len(path) <= 300:
        return path
    return ""
