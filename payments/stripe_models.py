"""Records of the Stripe adapter (payments/stripe_gateway.py) and of its webhooks.

They are part of ``payments.models`` (imported there), kept in their own module so that
the app's own models stay readable. No card data: Stripe's ids, amounts and states.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class StripeRequest(models.Model):
    """A PaymentIntent or Refund the adapter asked Stripe for, by the portal's
    idempotency key: written *before* the request is sent, completed with Stripe's id
    once the answer arrives. A charge or refund whose answer was lost (a timeout) is
    found again at Stripe by the key in its metadata; a repeat with the same key never
    creates a second one, even where the server does not honour ``Idempotency-Key``."""

    PAYMENT_INTENT = "payment_intent"
    REFUND = "refund"

    idempotency_key = models.CharField(max_length=128, unique=True)
    kind = models.CharField(max_length=16)  # payment_intent / refund
    # Stripe's id, once known ("" while the answer is outstanding or was lost).
    object_id = models.CharField(max_length=64, blank=True, db_index=True)
    # The PaymentIntent itself, or the one a refund gives money back from.
    payment_intent = models.CharField(max_length=64, blank=True)
    payment_method = models.CharField(max_length=64, blank=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("Stripe request")
        verbose_name_plural = _("Stripe requests")

    def __str__(self):
        return f"{self.kind} {self.idempotency_key}: {self.object_id or '?'}"


class WebhookEvent(models.Model):
    """One event Stripe delivered to the webhook endpoint, stored once by its id (a
    repeated delivery finds it) and processed once; the sweeper processes stored events
    that are still unprocessed (a lost task, an error)."""

    event_id = models.CharField(_("event id"), max_length=100, unique=True)
    type = models.CharField(_("type"), max_length=100)
    # The object the event is about (a PaymentIntent, charge, dispute, ...), as delivered.
    payload = models.JSONField(_("payload"), default=dict)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["processed_at", "received_at"], name="webhook_unprocessed")]

    def __str__(self):
        return f"{self.event_id} ({self.type})"
