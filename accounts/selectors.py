"""Reads that serve requests. Each takes the user and returns only what they may see.

An object the user may not see is reported exactly like one that does not exist
(``Http404``): another tenant's ids leak nothing.
"""

import uuid

from django.db.models import QuerySet
from django.http import Http404

from . import permissions
from .models import BillingAccount, BillingProfile, Subscription
from .roles import Role


def _account_ids(user) -> set[int]:
    return {g.account_id for g in permissions.grants(user)}


def accounts_for_user(user) -> QuerySet[BillingAccount]:
    return BillingAccount.objects.filter(pk__in=_account_ids(user)).order_by("name", "pk")


def profiles_for_user(user) -> QuerySet[BillingProfile]:
    return (
        BillingProfile.objects.filter(permissions.can_view_invoices_filter(user, profile_field="pk"))
        .select_related("account")
        .order_by("account__name", "name", "pk")
    )


def profiles_where(user, predicate) -> list[BillingProfile]:
    """The visible profiles for which ``predicate(user, profile)`` holds."""
    return [profile for profile in profiles_for_user(user) if predicate(user, profile)]


def subscriptions_for_user(user) -> QuerySet[Subscription]:
    return (
        Subscription.objects.filter(permissions.can_view_invoices_filter(user))
        .select_related("account", "profile", "profile__account")
        .order_by("account__name", "name", "pk")
    )


def first_subscription(scope: BillingAccount | BillingProfile) -> Subscription | None:
    """The first subscription (by name) of a billing account or of a billing profile: the
    one a web-direct page opens for "Subscription › Payment methods". Not filtered by
    user: the caller has already checked that the scope is visible."""
    return scope.subscriptions.order_by("name", "pk").first()


def get_account_for_user(user, pk) -> BillingAccount:
    try:
        account = BillingAccount.objects.get(pk=pk)
    except (BillingAccount.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not permissions.can_view_account(user, account):
        raise Http404
    return account


def get_profile_for_user(user, pk) -> BillingProfile:
    try:
        profile = BillingProfile.objects.select_related("account").get(pk=pk)
    except (BillingProfile.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not permissions.can_view_profile(user, profile):
        raise Http404
    return profile


def get_subscription_for_user(user, subscription_id) -> Subscription:
    try:
        key = uuid.UUID(str(subscription_id))
        subscription = (
            Subscription.objects.select_related("account", "profile", "profile__account", "payment_method")
            .prefetch_related("marketplace_services")
            .get(subscription_id=key)
        )
    except (Subscription.DoesNotExist, ValueError):
        raise Http404 from None
    if not permissions.can_view_subscription(user, subscription):
        raise Http404
    return subscription


def account_overview(user) -> list[dict]:
    """The overview page: each billing account with its agreement type, the user's roles
    in it (account-level and profile-level) and whether they see its members."""
    labels = dict(Role.choices)
    rows = []
    for account in accounts_for_user(user):
        roles = sorted({labels[r] for r in permissions.all_account_roles(user, account)}, key=str)
        rows.append({"account": account, "roles": roles, "members": permissions.can_view_members(user, account)})
    return rows
