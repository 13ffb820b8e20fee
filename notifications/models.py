from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Notification(models.Model):
    """One e-mail to one recipient, sent once.

    ``dedupe_key`` makes "send once" hold even when the code that asks for it runs twice
    (a retried task, a re-run billing period): the second request finds the row and
    does nothing. Rendering uses ``emails/<kind>/subject.txt``, ``body.txt`` and
    ``body.html`` in the recipient's language; the app that sends a kind keeps its
    templates, and the HTML bodies extend this app's ``emails/base.html``.

    The account and the invoice a notification is about are lazy references: this app
    imports no app above it (docs/architecture.md).
    """

    kind = models.CharField(_("kind"), max_length=64)
    dedupe_key = models.CharField(_("de-duplication key"), max_length=200, unique=True)
    recipient = models.EmailField(_("recipient"))
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="en")
    context = models.JSONField(_("context"), default=dict)
    account = models.ForeignKey(
        "accounts.BillingAccount", on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    invoice = models.ForeignKey(
        "invoices.Invoice", on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="notification_status_created")]

    def __str__(self):
        return f"{self.kind} → {self.recipient}"
