"""Payment methods (cards), held as gateway tokens.

The portal never receives, stores or logs a card number or CVC: cards are entered on
the gateway's own page, which hands back a token. Only token, brand, last four
digits, expiry and holder (plus the card's billing address) are kept here.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField


class PaymentMethod(models.Model):
    account = models.ForeignKey("accounts.BillingAccount", on_delete=models.CASCADE, related_name="payment_methods")
    # The billing scope the card belongs to: the default profile of a web-direct
    # account, or a customer-agreement billing profile (PM-2).
    profile = models.ForeignKey("accounts.BillingProfile", on_delete=models.CASCADE, related_name="payment_methods")
    gateway = models.CharField(_("gateway"), max_length=32, default="sandbox")
    token = models.CharField(_("token"), max_length=64, unique=True)
    brand = models.CharField(_("brand"), max_length=32)
    last4 = models.CharField(_("last four digits"), max_length=4)
    exp_month = models.PositiveSmallIntegerField(_("expiry month"))
    exp_year = models.PositiveSmallIntegerField(_("expiry year"))
    holder_name = models.CharField(_("cardholder name"), max_length=150)
    address_line1 = models.CharField(_("billing address"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = CountryField(_("country"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("added"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    # Removed cards are kept (payments refer to them) but no longer offered.
    removed_at = models.DateTimeField(_("removed"), null=True, blank=True)

    class Meta:
        verbose_name = _("payment method")
        verbose_name_plural = _("payment methods")
        ordering = ["profile_id", "-created_at", "id"]
        indexes = [models.Index(fields=["profile", "removed_at"])]

    def __str__(self):
        return f"{self.brand} •••• {self.last4} ({self.exp_month:02d}/{self.exp_year})"

    @property
    def expiry(self) -> str:
        return f"{self.exp_month:02d}/{self.exp_year % 100:02d}"
