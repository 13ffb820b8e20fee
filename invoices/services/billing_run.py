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

from django.db import transaction
from django.db.models import F, OuterRef, Subquery
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
from .rows import INVOICE_COLUMNS, LINE_COLUMNS, REVISION_COLUMNS, insert_rows

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


def _invoice_row(run: BillingRun, draft: Draft, sequence: int, now) -> tuple:
    year = run.issue_date.year
    account = draft.profile.account
    terms = payment_terms_for(draft.profile)
    due = run.issue_date + dt.timedelta(days=PAYMENT_DAYS) if terms == PaymentTerms.BANK_TRANSFER else run.issue_date
    total = draft.subtotal + draft.tax_amount
    return (
        invoice_number(year, sequence), account.pk, draft.profile.pk, run.period, run.issue_date, due,
        InvoiceStatus.DUE.value, account.currency, draft.subtotal, draft.tax_amount, total, Decimal(0), Decimal(0),
        None, payment_reference(year, sequence), str(terms), run.pk, None, None, None, now,
    )  # fmt: skip


def _revision_row(invoice_id: int, draft: Draft, now) -> tuple:
    account = draft.profile.account
    return (
        invoice_id, 1, account.language, draft.sold_to, draft.bill_to, account.vat_id, draft.po_number,
        draft.treatment.rate, draft.treatment.reverse_charge, draft.tax_note, "", None, "", None, now,
    )  # fmt: skip


def _insert_invoices(run: BillingRun, drafts: list[Draft], first_sequence: int, now) -> list[int]:
    """Insert invoices, their first revisions and lines; numbers from ``first_sequence``."""
    rows = [_invoice_row(run, draft, first_sequence + i, now) for i, draft in enumerate(drafts)]
    invoice_ids = insert_rows(Invoice, INVOICE_COLUMNS, rows, returning=True)
    pairs = list(zip(invoice_ids, drafts, strict=True))
    insert_rows(InvoiceRevision, REVISION_COLUMNS, [_revision_row(pk, draft, now) for pk, draft in pairs])
    Invoice.objects.filter(pk__in=invoice_ids).update(
        current_revision=Subquery(InvoiceRevision.objects.filter(invoice_id=OuterRef("pk"), number=1).values("pk")[:1])
    )
    insert_rows(InvoiceLine, LINE_COLUMNS, [(pk, *line) for pk, draft in pairs for line in draft.lines])
    return invoice_ids


def _mark_chunk_done(run: BillingRun, chunk_id: int, created: int, now) -> None:
    BillingRunChunk.objects.filter(pk=chunk_id).update(done=True, done_at=now, invoices_created=created)
    BillingRun.objects.filter(pk=run.pk).update(
        done_chunks=F("done_chunks") + 1, invoices_created=F("invoices_created") + created
    )
    BillingRun.objects.filter(pk=run.pk, status=BillingRunStatus.RUNNING, done_chunks__gte=F("total_chunks")).update(
        status=BillingRunStatus.FINISHED, finished_at=now
    )


def _issue(run: BillingRun, chunk_id: int | None, drafts: list[Draft]) -> list[int]:
    """Insert the drafted invoices with gap-free numbers. Must run inside a transaction;
    holds the year's number-sequence row lock until it commits (a few bulk inserts)."""
    year = run.issue_date.year
    sequence = locked_sequence(InvoiceNumberSequence, year)
    # Under the lock, every earlier issuer has committed: re-read what exists.
    if chunk_id is not None and BillingRunChunk.objects.filter(pk=chunk_id, done=True).exists():
        return []
    existing = set(
        Invoice.objects.filter(period=run.period, profile_id__in=[d.profile.pk for d in drafts]).values_list(
            "profile_id", flat=True
        )
    )
    drafts = [d for d in drafts if d.profile.pk not in existing]
    now = clock.now()
    invoice_ids = []
    if drafts:
        invoice_ids = _insert_invoices(run, drafts, sequence.last_number + 1, now)
        InvoiceNumberSequence.objects.filter(year=year).update(last_number=sequence.last_number + len(drafts))
    if chunk_id is not None:
        _mark_chunk_done(run, chunk_id, len(invoice_ids), now)
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
    with transaction.atomic():
        refused = refused_marketplace_charges(chunk.run.period, profiles)
        Charge.objects.filter(pk__in=refused).update(not_billed_reason=MARKETPLACE_ON_INVOICE_SCOPE)
        return len(_issue(chunk.run, chunk.pk, drafts))


def billing_run_start_closed_periods() -> BillingRun | None:
    """Beat: once the previous month has closed, start its billing run (if not yet)."""
    period = clock.previous_month(clock.month_start(clock.today()))
    if BillingRun.objects.filter(period=period).exists():
        return None
    return billing_run_start(period=period)
