"""Reads of the payments app. Each takes the user and returns only what they may see;
unknown or other-tenant ids raise Http404."""

import uuid

from django.db.models import Count, F, Prefetch, Q, Window
from django.db.models.functions import Coalesce, RowNumber
from django.http import Http404

from accounts import permissions
from accounts import selectors as account_selectors
from accounts.models import AgreementType, Subscription, SubscriptionStatus

from .models import CardSetup, Payment, PaymentKind, PaymentMethod, PaymentMethodEvent, PaymentStatus, Refund


def payment_scopes_for_user(user) -> list[dict]:
    """The payments index: every scope whose payment methods the user may see.

    Web direct: one row per subscription (the path is Subscription, Payment methods).
    Customer agreement: one row per billing profile (PM-2).
    """
    profiles = [
        p
        for p in account_selectors.profiles_for_user(user).select_related("payment_method")
        if p.account.agreement_type != AgreementType.ENTERPRISE and permissions.can_view_payment_methods(user, p)
    ]
    web_direct_ids = [p.pk for p in profiles if p.account.agreement_type == AgreementType.WEB_DIRECT]
    subscriptions: dict[int, list] = {}
    if web_direct_ids:
        for subscription in (
            Subscription.objects.filter(profile_id__in=web_direct_ids)
            .select_related("payment_method")
            .order_by("name", "pk")
        ):
            subscriptions.setdefault(subscription.profile_id, []).append(subscription)
    rows = []
    for profile in profiles:
        rows.append(
            {
                "account": profile.account,
                "profile": profile,
                "is_web_direct": profile.account.agreement_type == AgreementType.WEB_DIRECT,
                "pays_by_invoice": permissions.pays_by_invoice(profile),
                "subscriptions": subscriptions.get(profile.pk, []),
            }
        )
    return rows


def _active_for_subscriptions() -> Prefetch:
    """The subscriptions (not cancelled) each card is active for, by name."""
    return Prefetch(
        "active_for_subscriptions",
        queryset=Subscription.objects.exclude(status=SubscriptionStatus.CANCELLED).order_by("name", "pk"),
    )


def methods_for_profile(profile):
    """Cards of a scope that are not removed, with the subscriptions and profiles that
    use each one (constant number of queries)."""
    return (
        PaymentMethod.objects.filter(profile=profile, removed_at__isnull=True)
        .prefetch_related(_active_for_subscriptions())
        .order_by("-created_at", "-pk")
    )


def events_for_profile(profile, limit: int = 50):
    return PaymentMethodEvent.objects.filter(profile=profile).select_related("actor").order_by("-at", "-pk")[:limit]


def methods_for_user(user):
    """Every card the user may see (API list)."""
    profile_ids = [
        p.pk for p in account_selectors.profiles_for_user(user) if permissions.can_view_payment_methods(user, p)
    ]
    return (
        PaymentMethod.objects.filter(profile_id__in=profile_ids, removed_at__isnull=True)
        .select_related("profile", "profile__account")
        .prefetch_related(_active_for_subscriptions())
        .order_by("profile_id", "-created_at", "-pk")
    )


