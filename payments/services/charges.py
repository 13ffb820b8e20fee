"""Paying invoices by card (PAY-1..PAY-4): Pay now, the API, automatic charges.

A card payment is three steps, because the gateway call must not run inside a
database transaction (it may take seconds, and a lock held that long would stall
every other request on the invoice):
  1. ``payment_start``  (one transaction): lock the invoice row, check it can be paid,
     insert a pending Payment. The unique constraint "one pending or succeeded card
     charge per invoice" and the row lock make concurrent attempts fail here.
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
import uuid

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts import permissions
from accounts.models import AgreementType, SubscriptionStatus
from billing_portal import clock
from billing_portal.errors import Conflict, DomainError, InvalidInput, NotAllowed
from invoices import services as invoice_services
from invoices.models import Invoice, InvoiceStatus

from ..gateway import GatewayError, GatewayTimeout, get_gateway
from ..models import Payment, PaymentKind, PaymentMethod, PaymentSource, PaymentStatus
from .authentication import AUTHENTICATION_EXPIRED, AUTHENTICATION_WINDOW, payment_await_action
from .receipt_documents import receipt_issue
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
# Sources where a person asked for the payment (their right to pay is checked).
_BY_A_PERSON = (PaymentSource.PAY_NOW, PaymentSource.API)


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


# --- Step 1: the pending payment ------------------------------------------------------------


def _require_payer(actor, source: str, invoice: Invoice) -> None:
    if actor is not None and source in _BY_A_PERSON and not permissions.can_pay_invoices(actor, invoice.profile):
        raise NotAllowed(_("Your role may see this invoice but not pay it."))


def _earlier_payment(invoice: Invoice, request_key: str | None) -> Payment | None:
    """The payment a repeat of the same request (form token, API key, retry step) made."""
    if not request_key:
        return None
    existing = Payment.objects.filter(request_key=request_key).first()
    if existing is not None and existing.invoice_id != invoice.pk:
        raise Conflict(_("This form was used for another invoice."), code="request_key_reused")
    return existing


def _card_of_invoice_scope(invoice: Invoice, payment_method: PaymentMethod | None) -> PaymentMethod:
    method = PaymentMethod.objects.filter(pk=payment_method.pk).first() if payment_method else None
    if method is None or method.removed_at is not None or method.profile_id != invoice.profile_id:
        raise InvalidInput(
            _("Choose one of the cards of this billing account."),
            code="invalid_payment_method",
            fields={"payment_method": [_("Choose one of the cards of this billing account.")]},
        )
    return method


def _refuse_in_progress() -> None:
    raise Conflict(
        _("A payment of this invoice is already being processed. Wait a moment and look at the invoice again."),
        code="payment_in_progress",
    )


def _refuse_unpayable(invoice: Invoice) -> None:
    if invoice.status == InvoiceStatus.PAID:
        raise Conflict(_("This invoice has already been paid."), code="invoice_paid")
    if invoice.status == InvoiceStatus.VOID:
        raise Conflict(_("This invoice is void and cannot be paid."), code="invoice_void")
    if not invoice.is_payable or invoice.amount_due <= 0:
        raise Conflict(_("Nothing is due on this invoice."), code="nothing_due")
    if invoice.pays_by_bank_transfer:
        raise Conflict(
            _("This invoice is paid by bank transfer. Quote the payment reference %(reference)s.")
            % {"reference": invoice.payment_reference},
            code="pays_by_bank_transfer",
        )
    open_payment = Payment.objects.filter(
        invoice=invoice, kind=PaymentKind.CARD, status__in=[PaymentStatus.PENDING, PaymentStatus.SUCCEEDED]
    ).first()
    if open_payment is not None and open_payment.status == PaymentStatus.PENDING:
        _refuse_in_progress()
    if open_payment is not None:
        raise Conflict(_("This invoice has already been paid."), code="invoice_paid")


def _refuse_expired(method: PaymentMethod) -> None:
    if method.is_expired:
        raise InvalidInput(
            _("This card has expired. Update its expiry date or add another card."),
            code="expired_card",
            fields={"payment_method": [_("This card has expired.")]},
        )


def _insert_pending(*, invoice: Invoice, method: PaymentMethod, actor, source: str, request_key) -> Payment:
    try:
        with transaction.atomic():
            return Payment.objects.create(
                invoice=invoice,
                account_id=invoice.account_id,
                profile_id=invoice.profile_id,
                kind=PaymentKind.CARD,
                source=source,
                amount=invoice.amount_due,
                currency=invoice.currency,
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
        _refuse_in_progress()


@transaction.atomic
def payment_start(
    *, invoice, payment_method: PaymentMethod, actor=None, source: str, request_key: str | None = None
) -> tuple[Payment, bool]:
    """Step 1: lock the invoice and record a pending card payment of the amount due.
    Returns (payment, created); a repeated ``request_key`` returns the first payment."""
    locked = Invoice.objects.select_for_update(of=("self",)).select_related("profile__account").get(pk=invoice.pk)
    _require_payer(actor, source, locked)
    existing = _earlier_payment(locked, request_key)
    if existing is not None:
        return existing, False
    method = _card_of_invoice_scope(locked, payment_method)
    _refuse_unpayable(locked)
    _refuse_expired(method)
    payment = _insert_pending(invoice=locked, method=method, actor=actor, source=source, request_key=request_key)
    return payment, True


# --- Step 2 and 3: the charge and its outcome -------------------------------------------------


def _record_on_invoice(payment: Payment) -> None:
    try:
        with transaction.atomic():
            invoice_services.invoice_record_payment(
                invoice=payment.invoice, amount=payment.amount, paid_at=payment.settled_at
            )
    except DomainError as exc:
        # Paid meanwhile by another route (a bank transfer): the card money must go back.
        payment.needs_refund = True
        logger.warning(
            "payment %s succeeded on invoice %s that no longer owed it: %s", payment.pk, payment.invoice_id, exc.code
        )


def _charged_after_giving_up(payment: Payment, status: str) -> bool:
    """The gateway reports a charge on a payment the portal settled as failed (given up
    by the reconciler, an authentication that lapsed, a stale 3-D Secure page)."""
    return payment.status == PaymentStatus.FAILED and status == PaymentStatus.SUCCEEDED and not payment.needs_refund


@transaction.atomic
def payment_settle(*, payment: Payment, status: str, gateway_reference: str = "", failure_code: str = "") -> Payment:
    """Step 3: record the gateway's answer on a pending payment (idempotent)."""
    locked = (
        Payment.objects.select_for_update(of=("self",))
        .select_related("account__signed_up_by", "initiated_by")
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
    if status not in (PaymentStatus.SUCCEEDED, PaymentStatus.FAILED):
        raise InvalidInput("unknown payment status")
    locked.status = status
    locked.gateway_reference = gateway_reference[:64]
    locked.failure_code = failure_code[:40]
    locked.settled_at = clock.now()
    locked.invoice = Invoice.objects.select_for_update().get(pk=locked.invoice_id)
    if status == PaymentStatus.FAILED:
        locked.save(update_fields=["status", "gateway_reference", "failure_code", "settled_at"])
        notify(locked, "payment_failed")
        return locked
    _record_on_invoice(locked)
    locked.save(update_fields=["status", "gateway_reference", "failure_code", "settled_at", "needs_refund"])
    locked.invoice.refresh_from_db()
    # Same transaction: there is never a succeeded payment without its receipt.
    receipt = receipt_issue(payment=locked)
    notify(locked, "payment_received", receipt=receipt)
    return locked


def _settle_from(payment: Payment, result) -> Payment:
    """Record the gateway's answer: final (succeeded, failed), waiting for the customer's
    authentication, or not final yet (the payment stays pending)."""
    if result.requires_action:
        return payment_await_action(payment=payment, reference=result.reference, action_url=result.action_url)
    if result.status not in (PaymentStatus.SUCCEEDED, PaymentStatus.FAILED):
        return payment
    return payment_settle(
        payment=payment, status=result.status, gateway_reference=result.reference, failure_code=result.failure_code
    )


def _charge(payment: Payment) -> Payment:
    """Step 2 and 3: charge at the gateway (outside any transaction) and settle."""
    current = Payment.objects.filter(pk=payment.pk).values_list("status", flat=True).first()
    if current != PaymentStatus.PENDING:
        # Settled meanwhile (e.g. given up by the reconciler while this process stalled):
        # never charge a payment that is no longer pending.
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
        return payment_settle(payment=payment, status=PaymentStatus.FAILED, failure_code=exc.code)
    return _settle_from(payment, result)


def invoice_pay(
    *,
    invoice,
    payment_method: PaymentMethod | None,
    actor=None,
    source: str = PaymentSource.PAY_NOW,
    request_key: str | None = None,
) -> Payment:
    """Pay an invoice's amount due with a card (PAY-3): at most one charge, whatever
    the concurrency. Returns the payment: succeeded, failed (declined) or pending (timeout).
    Not one transaction on purpose: see the module's docstring. A card that is not one of
    the scope's (``None`` included) is refused."""
    payment, created = payment_start(
        invoice=invoice, payment_method=payment_method, actor=actor, source=source, request_key=request_key
    )
    if not created or payment.status != PaymentStatus.PENDING:
        return payment
    return _charge(payment)


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
