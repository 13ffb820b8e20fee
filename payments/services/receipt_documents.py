"""Receipts: a number of their own gap-free yearly series for every succeeded payment,
and the receipt's PDF.

Numbers (``RC-YYYY-NNNNNN``) are taken with the mechanism of invoice and credit note
numbers (``invoices.services.take_number``): under the year's ``ReceiptNumberSequence`` row lock,
in the transaction that records the payment as succeeded (``charges.payment_settle``,
``collection.payment_record_bank_transfer``), so a transaction that fails takes no number
and two that settle at once wait for each other. The lock is taken last in that
transaction (after the payment and invoice rows), so it is held only for the few
statements up to the commit.

The PDF is rendered on first download and stored (``receipt_render_pdf``), like an
invoice PDF the worker has not rendered yet; a stored PDF whose file is gone is
rendered again (``receipt_restore_pdf``). Receipts are not rendered ahead: most are never
downloaded, and an automatic charge run settles thousands of payments at once.
"""

from django.db import transaction

from billing_portal import clock
from invoices import services as invoice_services

from ..models import Payment, PaymentKind, PaymentStatus, Receipt, ReceiptNumberSequence
from ..receipt_pdf import render_receipt_pdf


def receipt_number(year: int, sequence: int) -> str:
    return f"RC-{year}-{sequence:06d}"


def take_receipt_number(year: int) -> str:
    """The next number of the year's series, under the sequence row lock (held until the
    transaction ends). Inside a transaction only."""
    return receipt_number(year, invoice_services.take_number(ReceiptNumberSequence, year))


def _card_facts(payment: Payment) -> tuple[str, str]:
    """(brand, last four) of the card a payment charged."""
    method = payment.payment_method
    if method is not None:
        return method.brand, method.last4
    return "", ""


def _require_settling_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("receipt_issue must run inside the transaction that settles the payment")


def receipt_issue(*, payment: Payment) -> Receipt:
    """The receipt of a succeeded payment, issued now if it has none yet (idempotent).
    Must run inside the transaction that records the payment as succeeded, after the
    payment and its invoice are locked."""
    _require_settling_transaction()
    existing = Receipt.objects.filter(payment_id=payment.pk).first()
    return existing if existing is not None else receipt_issue_new(payment=payment)


def receipt_issue_new(*, payment: Payment) -> Receipt:
    """``receipt_issue`` for a payment that has just become succeeded in this transaction
    (its row updated from pending, so locked): it cannot have a receipt yet."""
    _require_settling_transaction()
    if payment.status != PaymentStatus.SUCCEEDED:
        raise ValueError(f"payment {payment.pk} has not succeeded: no receipt")
    today = clock.today()
    is_card = payment.kind == PaymentKind.CARD
    brand, last4 = _card_facts(payment) if is_card else ("", "")
    if is_card:
        paid_on = (payment.settled_at or clock.now()).date()
        reference = payment.gateway_reference
    else:
        paid_on = payment.received_on or today
        reference = payment.reference
    return Receipt.objects.create(
        number=take_receipt_number(today.year),
        payment=payment,
        invoice_id=payment.invoice_id,
        account_id=payment.account_id,
        profile_id=payment.profile_id,
        issue_date=today,
        paid_on=paid_on,
        method=payment.kind,
        card_brand=brand[:32],
        card_last4=last4[:4],
        reference=reference[:64],
        amount=payment.amount,
        currency=payment.currency,
        language=payment.account.language or "en",
        created_at=clock.now(),
    )


def receipt_render_pdf(*, receipt_id: int) -> bool:
    """Render and store the PDF of a receipt, once. Returns True if it was rendered now;
    False if it already had one (or does not exist). Rendering happens outside any
    transaction; storing under a row lock, and a concurrent render that finishes second
    is discarded."""
    receipt = (
        Receipt.objects.select_related("invoice__current_revision", "payment", "account").filter(pk=receipt_id).first()
    )
    if receipt is None or receipt.pdf:
        return False
    content = render_receipt_pdf(receipt)
    return invoice_services.store_pdf_once(Receipt, receipt_id, f"{receipt.number}.pdf", content)


def receipt_restore_pdf(*, receipt_id: int) -> bool:
    """Render a receipt's PDF again when its stored file is gone (storage lost, a database
    restored without its media). Returns True if it was rendered now."""
    return invoice_services.forget_missing_pdf(Receipt, receipt_id) and receipt_render_pdf(receipt_id=receipt_id)
