"""Writes of the payments app for cards (PM-1..PM-6): add through the gateway's page,
make active, update, remove.

Every function takes keyword arguments, runs in one transaction, checks the actor's
right through accounts.permissions and refuses bad input or a wrong state with a
DomainError before writing. Card data never passes through here: only the gateway's
token and card summary.
"""

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts import permissions
from accounts.models import AgreementType, BillingProfile, Subscription, SubscriptionStatus
from billing_portal import clock
from billing_portal.errors import Conflict, InvalidInput, NotAllowed

from ..gateway import GatewayError, get_gateway
from ..models import CardSetup, CardSetupStatus, PaymentMethod, PaymentMethodAction, PaymentMethodEvent
from .card_fields import UPDATABLE_FIELDS, check_expiry, clean_address, clean_holder_name, safe_next_path


class PaymentMethodInUse(Conflict):
    """PM-6: the card is linked to active subscriptions (or is a profile's active card)."""

    default_code = "payment_method_in_use"

    def __init__(self, message, *, subscriptions=(), profiles=()):
        self.subscriptions = list(subscriptions)
        self.profiles = list(profiles)
        names = [f"{s.name} ({s.subscription_id})" for s in self.subscriptions] + [p.name for p in self.profiles]
        super().__init__(message, fields={"subscriptions": names} if names else {})


def _require_manager(actor, profile: BillingProfile) -> None:
    if not permissions.can_manage_payment_methods(actor, profile):
        raise NotAllowed(
            _("Only the account administrator who signed up may change payment methods."),
            code="not_allowed",
        )


def _subscription_ref(subscription: Subscription) -> dict:
    return {"subscription_id": str(subscription.subscription_id), "name": subscription.name}


def _record(*, method: PaymentMethod, action: str, actor, subscriptions=(), changes=None) -> PaymentMethodEvent:
    return PaymentMethodEvent.objects.create(
        profile_id=method.profile_id,
        payment_method=method,
        action=action,
        actor=actor,
        at=clock.now(),
        card=str(method)[:80],
        subscriptions=[_subscription_ref(s) for s in subscriptions],
        changes=changes or {},
    )


def _refuse_removed(method: PaymentMethod) -> None:
    if method.removed_at is not None:
        raise InvalidInput(_("This card was removed."), code="removed")


def _refuse_cancelled(subscription: Subscription) -> None:
    if subscription.status == SubscriptionStatus.CANCELLED:
        raise InvalidInput(_("A cancelled subscription cannot get a new active card."), code="subscription_cancelled")


# --- Adding a card through the gateway's page (PM-1, PM-4) ------------------------------------


def refuse_activation_when_paying_by_invoice(profile: BillingProfile) -> None:
    """PBI-5: once a scope pays by invoice, no card becomes its active payment method
    again, through any door (card setup, make active, page, API). A card may still be
    added to pay an earlier card invoice through Pay now."""
    if permissions.pays_by_invoice(profile):
        raise Conflict(
            _(
                "This billing scope pays by invoice, and that cannot be switched back to card. "
                "You can add a card to pay an earlier card invoice, but not make it the active payment method."
            ),
            code="pays_by_invoice_for_good",
            fields={"make_active": [_("Not possible: the billing scope pays by invoice.")]},
        )


def _check_setup_choices(*, profile: BillingProfile, subscription: Subscription | None, make_active: bool) -> None:
    if make_active:
        refuse_activation_when_paying_by_invoice(profile)
    if subscription is not None and subscription.profile_id != profile.pk:
        raise InvalidInput(_("The subscription does not belong to this billing scope."))
    if profile.account.agreement_type == AgreementType.WEB_DIRECT and make_active and subscription is None:
        raise InvalidInput(
            _("Choose the subscription whose card the new card replaces."),
            code="subscription_required",
            fields={"subscription_id": [_("Required when the card is made active.")]},
        )
    if subscription is not None and make_active:
        _refuse_cancelled(subscription)


@transaction.atomic
def card_setup_start(
    *,
    actor,
    profile: BillingProfile,
    subscription: Subscription | None = None,
    make_active: bool = False,
    address: dict | None = None,
    next_path: str = "",
) -> tuple[CardSetup, str]:
    """Start adding a card: remembers the choices and opens a card-entry session on the
    gateway's page. Returns the setup and the gateway URL to send the customer to."""
    _require_manager(actor, profile)
    _check_setup_choices(profile=profile, subscription=subscription, make_active=make_active)
    clean = clean_address(address or {})
    gateway = get_gateway()
    setup = CardSetup(
        account=profile.account,
        profile=profile,
        subscription=subscription,
        make_active=bool(make_active),
        next_path=safe_next_path(next_path),
        gateway=gateway.name,
        created_by=actor,
        **clean,
    )
    session = gateway.create_card_session(
        return_url=reverse("payments:card_setup_return", args=[setup.pk]), reference=str(setup.pk)
    )
    setup.gateway_session_id = session.id
    setup.save()
    return setup, session.url


