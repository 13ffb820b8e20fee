"""Fast display helpers for invoice pages that show many rows.

``money_formatter(currency, language)`` returns a function that formats amounts exactly
like ``billing_portal.money.format_money`` (Babel's currency pattern for the reader's
locale) but reads the locale data once per currency and language: an amount already
at the currency's minor unit is formatted with Python's number formatting and the
locale's symbols; anything else (negative, more decimals, unusual patterns) goes to
``format_money``. A test compares both for many amounts in every currency and language.

``unit_price_formatter`` does the same for unit prices (``format_unit_price``).

``url_maker(name)`` turns one ``reverse()`` into a function of the object id, for
pages that link every row to the same view. ``by_subscription`` groups an invoice's lines
under their subscriptions (page and PDF).
"""

from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.numbers import get_currency_precision, get_currency_symbol, get_decimal_symbol, get_group_symbol
from django.urls import NoReverseMatch, reverse

from billing_portal.money import LOCALES, format_money, format_unit_price

_SENTINEL = 918273645


@lru_cache(maxsize=64)
def money_formatter(currency: str, language: str):
    parts = _plain_pattern(currency, language)
    if parts is None:
        return lambda amount: format_money(amount, currency, language)
    prefix, suffix, symbols, digits = parts
    spec = f",.{digits}f"

    def fmt(amount) -> str:
        value = amount if isinstance(amount, Decimal) else Decimal(amount)
        if not value.is_finite() or value.is_signed() or value.as_tuple().exponent < -digits:
            return format_money(value, currency, language)
        return prefix + format(value, spec).translate(symbols) + suffix

    return fmt


@lru_cache(maxsize=64)
def unit_price_formatter(currency: str, language: str):
    """As ``money_formatter``, for ``billing_portal.money.format_unit_price``: the
    currency's minor digits at least, every further decimal that is not zero."""
    parts = _plain_pattern(currency, language)
    if parts is None:
        return lambda amount: format_unit_price(amount, currency, language)
    prefix, suffix, symbols, digits = parts

    def fmt(amount) -> str:
        value = (amount if isinstance(amount, Decimal) else Decimal(amount)).normalize()
        if not value.is_finite() or value.is_signed():
            return format_unit_price(value, currency, language)
        places = max(digits, -value.as_tuple().exponent)
        return prefix + format(value, f",.{places}f").translate(symbols) + suffix

    return fmt


def _plain_pattern(currency: str, language: str):
    """(prefix, suffix, symbols, minor digits) of the locale's currency pattern when it is
    the plain kind Python's number formatting can follow (groups of three, two minimum
    fraction digits, no quoting); None otherwise."""
    locale = Locale.parse(LOCALES.get(language, "en_IE"))
    pattern = locale.currency_formats["standard"]
    plain = (
        pattern.grouping == (3, 3)
        and pattern.int_prec[0] == 1
        and pattern.frac_prec == (2, 2)
        and not pattern.exp_prec
        and "@" not in pattern.pattern
        and "'" not in pattern.prefix[0] + pattern.suffix[0]
        and "¤¤" not in pattern.prefix[0] + pattern.suffix[0]
    )
    if not plain:
        return None
    symbol = get_currency_symbol(currency, locale)
    symbols = str.maketrans({",": get_group_symbol(locale), ".": get_decimal_symbol(locale)})
    return (
        pattern.prefix[0].replace("¤", symbol),
        pattern.suffix[0].replace("¤", symbol),
        symbols,
        get_currency_precision(currency),
    )


def url_maker(name: str):
    """``url_maker("invoices:detail")(42)`` == ``reverse("invoices:detail", args=[42])``,
    for URLs whose only argument is an integer id; None when the URL name does not exist."""
    try:
        url = reverse(name, args=[_SENTINEL])
    except NoReverseMatch:
        return None
    head, _, tail = url.rpartition(str(_SENTINEL))
    return lambda pk: f"{head}{int(pk)}{tail}"


def by_subscription(lines, key) -> list[tuple]:
    """An invoice's lines grouped by their subscription (``key(line)``): (key, lines) in the
    order of each subscription's first line, the lines in their order. For the invoice's
    page and PDF, which print each subscription's lines under its heading."""
    groups: dict = {}
    for line in lines:
        groups.setdefault(key(line), []).append(line)
    return list(groups.items())


def revision_file_name(invoice_number: str, revision_number: int) -> str:
    """The file name of a revision's PDF as people get it (download, ZIP, e-mail):
    ``INV-2026-000123.pdf`` as issued, ``INV-2026-000123-r2.pdf`` for a later revision
    (PO-5: earlier revisions stay readable under their own name)."""
    suffix = f"-r{revision_number}" if revision_number > 1 else ""
    return f"{invoice_number}{suffix}.pdf"
