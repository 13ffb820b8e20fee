"""Invitations to a billing scope (docs/rules.md, MEM-3): invite an e-mail address to
roles, revoke, and accept through the one-time link, by signing up or, signed in, as an
existing user. The checks, the lock and the record are those of ``accounts.members``."""

import datetime as dt
import secrets

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from billing_portal import clock
from billing_portal.card_numbers import refuse_card_numbers
from billing_portal.errors import Conflict, InvalidInput, NotAllowed

from . import permissions
from .members import (
    Scope,
    authorize,
    clean_roles,
    lock_scope,
    member_roles,
    record_change,
    scope_assignments,
    scope_of,
    scope_parts,
    send_member_mail,
)
from .models import Invitation, InvitationStatus, MemberAction, User
from .services import role_assign

INVITATION_DAYS = 7
_TOKEN_SALT = "accounts.members.invitation"


def invitation_token(invitation: Invitation) -> str:
    """The secret part of the invitation link: the id and an HMAC of the nonce under the
    secret key (the database alone cannot make a link)."""
    digest = salted_hmac(_TOKEN_SALT, f"{invitation.pk}:{invitation.nonce}", algorithm="sha256").hexdigest()
    return f"{invitation.pk}-{digest[:40]}"


def invitation_status(invitation: Invitation) -> str:
    """The status, with a pending invitation past its expiry counted as expired."""
    if invitation.status == InvitationStatus.PENDING and invitation.expires_at <= clock.now():
        return InvitationStatus.EXPIRED
    return invitation.status


def _clean_email(email) -> str:
    refuse_card_numbers({"email": email}, ("email",))
    email = str(email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        message = _("Enter a valid e-mail address.")
        raise InvalidInput(message, code="invalid_email", fields={"email": [message]}) from None
    return email


# --- Invitations (MEM-3) --------------------------------------------------------------------


@transaction.atomic
def member_invite(*, scope: Scope, email: str, roles, actor) -> Invitation:
    """Invite an e-mail address to roles on the scope: a one-time link, valid for
    ``INVITATION_DAYS`` days, is e-mailed (in the invitee's language if they have an
    account, else in the inviter's)."""
    email, roles = _clean_email(email), clean_roles(roles, scope)
    lock_scope(scope)
    authorize(actor, scope, roles)
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None and scope_assignments(scope).filter(user=existing).exists():
        message = _("%(email)s is already a member of this billing scope: change their roles instead.") % {
            "email": email
        }
        raise Conflict(message, code="already_member", fields={"email": [message]})
    account, profile = scope_parts(scope)
    earlier = Invitation.objects.filter(
        account=account, profile=profile, email__iexact=email, status=InvitationStatus.PENDING
    ).first()
    if earlier is not None and invitation_status(earlier) == InvitationStatus.PENDING:
        message = _("%(email)s is invited already. Revoke that invitation to send a new one.") % {"email": email}
        raise Conflict(message, code="already_invited", fields={"email": [message]})
    now = clock.now()
    if earlier is not None:
        Invitation.objects.filter(pk=earlier.pk).update(status=InvitationStatus.EXPIRED, closed_at=now)
    invitation = Invitation.objects.create(
        account=account,
        profile=profile,
        email=email,
        roles=roles,
        language=existing.language if existing is not None else actor.language,
        invited_by=actor,
        nonce=secrets.token_hex(16),
        created_at=now,
        expires_at=now + dt.timedelta(days=INVITATION_DAYS),
    )
    record_change(scope, MemberAction.INVITED, actor, email, member=existing, new=roles)
    send_member_mail(
        "member_invited",
        scope,
        recipient=email,
        language=invitation.language,
        dedupe_key=f"member_invited:{invitation.pk}",
        invitation_id=invitation.pk,  # the link is made when the e-mail is rendered
        actor_name=actor.get_full_name(),
        roles=roles,
        expires_at=invitation.expires_at.isoformat(),
    )
    return invitation


def _open_invitation(invitation: Invitation) -> Invitation:
    """The invitation locked, refused unless it is still open."""
    locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
    status = invitation_status(locked)
    if status == InvitationStatus.EXPIRED:
        raise Conflict(
            _("This invitation has expired. Ask an owner of the billing scope to invite you again."),
            code="invitation_expired",
        )
    if status != InvitationStatus.PENDING:
        raise Conflict(_("This invitation was used or revoked already."), code="invitation_closed")
    return locked


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor) -> Invitation:
    scope = scope_of(invitation)
    lock_scope(scope)
    authorize(actor, scope, invitation.roles)
    locked = _open_invitation(invitation)
    locked.status, locked.closed_at = InvitationStatus.REVOKED, clock.now()
    locked.save(update_fields=["status", "closed_at"])
    record_change(scope, MemberAction.INVITATION_REVOKED, actor, locked.email, old=locked.roles)
    invitation.status = locked.status
    return locked


def _join(invitation: Invitation, user: User) -> list[str]:
    """Give the invited roles, if the inviter may still grant them (MEM-2 holds at the
    moment the roles are given), and close the invitation."""
    scope = scope_of(invitation)
    inviter = invitation.invited_by
    if inviter is not None:
        permissions.forget_grants(inviter)
    if inviter is None or not set(invitation.roles) <= permissions.grantable_roles(inviter, scope):
        raise Conflict(
            _("The person who invited you can no longer give these roles. Ask an owner of the billing scope."),
            code="invitation_inviter_lost_rights",
        )
    account, profile = scope_parts(scope)
    old = member_roles(scope, user)
    for role in invitation.roles:
        role_assign(user=user, role=role, account=account, profile=profile)
    new = member_roles(scope, user)
    invitation.status, invitation.closed_at, invitation.accepted_by = InvitationStatus.ACCEPTED, clock.now(), user
    invitation.save(update_fields=["status", "closed_at", "accepted_by"])
    record_change(scope, MemberAction.JOINED, user, user.email, member=user, old=old, new=new)
    return new


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user) -> list[str]:
    """An existing user, signed in with the invited address, takes the invited roles."""
    lock_scope(scope_of(invitation))
    locked = _open_invitation(invitation)
    if not user.is_authenticated or user.email.lower() != locked.email.lower():
        raise NotAllowed(
            _("This invitation is for %(email)s. Sign in with that address to accept it.") % {"email": locked.email},
            code="invitation_other_user",
        )
    return _join(locked, user)


@transaction.atomic
def invitation_sign_up(*, invitation: Invitation, full_name: str, password: str, language: str) -> User:
    """Someone without an account accepts: the user is created with the invited address
    (the link proves it is theirs) and the password they chose, and takes the roles."""
    refuse_card_numbers({"full_name": full_name}, ("full_name",))
    full_name = str(full_name or "").strip()
    if not full_name or len(full_name) > 150:
        message = _("Enter your name (at most 150 characters).")
        raise InvalidInput(message, code="invalid_name", fields={"full_name": [message]})
    lock_scope(scope_of(invitation))
    locked = _open_invitation(invitation)
    if User.objects.filter(email__iexact=locked.email).exists():
        raise Conflict(
            _("There is an account with this e-mail address already: sign in to accept the invitation."),
            code="invitation_sign_in",
        )
    language = language if language in dict(settings.LANGUAGES) else "en"
    user = User(email=locked.email, full_name=full_name, language=language)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), code="invalid_password", fields={"password": exc.messages}) from None
    user = User.objects.create_user(email=locked.email, password=password, full_name=full_name, language=language)
    _join(locked, user)
    return user
