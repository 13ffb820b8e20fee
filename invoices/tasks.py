"""Celery tasks of the invoices app. Thin: take ids, call one service."""

from celery import shared_task
from django.db import transaction

from . import services


@shared_task(
    name="invoices.tasks.send_notification",
    bind=True,
    autoretry_for=(Exception,),
    retry_backoff=30,
    retry_backoff_max=3600,
    max_retries=services.MAX_NOTIFICATION_ATTEMPTS,
)
def send_notification(self, notification_id: int) -> bool:
    return services.notification_send(notification_id=notification_id)


__all__ = ["send_notification", "transaction"]
