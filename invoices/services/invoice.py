"""An issued invoice's life: payments recorded against it, past due, void."""

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


@transaction.atomic
def invoice_record_payment(*, invoice: Invoice, amount, paid_at: dt.datetime | None = None) -> Invoice:
    """Add a payment of ``amount`` (in the invoice's currency) to the invoice. Fully
    paid: status PAID and ``paid_at``; otherwise the status stays due / past due.
    Refuses void and paid invoices, non-positive amounts and more than is due."""
    try:
        amount = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        raise InvalidInput(_("The amount is not a number."), fields={"amount": [_("Enter a number.")]})
    if not amount.is_finite() or amount <= 0:
        raise InvalidInput(_("The amount must be more than zero."), fields={"amount": [_("Must be more than zero.")]})
    locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if locked.status == InvoiceStatus.VOID:
        raise Conflict(_("This invoice is void and cannot be paid."), code="invoice_void")
    if locked.status == InvoiceStatus.PAID:
        raise Conflict(_("This invoice has already been paid."), code="invoice_paid")
    amount = quantize(amount, locked.currency)
    if amount > locked.amount_due:
        raise InvalidInput(
            _("The amount is more than the %(due)s still due.") % {"due": f"{locked.amount_due} {locked.currency}"},
            code="overpayment",
            fields={"amount": [_("More than the amount due.")]},
        )
    locked.amount_paid += amount
    fields = ["amount_paid"]
    if locked.amount_paid >= locked.total:
        locked.status = InvoiceStatus.PAID
        locked.paid_at = paid_at or clock.now()
        fields += ["status", "paid_at"]
    locked.save(update_fields=fields)
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
