"""The e-mails of credit notes: a credit note issued, and an invoice corrected (credited
in full and replaced by a corrected invoice). Sent to everyone who receives the invoice
(``notices._recipients_for``), once each, in their language."""

from django.conf import settings
from django.urls import reverse

from notifications.services import notification_queue

from .notices import INVOICE_CORRECTED, _recipients_for

CREDIT_NOTE_ISSUED = "credit_note_issued"


def _context(credit_note, invoice) -> dict:
    """JSON-safe facts for the e-mails (amounts as strings, shown with |money)."""
    return {
        "credit_note_id": credit_note.pk,
        "credit_note_number": credit_note.number,
        "credit_note_total": str(credit_note.total),
        "reason": credit_note.reason,
        "invoice_id": invoice.pk,
        "number": invoice.number,
        "account_name": invoice.account.name,
        "currency": invoice.currency,
        "amount_due": str(invoice.amount_due),
        "surplus": str(invoice.surplus),
        "has_surplus": invoice.surplus > 0,
        "has_amount_due": invoice.amount_due > 0,
        "pdf_url": settings.PORTAL_BASE_URL + reverse("invoices:credit_note_pdf", args=[credit_note.pk]),
        "url": settings.PORTAL_BASE_URL + reverse("invoices:detail", args=[invoice.pk]),
    }


def _queue(kind: str, credit_note, invoice, context: dict) -> int:
    queued = 0
    for email, language in _recipients_for([invoice])[invoice.pk]:
        if notification_queue(
            kind=kind,
            recipient=email,
            dedupe_key=f"{kind}:{credit_note.pk}:{email}",
            language=language,
            context=context,
            account=invoice.account,
            invoice=invoice,
        ):
            queued += 1
    return queued


def queue_credit_note_notifications(credit_note) -> int:
    """The credit-note e-mail (``credit_note_issued``) about ``credit_note.invoice``."""
    invoice = credit_note.invoice
    return _queue(CREDIT_NOTE_ISSUED, credit_note, invoice, _context(credit_note, invoice))


def queue_correction_notifications(credit_note, corrected) -> int:
    """The ``invoice_corrected`` e-mail: the credit note, the corrected invoice that
    replaces the credited one, what was carried over and what is still due. It stands
    for the corrected invoice's invoice-ready e-mail (and dates it, PO-7)."""
    original = credit_note.invoice
    context = {
        **_context(credit_note, corrected),
        "original_id": original.pk,
        "original_number": original.number,
        "original_surplus": str(original.surplus),
        "has_original_surplus": original.surplus > 0,
        "total": str(corrected.total),
        "amount_applied": str(credit_note.amount_applied),
        "vat_id": corrected.current_revision.vat_id if corrected.current_revision else "",
        "bank_transfer": corrected.pays_by_bank_transfer,
        "payment_reference": corrected.payment_reference,
        "due_date": corrected.due_date.isoformat(),
        "seller": dict(settings.PORTAL_SELLER),
    }
    return _queue(INVOICE_CORRECTED, credit_note, corrected, context)
