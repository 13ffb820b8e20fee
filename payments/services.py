"""Writes of the payments app: cards (PM-1..PM-6) and, further down, payments.

Every function takes keyword arguments, runs in one transaction, checks the actor's
right through accounts.permissions and refuses bad input or a wrong state with a
DomainError before writing. Card data never passes through here: only the gateway's
token and card summary.
"""

import datetime as _dt
import logging
import uuid
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts import permissions
from accounts.models import AgreementType, BillingProfile, Subscription, SubscriptionStatus
from billing_portal import clock, queue
from billing_portal.errors import Conflict, DomainError, InvalidInput, NotAllowed
from billing_portal.money import format_money
from notifications.services import notification_queue, unique_recipients

from . import declines
from .card_data import CARD_NUMBER_REFUSED, contains_card_number
from .gateway import GatewayError, GatewayTimeout, get_gateway
from .models import (
    CardSetup,
    CardSetupStatus,
    Payment,
    PaymentKind,
    PaymentMethod,
    PaymentMethodAction,
    PaymentMethodEvent,
    PaymentSource,
    PaymentStatus,
)

logger = logging.getLogger(__name__)

ADDRESS_FIELDS = ("address_line1", "postal_code", "city", "country")
UPDATABLE_FIELDS = ("holder_name", "exp_month", "exp_year", *ADDRESS_FIELDS)


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


def _check_expiry(month, year) -> tuple[int, int]:
    try:
        month, year = int(month), int(year)
    except (TypeError, ValueError):
        raise InvalidInput(_("Enter the expiry date as month (1-12) and year."), fields={"exp_month": [_("Invalid.")]})
    if year < 100:
        year += 2000
    errors = {}
    if not 1 <= month <= 12:
        errors["exp_month"] = [_("Enter a month from 1 to 12.")]
    today = clock.today()
    if not today.year <= year <= today.year + 20:
        errors["exp_year"] = [_("Enter a year from this year up to 20 years ahead.")]
    elif 1 <= month <= 12 and (year, month) < (today.year, today.month):
        errors["exp_month"] = [_("This expiry date is in the past.")]
    if errors:
        raise InvalidInput(_("The expiry date is not valid."), code="invalid_expiry", fields=errors)
    return month, year


def _clean_address(data: dict) -> dict:
    out = {}
    limits = {"address_line1": 200, "postal_code": 20, "city": 100, "country": 2}
    for field in ADDRESS_FIELDS:
        if field in data:
            value = (data.get(field) or "").strip()
            if len(value) > limits[field]:
                raise InvalidInput(_("%(field)s is too long.") % {"field": field}, fields={field: [_("Too long.")]})
            if contains_card_number(value):
                raise InvalidInput(
                    str(CARD_NUMBER_REFUSED), code="card_number_refused", fields={field: [str(CARD_NUMBER_REFUSED)]}
                )
            out[field] = value.upper() if field == "country" else value
    if out.get("country"):
        from django_countries import countries

        if out["country"] not in dict(countries):
            raise InvalidInput(_("Unknown country."), fields={"country": [_("Unknown country.")]})
    return out


def _safe_next_path(path: str) -> str:
    if path and path.startswith("/") and not path.startswith("//") and "\\" not in path and len(path) <= 300:
        return path
    return ""


