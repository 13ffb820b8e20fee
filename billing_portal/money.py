"""Money: ``Decimal`` amounts with an ISO 4217 currency code held on the owning record.

Rounding is ROUND_HALF_UP to the currency's minor unit and is applied to each line
(quantity x unit price) and to each tax amount; totals are sums of rounded figures,
so a printed invoice always adds up. Amounts are stored in DecimalField(14, 2): the
supported currencies all have at most two minor digits.
"""

from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_currency

# Currencies the portal bills in, with their number of minor-unit digits.
CURRENCIES = {
    "EUR": 2,
    "USD": 2,
    "GBP": 2,
    "CHF": 2,
    "SEK": 2,
    "DKK": 2,
    "NOK": 2,
    "PLN": 2,
    "JPY": 0,
}
CURRENCY_CHOICES = [(code, code) for code in CURRENCIES]


def minor_unit(currency: str) -> Decimal:
    digits = CURRENCIES[currency]
    return Decimal(1).scaleb(-digits)


def quantize(amount, currency: str) -> Decimal:
    """Round ``amount`` half-up to the minor unit of ``currency``."""
    return Decimal(amount).quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


# The Babel locale of each interface language (Irish English: euro sign first, day-first dates).
LOCALES = {"en": "en_IE", "nl": "nl_NL"}


def format_money(amount, currency: str, language: str = "en") -> str:
    """Human display in the reader's language: "€1,234.50" (en) or "€ 1.234,50" (nl)."""
    return format_currency(Decimal(amount), currency, locale=LOCALES.get(language, "en_IE"))


def format_unit_price(amount, currency: str, language: str = "en") -> str:
    """A unit price (up to six decimals) in the money format of ``format_money``: the
    currency's minor digits at least, every further decimal that is not zero ("€0.0184",
    "€ 0,0184", "€10.00")."""
    value = Decimal(amount).normalize()
    return format_currency(value, currency, locale=LOCALES.get(language, "en_IE"), decimal_quantization=False)
