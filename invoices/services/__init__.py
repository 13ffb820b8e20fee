"""Writes of the invoices app, split by concern:

* ``billing_run`` — issuing a period's invoices in chunks (``drafts`` computes them,
  ``rows`` inserts them);
* ``invoice`` — payments and refunds recorded against an issued invoice, its status
  from its balance, past due, void;
* ``amendments`` — a new revision with a changed PO or VAT number;
* ``credit_notes`` — credit notes (full, an amount, lines) and the invoice's balance;
* ``corrections`` — a paid invoice credited in full and replaced by a corrected one;
* ``documents`` — the PDF of each revision and credit note;
* ``notices``, ``credit_notices`` — the invoice and credit-note e-mails;
* ``usage_import`` — usage charges from the operator's metering;
* ``sweeper`` — work a lost message left undone, published again.

The names below are the app's public services; other apps use only these.
"""

from .amendments import invoice_amend
from .billing_run import (
    CHUNK_SIZE,
    billing_chunk_process,
    billing_run_start,
    billing_run_start_closed_periods,
)
from .corrections import invoice_correct
from .credit_notes import CreditNoteKeyReused, check_may_credit, credit_note_issue, credits_for, uncredited_lines
from .credit_notices import CREDIT_NOTE_ISSUED
from .documents import (
    credit_note_render_pdf,
    credit_note_restore_pdf,
    forget_missing_pdf,
    invoice_revision_render_pdf,
    invoice_revision_restore_pdf,
    invoice_revision_stored_pdf,
    invoice_revisions_render_pdf,
    store_pdf_once,
)
from .drafts import address_lines, payment_terms_for
from .invoice import invoice_record_payment, invoice_record_refund, invoice_void, invoices_mark_past_due, settle_status
from .notices import (
    INVOICE_CORRECTED,
    INVOICE_PAST_DUE,
    INVOICE_READY,
    invoice_date_notified,
    invoice_ready_attachments,
    invoice_ready_context,
    invoices_notify_ready,
)
from .numbering import credit_note_number, invoice_number, payment_reference, take_number
from .sweeper import SWEEP_AFTER, sweep_unfinished_work
from .usage_import import USAGE_FIELDS, ImportReport, charge_import, check_may_import, read_usage_csv

__all__ = [
    "CHUNK_SIZE",
    "CREDIT_NOTE_ISSUED",
    "INVOICE_CORRECTED",
    "CreditNoteKeyReused",
    "INVOICE_PAST_DUE",
    "INVOICE_READY",
    "SWEEP_AFTER",
    "USAGE_FIELDS",
    "ImportReport",
    "address_lines",
    "billing_chunk_process",
    "billing_run_start",
    "billing_run_start_closed_periods",
    "charge_import",
    "check_may_credit",
    "check_may_import",
    "credit_note_issue",
    "credit_note_number",
    "credit_note_render_pdf",
    "credit_note_restore_pdf",
    "forget_missing_pdf",
    "credits_for",
    "invoice_amend",
    "invoice_correct",
    "invoice_date_notified",
    "invoice_ready_attachments",
    "invoice_ready_context",
    "invoice_number",
    "invoice_record_payment",
    "invoice_record_refund",
    "invoice_revision_render_pdf",
    "invoice_revision_restore_pdf",
    "invoice_revision_stored_pdf",
    "invoice_revisions_render_pdf",
    "store_pdf_once",
    "invoice_void",
    "invoices_mark_past_due",
    "invoices_notify_ready",
    "payment_reference",
    "payment_terms_for",
    "read_usage_csv",
    "settle_status",
    "sweep_unfinished_work",
    "take_number",
    "uncredited_lines",
]
