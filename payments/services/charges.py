"""Paying invoices by card (PAY-1..PAY-4): Pay now, the API, automatic charges.

A card payment is three steps, because the gateway call must not run inside a
database transaction (it may take seconds, and a lock held that long would stall
every other request on the invoice):
  1. ``payment_start``  (one transaction, ``pending``): lock the invoice row, check it
     can be paid, insert a pending Payment. The unique constraint "one pending or
     succeeded card charge per invoice" and the row lock make concurrent attempts fail here.
  2. the gateway charge, with the payment's own idempotency key;
  3. ``payment_settle`` (one transaction): record the outcome; on success add the
     amount to the invoice (invoices.services.invoice_record_payment), issue the
     receipt (its number, ``receipt_documents.receipt_issue``) and queue its e-mail;
     on a decline queue the payment-failed e-mail with the PM-7 guidance.
A timeout leaves the payment pending; ``payment_reconcile`` settles it later from the
gateway's record (``get_charge`` by the same key), never charging again. A charge the
customer must authenticate with their bank (3-D Secure) stays pending too, with the
gateway's page for it (``services.authentication``) until ``payment_refresh`` (the
customer is back, a webhook) or the reconciler finds it final.
"""

import datetime as _dt
import logging

from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse

from accounts import permissions
from accounts.models import AgreementType, SubscriptionStatus
from billing_portal import clock, observability
from billing_portal.errors import DomainError, InvalidInput
from invoices import services as invoice_services
from invoices.models import Invoice

from ..gateway import GatewayError, GatewayTimeout, get_gateway
from ..models import Payment, PaymentKind, PaymentMethod, PaymentSource, PaymentStatus
from .authentication import AUTHENTICATION_EXPIRED, AUTHENTICATION_WINDOW, payment_await_action
from .pending import payment_start
from .receipt_documents import receipt_issue_new
from .receipts import notify
from .refunds import refunds_reconcile_pending

logger = logging.getLogger(__name__)

# Automatic charges are for invoices issued recently; older ones are paid by hand.
AUTO_CHARGE_WINDOW_DAYS = 7
# A pending payment is looked up at the gateway after this long, and declared not
# processed when the gateway has no record of it after RECONCILE_GIVE_UP.
RECONCILE_AFTER = _dt.timedelta(minutes=2)
RECONCILE_GIVE_UP = _dt.timedelta(minutes=15)
# The failure code of a payment given up that way. Should its charge still arrive (a
# stalled process charging late), the payment is flagged ``needs_refund``.
NOT_PROCESSED = "not_processed"


def scope_active_card(profile) -> PaymentMethod | None:
    """The card that pays a scope's invoices automatically: a customer-agreement
    profile's active card; for web direct, the card active on the most active
    subscriptions (newest on a tie). None once the scope pays by invoice (PBI-5): no
    automatic charge or dunning retry touches a card of such a scope again."""
    if permissions.pays_by_invoice(profile):
        return None
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


# --- Step 2 and 3: the charge and its outcome -------------------------------------------------


def _record_on_invoice(payment: Payment) -> None:
    """Add the payment to its invoice (whose row that locks), or flag it for a refund."""
    try:
        invoice_services.invoice_record_payment(
            invoice=payment.invoice, amount=payment.amount, paid_at=payment.settled_at
        )
    except DomainError as exc:
        # Paid meanwhile by another route (a bank transfer): the card money must go back.
        # (A refusal writes nothing, so the transaction carries on.)
        payment.needs_refund = True
        logger.warning(
            "payment %s succeeded on invoice %s that no longer owed it: %s", payment.pk, payment.invoice_id, exc.code
        )


def _charged_after_giving_up(payment: Payment, status: str) -> bool:
    """The gateway reports a charge on a payment the portal settled as failed (given up
    by the reconciler, an authentication that lapsed, a stale 3-D Secure page)."""
    return payment.status == PaymentStatus.FAILED and status == PaymentStatus.SUCCEEDED and not payment.needs_refund


class _NoLongerPending(Exception):
    """Settled meanwhile: undo what the settling transaction wrote so far."""


