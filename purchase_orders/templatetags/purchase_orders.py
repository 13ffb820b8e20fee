from django import template
from django.urls import NoReverseMatch, reverse

register = template.Library()


@register.simple_tag
def invoice_url(invoice):
    """Link to the invoice's detail page (invoices app), or "" while it has none."""
    if invoice is None:
        return ""
    for args in ((invoice.pk,), (invoice.number,)):
        try:
            return reverse("invoices:detail", args=args)
        except NoReverseMatch:
            continue
    return ""


@register.simple_tag
def user_amendment_requests(user, limit=10):
    """The latest invoice amendment requests the user can see (Help + support)."""
    from purchase_orders.selectors import amendment_requests_for_user

    if not user.is_authenticated:
        return []
    return list(amendment_requests_for_user(user)[:limit])


@register.simple_tag
def optional_url(name, *args):
    """reverse() that answers "" when the URL does not exist (yet)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


@register.simple_tag
def has_customer_roles(user):
    """Whether the user holds a role on any billing account (support staff hold none)."""
    from accounts.permissions import grants

    return bool(grants(user))


@register.simple_tag
def money(amount, currency):
    """An amount in the reader's language, rounded half-up to the currency's minor unit."""
    from django.utils import translation

    from billing_portal.money import format_money, quantize

    return format_money(quantize(amount or 0, currency), currency, translation.get_language() or "en")
