"""The refund e-mail (``refund_issued``): to whoever paid (a person paying in the portal
or the API), else the account's sign-up user and billing contact, each once, in their
language."""

from django.urls import reverse

from billing_portal.money import format_money
from notifications.services import notification_queue, unique_recipients

from ..models import PaymentSource, Refund

REFUND_ISSUED = "refund_issued"


def _recipients(refund: Refund) -> list[tuple[str, str]]:
    payment, account = refund.payment, refund.account
    candidates = []
    if payment.initiated_by is not None and payment.source in (PaymentSource.PAY_NOW, PaymentSource.API):
        candidates.append((payment.initiated_by.email, payment.initiated_by.language))
    if account.signed_up_by is not None:
        candidates.append((account.signed_up_by.email, account.signed_up_by.language))
    candidates.append((account.billing_contact_email, account.language))
    return unique_recipients(candidates)


def notify_refund(refund: Refund) -> int:
    """Queue the ``refund_issued`` e-mail of a succeeded refund (once per recipient)."""
    invoice, credit_note = refund.invoice, refund.credit_note
    base = {
        "refund_id": refund.pk,
        "invoice_id": invoice.pk,
        "invoice_number": invoice.number,
        "account_name": refund.account.name,
        "amount": str(refund.amount),
        "currency": refund.currency,
        "card": refund.payment.card,
        "reason": refund.reason,
        "credit_note_number": credit_note.number if credit_note else "",
        "invoice_status": invoice.status,
        "url": reverse("invoices:detail", args=[invoice.pk]),
    }
    queued = 0
    for email, language in _recipients(refund):
        context = dict(base, amount_display=format_money(refund.amount, refund.currency, language))
        if notification_queue(
            kind=REFUND_ISSUED,
            recipient=email,
            dedupe_key=f"{REFUND_ISSUED}:{refund.pk}:{email}",
            language=language,
            context=context,
            account=refund.account,
            invoice=invoice,
        ):
            queued += 1
    return queued