def _settle_pending(payment: Payment, outcome: dict, in_settlement) -> Payment:
    """Settle a payment that is pending. What a payment is (invoice, amount, card, who
    paid) never changes once it is made, so the caller's copy is used; its state is
    written from pending by a compare-and-set UPDATE. Locks in the order Pay now and
    refunds take them: the invoice, then the payment."""
    payment.settled_at = outcome["settled_at"]
    if outcome["status"] == PaymentStatus.FAILED:
        payment.invoice = Invoice.objects.select_for_update().get(pk=payment.invoice_id)
    else:
        _record_on_invoice(payment)
        outcome["needs_refund"] = payment.needs_refund
    if not Payment.objects.filter(pk=payment.pk, status=PaymentStatus.PENDING).update(**outcome):
        raise _NoLongerPending
    for name, value in outcome.items():
        setattr(payment, name, value)
    observability.count_payment(payment.status, payment.source)
    if in_settlement is not None:
        in_settlement(payment)
    if payment.status == PaymentStatus.FAILED:
        notify(payment, "payment_failed")
    else:
        # Same transaction: there is never a succeeded payment without its receipt. Its
        # number's lock is taken last, so it is held for the fewest statements.
        receipt = receipt_issue_new(payment=payment)
        notify(payment, "payment_received", receipt=receipt)
    return payment


@transaction.atomic
def _settled_meanwhile(payment: Payment, status: str, gateway_reference: str) -> Payment:
    """The payment is no longer pending (or the status is unknown): its locked, current
    row decides."""
    locked = (
        Payment.objects.select_for_update(of=("self",))
        .select_related("invoice", "payment_method", "account__signed_up_by", "initiated_by")
        .get(pk=payment.pk)
    )
    if _charged_after_giving_up(locked, status):
        # The portal gave up on it (the gateway had no charge, or the authentication
        # lapsed), then the charge was made after all: the customer was told nothing was
        # charged and may have paid again, so the money goes back (support refunds it).
        locked.needs_refund = True
        locked.gateway_reference = gateway_reference[:64]
        locked.save(update_fields=["needs_refund", "gateway_reference"])
        logger.warning("payment %s was charged after it was given up; flagged for refund", locked.pk)
        return locked
    if locked.status != PaymentStatus.PENDING:
        return locked
    raise InvalidInput("unknown payment status")


def payment_settle(
    *, payment: Payment, status: str, gateway_reference: str = "", failure_code: str = "", in_settlement=None
) -> Payment:
    """Step 3: record the gateway's answer on a pending payment (idempotent): one
    transaction; on success the invoice is paid (``invoice_record_payment``: one UPDATE
    while it still holds the values of the caller's copy), the receipt issued and
    e-mailed. ``in_settlement(payment)``, if given, runs in that transaction once the
    payment is settled from pending (see ``invoice_pay``)."""
    if status in (PaymentStatus.SUCCEEDED, PaymentStatus.FAILED):
        outcome = {
            "status": status,
            "gateway_reference": gateway_reference[:64],
            "failure_code": failure_code[:40],
            "settled_at": clock.now(),
        }
        try:
            with transaction.atomic():
                return _settle_pending(payment, outcome, in_settlement)
        except _NoLongerPending:
            pass
    return _settled_meanwhile(payment, status, gateway_reference)


def _settle_from(payment: Payment, result, in_settlement=None) -> Payment:
    """Record the gateway's answer: final (succeeded, failed), waiting for the customer's
    authentication, or not final yet (the payment stays pending)."""
    if result.requires_action:
        return payment_await_action(payment=payment, reference=result.reference, action_url=result.action_url)
    if result.status not in (PaymentStatus.SUCCEEDED, PaymentStatus.FAILED):
        return payment
    return payment_settle(
        payment=payment,
        status=result.status,
        gateway_reference=result.reference,
        failure_code=result.failure_code,
        in_settlement=in_settlement,
    )


def _still_pending(payment: Payment) -> bool:
    return Payment.objects.filter(pk=payment.pk, status=PaymentStatus.PENDING).exists()


def _charge(payment: Payment, in_settlement=None) -> Payment:
    """Step 2 and 3: charge at the gateway (outside any transaction) and settle."""
    if clock.now() - payment.created_at >= RECONCILE_GIVE_UP and not _still_pending(payment):
        # Given up by the reconciler while this process stalled: never charge a payment
        # that is no longer pending. (Only a stall that long lets that happen; a charge
        # arriving after the give-up all the same is flagged for refund when settled.)
        return Payment.objects.select_related("invoice", "payment_method").get(pk=payment.pk)
    try:
        result = get_gateway(payment.gateway).charge(
            token=payment.payment_method.token,
            amount=payment.amount,
            currency=payment.currency,
            idempotency_key=payment.gateway_key,
            description=f"Invoice {payment.invoice.number}",
            off_session=payment.source in (PaymentSource.AUTOMATIC, PaymentSource.RETRY),
            return_url=reverse("payments:pay_return", args=[payment.invoice_id, payment.pk]),
        )
    except GatewayTimeout:
        logger.warning("payment %s: gateway timeout; left pending for reconciliation", payment.pk)
        return payment
    except GatewayError as exc:
        return payment_settle(
            payment=payment, status=PaymentStatus.FAILED, failure_code=exc.code, in_settlement=in_settlement
        )
    return _settle_from(payment, result, in_settlement)


