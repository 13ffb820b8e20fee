"""The payments app's answers to the invoices app's hooks (``invoices.hooks``),
registered in ``PaymentsConfig.ready``."""

from billing_portal import queue
from invoices.models import Invoice, PaymentTerms

from ..models import Payment, PaymentKind, PaymentStatus, Refund


def charge_issued_invoices(*, invoice_ids: list[int]) -> None:
    """``invoices.hooks.after_issue``: publish the automatic charge of the newly issued
    invoices that are paid by card, in one message (runs after the issuing transaction
    committed). A lost message is made good by ``payments_charge_missed``."""
    card_paying = list(
        Invoice.objects.filter(pk__in=invoice_ids, payment_terms=PaymentTerms.CARD)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if card_paying:
        queue.publish("payments.tasks.payments_charge_invoices", card_paying)


def invoice_has_payment_activity(*, invoice_id: int) -> bool:
    """``invoices.hooks.payment_activity``: a card payment is pending or has succeeded."""
    return Payment.objects.filter(
        invoice_id=invoice_id, status__in=[PaymentStatus.PENDING, PaymentStatus.SUCCEEDED]
    ).exists()


def invoice_money_in_flight(*, invoice_id: int) -> bool:
    """``invoices.hooks.money_in_flight``: a card payment or a refund of the invoice is
    still pending at the gateway (a credit note or a correction waits for it)."""
    return (
        Payment.objects.filter(invoice_id=invoice_id, kind=PaymentKind.CARD, status=PaymentStatus.PENDING).exists()
        or Refund.objects.filter(invoice_id=invoice_id, status=PaymentStatus.PENDING).exists()
    )
