"""VAT on invoices. The seller is Dutch (``settings.PORTAL_SELLER``).

* Sold-to in the seller's country: the seller's rate.
* Sold-to in another EU member state, business customer with a valid VAT ID of that
  state: reverse charge, 0 %, with the legal note (Article 196, Directive 2006/112/EC).
* Other EU customers (no valid VAT ID, individuals): the customer's country's rate
  (electronically supplied services are taxed where the customer is, via OSS).
* Outside the EU: no EU VAT (place of supply outside the EU), with a note.

Tax is computed per invoice line and rounded half-up to the currency's minor unit.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from stdnum.eu import vat as eu_vat

from billing_portal.money import quantize

from .printed import TaxNote

# Standard VAT rates of the EU member states (percent).
EU_VAT_RATES = {
    "AT": "20",
    "BE": "21",
    "BG": "20",
    "HR": "25",
    "CY": "19",
    "CZ": "21",
    "DK": "25",
    "EE": "24",
    "FI": "25.5",
    "FR": "20",
    "DE": "19",
    "GR": "24",
    "HU": "27",
    "IE": "23",
    "IT": "22",
    "LV": "21",
    "LT": "21",
    "LU": "17",
    "MT": "18",
    "NL": "21",
    "PL": "23",
    "PT": "23",
    "RO": "21",
    "SK": "23",
    "SI": "22",
    "ES": "21",
    "SE": "25",
}


@dataclass(frozen=True)
class TaxTreatment:
    rate: Decimal
    reverse_charge: bool
    note: str  # a printed.TaxNote code, or "" for none


def line_tax(amount: Decimal, rate: Decimal, currency: str) -> Decimal:
    """VAT on one invoice line: ``amount`` x ``rate`` percent, rounded half-up to the
    currency's minor unit. The billing run and invoice amendments both use this, so a
    line is taxed the same way whoever computes it."""
    return quantize(amount * (rate / 100), currency)


def same_treatment(treatment: TaxTreatment, *, rate: Decimal, reverse_charge: bool) -> bool:
    """Does ``treatment`` tax like a revision printed with ``rate`` / ``reverse_charge``?"""
    return treatment.rate == Decimal(rate) and treatment.reverse_charge == bool(reverse_charge)


def with_country_prefix(vat_id: str, country: str) -> str:
    """EU VAT IDs are printed with their member-state prefix (NL..., BE...)."""
    compact = "".join(ch for ch in (vat_id or "") if ch.isalnum()).upper()
    prefix = "EL" if country == "GR" else country
    if compact and prefix in EU_VAT_RATES.keys() | {"EL"} and not compact[:2].isalpha():
        compact = prefix + compact
    return compact


def valid_eu_vat_id(vat_id: str, country: str) -> bool:
    """True if ``vat_id`` is a syntactically valid VAT ID of EU member state ``country``."""
    if not vat_id or not country:
        return False
    compact = with_country_prefix(vat_id, country)
    prefix = "EL" if country == "GR" else country
    return compact[:2] == prefix and eu_vat.is_valid(compact)


def treatment_for(*, country: str, is_business: bool, vat_id: str) -> TaxTreatment:
    country = (country or "").upper()
    seller_country = settings.PORTAL_SELLER["country"]
    if country == seller_country:
        return TaxTreatment(Decimal(EU_VAT_RATES[seller_country]), False, "")
    if country in EU_VAT_RATES:
        if is_business and valid_eu_vat_id(vat_id, country):
            return TaxTreatment(Decimal("0"), True, TaxNote.REVERSE_CHARGE)
        return TaxTreatment(Decimal(EU_VAT_RATES[country]), False, "")
    return TaxTreatment(Decimal("0"), False, TaxNote.OUTSIDE_EU)


def treatment_for_account(account) -> TaxTreatment:
    country = account.country.code if account.country else ""
    return treatment_for(country=country, is_business=account.is_business, vat_id=account.vat_id)
