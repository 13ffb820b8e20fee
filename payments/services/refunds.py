"""Refunds of card payments by support staff (docs/payments.md, "Refunds").

Three steps, like a charge (services/charges.py), because the gateway call must not run
inside a database transaction:
  1. ``refund_start`` (one transaction): lock the invoice and the payment, check the
     amount, insert a pending Refund with its own gateway idempotency key;
  2. the gateway refund (``Gateway.refund``) with that key;
  3. ``refund_settle`` (one transaction): record the outcome; on success the payment's
     ``amount_refunded``, the credit note that backs the refund (when it needs one) and
     the invoice's amount paid and status (invoices.services), and the customer's e-mail.
A timeout leaves the refund pending; ``refunds_reconcile_pending`` (run by the payments
reconciler) settles it from the gateway's record (``get_refund`` by the same key).

Which refunds are backed by a credit note: a payment flagged ``needs_refund`` (a second
payment of an invoice already settled by another one) never counted on the invoice, so
its refund changes nothing there. Any other refund first returns the invoice's surplus
(money paid beyond what it still asks after earlier credit notes: already credited), and
the rest is credited by a credit note of the same gross amount, issued when the refund
succeeds, so the invoice's balance stays where it was.
"""

import datetime as _dt
import logging
import uuid
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from accounts import permissions
from billing_portal import clock
from billing_portal.card_numbers import refuse_card_number
from billing_portal.errors import Conflict, DomainError, InvalidInput, NotAllowed
from billing_portal.money import quantize
from invoices import services as invoice_services
from invoices.models import CreditNoteKind, Invoice

from ..gateway import GatewayError, GatewayTimeout, get_gateway
from ..models import Payment, PaymentKind, PaymentStatus, Refund
from .refund_notices import notify_refund

logger = logging.getLogger(__name__)

RECONCILE_AFTER = _dt.timedelta(minutes=2)
RECONCILE_GIVE_UP = _dt.timedelta(minutes=15)
NOT_PROCESSED = "not_processed"
_OPEN = (PaymentStatus.PENDING, PaymentStatus.SUCCEEDED)


class RefundKeyReused(DomainError):
    status_code = 422
    default_code = "idempotency_key_reused"


def check_may_refund(actor) -> None:
    """Refunds are support's (``can_refund_payments``): the refusal of every door."""
    if not permissions.can_refund_payments(actor):
        raise NotAllowed(_("Only support staff can refund payments."), code="refund_not_allowed")


def _clean(amount, reason, currency: str) -> tuple[Decimal, str]:
    reason = " ".join(str(reason or "").split())
    errors = {}
    if not reason or len(reason) > 2000:
        errors["reason"] = [_("Give a reason for the refund (at most 2000 characters).")]
    try:
        amount = Decimal(str(amount).strip())
        if not amount.is_finite() or amount <= 0 or quantize(amount, currency) != amount:
            raise ValueError
    except (InvalidOperation, ValueError):
        errors["amount"] = [_("Enter an amount above zero, to the cent.")]
    if errors:
        raise InvalidInput(_("The refund could not be started."), fields=errors)
    refuse_card_number(reason, field="reason")
    return quantize(amount, currency), reason


def refundable(payment: Payment) -> bool:
    """A card charge that took money: succeeded, or charged late after it was given up
    (flagged ``needs_refund``)."""
    return (
        payment.kind == PaymentKind.CARD
        and bool(payment.gateway_reference)
        and (payment.status == PaymentStatus.SUCCEEDED or payment.needs_refund)
    )


def _sum(queryset, field: str = "amount") -> Decimal:
    return queryset.aggregate(total=Sum(field))["total"] or Decimal(0)


def _over(amount: Decimal, left: Decimal, currency: str, message: str) -> InvalidInput:
    return InvalidInput(
        message % {"amount": f"{amount} {currency}", "left": f"{left} {currency}"},
        code="over_refund",
        fields={"amount": [_("More than can be refunded.")]},
    )


