"""Collecting what the first card charge did not: dunning of declined automatic charges,
and bank transfers recorded by support staff."""

import datetime as _dt
import logging
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from accounts import permissions
from billing_portal import clock, queue
from billing_portal.errors import DomainError, InvalidInput, NotAllowed
from invoices import services as invoice_services
from invoices.models import Invoice, InvoiceStatus, PaymentTerms

from ..models import Payment, PaymentKind, PaymentSource, PaymentStatus
from .charges import AUTO_CHARGE_WINDOW_DAYS, invoice_charge_automatically, invoice_pay, scope_active_card
from .receipt_documents import receipt_issue
from .receipts import notify

logger = logging.getLogger(__name__)

# Dunning: after a declined automatic charge, the active card is charged again this many
# days after the first decline; then the customer pays by hand.
RETRY_SCHEDULE_DAYS = (1, 3, 7)


def _retry_step_due(first: Payment, now) -> int | None:
    """The retry step (0-based) due now after the first declined charge, or None."""
    attempts = Payment.objects.filter(invoice=first.invoice, kind=PaymentKind.CARD)
    if attempts.filter(status__in=[PaymentStatus.PENDING, PaymentStatus.SUCCEEDED]).exists():
        return None
    step = attempts.filter(source=PaymentSource.RETRY).count()
    if step >= len(RETRY_SCHEDULE_DAYS):
        return None
    if now < first.created_at + _dt.timedelta(days=RETRY_SCHEDULE_DAYS[step]):
        return None
    return step


def payments_retry_declined() -> int:
    """Dunning: charge again invoices whose automatic charge was declined, 1, 3 and 7 days
    after the first decline (RETRY_SCHEDULE_DAYS), with the scope's active card at that
    time. Stops as soon as the invoice is paid (by any route), void, or has a pending or
    succeeded card payment."""
    now = clock.now()
    first_declines = (
        Payment.objects.filter(
            kind=PaymentKind.CARD,
            source=PaymentSource.AUTOMATIC,
            status=PaymentStatus.FAILED,
            invoice__status__in=[InvoiceStatus.DUE, InvoiceStatus.PAST_DUE],
        )
        .select_related("invoice__profile__account", "invoice__profile__payment_method")
        .order_by("pk")
    )
    retried = 0
    for first in first_declines:
        invoice = first.invoice
        step = _retry_step_due(first, now)
        method = scope_active_card(invoice.profile) if step is not None else None
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


def invoices_charge_automatically(*, invoice_ids: list[int]) -> int:
    """The automatic charge of many newly issued invoices (a billing chunk's, the
    missed-charge sweep's), each once as ``invoice_charge_automatically``; one that fails
    does not stop the others. Returns how many were charged (attempted) now."""
    return queue.each(invoice_charge_automatically, invoice_ids, key="invoice_id")


MISSED_CHARGE_AFTER = _dt.timedelta(minutes=5)
MISSED_CHARGE_LIMIT = 500


def payments_charge_missed() -> int:
    """The payments part of the sweeper: card-paying invoices issued in the automatic
    charge window whose automatic charge was never attempted (its message was lost, the
    broker was down after the billing run) are charged now, once each
    (``invoice_charge_automatically`` is idempotent by its request key)."""
    candidates = list(
        Invoice.objects.filter(
            payment_terms=PaymentTerms.CARD,
            status__in=[InvoiceStatus.DUE, InvoiceStatus.PAST_DUE],
            issue_date__gte=clock.today() - _dt.timedelta(days=AUTO_CHARGE_WINDOW_DAYS),
            created_at__lte=clock.now() - MISSED_CHARGE_AFTER,
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:MISSED_CHARGE_LIMIT]
    )
    attempted = set(
        Payment.objects.filter(request_key__in=[f"auto:{pk}" for pk in candidates]).values_list(
            "request_key", flat=True
        )
    )
    return invoices_charge_automatically(invoice_ids=[pk for pk in candidates if f"auto:{pk}" not in attempted])


def _clean_transfer(*, amount, received_on: _dt.date | None, reference) -> tuple[Decimal, str]:
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
    return amount, reference


@transaction.atomic
def payment_record_bank_transfer(*, invoice, amount, received_on: _dt.date, reference: str, actor) -> Payment:
    """Support staff record a received bank transfer: the invoice is paid, or partly paid
    with the remainder still due; the receipt is issued in the same transaction and
    e-mailed."""
    if not permissions.is_support_or_superuser(actor):
        raise NotAllowed(_("Only support staff record bank transfers."))
    amount, reference = _clean_transfer(amount=amount, received_on=received_on, reference=reference)
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
    receipt = receipt_issue(payment=payment)
    notify(payment, "payment_received", receipt=receipt)
    return payment