def get_method_for_user(user, pk) -> PaymentMethod:
    """A card the user may see. Visible scope but no right to see cards: Http404 too,
    because the card itself is the object and the role does not reach it."""
    try:
        method = PaymentMethod.objects.select_related("profile", "profile__account", "account").get(
            pk=pk, removed_at__isnull=True
        )
    except (PaymentMethod.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not permissions.can_view_profile(user, method.profile):
        raise Http404
    return method


def get_setup_for_user(user, setup_id) -> CardSetup:
    try:
        key = uuid.UUID(str(setup_id))
        setup = CardSetup.objects.select_related("profile", "profile__account", "subscription").get(pk=key)
    except (CardSetup.DoesNotExist, ValueError):
        raise Http404 from None
    if setup.created_by_id != user.pk or not permissions.can_view_profile(user, setup.profile):
        raise Http404
    return setup


def payable_methods(profile) -> list[PaymentMethod]:
    """Cards of a scope that can pay now (not removed, not expired)."""
    return [
        m
        for m in PaymentMethod.objects.filter(profile=profile, removed_at__isnull=True).order_by("-created_at", "-pk")
        if not m.is_expired
    ]


def subscriptions_of_scope(profile) -> list[Subscription]:
    """The subscriptions of a web-direct scope that can get a new active card (not
    cancelled), by name, with their active card."""
    return list(
        Subscription.objects.filter(profile=profile)
        .exclude(status=SubscriptionStatus.CANCELLED)
        .select_related("payment_method")
        .order_by("name", "pk")
    )


def card_of_scope(profile, pk) -> PaymentMethod | None:
    """A card of the scope that is not removed, or None (the pay service refuses None)."""
    return PaymentMethod.objects.filter(pk=pk, profile=profile, removed_at__isnull=True).first()


def payment_awaiting_action(invoice) -> Payment | None:
    """The invoice's pending card payment that waits for the customer to authenticate it
    with their bank (3-D Secure)."""
    return (
        Payment.objects.filter(invoice=invoice, status=PaymentStatus.PENDING, kind=PaymentKind.CARD)
        .exclude(action_url="")
        .first()
    )


def get_card_payment_of_invoice(invoice, payment_id) -> Payment:
    """A card payment of an invoice the caller may already see (404 otherwise)."""
    try:
        return Payment.objects.select_related("invoice", "payment_method").get(
            pk=int(payment_id), invoice=invoice, kind=PaymentKind.CARD
        )
    except (Payment.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def payments_for_invoice(invoice):
    return Payment.objects.filter(invoice=invoice).select_related("initiated_by").order_by("-created_at", "-pk")


def get_payment_for_user(user, pk):
    """A payment of an invoice the user may see (can_view_invoices)."""
    try:
        payment = Payment.objects.select_related("invoice", "profile", "profile__account").get(pk=pk)
    except (Payment.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not permissions.can_view_invoices(user, payment.profile):
        raise Http404
    return payment


def get_payment_to_refund(user, pk):
    """The payment a refund is asked for: any payment for support staff (who hold no
    customer role), otherwise one the user may see (another tenant's is a 404); the
    refund service then refuses customer roles (403)."""
    if not permissions.can_refund_payments(user):
        return get_payment_for_user(user, pk)
    try:
        return Payment.objects.select_related("invoice", "profile", "profile__account").get(pk=pk)
    except (Payment.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def refunds_for_payment(payment):
    return Refund.objects.filter(payment=payment).select_related("credit_note").order_by("-created_at", "-pk")


def refunds_for_invoice(invoice):
    """The refunds of an invoice's payments, newest first (for a payment history)."""
    return Refund.objects.filter(invoice=invoice).select_related("credit_note").order_by("-created_at", "-pk")


def refunds_for_user(user):
    """Every refund of the invoices the user may see, newest first (for a payment history)."""
    return (
        Refund.objects.filter(permissions.can_view_invoices_filter(user))
        .select_related("invoice", "payment", "credit_note")
        .order_by("-created_at", "-pk")
    )


def get_refund_for_user(user, pk) -> Refund:
    """A refund of a payment of an invoice the user may see (can_view_invoices)."""
    try:
        refund = Refund.objects.select_related("payment", "invoice", "profile", "profile__account", "credit_note").get(
            pk=pk
        )
    except (Refund.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not permissions.can_view_invoices(user, refund.profile):
        raise Http404
    return refund


# --- The overview: each scope's last payment and active card ---------------------------------


def last_payments(profile_ids: list[int]) -> dict[int, Payment]:
    """The newest succeeded payment (card or bank transfer) of each billing profile: one
    query whatever the number of profiles and payments. The caller chose profiles whose
    invoices the user may see (can_view_invoices, the payment history's rule)."""
    if not profile_ids:
        return {}
    # The payment history's order (payments.history): when it was settled, else made.
    newest_first = [Coalesce("settled_at", "created_at").desc(), F("pk").desc()]
    return {
        payment.profile_id: payment
        for payment in Payment.objects.filter(profile_id__in=profile_ids, status=PaymentStatus.SUCCEEDED)
        .annotate(place=Window(RowNumber(), partition_by=[F("profile_id")], order_by=newest_first))
        .filter(place=1)
    }


def active_cards(profiles) -> dict[int, PaymentMethod | None]:
    """The card that pays each scope's invoices automatically, as
    ``services.scope_active_card`` answers for one scope (a test holds them to the same
    answer): a customer-agreement profile's active card; for web direct the card active
    on the most active subscriptions (newest on a tie); none for a scope that pays by
    invoice (PBI-5) or an enrollment. One query whatever the number of scopes."""
    with_cards = [p for p in profiles if not permissions.pays_by_invoice(p)]
    found: dict[int, PaymentMethod | None] = {p.pk: None for p in profiles}
    if not with_cards:
        return found
    cards = PaymentMethod.objects.filter(profile_id__in=[p.pk for p in with_cards], removed_at__isnull=True).annotate(
        subscriptions=Count(
            "active_for_subscriptions", filter=Q(active_for_subscriptions__status=SubscriptionStatus.ACTIVE)
        )
    )
    by_profile: dict[int, list[PaymentMethod]] = {}
    for card in cards:
        by_profile.setdefault(card.profile_id, []).append(card)
    for profile in with_cards:
        candidates = by_profile.get(profile.pk, [])
        if profile.account.agreement_type == AgreementType.CUSTOMER_AGREEMENT:
            found[profile.pk] = next((c for c in candidates if c.pk == profile.payment_method_id), None)
            continue
        used = [c for c in candidates if c.subscriptions > 0]
        found[profile.pk] = max(used, key=lambda c: (c.subscriptions, c.created_at, c.pk), default=None)
    return found


def first_subscriptions(profile_ids: list[int]) -> dict[int, uuid.UUID]:
    """The first subscription (by name) of each web-direct scope that is not cancelled:
    the one whose payment-methods page adds a scope's first card. One query."""
    if not profile_ids:
        return {}
    first = (
        Subscription.objects.filter(profile_id__in=profile_ids)
        .exclude(status=SubscriptionStatus.CANCELLED)
        .annotate(place=Window(RowNumber(), partition_by=[F("profile_id")], order_by=[F("name").asc(), F("pk").asc()]))
        .filter(place=1)
    )
    return dict(first.values_list("profile_id", "subscription_id"))