def _credit_part(invoice: Invoice, amount: Decimal) -> Decimal:
    """The part of a refund to credit by a credit note (the rest returns the surplus);
    pending refunds of the invoice hold what they will take."""
    pending = Refund.objects.filter(invoice=invoice, status=PaymentStatus.PENDING, payment__needs_refund=False)
    pending_amount, pending_credit = _sum(pending), _sum(pending, "credit_amount")
    held = invoice.amount_paid - pending_amount
    if amount > held:
        raise _over(
            amount,
            max(held, Decimal(0)),
            invoice.currency,
            _("A refund of %(amount)s is more than the %(left)s paid that is still on this invoice."),
        )
    surplus_left = max(invoice.surplus - (pending_amount - pending_credit), Decimal(0))
    credit = amount - min(amount, surplus_left)
    credit_left = invoice.total - invoice.amount_credited - pending_credit
    if credit > credit_left:
        raise _over(
            credit,
            max(credit_left, Decimal(0)),
            invoice.currency,
            _("The refund needs a credit note of %(amount)s, but only %(left)s of the invoice is not credited yet."),
        )
    return credit


@transaction.atomic
def refund_start(*, payment, amount, reason: str, actor, request_key: str | None = None) -> tuple[Refund, bool]:
    """Step 1: lock the invoice and the payment, check, record a pending refund. Returns
    (refund, created); a repeated ``request_key`` returns the first refund."""
    if actor is not None:
        check_may_refund(actor)
    invoice = Invoice.objects.select_for_update().get(pk=payment.invoice_id)
    locked = Payment.objects.select_for_update().get(pk=payment.pk)
    amount, reason = _clean(amount, reason, locked.currency)
    if request_key:
        existing = Refund.objects.filter(request_key=request_key).first()
        if existing is not None:
            if existing.payment_id != locked.pk or existing.amount != amount:
                raise RefundKeyReused(_("This key was used for another refund."))
            return existing, False
    if not refundable(locked):
        raise Conflict(_("Only a card payment that was charged can be refunded."), code="not_refundable")
    left = locked.amount - _sum(locked.refunds.filter(status__in=_OPEN))
    if amount > left:
        raise _over(
            amount, left, locked.currency, _("A refund of %(amount)s is more than the %(left)s left to refund.")
        )
    credit = Decimal(0) if locked.needs_refund else _credit_part(invoice, amount)
    refund = Refund.objects.create(
        payment=locked,
        invoice=invoice,
        account_id=locked.account_id,
        profile_id=locked.profile_id,
        amount=amount,
        credit_amount=credit,
        currency=locked.currency,
        reason=reason,
        gateway=locked.gateway,
        gateway_key=f"ref_{uuid.uuid4().hex}",
        request_key=request_key or None,
        initiated_by=actor,
        created_at=clock.now(),
    )
    return refund, True


def _settle_invoice(refund: Refund) -> None:
    """A succeeded refund on the invoice: its credit note (if it needs one), then the
    amount paid and the status (invoices.services)."""
    invoice = Invoice.objects.select_for_update().get(pk=refund.invoice_id)
    credit = min(refund.credit_amount, invoice.total - invoice.amount_credited)
    if credit != refund.credit_amount:
        logger.warning("refund %s: credit note of %s instead of %s", refund.pk, credit, refund.credit_amount)
    if credit > 0:
        refund.credit_note = invoice_services.credit_note_issue(
            invoice=invoice,
            actor=None,
            reason=refund.reason,
            amount=credit,
            kind=CreditNoteKind.REFUND,
            request_key=f"refund:{refund.pk}",
            created_by=refund.initiated_by,
        )
    back = min(refund.amount, invoice.amount_paid)
    if back > 0:
        invoice_services.invoice_record_refund(invoice=invoice, amount=back)


