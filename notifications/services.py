"""E-mail notifications, for every app.

Any part of the portal that must e-mail someone calls ``notification_queue``; the Celery
task ``notifications.tasks.send_notification`` renders and sends it after the
transaction commits. Each notification is sent at most once: the row is unique on
``dedupe_key`` and the sender checks and flips its status under a row lock. A failed
send is recorded and retried with back-off (the task), up to
``MAX_NOTIFICATION_ATTEMPTS``; a notification left pending by a lost message is sent
again by the sweeper (``notifications_pending``).
"""

import datetime as dt
import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from billing_portal import clock, queue
from billing_portal.db import insert_once

from . import hooks
from .models import Notification, NotificationStatus

logger = logging.getLogger(__name__)

MAX_NOTIFICATION_ATTEMPTS = 5
SEND_TASK = "notifications.tasks.send_notification"


def unique_recipients(candidates: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """(e-mail, language) pairs without blanks and without the same address twice
    (case and surrounding spaces ignored); the first pair of an address wins, and a
    blank language is English."""
    seen, recipients = set(), []
    for email, language in candidates:
        key = (email or "").strip().lower()
        if key and key not in seen:
            seen.add(key)
            recipients.append((key, language or "en"))
    return recipients


def notification_queue(
    *,
    kind: str,
    recipient: str,
    dedupe_key: str,
    language: str = "en",
    context: dict | None = None,
    account=None,
    invoice=None,
) -> Notification | None:
    """Record an e-mail to send once and enqueue it when the transaction commits.

    ``context`` must be JSON-serialisable (ids, strings, numbers as strings). Returns
    the new notification, or ``None`` if one with this ``dedupe_key`` already exists.
    """
    if not recipient:
        return None
    notification = Notification(
        kind=kind,
        recipient=recipient,
        dedupe_key=dedupe_key[:200],
        language=language if language in dict(settings.LANGUAGES) else "en",
        context=context or {},
        account=account,
        invoice=invoice,
    )
    if not insert_once(notification, unique=("dedupe_key",)):
        return None
    queue.publish_on_commit(SEND_TASK, notification.pk)
    return notification


def render_notification(notification: Notification) -> tuple[str, str, str]:
    """Subject, plain text and HTML of a notification, in the recipient's language."""
    context = {**notification.context, "portal_base_url": settings.PORTAL_BASE_URL, "notification": notification}
    with translation.override(notification.language):
        for extra in hooks.render_context(notification=notification):
            context.update(extra)
        subject = render_to_string(f"emails/{notification.kind}/subject.txt", context).strip()
        text = render_to_string(f"emails/{notification.kind}/body.txt", context)
        html = render_to_string(f"emails/{notification.kind}/body.html", context)
    return " ".join(subject.split()), text, html


def notification_send(*, notification_id: int) -> bool:
    """Send one notification if it is still pending. Returns True if it was sent now.

    The row is locked while sending so that two workers handling the same message
    cannot both send it; a failure is recorded and re-raised so that the task retries.
    """
    failure = None
    with transaction.atomic():
        notification = Notification.objects.select_for_update().filter(pk=notification_id).first()
        if notification is None or notification.status == NotificationStatus.SENT:
            return False
        subject, text, html = render_notification(notification)
        message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [notification.recipient])
        message.attach_alternative(html, "text/html")
        for files in hooks.attachments(notification=notification):
            for filename, content, mimetype in files:
                message.attach(filename, content, mimetype)
        notification.attempts += 1
        try:
            message.send()
        except Exception as exc:  # noqa: BLE001 - any transport error; re-raised below
            # Recorded (the transaction commits), then re-raised below so that the task retries.
            failure = exc
            notification.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if notification.attempts >= MAX_NOTIFICATION_ATTEMPTS:
                notification.status = NotificationStatus.FAILED
            notification.save(update_fields=["attempts", "last_error", "status"])
            logger.warning("notification %s failed: %s", notification.pk, notification.last_error)
        else:
            notification.status = NotificationStatus.SENT
            notification.sent_at = clock.now()
            notification.last_error = ""
            notification.save(update_fields=["attempts", "status", "sent_at", "last_error"])
            hooks.sent(notification=notification)
    if failure is not None:
        raise failure
    return True


def notifications_pending(*, cutoff: dt.datetime, limit: int) -> list[int]:
    """The sweeper's part: ids of notifications still pending since before ``cutoff``
    (a lost message), oldest first, published again. The sender is idempotent."""
    ids = list(
        Notification.objects.filter(status=NotificationStatus.PENDING, created_at__lte=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    for notification_id in ids:
        queue.publish(SEND_TASK, notification_id)
    return ids
