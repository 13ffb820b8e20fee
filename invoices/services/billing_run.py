"""The billing run: every closed period, one invoice per billing scope with charges.

A run is split into chunks of billing scopes, each issued by one task
(``invoices.tasks.billing_process_chunk``) in one short transaction with gap-free
yearly numbers. Everything is idempotent: a chunk done, or a scope already invoiced,
is skipped, so a re-run, a retried task or a sweep creates nothing twice. After the
issuing transaction commits, the chunk's PDFs and invoice-ready e-mails are published
(one message each), then ``invoices.hooks.after_issue`` runs (payments publishes the
charge of the card-paying scopes).
"""

import datetime as dt
import functools
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from billing_portal import clock, queue
from billing_portal.errors import InvalidInput

from .. import hooks
from ..models import (
    BillingRun,
    BillingRunChunk,
    BillingRunStatus,
    Charge,
    Invoice,
    InvoiceLine,
    InvoiceNumberSequence,
    InvoiceRevision,
    InvoiceStatus,
    PaymentTerms,
)
from .drafts import (
    MARKETPLACE_ON_INVOICE_SCOPE,
    Draft,
    drafts_for,
    payment_terms_for,
    refused_marketplace_charges,
    scopes_for,
)
from .numbering import invoice_number, locked_sequence, payment_reference
from .rows import (
    INVOICE_COLUMNS,
    LINE_COLUMNS,
    REVISION_COLUMNS,
    allocate_ids,
    check_foreign_keys,
    insert_rows,
    update_rows,
)

CHUNK_SIZE = 500
PAYMENT_DAYS = 30


def _after_issue(invoice_ids: list[int]) -> None:
    """Everything that follows issuing invoices, run once the issuing transaction has
    committed, published once per chunk and kind (never once per invoice): one message
    renders the PDFs, one queues the invoice-ready e-mails, then the ``after_issue``
    hook (payments publishes one message charging the card-paying invoices). Each list
    task does each invoice's work once; what a lost message leaves undone is recorded
    in the database and published again by the sweeper."""
    revision_ids = list(
        Invoice.objects.filter(pk__in=invoice_ids, current_revision__isnull=False)
        .order_by("pk")
        .values_list("current_revision_id", flat=True)
    )
    if revision_ids:
        queue.publish("invoices.tasks.render_invoice_pdfs", revision_ids)
    queue.publish("invoices.tasks.send_invoices_ready", invoice_ids)
    hooks.after_issue(invoice_ids=invoice_ids)


def _invoice_row(run: BillingRun, item: tuple, now) -> tuple:
    """The invoice under a provisional number (never seen: its number is given before the
    transaction commits)."""
    invoice_id, revision_id, draft = item
    account = draft.profile.account
    terms = payment_terms_for(draft.profile)
    due = run.issue_date + dt.timedelta(days=PAYMENT_DAYS) if terms == PaymentTerms.BANK_TRANSFER else run.issue_date
    total = draft.subtotal + draft.tax_amount
    return (
        invoice_id, f"PENDING-{invoice_id}", account.pk, draft.profile.pk, run.period, run.issue_date, due,
        InvoiceStatus.DUE.value, account.currency, draft.subtotal, draft.tax_amount, total, Decimal(0), Decimal(0),
        None, "", str(terms), run.pk, revision_id, None, None, now,
    )  # fmt: skip


def _revision_row(item: tuple, now) -> tuple:
    invoice_id, revision_id, draft = item
    account = draft.profile.account
    return (
        revision_id, invoice_id, 1, account.language, draft.sold_to, draft.bill_to, account.vat_id, draft.po_number,
        draft.treatment.rate, draft.treatment.reverse_charge, str(draft.tax_note), "", None, "", "", None, None, now,
    )  # fmt: skip


def _mark_chunk_done(run: BillingRun, chunk_id: int, created: int, now) -> bool:
    """Mark the chunk done and count it on its run. False if it was done already: a
    second worker on the same chunk (a message delivered twice, a sweep) waits here on
    the chunk's row until the first commits, then finds it done."""
    if not BillingRunChunk.objects.filter(pk=chunk_id, done=False).update(
        done=True, done_at=now, invoices_created=created
    ):
        return False
    BillingRun.objects.filter(pk=run.pk).update(
        done_chunks=F("done_chunks") + 1, invoices_created=F("invoices_created") + created
    )
    BillingRun.objects.filter(pk=run.pk, status=BillingRunStatus.RUNNING, done_chunks__gte=F("total_chunks")).update(
        status=BillingRunStatus.FINISHED, finished_at=now
    )
    return True


