"""Money display for invoice pages, PDFs and e-mails, in the active language."""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils import translation

from billing_portal.money import CURRENCIES, format_money, format_unit_price
from invoices import formatting, printed

register = template.Library()


@register.filter
def money(amount, currency):
    """``{{ invoice.total|money:invoice.currency }}`` → "€1,234.50" / "€ 1.234,50"."""
    if amount in (None, ""):
        return ""
    try:
        value = Decimal(str(amount))
        language = translation.get_language() or "en"
        if currency in CURRENCIES:  # format_money's result, with the locale data read once
            return formatting.money_formatter(currency, language)(value)
        return format_money(value, currency, language)
    except (InvalidOperation, KeyError):
        return f"{amount} {currency}"


@register.filter
def unit_price(amount, currency):
    """Unit prices may have up to six decimals: all that are not zero are shown, in the
    money format (the currency's sign and at least its minor digits), on page and PDF."""
    if amount in (None, ""):
        return ""
    try:
        value = Decimal(str(amount))
        language = translation.get_language() or "en"
        if currency in CURRENCIES:  # format_unit_price's result, with the locale data read once
            return formatting.unit_price_formatter(currency, language)(value)
        return format_unit_price(value, currency, language)
    except (InvalidOperation, KeyError, ValueError):
        return f"{amount} {currency}"


@register.filter
def period_label(period):
    """A billing period (first day of the month) as YYYY-MM."""
    return f"{period:%Y-%m}" if period else ""


@register.filter
def splitlines(text):
    return (text or "").splitlines()


@register.filter
def tax_note(revision):
    """``{{ revision|tax_note }}``: the revision's tax note in the active language ("" for none)."""
    return printed.tax_note_text(revision.tax_note_code) if revision else ""


@register.filter
def usage_name(name):
    """``{{ line.meter|usage_name }}``: a service or meter name in the active language (invoices.printed)."""
    return printed.usage_name(name)
