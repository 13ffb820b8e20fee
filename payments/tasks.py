"""Celery tasks of the payments app. Thin: take ids, call one service; idempotent.

Beat (billing_portal/settings.py): ``payments_reconcile_pending`` every 15 minutes,
``payments_retry_declined`` every hour (the dunning schedule itself is in
``services.collection.RETRY_SCHEDULE_DAYS``: 1, 3 and 7 days after the first decline),
``payments_process_webhook_events`` every minute (stored Stripe events still unprocessed).
"""

from celery import shared_task

from . import services


@shared_task(
    name="payments.tasks.payments_charge_invoice", autoretry_for=(ConnectionError,), retry_backoff=30, max_retries=5
)
def payments_charge_invoice(invoice_id: int) -> int | None:
    """Charge a newly issued card-paying invoice to the scope's active card (once)."""
    payment = services.invoice_charge_automatically(invoice_id=invoice_id)
    return payment.pk if payment else None


@shared_task(
    name="payments.tasks.payments_charge_invoices", autoretry_for=(ConnectionError,), retry_backoff=30, max_retries=5
)
def payments_charge_invoices(invoice_ids: list[int]) -> int:
    """The automatic charges of a billing chunk's card-paying invoices (each once)."""
    return services.invoices_charge_automatically(invoice_ids=invoice_ids)


@shared_task(name="payments.tasks.payments_reconcile_pending")
def payments_reconcile_pending() -> int:
    return services.payments_reconcile_pending()


@shared_task(name="payments.tasks.payments_charge_missed")
def payments_charge_missed() -> int:
    return services.payments_charge_missed()


@shared_task(name="payments.tasks.payments_retry_declined")
def payments_retry_declined() -> int:
    return services.payments_retry_declined()


@shared_task(name="payments.tasks.payments_process_webhook_event")
def payments_process_webhook_event(event_id: int) -> bool:
    """Process one stored Stripe webhook event (once; a repeat does nothing)."""
    event = services.webhook_event_process(event_id=event_id)
    return bool(event and event.processed_at)


@shared_task(name="payments.tasks.payments_process_webhook_events")
def payments_process_webhook_events() -> int:
    return services.webhook_events_process_pending()
