from django import template

from payments import declines

register = template.Library()


@register.simple_tag
def decline_reason(code):
    """The reason for a failure code, in the active language."""
    return declines.reason(code or "")


@register.simple_tag
def decline_guidance(code):
    """The PM-7 guidance for a bank decline, in the active language ("" otherwise)."""
    return str(declines.GUIDANCE) if code in declines.BANK_DECLINES else ""
