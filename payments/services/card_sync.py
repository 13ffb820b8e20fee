"""Changes to a card that the gateway reports (webhooks): a new expiry date from the
card network's account updater, a card detached from its customer at the gateway.

The portal itself is the actor (``actor=None`` in the history): no customer asked for
it, and no role is checked. Card data stays as it is elsewhere: token, expiry, no number.
"""

from django.db import transaction

from accounts.models import BillingProfile, Subscription
from billing_portal import clock

from ..models import PaymentMethod, PaymentMethodAction
from .cards import _record


def _card_of(gateway: str, token: str) -> PaymentMethod | None:
    return PaymentMethod.objects.select_for_update().filter(gateway=gateway, token=token).first()


@transaction.atomic
def payment_method_expiry_from_gateway(*, gateway: str, token: str, exp_month: int, exp_year: int):
    """The gateway says the card now expires in ``exp_month``/``exp_year``: updated and
    recorded in the history (once; the same news again changes nothing)."""
    method = _card_of(gateway, token)
    if method is None or method.removed_at is not None:
        return method
    if not 1 <= int(exp_month) <= 12 or not 2000 <= int(exp_year) <= 2100:
        return method
    changes = {}
    for field, value in (("exp_month", int(exp_month)), ("exp_year", int(exp_year))):
        if getattr(method, field) != value:
            changes[field] = [str(getattr(method, field)), str(value)]
            setattr(method, field, value)
    if changes:
        method.updated_at = clock.now()
        method.save(update_fields=[*changes, "updated_at"])
        _record(method=method, action=PaymentMethodAction.UPDATED, actor=None, changes=changes)
    return method


@transaction.atomic
def payment_method_removed_at_gateway(*, gateway: str, token: str):
    """The card can no longer be charged (detached at the gateway): it is removed, and
    subscriptions and billing profiles that used it as their active card lose it (their
    next automatic charge finds no card; the customer adds another)."""
    method = _card_of(gateway, token)
    if method is None or method.removed_at is not None:
        return method
    detached = list(Subscription.objects.select_for_update().filter(payment_method=method).order_by("name", "pk"))
    Subscription.objects.filter(pk__in=[s.pk for s in detached]).update(payment_method=None)
    BillingProfile.objects.filter(payment_method=method).update(payment_method=None)
    method.removed_at = clock.now()
    method.save(update_fields=["removed_at"])
    _record(method=method, action=PaymentMethodAction.REMOVED, actor=None, subscriptions=detached)
    return method