# --- Adding a card through the gateway's page (PM-1, PM-4) ------------------------------------


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
    if subscription is not None and subscription.profile_id != profile.pk:
        raise InvalidInput(_("The subscription does not belong to this billing scope."))
    if profile.account.agreement_type == AgreementType.WEB_DIRECT and make_active and subscription is None:
        raise InvalidInput(
            _("Choose the subscription whose card the new card replaces."),
            code="subscription_required",
            fields={"subscription_id": [_("Required when the card is made active.")]},
        )
    if subscription is not None and subscription.status == SubscriptionStatus.CANCELLED and make_active:
        raise InvalidInput(_("A cancelled subscription cannot get a new active card."), code="subscription_cancelled")
    clean = _clean_address(address or {})
    gateway = get_gateway()
    setup = CardSetup(
        account=profile.account,
        profile=profile,
        subscription=subscription,
        make_active=bool(make_active),
        next_path=_safe_next_path(next_path),
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
        setup.status = CardSetupStatus.DECLINED
        setup.decline_code = result.decline_code
        setup.save(update_fields=["status", "decline_code", "finished_at"])
        return setup
    if result.status != "completed" or result.card is None:
        setup.status = CardSetupStatus.CANCELLED
        setup.save(update_fields=["status", "finished_at"])
        return setup
    card = result.card
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
    if setup.make_active:
        _activate(method=method, actor=actor, subscription=setup.subscription)
    setup.status = CardSetupStatus.COMPLETED
    setup.payment_method = method
    setup.save(update_fields=["status", "payment_method", "finished_at"])
    return setup


def decline_message(setup: CardSetup) -> str:
    return declines.explain(setup.decline_code)


# --- Make active (PM-4) ----------------------------------------------------------------------------


def _activate(*, method: PaymentMethod, actor, subscription: Subscription | None) -> list[Subscription]:
    account = method.profile.account
    if account.agreement_type == AgreementType.WEB_DIRECT:
        if subscription is None:
            raise InvalidInput(
                _("Choose the subscription to make this card active for."),
                code="subscription_required",
                fields={"subscription_id": [_("Required.")]},
            )
        subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
        if subscription.profile_id != method.profile_id:
            raise InvalidInput(_("The subscription does not belong to this billing scope."))
        if subscription.status == SubscriptionStatus.CANCELLED:
            raise InvalidInput(
                _("A cancelled subscription cannot get a new active card."), code="subscription_cancelled"
            )
        old_id = subscription.payment_method_id
        targets = [subscription]
        if old_id is not None and old_id != method.pk:
            # PM-4: every subscription that used the same card as the selected one.
            targets += list(
                Subscription.objects.select_for_update()
                .filter(profile_id=method.profile_id, payment_method_id=old_id)
                .exclude(status=SubscriptionStatus.CANCELLED)
                .exclude(pk=subscription.pk)
                .order_by("name", "pk")
            )
        targets = [s for s in targets if s.payment_method_id != method.pk]
        if not targets:
            return []
        Subscription.objects.filter(pk__in=[s.pk for s in targets]).update(payment_method=method)
        for s in targets:
            s.payment_method = method
        _record(method=method, action=PaymentMethodAction.ACTIVATED, actor=actor, subscriptions=targets)
        return targets
    profile = BillingProfile.objects.select_for_update().get(pk=method.profile_id)
    if profile.payment_method_id == method.pk:
        return []
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
    if method.removed_at is not None:
        raise InvalidInput(_("This card was removed."), code="removed")
    if (method.exp_year, method.exp_month) < (clock.today().year, clock.today().month):
        raise InvalidInput(_("This card has expired. Update its expiry date or add another card."), code="expired_card")
    return _activate(method=method, actor=actor, subscription=subscription)


# --- Update (PM-5) -------------------------------------------------------------------------------


@transaction.atomic
def payment_method_update(*, payment_method: PaymentMethod, actor, data: dict) -> PaymentMethod:
    """Change holder name, expiry and billing address of a card (PM-5)."""
    _require_manager(actor, payment_method.profile)
    unknown = set(data) - set(UPDATABLE_FIELDS)
    if unknown:
        raise InvalidInput(_("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    method = PaymentMethod.objects.select_for_update().get(pk=payment_method.pk)
    if method.removed_at is not None:
        raise InvalidInput(_("This card was removed."), code="removed")
    values = _clean_address(data)
    if "holder_name" in data:
        holder = " ".join(str(data["holder_name"] or "").split())
        if not holder or len(holder) > 150:
            raise InvalidInput(
                _("Enter the name on the card (at most 150 characters)."),
                fields={"holder_name": [_("Enter the name on the card (at most 150 characters).")]},
            )
        if contains_card_number(holder):
            raise InvalidInput(
                str(CARD_NUMBER_REFUSED), code="card_number_refused", fields={"holder_name": [str(CARD_NUMBER_REFUSED)]}
            )
        values["holder_name"] = holder
    if "exp_month" in data or "exp_year" in data:
        month, year = _check_expiry(data.get("exp_month", method.exp_month), data.get("exp_year", method.exp_year))
        values["exp_month"], values["exp_year"] = month, year
    changes = {}
    for field, value in values.items():
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


@transaction.atomic
def payment_method_remove(*, payment_method: PaymentMethod, actor) -> PaymentMethod:
    """Remove a card that is not in use (PM-1). A card linked to active subscriptions (or
    the active card of a billing profile) is refused, naming them (PM-6)."""
    _require_manager(actor, payment_method.profile)
    method = PaymentMethod.objects.select_for_update().get(pk=payment_method.pk)
    if method.removed_at is not None:
        return method
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
    detached = list(Subscription.objects.filter(payment_method=method).order_by("name", "pk"))
    Subscription.objects.filter(pk__in=[s.pk for s in detached]).update(payment_method=None)
    method.removed_at = clock.now()
    method.save(update_fields=["removed_at"])
    _record(method=method, action=PaymentMethodAction.REMOVED, actor=actor, subscriptions=detached)
    return method


__all__ = [
    "card_setup_start",
    "card_setup_complete",
    "payment_method_activate",
    "payment_method_update",
    "payment_method_remove",
    "payment_method_blockers",
    "PaymentMethodInUse",
]


# =====================================================================================
# Paying invoices (PAY-1..PAY-4), automatic charges, dunning, bank transfers
# =====================================================================================
#
# A card payment is three steps, because the gateway call must not run inside a
# database transaction (it may take seconds, and a lock held that long would stall
# every other request on the invoice):
#   1. ``payment_start``  (one transaction): lock the invoice row, check it can be paid,
#      insert a pending Payment. The unique constraint "one pending or succeeded card
#      charge per invoice" and the row lock make concurrent attempts fail here.
#   2. the gateway charge, with the payment's own idempotency key;
#   3. ``payment_settle`` (one transaction): record the outcome; on success add the
#      amount to the invoice (invoices.services.invoice_record_payment) and queue the
#      receipt; on a decline queue the payment-failed e-mail with the PM-7 guidance.
# A timeout leaves the payment pending; ``payment_reconcile`` settles it later from the
# gateway's record (``get_charge`` by the same key), never charging again.


# Dunning: after a declined automatic charge, the active card is charged again this many
# days after the first decline; then the customer pays by hand.
RETRY_SCHEDULE_DAYS = (1, 3, 7)
# Automatic charges are for invoices issued recently; older ones are paid by hand.
AUTO_CHARGE_WINDOW_DAYS = 7
# A pending payment is looked up at the gateway after this long, and declared not
# processed when the gateway has no record of it after RECONCILE_GIVE_UP.
RECONCILE_AFTER = _dt.timedelta(minutes=2)
RECONCILE_GIVE_UP = _dt.timedelta(minutes=15)
# The failure code of a payment given up that way. Should its charge still arrive (a
# stalled process charging late), the payment is flagged ``needs_refund``.
NOT_PROCESSED = "not_processed"


def _invoices():
    from invoices import models as invoice_models
    from invoices import services as invoice_services

    return invoice_models, invoice_services


def scope_active_card(profile) -> PaymentMethod | None:
    """The card that pays a scope's invoices: a customer-agreement profile's active card;
    for web direct, the card active on the most active subscriptions (newest on a tie)."""
    if profile.account.agreement_type == AgreementType.CUSTOMER_AGREEMENT:
        method = profile.payment_method
        return method if method is not None and method.removed_at is None else None
    return (
        PaymentMethod.objects.filter(profile=profile, removed_at__isnull=True)
        .annotate(
            n=Count("active_for_subscriptions", filter=Q(active_for_subscriptions__status=SubscriptionStatus.ACTIVE))
        )
        .filter(n__gt=0)
        .order_by("-n", "-created_at", "-pk")
        .first()
    )


def _payable_check(invoice) -> None:
    invoice_models, _svc = _invoices()
    if invoice.status == invoice_models.InvoiceStatus.PAID:
        raise Conflict(_("This invoice has already been paid."), code="invoice_paid")
    if invoice.status == invoice_models.InvoiceStatus.VOID:
        raise Conflict(_("This invoice is void and cannot be paid."), code="invoice_void")
    if not invoice.is_payable or invoice.amount_due <= 0:
        raise Conflict(_("Nothing is due on this invoice."), code="nothing_due")


@transaction.atomic
def payment_start(
    *, invoice, payment_method: PaymentMethod, actor=None, source: str, request_key: str | None = None
) -> tuple[Payment, bool]:
    """Step 1: lock the invoice and record a pending card payment of the amount due.
    Returns (payment, created); a repeated ``request_key`` returns the first payment."""
    invoice_models, _svc = _invoices()
    locked = (
        invoice_models.Invoice.objects.select_for_update(of=("self",))
        .select_related("profile__account")
        .get(pk=invoice.pk)
    )
    if request_key:
        existing = Payment.objects.filter(request_key=request_key).first()
        if existing is not None:
            if existing.invoice_id != locked.pk:
                raise Conflict(_("This form was used for another invoice."), code="request_key_reused")
            return existing, False
    if actor is not None and source in (PaymentSource.PAY_NOW, PaymentSource.API):
        if not permissions.can_pay_invoices(actor, locked.profile):
            raise NotAllowed(_("Your role may see this invoice but not pay it."))
    _payable_check(locked)
    if locked.pays_by_bank_transfer:
        raise Conflict(
            _("This invoice is paid by bank transfer. Quote the payment reference %(reference)s.")
            % {"reference": locked.payment_reference},
            code="pays_by_bank_transfer",
        )
    open_payment = Payment.objects.filter(
        invoice=locked, kind=PaymentKind.CARD, status__in=[PaymentStatus.PENDING, PaymentStatus.SUCCEEDED]
    ).first()
    if open_payment is not None:
        if open_payment.status == PaymentStatus.PENDING:
            raise Conflict(
                _("A payment of this invoice is already being processed. Wait a moment and look at the invoice again."),
                code="payment_in_progress",
            )
        raise Conflict(_("This invoice has already been paid."), code="invoice_paid")
    method = PaymentMethod.objects.filter(pk=payment_method.pk).first() if payment_method else None
    if method is None or method.removed_at is not None or method.profile_id != locked.profile_id:
        raise InvalidInput(
            _("Choose one of the cards of this billing account."),
            code="invalid_payment_method",
            fields={"payment_method": [_("Choose one of the cards of this billing account.")]},
        )
    today = clock.today()
    if (method.exp_year, method.exp_month) < (today.year, today.month):
        raise InvalidInput(
            _("This card has expired. Update its expiry date or add another card."),
            code="expired_card",
            fields={"payment_method": [_("This card has expired.")]},
        )
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                invoice=locked,
                account_id=locked.account_id,
                profile_id=locked.profile_id,
                kind=PaymentKind.CARD,
                source=source,
                amount=locked.amount_due,
                currency=locked.currency,
                payment_method=method,
                card=str(method)[:80],
                gateway=method.gateway,
                gateway_key=f"pay_{uuid.uuid4().hex}",
                request_key=request_key or None,
                initiated_by=actor,
                created_at=clock.now(),
            )
    except IntegrityError:
        # Another attempt got in first (the constraint holds even without the lock).
        raise Conflict(
            _("A payment of this invoice is already being processed. Wait a moment and look at the invoice again."),
            code="payment_in_progress",
        )
    return payment, True


def _recipients(payment: Payment) -> list[tuple[str, str]]:
    """Who gets receipts and payment-failed e-mails: whoever paid, else the account's
    sign-up user and billing contact (each once, in their language)."""
    account = payment.account
    candidates = []
    if payment.initiated_by is not None and payment.source in (PaymentSource.PAY_NOW, PaymentSource.API):
        candidates.append((payment.initiated_by.email, payment.initiated_by.language))
    else:
        if account.signed_up_by is not None:
            candidates.append((account.signed_up_by.email, account.signed_up_by.language))
        candidates.append((account.billing_contact_email, account.language))
    return unique_recipients(candidates)


def _notify(payment: Payment, kind: str) -> None:
    _models, invoice_services = _invoices()
    invoice = payment.invoice
    base = {
        "payment_id": payment.pk,
        "invoice_id": invoice.pk,
        "invoice_number": invoice.number,
        "account_name": payment.account.name,
        "amount": str(payment.amount),
        "currency": payment.currency,
        "card": payment.card,
        "kind": payment.kind,
        "reference": payment.reference,
        "failure_code": payment.failure_code,
        "amount_due": str(invoice.amount_due),
        "invoice_status": invoice.status,
        "url": reverse("invoices:detail", args=[invoice.pk]),
    }
    for email, language in _recipients(payment):
        context = dict(
            base,
            amount_display=format_money(payment.amount, payment.currency, language),
            amount_due_display=format_money(invoice.amount_due, payment.currency, language),
        )
        notification_queue(
            kind=kind,
            recipient=email,
            dedupe_key=f"{kind}:{payment.pk}:{email}",
            language=language,
            context=context,
            account=payment.account,
            invoice=invoice,
        )


@transaction.atomic
def payment_settle(*, payment: Payment, status: str, gateway_reference: str = "", failure_code: str = "") -> Payment:
    """Step 3: record the gateway's answer on a pending payment (idempotent)."""
    invoice_models, invoice_services = _invoices()
    locked = (
        Payment.objects.select_for_update(of=("self",))
        .select_related("account__signed_up_by", "initiated_by")
        .get(pk=payment.pk)
    )
    if (
        locked.status == PaymentStatus.FAILED
        and locked.failure_code == NOT_PROCESSED
        and status == PaymentStatus.SUCCEEDED
        and not locked.needs_refund
    ):
        # The reconciler gave up on it (the gateway had no charge), then a stalled
        # process charged after all: the customer was told nothing was charged and may
        # have paid again, so the money goes back (support refunds it).
        locked.needs_refund = True
        locked.gateway_reference = gateway_reference[:64]
        locked.save(update_fields=["needs_refund", "gateway_reference"])
        logger.warning("payment %s was charged after it was given up; flagged for refund", locked.pk)
        return locked
    if locked.status != PaymentStatus.PENDING:
        return locked
    if status not in (PaymentStatus.SUCCEEDED, PaymentStatus.FAILED):
        raise InvalidInput("unknown payment status")
    locked.status = status
    locked.gateway_reference = gateway_reference[:64]
    locked.failure_code = failure_code[:40]
    locked.settled_at = clock.now()
    locked.invoice = invoice_models.Invoice.objects.select_for_update().get(pk=locked.invoice_id)
    if status == PaymentStatus.SUCCEEDED:
        try:
            with transaction.atomic():
                invoice_services.invoice_record_payment(
                    invoice=locked.invoice, amount=locked.amount, paid_at=locked.settled_at
                )
        except DomainError as exc:
            # Paid meanwhile by another route (a bank transfer): the card money must go back.
            locked.needs_refund = True
            logger.warning(
                "payment %s succeeded on invoice %s that no longer owed it: %s", locked.pk, locked.invoice_id, exc.code
            )
        locked.save(update_fields=["status", "gateway_reference", "failure_code", "settled_at", "needs_refund"])
        locked.invoice.refresh_from_db()
        _notify(locked, "payment_received")
    else:
        locked.save(update_fields=["status", "gateway_reference", "failure_code", "settled_at"])
        _notify(locked, "payment_failed")
    return locked


def _charge(payment: Payment) -> Payment:
    """Step 2 and 3: charge at the gateway (outside any transaction) and settle."""
    current = Payment.objects.filter(pk=payment.pk).values_list("status", flat=True).first()
    if current != PaymentStatus.PENDING:
        # Settled meanwhile (e.g. given up by the reconciler while this process stalled):
        # never charge a payment that is no longer pending.
        return Payment.objects.select_related("invoice", "payment_method").get(pk=payment.pk)
    method = payment.payment_method
    try:
        result = get_gateway(payment.gateway or method.gateway).charge(
            token=method.token,
            amount=payment.amount,
            currency=payment.currency,
            idempotency_key=payment.gateway_key,
            description=f"Invoice {payment.invoice.number}",
        )
    except GatewayTimeout:
        logger.warning("payment %s: gateway timeout; left pending for reconciliation", payment.pk)
        return payment
    except GatewayError as exc:
        return payment_settle(payment=payment, status=PaymentStatus.FAILED, failure_code=exc.code)
    return payment_settle(
        payment=payment,
        status=PaymentStatus.SUCCEEDED if result.succeeded else PaymentStatus.FAILED,
        gateway_reference=result.reference,
        failure_code=result.failure_code,
    )


def invoice_pay(
    *,
    invoice,
    payment_method: PaymentMethod,
    actor=None,
    source: str = PaymentSource.PAY_NOW,
    request_key: str | None = None,
) -> Payment:
    """Pay an invoice's amount due with a card (PAY-3): at most one charge, whatever
    the concurrency. Returns the payment: succeeded, failed (declined) or pending (timeout).
    Not one transaction on purpose: see the comment above ``payment_start``."""
    payment, created = payment_start(
        invoice=invoice, payment_method=payment_method, actor=actor, source=source, request_key=request_key
    )
    if not created or payment.status != PaymentStatus.PENDING:
        return payment
    return _charge(payment)


def payment_reconcile(*, payment: Payment) -> Payment:
    """Settle a pending card payment from the gateway's record, without charging again."""
    payment = Payment.objects.select_related("invoice", "payment_method").get(pk=payment.pk)
    if payment.status != PaymentStatus.PENDING or payment.kind != PaymentKind.CARD:
        return payment
    result = get_gateway(payment.gateway or "sandbox").get_charge(idempotency_key=payment.gateway_key)
    if result is not None:
        return payment_settle(
            payment=payment,
            status=PaymentStatus.SUCCEEDED if result.succeeded else PaymentStatus.FAILED,
            gateway_reference=result.reference,
            failure_code=result.failure_code,
        )
    if clock.now() - payment.created_at >= RECONCILE_GIVE_UP:
        return payment_settle(payment=payment, status=PaymentStatus.FAILED, failure_code=NOT_PROCESSED)
    return payment


def payments_reconcile_pending(*, older_than: _dt.timedelta = RECONCILE_AFTER) -> int:
    """The periodic sweep: reconcile every card payment pending for longer than ``older_than``."""
    cutoff = clock.now() - older_than
    ids = list(
        Payment.objects.filter(status=PaymentStatus.PENDING, kind=PaymentKind.CARD, created_at__lte=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)[:500]
    )
    settled = 0
    for payment_id in ids:
        if payment_reconcile(payment=Payment(pk=payment_id)).status != PaymentStatus.PENDING:
            settled += 1
    return settled


def invoice_charge_automatically(*, invoice_id: int) -> Payment | None:
    """Charge a newly issued card-paying invoice to the scope's active card (once: a
    repeated run finds the first attempt). A decline leaves the invoice due, notifies
    with the PM-7 guidance, and starts the dunning schedule."""
    invoice_models, _svc = _invoices()
    invoice = (
        invoice_models.Invoice.objects.select_related("profile__account", "profile__payment_method")
        .filter(pk=invoice_id)
        .first()
    )
    if invoice is None or not invoice.is_payable or invoice.pays_by_bank_transfer or invoice.amount_due <= 0:
        return None
    if invoice.issue_date < clock.today() - _dt.timedelta(days=AUTO_CHARGE_WINDOW_DAYS):
        return None
    existing = Payment.objects.filter(request_key=f"auto:{invoice.pk}").first()
    if existing is not None:
        return existing
    method = scope_active_card(invoice.profile)
    if method is None:
        return None
    try:
        return invoice_pay(
            invoice=invoice, payment_method=method, source=PaymentSource.AUTOMATIC, request_key=f"auto:{invoice.pk}"
        )
    except DomainError as exc:
        logger.info("automatic charge of invoice %s skipped: %s", invoice.pk, exc.code)
        return None


def payments_retry_declined() -> int:
    """Dunning: charge again invoices whose automatic charge was declined, 1, 3 and 7 days
    after the first decline (RETRY_SCHEDULE_DAYS), with the scope's active card at that
    time. Stops as soon as the invoice is paid (by any route), void, or has a pending or
    succeeded card payment."""
    invoice_models, _svc = _invoices()
    now = clock.now()
    first_declines = (
        Payment.objects.filter(
            kind=PaymentKind.CARD,
            source=PaymentSource.AUTOMATIC,
            status=PaymentStatus.FAILED,
            invoice__status__in=[invoice_models.InvoiceStatus.DUE, invoice_models.InvoiceStatus.PAST_DUE],
        )
        .select_related("invoice__profile__account", "invoice__profile__payment_method")
        .order_by("pk")
    )
    retried = 0
    for first in first_declines:
        invoice = first.invoice
        attempts = Payment.objects.filter(invoice=invoice, kind=PaymentKind.CARD)
        if attempts.filter(status__in=[PaymentStatus.PENDING, PaymentStatus.SUCCEEDED]).exists():
            continue
        step = attempts.filter(source=PaymentSource.RETRY).count()
        if step >= len(RETRY_SCHEDULE_DAYS):
            continue
        if now < first.created_at + _dt.timedelta(days=RETRY_SCHEDULE_DAYS[step]):
            continue
        method = scope_active_card(invoice.profile)
        if method is None:
            continue
        try:
            invoice_pay(
                invoice=invoice,
                payment_method=method,
                source=PaymentSource.RETRY,
                request_key=f"retry:{invoice.pk}:{step + 1}",
            )
            retried += 1
        except DomainError as exc:
            logger.info("retry of invoice %s skipped: %s", invoice.pk, exc.code)
    return retried


@transaction.atomic
def payment_record_bank_transfer(*, invoice, amount, received_on: _dt.date, reference: str, actor) -> Payment:
    """Support staff record a received bank transfer: the invoice is paid, or partly paid
    with the remainder still due; the receipt is e-mailed."""
    _models, invoice_services = _invoices()
    if not (actor is not None and (permissions.can_work_support_queue(actor) or actor.is_superuser)):
        raise NotAllowed(_("Only support staff record bank transfers."))
    reference = " ".join(str(reference or "").split())
    errors = {}
    if not reference or len(reference) > 64:
        errors["reference"] = [_("Enter the transfer's reference (at most 64 characters).")]
    if received_on is None or received_on > clock.today():
        errors["received_on"] = [_("Enter the day the money arrived (not in the future).")]
    try:
        amount = Decimal(str(amount))
        if not amount.is_finite() or amount <= 0:
            raise ValueError
    except (ArithmeticError, ValueError):
        errors["amount"] = [_("Enter an amount above zero.")]
    if errors:
        raise InvalidInput(_("The bank transfer could not be recorded."), fields=errors)
    paid_at = _dt.datetime.combine(received_on, _dt.time(12), tzinfo=_dt.UTC)
    invoice = invoice_services.invoice_record_payment(invoice=invoice, amount=amount, paid_at=paid_at)
    payment = Payment.objects.create(
        invoice=invoice,
        account_id=invoice.account_id,
        profile_id=invoice.profile_id,
        kind=PaymentKind.BANK_TRANSFER,
        source=PaymentSource.SUPPORT,
        amount=amount,
        currency=invoice.currency,
        status=PaymentStatus.SUCCEEDED,
        reference=reference,
        received_on=received_on,
        initiated_by=actor,
        created_at=clock.now(),
        settled_at=clock.now(),
    )
    payment = Payment.objects.select_related("account__signed_up_by", "invoice").get(pk=payment.pk)
    _notify(payment, "payment_received")
    return payment


# --- Hooks of the invoices app (registered in PaymentsConfig.ready) ---------------------


def charge_issued_invoices(*, invoice_ids: list[int]) -> None:
    """``invoices.hooks.after_issue``: publish the automatic charge of each newly issued
    invoice that is paid by card (runs after the issuing transaction committed)."""
    invoice_models, _svc = _invoices()
    card_paying = invoice_models.Invoice.objects.filter(
        pk__in=invoice_ids, payment_terms=invoice_models.PaymentTerms.CARD
    ).order_by("pk")
    for invoice_id in card_paying.values_list("pk", flat=True):
        queue.publish("payments.tasks.payments_charge_invoice", invoice_id)


def invoice_has_payment_activity(*, invoice_id: int) -> bool:
    """``invoices.hooks.payment_activity``: a card payment is pending or has succeeded."""
    return Payment.objects.filter(
        invoice_id=invoice_id, status__in=[PaymentStatus.PENDING, PaymentStatus.SUCCEEDED]
    ).exists()
