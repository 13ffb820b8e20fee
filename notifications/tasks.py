"""Celery task of the notifications app: thin, takes an id, calls one service. Routed to
the "email" queue by its name (settings.CELERY_TASK_ROUTES, ``*.tasks.send_*``)."""

from celery import shared_task

from . import services


@shared_task(
    name=services.SEND_TASK,
    bind=True,
    autoretry_for=(Exception,),
    retry_backoff=30,
    retry_backoff_max=3600,
    max_retries=services.MAX_NOTIFICATION_ATTEMPTS,
)
def send_notification(self, notification_id: int) -> bool:
    return services.notification_send(notification_id=notification_id)
