"""Celery tasks of the invoices app. Thin: take ids, call one service.

Routing is by name (settings.CELERY_TASK_ROUTES): ``billing_*`` to the "billing"
queue, ``render_*`` to "pdf", ``send_*`` to "email". Every task is idempotent, so a
message delivered twice (acks_late, a sweep) has the effect of one. The billing run
publishes its after-issue work as lists (one message per chunk and kind):
``render_invoice_pdfs``, ``send_invoices_ready``.
"""

import datetime as dt

from celery import shared_task

from billing_portal import clock

from . import services


@shared_task(name="invoices.tasks.send_invoices_ready", autoretry_for=(Exception,), retry_backoff=30, max_retries=5)
def send_invoices_ready(invoice_ids: list[int]) -> int:
    """The invoice-ready e-mails of a billing chunk's (or a sweep's) invoices."""
    return services.invoices_notify_ready(invoice_ids=invoice_ids)


@shared_task(name="invoices.tasks.render_invoice_pdf", autoretry_for=(Exception,), retry_backoff=30, max_retries=5)
def render_invoice_pdf(revision_id: int) -> bool:
    return services.invoice_revision_render_pdf(revision_id=revision_id)


@shared_task(name="invoices.tasks.render_invoice_pdfs", autoretry_for=(Exception,), retry_backoff=30, max_retries=5)
def render_invoice_pdfs(revision_ids: list[int]) -> int:
    """The PDFs of a billing chunk's (or a sweep's) revisions, each rendered once."""
    return services.invoice_revisions_render_pdf(revision_ids=revision_ids)


@shared_task(name="invoices.tasks.billing_process_chunk", autoretry_for=(Exception,), retry_backoff=10, max_retries=10)
def billing_process_chunk(chunk_id: int) -> int:
    return services.billing_chunk_process(chunk_id=chunk_id)


@shared_task(name="invoices.tasks.billing_start_run")
def billing_start_run(period: str) -> int:
    """Start the run of a period given as 'YYYY-MM'."""
    return services.billing_run_start(period=clock.require_period(period)).pk


@shared_task(name="invoices.tasks.billing_start_closed_periods")
def billing_start_closed_periods() -> int | None:
    run = services.billing_run_start_closed_periods()
    return run.pk if run else None


@shared_task(name="invoices.tasks.invoices_mark_past_due")
def invoices_mark_past_due() -> int:
    return services.invoices_mark_past_due()


@shared_task(name="invoices.tasks.sweep_unfinished_work")
def sweep_unfinished_work(older_than_seconds: int | None = None) -> dict:
    if older_than_seconds is None:
        return services.sweep_unfinished_work()
    return services.sweep_unfinished_work(older_than=dt.timedelta(seconds=older_than_seconds))


@shared_task(name="invoices.tasks.render_credit_note_pdf", autoretry_for=(Exception,), retry_backoff=30, max_retries=5)
def render_credit_note_pdf(credit_note_id: int) -> bool:
    return services.credit_note_render_pdf(credit_note_id=credit_note_id)
