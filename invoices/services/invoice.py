"""An issued invoice's life: payments and refunds recorded against it, its status from
its balance (credit notes included), past due, void."""

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from accounts import permissions
from billing_portal import clock
from billing_portal.errors import Conflict, InvalidInput, NotAllowed
from billing_portal.money import quantize

from ..models import Invoice, InvoiceStatus
from .notices import INVOICE_PAST_DUE, queue_invoice_notifications

# What decides whether a payment can be added and what it changes: a row that still holds
# the caller's values of these fields is updated without being read again.
_PAYMENT_FIELDS = ("status", "amount_paid", "amount_credited", "total", "currency")


def _clean_payment_amount(amount) -> Decimal:
    try:
        amount = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        raise InvalidInput(_("The amount is not a number."), fields={"amount": [_("Enter a number.")]})
    if not amount.is_finite() or amount <= 0:
        raise InvalidInput(_("The amount must be more than zero."), fields={"amount": [_("Must be more than zero.")]})
    return amount


def _payment_refusal(invoice: Invoice, amount: Decimal):
    """Why ``amount`` cannot be added to the invoice as it stands (an error), or None."""
    if invoice.status == InvoiceStatus.VOID:
        return Conflict(_("This invoice is void and cannot be paid."), code="invoice_void")
    if invoice.status == InvoiceStatus.PAID:
        return Conflict(_("This invoice has already been paid."), code="invoice_paid")
    if quantize(amount, invoice.currency) > invoice.amount_due:
        return InvalidInput(
            _("The amount is more than the %(due)s still due.") % {"due": f"{invoice.amount_due} {invoice.currency}"},
            code="overpayment",
            fields={"amount": [_("More than the amount due.")]},
        )
    return None


def _add_payment(invoice: Invoice, amount: Decimal, paid_at) -> dict:
    """The changed fields once ``amount`` is paid on the invoice (set on it too)."""
    invoice.amount_paid += quantize(amount, invoice.currency)
    changes = {"amount_paid": invoice.amount_paid}
    if invoice.balance <= 0:
        invoice.status = InvoiceStatus.PAID
        invoice.paid_at = paid_at or clock.now()
        changes |= {"status": invoice.status, "paid_at": invoice.paid_at}
    return changes


def invoice_record_payment(*, invoice: Invoice, amount, paid_at: dt.datetime | None = None) -> Invoice:
    """Add a payment of ``amount`` (in the invoice's currency) to the invoice. Fully
    paid (payments and credit notes cover the total): status PAID and ``paid_at``;
    otherwise the status stays due / past due. Refuses void and paid invoices,
    non-positive amounts and more than is due (``amount_due``: total - credited - paid).

    One UPDATE when the row still holds the values of ``invoice`` that decide it
    (``_PAYMENT_FIELDS``: compare-and-set, as a caller that has just locked or read the
    invoice has them); otherwise the row is locked and read, and decides. ``invoice``
    is updated in place and returned."""
    amount = _clean_payment_amount(amount)
    if invoice.pk is not None and _payment_refusal(invoice, amount) is None:
        expected = {name: getattr(invoice, name) for name in _PAYMENT_FIELDS}
        before = {**expected, "paid_at": invoice.paid_at}
        if Invoice.objects.filter(pk=invoice.pk, **expected).update(**_add_payment(invoice, amount, paid_at)):
            return invoice
        for name, value in before.items():  # changed meanwhile: the locked row decides
            setattr(invoice, name, value)
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        refusal = _payment_refusal(locked, amount)
        if refusal is not None:
            raise refusal
        locked.save(update_fields=list(_add_payment(locked, amount, paid_at)))
    for name in (*_PAYMENT_FIELDS, "paid_at"):
        setattr(invoice, name, getattr(locked, name))
    return invoice


def settle_status(invoice: Invoice) -> list[str]:
    """Set the status that the balance says, after a credit note, a refund or a carried-over
    payment; returns the changed field names. Credited in full with nothing (net) paid:
    VOID. Credits and payments cover the total: PAID (``paid_at`` kept or now). Otherwise
    due, or past due after the due date."""
    before = (invoice.status, invoice.paid_at)
    if invoice.amount_credited > 0 and invoice.amount_credited >= invoice.total and invoice.amount_paid <= 0:
        invoice.status = InvoiceStatus.VOID
    elif invoice.balance <= 0:
        invoice.status = InvoiceStatus.PAID
        invoice.paid_at = invoice.paid_at or clock.now()
    elif invoice.status in (InvoiceStatus.PAID, InvoiceStatus.VOID):
        invoice.status = InvoiceStatus.PAST_DUE if invoice.due_date < clock.today() else InvoiceStatus.DUE
        invoice.paid_at = None
    return [name for name, old in zip(("status", "paid_at"), before, strict=True) if getattr(invoice, name) != old]


@transaction.atomic
def invoice_record_refund(*, invoice: Invoice, amount) -> Invoice:
    """Money paid on the invoice went back to the customer (payments: a card refund that
    settled). ``amount_paid`` goes down by ``amount`` and the status follows the balance
    (``settle_status``); the refund's credit note, if it needs one, is issued by
    ``credit_note_issue`` in the same transaction. More than was paid is refused."""
    locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
    amount = quantize(Decimal(str(amount)), locked.currency)
    if amount <= 0 or amount > locked.amount_paid:
        raise InvalidInput(
            _("A refund of %(amount)s is more than the %(paid)s paid on this invoice.")
            % {"amount": f"{amount} {locked.currency}", "paid": f"{locked.amount_paid} {locked.currency}"},
            code="over_refund",
            fields={"amount": [_("More than was paid.")]},
        )
    locked.amount_paid -= amount
    locked.save(update_fields=["amount_paid", *settle_status(locked)])
    for name in ("amount_paid", "status", "paid_at"):
        setattr(invoice, name, getattr(locked, name))
    return locked


def invoices_mark_past_due(*, batch_size: int = 1000) -> int:
    """Move due invoices past their due date to PAST_DUE and notify (once each)."""
    today = clock.today()
    moved = 0
    while True:
        with transaction.atomic():
            invoices = list(
                Invoice.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("account", "profile", "current_revision")
                .filter(status=InvoiceStatus.DUE, due_date__lt=today)
                .order_by("pk")[:batch_size]
            )
            if not invoices:
                return moved
            Invoice.objects.filter(pk__in=[i.pk for i in invoices]).update(status=InvoiceStatus.PAST_DUE)
            for invoice in invoices:
                invoice.status = InvoiceStatus.PAST_DUE
            queue_invoice_notifications(invoices, INVOICE_PAST_DUE)
            moved += len(invoices)


@transaction.atomic
def invoice_void(*, invoice: Invoice, actor, reason: str) -> Invoice:
    """Cancel an issued, unpaid invoice: support staff, or the portal itself
    (``actor=None``: a task or the operator's command line)."""
    if actor is not None and not permissions.is_support_or_superuser(actor):
        raise NotAllowed(_("Only support staff can void an invoice."), code="not_support_staff")
    locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if locked.status == InvoiceStatus.PAID or locked.amount_paid > 0:
        raise Conflict(_("An invoice with payments cannot be voided."), code="invoice_paid")
    if locked.status == InvoiceStatus.VOID:
        return locked
    locked.status = InvoiceStatus.VOID
    locked.save(update_fields=["status"])
    invoice.status = locked.status
    return locked
