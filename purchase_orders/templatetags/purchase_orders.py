from django import template
from django.utils import translation

from accounts import permissions
from billing_portal.money import format_money, quantize
from purchase_orders.selectors import amendment_requests_for_user, may_request_amendments

register = template.Library()


@register.simple_tag
def user_amendment_requests(user, limit=10):
    """The latest invoice amendment requests the user can see (Help + support)."""
    if not user.is_authenticated:
        return []
    return list(amendment_requests_for_user(user)[:limit])


@register.simple_tag
def may_request_invoice_amendment(user):
    """Whether the user may ask support to amend an issued invoice (PO-5; the service's predicate)."""
    return user.is_authenticated and may_request_amendments(user)


@register.simple_tag
def has_customer_roles(user):
    """Whether the user holds a role on any billing account (support staff hold none)."""
    return permissions.has_customer_roles(user)


@register.simple_tag
def money(amount, currency):
    """An amount in the reader's language, rounded half-up to the currency's minor unit."""
    return format_money(quantize(amount or 0, currency), currency, translation.get_language() or "en")
