"""The e-mails of a payment: the receipt and the payment-failed notice (with the PM-7
guidance), queued in each recipient's language. The receipt e-mail names the receipt's
number and links to its PDF (``receipt_documents`` issues it)."""

from django.urls import reverse

from billing_portal.money import format_money
from notifications.services import notification_queue, unique_recipients

from ..models import Payment, PaymentSource


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


def notify(payment: Payment, kind: str, receipt=None) -> None:
    """Queue the ``kind`` e-mail (``payment_received`` or ``payment_failed``) of a payment;
    ``receipt``: the payment's receipt, named and linked in the e-mail."""
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
        "receipt_number": receipt.number if receipt is not None else "",
        "receipt_url": reverse("payments:receipt_pdf", args=[receipt.pk]) if receipt is not None else "",
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