def _finish_setup(setup: CardSetup, status: str, *fields: str) -> CardSetup:
    setup.status = status
    setup.save(update_fields=["status", *fields, "finished_at"])
    return setup


def _add_card(setup: CardSetup, card, actor) -> PaymentMethod:
    if PaymentMethod.objects.filter(token=card.token).exists():
        raise Conflict(_("This card was already added."), code="duplicate_token")
    now = clock.now()
    method = PaymentMethod.objects.create(
        account=setup.profile.account,
        profile=setup.profile,
        gateway=setup.gateway,
        token=card.token,
        brand=card.brand,
        last4=card.last4,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
        holder_name=card.holder_name,
        address_line1=setup.address_line1,
        postal_code=setup.postal_code,
        city=setup.city,
        country=setup.country,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    _record(
        method=method,
        action=PaymentMethodAction.ADDED,
        actor=actor,
        subscriptions=[setup.subscription] if setup.subscription else [],
    )
    return method


@transaction.atomic
def card_setup_complete(*, setup: CardSetup, actor) -> CardSetup:
    """Exchange the finished card-entry session for a token and add the card.

    Idempotent: a setup that is already finished is returned as it is. A declined
    card leaves the setup ``declined`` with the gateway's code (shown with the PM-7
    guidance); an accepted one adds the card and, if asked, makes it active (PM-4).
    """
    setup = (
        CardSetup.objects.select_for_update(of=("self",))
        .select_related("profile__account", "subscription")
        .get(pk=setup.pk)
    )
    if setup.status != CardSetupStatus.OPEN:
        return setup
    _require_manager(actor, setup.profile)
    try:
        result = get_gateway(setup.gateway).card_session_result(setup.gateway_session_id)
    except GatewayError:
        raise InvalidInput(_("The card-entry session is not known to the gateway."), code="unknown_session")
    if result.status == "open":
        raise InvalidInput(_("The card details have not been entered yet."), code="card_entry_unfinished")
    setup.finished_at = clock.now()
    if result.status == "declined":
        setup.decline_code = result.decline_code
        return _finish_setup(setup, CardSetupStatus.DECLINED, "decline_code")
    if result.status != "completed" or result.card is None:
        return _finish_setup(setup, CardSetupStatus.CANCELLED)
    method = _add_card(setup, result.card, actor)
    if setup.make_active:
        _activate(method=method, actor=actor, subscription=setup.subscription)
    setup.payment_method = method
    return _finish_setup(setup, CardSetupStatus.COMPLETED, "payment_method")


# --- Make active (PM-4) ----------------------------------------------------------------------------


def _subscriptions_to_switch(method: PaymentMethod, subscription: Subscription) -> list[Subscription]:
    """PM-4: the selected subscription and every subscription that used the same card."""
    old_id = subscription.payment_method_id
    targets = [subscription]
    if old_id is not None and old_id != method.pk:
        targets += list(
            Subscription.objects.select_for_update()
            .filter(profile_id=method.profile_id, payment_method_id=old_id)
            .exclude(status=SubscriptionStatus.CANCELLED)
            .exclude(pk=subscription.pk)
            .order_by("name", "pk")
        )
    return [s for s in targets if s.payment_method_id != method.pk]


def _activate_for_subscription(*, method: PaymentMethod, actor, subscription: Subscription | None) -> list:
    if subscription is None:
        raise InvalidInput(
            _("Choose the subscription to make this card active for."),
            code="subscription_required",
            fields={"subscription_id": [_("Required.")]},
        )
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    if subscription.profile_id != method.profile_id:
        raise InvalidInput(_("The subscription does not belong to this billing scope."))
    _refuse_cancelled(subscription)
    targets = _subscriptions_to_switch(method, subscription)
    if not targets:
        return []
    Subscription.objects.filter(pk__in=[s.pk for s in targets]).update(payment_method=method)
    for s in targets:
        s.payment_method = method
    _record(method=method, action=PaymentMethodAction.ACTIVATED, actor=actor, subscriptions=targets)
    return targets


def _activate(*, method: PaymentMethod, actor, subscription: Subscription | None) -> list[Subscription]:
    refuse_activation_when_paying_by_invoice(method.profile)
    if method.profile.account.agreement_type == AgreementType.WEB_DIRECT:
        return _activate_for_subscription(method=method, actor=actor, subscription=subscription)
    profile = BillingProfile.objects.select_for_update().get(pk=method.profile_id)
    if profile.payment_method_id != method.pk:
        BillingProfile.objects.filter(pk=profile.pk).update(payment_method=method)
        _record(method=method, action=PaymentMethodAction.ACTIVATED, actor=actor)
    return []


@transaction.atomic
def payment_method_activate(*, payment_method: PaymentMethod, actor, subscription: Subscription | None = None) -> list:
    """Make a card active: for a web-direct subscription and every subscription that used
    the same card (PM-4); for a customer-agreement billing profile (PM-2)."""
    _require_manager(actor, payment_method.profile)
    method = (
        PaymentMethod.objects.select_for_update(of=("self",))
        .select_related("profile__account")
        .get(pk=payment_method.pk)
    )
    _refuse_removed(method)
    if method.is_expired:
        raise InvalidInput(_("This card has expired. Update its expiry date or add another card."), code="expired_card")
    return _activate(method=method, actor=actor, subscription=subscription)


# --- Update (PM-5) -------------------------------------------------------------------------------


def _new_values(method: PaymentMethod, data: dict) -> dict:
    values = clean_address(data)
    if "holder_name" in data:
        values["holder_name"] = clean_holder_name(data["holder_name"])
    if "exp_month" in data or "exp_year" in data:
        month, year = check_expiry(data.get("exp_month", method.exp_month), data.get("exp_year", method.exp_year))
        values["exp_month"], values["exp_year"] = month, year
    return values


@transaction.atomic
def payment_method_update(*, payment_method: PaymentMethod, actor, data: dict) -> PaymentMethod:
    """Change holder name, expiry and billing address of a card (PM-5)."""
    _require_manager(actor, payment_method.profile)
    unknown = set(data) - set(UPDATABLE_FIELDS)
    if unknown:
        raise InvalidInput(_("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    method = PaymentMethod.objects.select_for_update().get(pk=payment_method.pk)
    _refuse_removed(method)
    changes = {}
    for field, value in _new_values(method, data).items():
        old = getattr(method, field)
        old = str(old) if old is not None else ""
        if old != str(value):
            changes[field] = [old, str(value)]
            setattr(method, field, value)
    if changes:
        method.updated_at = clock.now()
        method.save(update_fields=[*changes, "updated_at"])
        _record(method=method, action=PaymentMethodAction.UPDATED, actor=actor, changes=changes)
    return method


# --- Remove (PM-1, PM-6) ---------------------------------------------------------------------------


def payment_method_blockers(method: PaymentMethod) -> tuple[list[Subscription], list[BillingProfile]]:
    """What keeps a card from being removed: active subscriptions and billing profiles
    that use it as their active payment method."""
    subscriptions = list(
        Subscription.objects.filter(payment_method=method, status=SubscriptionStatus.ACTIVE).order_by("name", "pk")
    )
    profiles = list(BillingProfile.objects.filter(payment_method=method).order_by("name", "pk"))
    return subscriptions, profiles


def _refuse_in_use(method: PaymentMethod) -> None:
    subscriptions, profiles = payment_method_blockers(method)
    if subscriptions:
        raise PaymentMethodInUse(
            _(
                "This card is the active payment method of active subscriptions. Make another card active for them "
                "(or cancel them) before removing it: %(names)s"
            )
            % {"names": ", ".join(s.name for s in subscriptions)},
            subscriptions=subscriptions,
        )
    if profiles:
        raise PaymentMethodInUse(
            _(
                "This card is the active payment method of the billing profile %(names)s. Make another card active "
                "before removing it."
            )
            % {"names": ", ".join(p.name for p in profiles)},
            profiles=profiles,
        )


@transaction.atomic
def payment_method_remove(*, payment_method: PaymentMethod, actor) -> PaymentMethod:
    """Remove a card that is not in use (PM-1). A card linked to active subscriptions (or
    the active card of a billing profile) is refused, naming them (PM-6)."""
    _require_manager(actor, payment_method.profile)
    method = PaymentMethod.objects.select_for_update().get(pk=payment_method.pk)
    if method.removed_at is not None:
        return method
    _refuse_in_use(method)
    detached = list(Subscription.objects.filter(payment_method=method).order_by("name", "pk"))
    Subscription.objects.filter(pk__in=[s.pk for s in detached]).update(payment_method=None)
    method.removed_at = clock.now()
    method.save(update_fields=["removed_at"])
    _record(method=method, action=PaymentMethodAction.REMOVED, actor=actor, subscriptions=detached)
    return method
