from django import template
from django.core.exceptions import FieldDoesNotExist
from django.utils import translation

from billing_portal.money import format_money
from payments import declines
from payments.models import PaymentMethod

register = template.Library()


@register.simple_tag
def decline_reason(code):
    """The reason for a failure code, in the active language."""
    return declines.reason(code or "")


@register.simple_tag
def decline_guidance(code):
    """The guidance for a bank decline as one text, in the active language ("" otherwise)."""
    return declines.guidance(code)


@register.simple_tag
def decline_advice(code):
    """The guidance for a bank decline in parts (text, PM-7 checklist, closing), in the
    active language; None for other codes."""
    return declines.advice(code or "")


@register.filter
def money(amount, currency):
    """An amount in the reader's language: "€1,234.50" (en) or "€ 1.234,50" (nl)."""
    if amount in (None, ""):
        return ""
    return format_money(amount, currency, translation.get_language() or "en")


@register.filter
def changed_field_labels(changes):
    """The changed fields of a payment-method update, by their names in the reader's
    language ("cardholder name, expiry month"), never their code names (``holder_name``)."""
    labels = []
    for name in changes or {}:
        try:
            labels.append(str(PaymentMethod._meta.get_field(name).verbose_name))
        except FieldDoesNotExist:
            labels.append(str(name).replace("_", " "))
    return ", ".join(labels)
