"""Stripe's webhook events: stored once by their id, processed once, in any order.

The endpoint (payments/stripe_views.py) checks the signature and stores the event
(``webhook_event_store``); a task processes it (``webhook_event_process``), and the
beat task ``payments_process_webhook_events`` processes what is still unprocessed a
minute later (a lost message, Stripe or the database unreachable meanwhile). A repeated
delivery finds the stored event and changes nothing.

Order does not matter because no handler trusts the event's snapshot of a payment:
``payment_intent.*`` events make the portal read the PaymentIntent's *current* state
(``charges.payment_refresh``), which settles a pending payment once; a settled payment
is never flipped back (a success reported on a payment settled as failed is flagged
*needs refund* instead). The other handlers are idempotent in themselves.
"""

import datetime as _dt
import logging

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.urls import reverse

from billing_portal import clock, queue
from billing_portal.errors import DomainError
from notifications.services import notification_queue

from ..gateway import GatewayError, get_gateway
from ..models import CardSetup, CardSetupStatus, Payment, PaymentKind, PaymentStatus, Refund, WebhookEvent
from ..stripe_results import from_minor, object_id
from .card_sync import payment_method_expiry_from_gateway, payment_method_removed_at_gateway
from .cards import card_setup_complete
from .charges import payment_refresh
from .refunds import refund_reconcile

logger = logging.getLogger(__name__)

GATEWAY = "stripe"
PROCESS_TASK = "payments.tasks.payments_process_webhook_event"
# Unprocessed stored events are taken up again after this long, at most this often.
RETRY_AFTER = _dt.timedelta(minutes=1)
MAX_ATTEMPTS = 20
PENDING_LIMIT = 500
DISPUTED = "payment_disputed"


def webhook_event_store(*, event: dict) -> tuple[WebhookEvent, bool]:
    """Keep a verified event (its id, type and object) and publish its processing.
    Returns (stored event, created); a repeated delivery returns the first one."""
    event_id = str(event.get("id") or "")[:100]
    obj = (event.get("data") or {}).get("object") or {}
    try:
        with transaction.atomic():
            stored = WebhookEvent.objects.create(
                event_id=event_id, type=str(event.get("type") or "")[:100], payload=obj, received_at=clock.now()
            )
    except IntegrityError:
        stored = WebhookEvent.objects.get(event_id=event_id)
        if stored.processed_at is None:
            queue.publish_on_commit(PROCESS_TASK, stored.pk)
        return stored, False
    queue.publish_on_commit(PROCESS_TASK, stored.pk)
    return stored, True


# --- handlers -------------------------------------------------------------------------------


def _payment_of_intent(intent_id: str, key: str = "") -> Payment | None:
    payments = Payment.objects.filter(kind=PaymentKind.CARD, gateway=GATEWAY)
    if key:
        payment = payments.filter(gateway_key=key).first()
        if payment is not None:
            return payment
    return payments.filter(gateway_reference=intent_id).first() if intent_id else None


def _payment_intent_changed(intent: dict) -> None:
    payment = _payment_of_intent(intent.get("id", ""), (intent.get("metadata") or {}).get("portal_key", ""))
    if payment is not None:
        payment_refresh(payment=payment)


@transaction.atomic
def payment_refunded_at_gateway(*, payment: Payment, amount_refunded) -> Payment:
    """Stripe reports that (part of) the charge was given back: a payment flagged *needs
    refund* that is refunded in full no longer needs it."""
    locked = Payment.objects.select_for_update().get(pk=payment.pk)
    if locked.needs_refund and amount_refunded >= locked.amount:
        locked.needs_refund = False
        locked.save(update_fields=["needs_refund"])
    return locked


def _charge_refunded(charge: dict) -> None:
    """A refund made at the gateway: the portal's own pending refunds of the payment are
    settled from the gateway's record (``refund_reconcile``), and a surplus refunded in
    full there (e.g. from Stripe's dashboard) clears *needs refund*."""
    payment = _payment_of_intent(object_id(charge.get("payment_intent")))
    if payment is not None:
        for refund in Refund.objects.filter(payment=payment, status=PaymentStatus.PENDING).order_by("pk"):
            refund_reconcile(refund=refund)
    if payment is not None and charge.get("currency"):
        amount = from_minor(charge.get("amount_refunded") or 0, charge["currency"])
        payment_refunded_at_gateway(payment=payment, amount_refunded=amount)


def _notify_staff_of_dispute(payment: Payment) -> None:
    context = {
        "payment_id": payment.pk,
        "invoice_number": payment.invoice.number,
        "account_name": payment.account.name,
        "amount": str(payment.amount),
        "currency": payment.currency,
        "reason": payment.dispute_reason,
        "admin_url": reverse("admin:payments_payment_change", args=[payment.pk]),
    }
    for user in get_user_model().objects.filter(is_support_staff=True, is_active=True).order_by("pk"):
        notification_queue(
            kind=DISPUTED,
            recipient=user.email,
            dedupe_key=f"{DISPUTED}:{payment.pk}:{user.email.lower()}",
            language=user.language,
            context=context,
            account=payment.account,
            invoice=payment.invoice,
        )