def invoice_pay(
    *,
    invoice,
    payment_method: PaymentMethod | None,
    actor=None,
    source: str = PaymentSource.PAY_NOW,
    request_key: str | None = None,
    in_settlement=None,
) -> Payment:
    """Pay an invoice's amount due with a card (PAY-3): at most one charge, whatever
    the concurrency. Returns the payment: succeeded, failed (declined) or pending (timeout).
    Not one transaction on purpose: see the module's docstring. Invoice and card are
    read again under the invoice's lock (``pending.payment_start``): a card that is not
    one of the scope's (``None`` included) is refused. ``in_settlement(payment)``: the
    caller's own record of the outcome, written in the transaction that settles the
    payment (the pay API keeps its Idempotency-Key answer there), not at all if the
    payment stays pending."""
    payment, created = payment_start(
        invoice=invoice, payment_method=payment_method, actor=actor, source=source, request_key=request_key
    )
    if not created or payment.status != PaymentStatus.PENDING:
        return payment
    return _charge(payment, in_settlement)


# --- Reconciling payments whose answer was lost -----------------------------------------------


def payment_reconcile(*, payment: Payment) -> Payment:
    """Settle a pending card payment from the gateway's record, without charging again."""
    payment = Payment.objects.select_related("invoice", "payment_method").get(pk=payment.pk)
    if payment.status != PaymentStatus.PENDING or payment.kind != PaymentKind.CARD:
        return payment
    result = get_gateway(payment.gateway).get_charge(idempotency_key=payment.gateway_key)
    if result is not None and result.requires_action and clock.now() - payment.created_at >= AUTHENTICATION_WINDOW:
        return payment_settle(
            payment=payment,
            status=PaymentStatus.FAILED,
            gateway_reference=result.reference,
            failure_code=AUTHENTICATION_EXPIRED,
        )
    if result is not None:
        return _settle_from(payment, result)
    if clock.now() - payment.created_at >= RECONCILE_GIVE_UP:
        return payment_settle(payment=payment, status=PaymentStatus.FAILED, failure_code=NOT_PROCESSED)
    return payment


def payment_refresh(*, payment: Payment) -> Payment:
    """Settle a card payment from the gateway's current state, whatever told the portal
    to look (the customer back from authentication, a webhook event): the same answer
    any number of times, in any order, settles it once. Never charges."""
    payment = Payment.objects.select_related("invoice", "payment_method").get(pk=payment.pk)
    if payment.kind != PaymentKind.CARD or not payment.gateway_key:
        return payment
    result = get_gateway(payment.gateway).get_charge(idempotency_key=payment.gateway_key)
    return payment if result is None else _settle_from(payment, result)


def payments_reconcile_pending(*, older_than: _dt.timedelta = RECONCILE_AFTER) -> int:
    """The periodic sweep: reconcile every card payment (and every refund,
    ``refunds.refunds_reconcile_pending``) pending for longer than ``older_than``."""
    cutoff = clock.now() - older_than
    ids = list(
        Payment.objects.filter(status=PaymentStatus.PENDING, kind=PaymentKind.CARD, created_at__lte=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)[:500]
    )
    settled = 0
    for payment_id in ids:
        try:
            if payment_reconcile(payment=Payment(pk=payment_id)).status != PaymentStatus.PENDING:
                settled += 1
        except GatewayError as exc:
            # The gateway could not be asked (a timeout): the next sweep asks again.
            logger.warning("payment %s not reconciled: %s", payment_id, exc)
    return settled + refunds_reconcile_pending(older_than=older_than)


# --- Automatic charge of a newly issued invoice -----------------------------------------------


def invoice_charge_automatically(*, invoice_id: int) -> Payment | None:
    """Charge a newly issued card-paying invoice to the scope's active card (once: a
    repeated run finds the first attempt). A decline leaves the invoice due, notifies
    with the PM-7 guidance, and starts the dunning schedule."""
    invoice = (
        Invoice.objects.select_related("profile__account", "profile__payment_method").filter(pk=invoice_id).first()
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
