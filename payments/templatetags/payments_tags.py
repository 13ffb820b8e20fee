from django import template
from django.utils import translation

from billing_portal.money import format_money
from payments import declines

register = template.Library()


@register.simple_tag
def decline_reason(code):
    """The reason for a failure code, in the active language."""
    return declines.reason(code or "")


@register.simple_tag
def decline_guidance(code):
    """The PM-7 guidance for a bank decline, in the active language ("" otherwise)."""
    return declines.guidance(code)


@register.filter
def money(amount, currency):
    """An amount in the reader's language: "€1,234.50" (en) or "€ 1.234,50" (nl)."""
    if amount in (None, ""):
        return ""
    return format_money(amount, currency, translation.get_language() or "en")
