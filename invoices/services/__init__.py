"""Writes of the invoices app, split by concern:

* ``billing_run`` — issuing a period's invoices in chunks (``drafts`` computes them,
  ``rows`` inserts them);
* ``invoice`` — payments recorded against an issued invoice, past due, void;
* ``amendments`` — a new revision with a changed PO or VAT number;
* ``documents`` — the PDF of each revision;
* ``notices`` — the invoice e-mails;
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
    invoice_number,
    payment_reference,
)
from .documents import invoice_revision_render_pdf, invoice_revision_restore_pdf
from .drafts import address_lines, payment_terms_for
from .invoice import invoice_record_payment, invoice_void, invoices_mark_past_due
from .notices import INVOICE_PAST_DUE, INVOICE_READY, invoice_date_notified, invoice_notify_ready
from .sweeper import SWEEP_AFTER, sweep_unfinished_work
from .usage_import import USAGE_FIELDS, ImportReport, charge_import, check_may_import, read_usage_csv

__all__ = [
    "CHUNK_SIZE",
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
    "check_may_import",
    "invoice_amend",
    "invoice_date_notified",
    "invoice_notify_ready",
    "invoice_number",
    "invoice_record_payment",
    "invoice_revision_render_pdf",
    "invoice_revision_restore_pdf",
    "invoice_void",
    "invoices_mark_past_due",
    "payment_reference",
    "payment_terms_for",
    "read_usage_csv",
    "sweep_unfinished_work",
]