@transaction.atomic
def payment_dispute_record(*, payment: Payment, reason: str) -> Payment:
    """The cardholder disputed the charge (a chargeback): the payment is flagged and
    support staff are e-mailed, once."""
    locked = Payment.objects.select_for_update(of=("self",)).select_related("account", "invoice").get(pk=payment.pk)
    if locked.disputed_at is None:
        locked.disputed_at = clock.now()
        locked.dispute_reason = str(reason or "")[:40]
        locked.save(update_fields=["disputed_at", "dispute_reason"])
        _notify_staff_of_dispute(locked)
    return locked


def _dispute_created(dispute: dict) -> None:
    intent_id = object_id(dispute.get("payment_intent"))
    if not intent_id and dispute.get("charge"):
        intent_id = get_gateway(GATEWAY).payment_intent_of_charge(object_id(dispute["charge"]))
    payment = _payment_of_intent(intent_id)
    if payment is None:
        logger.warning("dispute %s is about no payment of the portal", dispute.get("id"))
        return
    payment_dispute_record(payment=payment, reason=dispute.get("reason", ""))


def _setup_intent_succeeded(intent: dict) -> None:
    """The card was saved at Stripe: add it, even if the customer never came back."""
    setup = CardSetup.objects.filter(gateway=GATEWAY, gateway_session_id=intent.get("id", "")).first()
    if setup is None or setup.status != CardSetupStatus.OPEN:
        return
    try:
        card_setup_complete(setup=setup, actor=setup.created_by)
    except DomainError as exc:
        logger.warning("card setup %s not completed from its webhook: %s", setup.pk, exc.code)


def _payment_method_updated(method: dict) -> None:
    card = method.get("card") or {}
    if method.get("id") and card.get("exp_month") and card.get("exp_year"):
        payment_method_expiry_from_gateway(
            gateway=GATEWAY, token=method["id"], exp_month=card["exp_month"], exp_year=card["exp_year"]
        )


def _payment_method_detached(method: dict) -> None:
    if method.get("id"):
        payment_method_removed_at_gateway(gateway=GATEWAY, token=method["id"])


HANDLERS = {
    "payment_intent.succeeded": _payment_intent_changed,
    "payment_intent.payment_failed": _payment_intent_changed,
    "payment_intent.requires_action": _payment_intent_changed,
    "payment_intent.canceled": _payment_intent_changed,
    "charge.refunded": _charge_refunded,
    "charge.dispute.created": _dispute_created,
    "setup_intent.succeeded": _setup_intent_succeeded,
    "payment_method.updated": _payment_method_updated,
    "payment_method.automatically_updated": _payment_method_updated,
    "payment_method.detached": _payment_method_detached,
}


# --- processing -----------------------------------------------------------------------------


def _failed(event: WebhookEvent, exc: Exception) -> WebhookEvent:
    event.last_error = f"{type(exc).__name__}: {exc}"[:200]
    event.save(update_fields=["attempts", "last_error"])
    logger.warning("webhook event %s (%s) not processed: %s", event.event_id, event.type, event.last_error)
    return event


def webhook_event_process(*, event_id: int) -> WebhookEvent | None:
    """Process a stored event once. An event another process is working on is skipped;
    one whose handler failed (Stripe unreachable, a refusal) stays unprocessed with the
    error, for the sweep to try again."""
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update(skip_locked=True).filter(pk=event_id).first()
        if event is None or event.processed_at is not None:
            return event
        event.attempts += 1
        try:
            with transaction.atomic():
                handler = HANDLERS.get(event.type)
                if handler is not None:
                    handler(event.payload)
        except (GatewayError, DomainError) as exc:
            return _failed(event, exc)
        except Exception as exc:  # noqa: BLE001 - a malformed event is kept with its error, not retried forever
            logger.exception("webhook event %s (%s) could not be processed", event.event_id, event.type)
            return _failed(event, exc)
        event.processed_at = clock.now()
        event.last_error = ""
        event.save(update_fields=["attempts", "last_error", "processed_at"])
        return event


def webhook_events_process_pending(*, older_than: _dt.timedelta = RETRY_AFTER) -> int:
    """The sweep: process stored events still unprocessed after ``older_than``."""
    ids = list(
        WebhookEvent.objects.filter(
            processed_at__isnull=True, received_at__lte=clock.now() - older_than, attempts__lt=MAX_ATTEMPTS
        )
        .order_by("received_at", "pk")
        .values_list("pk", flat=True)[:PENDING_LIMIT]
    )
    done = 0
    for pk in ids:
        event = webhook_event_process(event_id=pk)
        if event is not None and event.processed_at is not None:
            done += 1
    return done
