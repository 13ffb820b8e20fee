"""Members of a billing scope: invitations and the record of every change (MEM-3, MEM-6).

A scope is a billing account (``profile`` empty) or one billing profile of a customer
agreement, as for ``RoleAssignment``. Imported by ``accounts.models``; relations to the
other models of the app are lazy references.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class InvitationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    REVOKED = "revoked", _("Revoked")
    EXPIRED = "expired", _("Expired")


class Invitation(models.Model):
    """An e-mail address invited to roles on a scope, accepted once through a link.

    The link carries the id and an HMAC of ``nonce`` under the portal's secret key
    (``accounts.invitations.invitation_token``): the database alone does not hold it. A
    pending invitation past ``expires_at`` counts as expired.
    """

    account = models.ForeignKey("accounts.BillingAccount", on_delete=models.CASCADE, related_name="invitations")
    profile = models.ForeignKey(
        "accounts.BillingProfile", on_delete=models.CASCADE, related_name="invitations", null=True, blank=True
    )
    email = models.EmailField(_("e-mail address"))
    roles = models.JSONField(_("roles"), default=list)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="en")
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("invited by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="invitations_sent",
    )
    nonce = models.CharField(max_length=64, editable=False)
    status = models.CharField(
        _("status"), max_length=16, choices=InvitationStatus.choices, default=InvitationStatus.PENDING
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("accepted by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitations_accepted",
    )

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One open invitation per address and scope.
            models.UniqueConstraint(
                Lower("email"),
                "account",
                condition=Q(status="pending", profile__isnull=True),
                name="invitation_pending_account_unique",
            ),
            models.UniqueConstraint(
                Lower("email"),
                "profile",
                condition=Q(status="pending", profile__isnull=False),
                name="invitation_pending_profile_unique",
            ),
        ]

    def __str__(self):
        return self.email


class MemberAction(models.TextChoices):
    INVITED = "invited", _("Invited")
    INVITATION_REVOKED = "invitation_revoked", _("Invitation revoked")
    JOINED = "joined", _("Joined")
    ROLES_CHANGED = "roles_changed", _("Roles changed")
    REMOVED = "removed", _("Removed")


class MemberChange(models.Model):
    """Who changed whose roles on a scope, when, from what to what (MEM-6). The e-mail
    addresses are kept as they were, should a user be deleted later."""

    account = models.ForeignKey("accounts.BillingAccount", on_delete=models.CASCADE, related_name="member_changes")
    profile = models.ForeignKey(
        "accounts.BillingProfile", on_delete=models.CASCADE, related_name="member_changes", null=True, blank=True
    )
    action = models.CharField(_("action"), max_length=32, choices=MemberAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    actor_email = models.EmailField(_("by (e-mail address)"))
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("member"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    member_email = models.EmailField(_("member (e-mail address)"))
    old_roles = models.JSONField(_("roles before"), default=list)
    new_roles = models.JSONField(_("roles after"), default=list)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("member change")
        verbose_name_plural = _("member changes")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "profile", "created_at"], name="member_change_scope")]

    def __str__(self):
        return f"{self.get_action_display()}: {self.member_email}"