def _issue(run: BillingRun, chunk_id: int | None, drafts: list[Draft]) -> list[int]:
    """Insert the drafted invoices with gap-free numbers. Must run inside a transaction.

    Chunks issue in parallel: every row is written and its foreign keys are checked
    first (ids taken beforehand, each invoice under a provisional number); only the tail
    holds the year's number-sequence row lock until the commit: one UPDATE that gives
    the invoices their numbers and payment references, the sequence moved on, the chunk
    marked done. A scope invoiced already is skipped; one being invoiced at the same
    time (a second worker on the chunk) meets the one-invoice-per-scope constraint."""
    invoiced = set(
        Invoice.objects.filter(period=run.period, profile_id__in=[d.profile.pk for d in drafts]).values_list(
            "profile_id", flat=True
        )
    )
    drafts = [d for d in drafts if d.profile.pk not in invoiced]
    now = clock.now()
    count = len(drafts)
    items = list(zip(allocate_ids(Invoice, count), allocate_ids(InvoiceRevision, count), drafts, strict=True))
    if items:
        insert_rows(Invoice, INVOICE_COLUMNS, [_invoice_row(run, item, now) for item in items])
        insert_rows(InvoiceRevision, REVISION_COLUMNS, [_revision_row(item, now) for item in items])
        insert_rows(InvoiceLine, LINE_COLUMNS, [(item[0], *line) for item in items for line in item[2].lines])
        check_foreign_keys()  # now, not at the commit under the lock
        year = run.issue_date.year
        sequence = locked_sequence(InvoiceNumberSequence, year)
        numbers = range(sequence.last_number + 1, sequence.last_number + 1 + count)
        update_rows(
            Invoice,
            ("number", "payment_reference"),
            [
                (item[0], invoice_number(year, n), payment_reference(year, n))
                for item, n in zip(items, numbers, strict=True)
            ],
        )
        InvoiceNumberSequence.objects.filter(year=year).update(last_number=numbers[-1])
    if chunk_id is not None and not _mark_chunk_done(run, chunk_id, count, now):
        transaction.set_rollback(True)  # a second worker on a done chunk: nothing of this stays
        return []
    invoice_ids = [item[0] for item in items]
    if invoice_ids:
        transaction.on_commit(functools.partial(_after_issue, invoice_ids))
    return invoice_ids


def _eligible_profile_ids(period: dt.date) -> list[int]:
    """Billing scopes with charges in ``period`` and no invoice for it yet."""
    return list(
        Charge.objects.filter(period=period)
        .exclude(profile_id__in=Invoice.objects.filter(period=period).values("profile_id"))
        .values_list("profile_id", flat=True)
        .distinct()
        .order_by("profile_id")
    )


def _enqueue_chunks(chunk_ids: list[int]) -> None:
    for chunk_id in chunk_ids:
        queue.publish("invoices.tasks.billing_process_chunk", chunk_id)


@transaction.atomic
def billing_run_start(
    *,
    period: dt.date,
    started_by=None,
    chunk_size: int = CHUNK_SIZE,
    enqueue: bool = True,
    issue_date: dt.date | None = None,
) -> BillingRun:
    """Start (or resume, or re-run) the billing run of a closed period.

    One invoice per billing scope with charges in the period. The scopes without an
    invoice yet are split into chunks of ``chunk_size``, each processed by one task
    (``billing_process_chunk``). Running it again creates invoices only for scopes that
    still have none, so nothing is created twice. ``enqueue=False`` leaves the chunks
    for the caller to process (``run_billing`` does, with a progress bar). The invoice
    date is the day the run first starts (``issue_date`` overrides it, for demo data)."""
    period = clock.month_start(period)
    if chunk_size < 1:
        raise InvalidInput(_("The chunk size must be at least 1."), code="invalid_chunk_size")
    if period >= clock.month_start(clock.today()):
        raise InvalidInput(
            _("The billing period %(period)s has not closed yet.") % {"period": f"{period:%Y-%m}"}, code="period_open"
        )
    run, _created = BillingRun.objects.get_or_create(
        period=period,
        defaults={"issue_date": issue_date or clock.today(), "started_by": started_by, "started_at": clock.now()},
    )
    run = BillingRun.objects.select_for_update().get(pk=run.pk)
    pending = list(run.chunks.filter(done=False).values_list("pk", flat=True))
    if not pending:
        profile_ids = _eligible_profile_ids(period)
        start = run.total_chunks
        chunks = [
            BillingRunChunk(
                run=run, index=start + i, profile_ids=profile_ids[offset : offset + chunk_size], enqueued_at=clock.now()
            )
            for i, offset in enumerate(range(0, len(profile_ids), chunk_size))
        ]
        BillingRunChunk.objects.bulk_create(chunks)
        pending = [c.pk for c in chunks]
        run.total_chunks += len(chunks)
        run.total_scopes += len(profile_ids)
        if chunks:
            run.status, run.finished_at = BillingRunStatus.RUNNING, None
        else:
            run.status, run.finished_at = BillingRunStatus.FINISHED, run.finished_at or clock.now()
        run.save(update_fields=["total_chunks", "total_scopes", "status", "finished_at"])
    else:
        BillingRunChunk.objects.filter(pk__in=pending).update(enqueued_at=clock.now())
    if enqueue and pending:
        transaction.on_commit(functools.partial(_enqueue_chunks, pending))
    return run


def billing_chunk_process(*, chunk_id: int) -> int:
    """Issue the invoices of one chunk. Idempotent: a done chunk, or scopes that already
    have an invoice, are skipped. Reads outside the transaction, writes in one short
    transaction; a constant number of queries whatever the chunk's content."""
    chunk = BillingRunChunk.objects.select_related("run").filter(pk=chunk_id).first()
    if chunk is None or chunk.done:
        return 0
    profiles = scopes_for(chunk.profile_ids)
    drafts = drafts_for(chunk.run.period, profiles)
    try:
        with transaction.atomic():
            refused = refused_marketplace_charges(chunk.run.period, profiles)
            Charge.objects.filter(pk__in=refused).update(not_billed_reason=MARKETPLACE_ON_INVOICE_SCOPE)
            return len(_issue(chunk.run, chunk.pk, drafts))
    except IntegrityError:
        # A second worker on the same chunk met the invoices of the first, which finished it.
        if BillingRunChunk.objects.filter(pk=chunk.pk, done=True).exists():
            return 0
        raise


def billing_run_start_closed_periods() -> BillingRun | None:
    """Beat: once the previous month has closed, start its billing run (if not yet)."""
    period = clock.previous_month(clock.month_start(clock.today()))
    if BillingRun.objects.filter(period=period).exists():
        return None
    return billing_run_start(period=period)
