"""The sweeper: work that a lost message (a broker outage, a worker killed mid-task) left
undone is published again. Every task it publishes is idempotent, so a sweep that
overlaps a slow worker does no harm.

Beat runs it every 30 seconds (settings.CELERY_BEAT_SCHEDULE). Each kind of work has its
own patience: a billing chunk takes seconds, so one not done a minute after it was
(re)published is taken over, and a run whose worker died finishes within two minutes; a
PDF, an invoice-ready e-mail or a notification waits ten minutes, so that a backlog after
a large run is not published twice and the send task's own back-off is not cut short."""

import datetime as dt

from django.db.models import Q

from billing_portal import clock, queue
from notifications.services import notifications_pending

from ..models import BillingRunChunk, CreditNote, Invoice, InvoiceRevision, InvoiceStatus
from .notices import INVOICE_CORRECTED, INVOICE_READY

SWEEP_AFTER = dt.timedelta(minutes=10)
STUCK_CHUNK_AFTER = dt.timedelta(minutes=1)
SWEEP_LIMIT = 1000


def sweep_unfinished_work(*, older_than: dt.timedelta | None = None) -> dict:
    """Find work that a lost message left undone and enqueue it again: billing chunks
    not done (after ``STUCK_CHUNK_AFTER``), and after ``SWEEP_AFTER`` invoice revisions
    and credit notes without PDF, invoices whose ready-notification was never queued and pending
    notifications (a backlog of PDFs after a large run is not a lost message: it is not
    published again every 30 seconds). ``older_than`` sets one patience for all. The
    revisions and the invoices go out as one list message each, as the billing run
    publishes them (what a lost message of a chunk left undone is among them)."""
    now = clock.now()
    cutoff = now - (SWEEP_AFTER if older_than is None else older_than)
    chunk_cutoff = now - (STUCK_CHUNK_AFTER if older_than is None else older_than)
    chunk_ids = list(
        BillingRunChunk.objects.filter(done=False, enqueued_at__lte=chunk_cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)[:SWEEP_LIMIT]
    )
    if chunk_ids:
        BillingRunChunk.objects.filter(pk__in=chunk_ids).update(enqueued_at=now)
    revision_ids = list(
        InvoiceRevision.objects.filter(pdf="", created_at__lte=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)[:SWEEP_LIMIT]
    )
    credit_note_ids = list(
        CreditNote.objects.filter(pdf="", created_at__lte=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)[:SWEEP_LIMIT]
    )
    invoice_ids = list(
        Invoice.objects.filter(
            notified_at__isnull=True,
            created_at__lte=cutoff,
            created_at__gte=now - dt.timedelta(days=7),
            status__in=[InvoiceStatus.DUE, InvoiceStatus.PAST_DUE, InvoiceStatus.PAID],
        )
        .exclude(Q(notifications__kind__in=[INVOICE_READY, INVOICE_CORRECTED]))
        .order_by("pk")
        .values_list("pk", flat=True)[:SWEEP_LIMIT]
    )
    for chunk_id in chunk_ids:
        queue.publish("invoices.tasks.billing_process_chunk", chunk_id)
    if revision_ids:
        queue.publish("invoices.tasks.render_invoice_pdfs", revision_ids)
    for credit_note_id in credit_note_ids:
        queue.publish("invoices.tasks.render_credit_note_pdf", credit_note_id)
    if invoice_ids:
        queue.publish("invoices.tasks.send_invoices_ready", invoice_ids)
    notification_ids = notifications_pending(cutoff=cutoff, limit=SWEEP_LIMIT)
    return {
        "chunks": len(chunk_ids),
        "pdfs": len(revision_ids) + len(credit_note_ids),
        "invoice_notifications": len(invoice_ids),
        "notifications": len(notification_ids),
    }