@transaction.atomic
def refund_settle(*, refund: Refund, status: str, gateway_reference: str = "", failure_code: str = "") -> Refund:
    """Step 3: record the gateway's answer on a pending refund (idempotent)."""
    locked = Refund.objects.select_for_update(of=("self",)).select_related("payment").get(pk=refund.pk)
    if locked.status != PaymentStatus.PENDING:
        return locked
    if status not in (PaymentStatus.SUCCEEDED, PaymentStatus.FAILED):
        raise InvalidInput("unknown refund status")
    locked.status = status
    locked.gateway_reference = gateway_reference[:64]
    locked.failure_code = failure_code[:40]
    locked.settled_at = clock.now()
    fields = ["status", "gateway_reference", "failure_code", "settled_at"]
    if status == PaymentStatus.SUCCEEDED:
        payment = Payment.objects.select_for_update().get(pk=locked.payment_id)
        payment.amount_refunded += locked.amount
        if not payment.needs_refund:
            _settle_invoice(locked)
            fields.append("credit_note")
        elif payment.amount_refunded >= payment.amount:
            payment.needs_refund = False  # the surplus went back in full: nothing left to do
        payment.save(update_fields=["amount_refunded", "needs_refund"])
    locked.save(update_fields=fields)
    if status == PaymentStatus.SUCCEEDED:
        notify_refund(Refund.objects.select_related("payment", "invoice", "account", "credit_note").get(pk=locked.pk))
    return locked


def _settle_from(refund: Refund, result) -> Refund:
    if result.status not in (PaymentStatus.SUCCEEDED, PaymentStatus.FAILED):
        return refund  # the processor has not finished it: the reconciler asks again
    return refund_settle(
        refund=refund, status=result.status, gateway_reference=result.reference, failure_code=result.failure_code
    )


def _refund_at_gateway(refund: Refund) -> Refund:
    """Step 2 and 3: the gateway refund (outside any transaction), then settle."""
    refund = Refund.objects.select_related("payment").get(pk=refund.pk)
    if refund.status != PaymentStatus.PENDING:
        return refund
    try:
        result = get_gateway(refund.gateway or None).refund(
            charge_reference=refund.payment.gateway_reference,
            amount=refund.amount,
            currency=refund.currency,
            idempotency_key=refund.gateway_key,
            reason=refund.reason[:200],
        )
    except GatewayTimeout:
        logger.warning("refund %s: gateway timeout; left pending for reconciliation", refund.pk)
        return refund
    except GatewayError as exc:
        return refund_settle(refund=refund, status=PaymentStatus.FAILED, failure_code=exc.code)
    return _settle_from(refund, result)


def payment_refund(*, payment, amount, reason: str, actor, request_key: str | None = None) -> Refund:
    """Refund ``amount`` of a card payment (support staff): at most what was paid minus
    what was refunded already, once per ``request_key``. Returns the refund: succeeded,
    failed (the gateway refused) or pending (timeout; settled by the reconciler)."""
    refund, created = refund_start(payment=payment, amount=amount, reason=reason, actor=actor, request_key=request_key)
    if not created or refund.status != PaymentStatus.PENDING:
        return refund
    return _refund_at_gateway(refund)


def refund_reconcile(*, refund: Refund) -> Refund:
    """Settle a pending refund from the gateway's record, without refunding again."""
    refund = Refund.objects.select_related("payment").get(pk=refund.pk)
    if refund.status != PaymentStatus.PENDING:
        return refund
    result = get_gateway(refund.gateway or None).get_refund(idempotency_key=refund.gateway_key)
    if result is not None:
        return _settle_from(refund, result)
    if clock.now() - refund.created_at >= RECONCILE_GIVE_UP:
        return refund_settle(refund=refund, status=PaymentStatus.FAILED, failure_code=NOT_PROCESSED)
    return refund


def refunds_reconcile_pending(*, older_than: _dt.timedelta = RECONCILE_AFTER) -> int:
    """Reconcile every refund pending for longer than ``older_than``; returns how many settled."""
    cutoff = clock.now() - older_than
    ids = list(
        Refund.objects.filter(status=PaymentStatus.PENDING, created_at__lte=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)[:500]
    )
    return sum(1 for pk in ids if refund_reconcile(refund=Refund(pk=pk)).status != PaymentStatus.PENDING)
