"""API tokens: named, with an expiry, stored as a hash of the key only.

A script authenticates with ``Authorization: Token <key>`` (accounts.token_auth). The
key is shown once, when the token is made (the API tokens page, or the token endpoint
``POST /api/v1/auth/token/``); the portal keeps only its SHA-256 (``key_hash``) and its
first characters (``prefix``) so that the owner can tell their tokens apart. Rules and
services: accounts.api_tokens; docs/operations.md, "API tokens".

Imported by accounts.models, so that Django registers the model with the accounts app.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApiTokenOrigin(models.TextChoices):
    PAGE = "page", _("API tokens page")
    SIGN_IN = "sign_in", _("Token endpoint")
    CARRIED_OVER = "carried_over", _("Carried over from the earlier token")


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("key begins with"), max_length=8, editable=False)
    origin = models.CharField(_("made on"), max_length=16, choices=ApiTokenOrigin.choices)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    # Every token expires: there is no token for ever (docs/operations.md).
    expires_at = models.DateTimeField(_("expires"))
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        indexes = [models.Index(fields=["user", "-created_at"], name="api_token_user_created")]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"
