"""PBI-2: the details of a pay-by-invoice request, validated in one place for the page,
the API and the demo. All errors are collected, each on its field, in the active
language; nothing is written when one is found."""

import datetime as dt
import re
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.utils.translation import gettext as _
from django_countries import countries

from billing_portal import clock
from billing_portal.card_numbers import CARD_NUMBER_REFUSED, CARD_NUMBER_REFUSED_CODE, contains_card_number
from billing_portal.errors import InvalidInput
from billing_portal.validators import clean_vat_id

from .models import ContactMethod, CustomerType, SupportPlan

REQUIRED = (
    "support_plan",
    "customer_type",
    "admin_sign_in",
    "commerce_account_id",
    "company_name",
    "company_address",
    "website",
    "country",
    "vat_id",
    "year_established",
    "contact_name",
    "contact_phone",
    "contact_email",
    "justification",
)
TEXT_LIMITS = {
    "current_payment_method": 100,
    "order_id": 100,
    "commerce_account_id": 100,
    "company_name": 200,
    "company_address": 1000,
    "prior_business": 2000,
    "contact_name": 150,
    "justification": 4000,
    "quota_region": 64,
    "quota_series": 64,
}
FREE_TEXT = (*TEXT_LIMITS, "website", "vat_id", "contact_phone", "admin_sign_in", "contact_email")
FIELDS = (*REQUIRED, *(f for f in TEXT_LIMITS if f not in REQUIRED), "existing_cores", "requested_cores")
_PHONE = re.compile(r"\+?[0-9 ()./-]{6,30}")
MIN_YEAR = 1800
MAX_CORES = 1_000_000


def _choice(value, choices, errors, field):
    if value not in dict(choices.choices):
        errors.setdefault(field, []).append(_("Select one of the available choices."))
    return value


def _year(value, errors):
    try:
        year = int(str(value).strip())
    except ValueError:
        errors.setdefault("year_established", []).append(_("Enter a year, for example 1998."))
        return None
    if not MIN_YEAR <= year <= clock.today().year:
        errors.setdefault("year_established", []).append(
            _("Enter a year between %(first)d and %(last)d.") % {"first": MIN_YEAR, "last": clock.today().year}
        )
        return None
    return year


def _cores(value, field, errors):
    if value in (None, ""):
        return None
    try:
        cores = int(str(value).strip())
    except ValueError:
        cores = -1
    if not 0 <= cores <= MAX_CORES:
        errors.setdefault(field, []).append(_("Enter a whole number of cores."))
        return None
    return cores


def _validated(validator, value, field, message, errors):
    try:
        validator(value)
    except ValidationError:
        errors.setdefault(field, []).append(message)


def _texts(data: dict, errors: dict) -> dict:
    values = {
        field: str(data.get(field) or "").strip()
        for field in FIELDS
        if field not in ("existing_cores", "requested_cores")
    }
    for field in REQUIRED:
        if not values.get(field):
            errors.setdefault(field, []).append(_("This field is required."))
    for field, limit in TEXT_LIMITS.items():
        if len(values[field]) > limit:
            errors.setdefault(field, []).append(_("At most %(max)d characters.") % {"max": limit})
    for field in FREE_TEXT:
        if contains_card_number(values.get(field)):
            errors.setdefault(field, []).append(str(CARD_NUMBER_REFUSED))
            values[field] = ""  # never echoed back
    return values


def _contact(values: dict, errors: dict) -> None:
    if values["admin_sign_in"]:
        _validated(
            EmailValidator(), values["admin_sign_in"], "admin_sign_in", _("Enter a valid e-mail address."), errors
        )
    if values["contact_email"]:
        _validated(
            EmailValidator(), values["contact_email"], "contact_email", _("Enter a valid e-mail address."), errors
        )
    if values["website"]:
        if "://" not in values["website"]:
            values["website"] = "https://" + values["website"]
        _validated(
            URLValidator(schemes=["http", "https"]),
            values["website"],
            "website",
            _("Enter a valid web address."),
            errors,
        )
    if values["contact_phone"] and not _PHONE.fullmatch(values["contact_phone"]):
        errors.setdefault("contact_phone", []).append(_("Enter a phone number, for example +31 20 123 4567."))


def clean_details(data: dict) -> dict:
    """The request's details, cleaned, or ``InvalidInput`` with every field's errors."""
    errors: dict[str, list] = {}
    values = _texts(data, errors)
    _choice(values["support_plan"], SupportPlan, errors, "support_plan")
    _choice(values["customer_type"], CustomerType, errors, "customer_type")
    values["preferred_contact"] = _choice(
        str(data.get("preferred_contact") or ContactMethod.EMAIL), ContactMethod, errors, "preferred_contact"
    )
    country = values["country"].upper()
    if country and country not in dict(countries):
        errors.setdefault("country", []).append(_("Select one of the available choices."))
    values["country"] = country
    if values["vat_id"] and country and "country" not in errors and "vat_id" not in errors:
        try:
            values["vat_id"] = clean_vat_id(values["vat_id"], country)
        except InvalidInput as exc:
            errors.setdefault("vat_id", []).extend(exc.fields.get("vat_id", [exc.message]))
    _contact(values, errors)
    values["year_established"] = _year(values["year_established"], errors) if values["year_established"] else None
    for field in ("existing_cores", "requested_cores"):
        values[field] = _cores(data.get(field), field, errors)
    if errors:
        raise InvalidInput(_("Check the highlighted fields."), code=error_code(errors), fields=errors)
    return values


def error_code(errors: dict) -> str:
    """``card_number_refused`` when every field in error was refused for holding a card
    number, else ``invalid``."""
    refused = [str(CARD_NUMBER_REFUSED)]
    return CARD_NUMBER_REFUSED_CODE if all(list(map(str, e)) == refused for e in errors.values()) else "invalid"


def warnings(values: dict) -> list[str]:
    """Advice that does not stop the request: the account admin's sign-in ID should be on
    the company's domain (PBI-2)."""
    domain = values.get("admin_sign_in", "").rpartition("@")[2].lower()
    website = re.sub(r"^https?://", "", values.get("website", "").lower()).split("/")[0].removeprefix("www.")
    if domain and website and not (domain == website or domain.endswith("." + website)):
        return [
            _("The account admin's sign-in ID (%(domain)s) is not on the company's domain (%(website)s).")
            % {"domain": domain, "website": website}
        ]
    return []


_AMOUNT = re.compile(r"[0-9]{1,12}(?:[.,][0-9]{1,2})?")


def credit_limit(value, *, field: str = "credit_limit") -> Decimal:
    """A credit limit in the account's currency: digits with at most two decimals,
    more than zero and under a trillion."""
    text = str(value if value is not None else "").strip().replace(" ", "")
    if not _AMOUNT.fullmatch(text):
        message = _("Enter an amount such as 25000 or 25000.50.")
        raise InvalidInput(message, code="invalid", fields={field: [message]})
    amount = Decimal(text.replace(",", "."))
    if amount <= 0:
        raise InvalidInput(_("Must be more than zero."), code="invalid", fields={field: [_("Must be more than zero.")]})
    return amount


def expected_decision(returned_on: dt.date) -> tuple[dt.date, dt.date]:
    """PBI-8: the decision comes 5 to 7 days after the credit application came back."""
    return returned_on + dt.timedelta(days=5), returned_on + dt.timedelta(days=7)
