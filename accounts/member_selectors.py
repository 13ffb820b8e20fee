"""Reads of the members pages and API (MEM-1, MEM-6). A scope the user cannot see is a
404, like one that does not exist; a scope they see without a role on it is a 403."""

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils.crypto import constant_time_compare

from . import permissions, selectors
from .invitations import invitation_token
from .members import Scope, scope_assignments, scope_parts
from .models import Invitation, InvitationStatus, MemberChange, User


def get_scope_for_user(user, kind: str, pk) -> Scope:
    """The billing account (``kind`` "account") or billing profile whose members the user
    may see."""
    if kind == "profile":
        scope = selectors.get_profile_for_user(user, pk)
    else:
        scope = selectors.get_account_for_user(user, pk)
    if not permissions.scope_roles(scope):  # a default profile: its account has the members
        raise Http404
    if not permissions.can_view_members(user, scope):
        raise PermissionDenied
    return scope


def require_manager(user, scope: Scope) -> None:
    """For what only the owners see (invitations, the forms): a 403 for the others."""
    if not permissions.can_manage_members(user, scope):
        raise PermissionDenied


def members(scope: Scope) -> QuerySet[User]:
    """The users with a role on the scope, by e-mail address; each with
    ``scope_assignments``, their assignments on it (one query for the page)."""
    assignments = scope_assignments(scope)
    return (
        User.objects.filter(pk__in=assignments.values("user_id"))
        .order_by("email", "pk")
        .prefetch_related(Prefetch("role_assignments", queryset=assignments, to_attr="scope_assignments"))
    )


def get_member(scope: Scope, user_id) -> User:
    try:
        return members(scope).get(pk=int(user_id))
    except (User.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def open_invitations(scope: Scope) -> QuerySet[Invitation]:
    """Invitations not accepted or revoked (the expired ones too, to invite again)."""
    account, profile = scope_parts(scope)
    return (
        Invitation.objects.filter(account=account, profile=profile, status=InvitationStatus.PENDING)
        .select_related("invited_by")
        .order_by("-created_at", "-pk")
    )


def get_open_invitation(scope: Scope, invitation_id) -> Invitation:
    try:
        return open_invitations(scope).get(pk=int(invitation_id))
    except (Invitation.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def member_changes(scope: Scope) -> QuerySet[MemberChange]:
    """MEM-6: the record of the scope's member changes, newest first."""
    account, profile = scope_parts(scope)
    return (
        MemberChange.objects.filter(account=account, profile=profile)
        .select_related("actor", "member")
        .order_by("-created_at", "-pk")
    )


def invitation_for_token(token: str) -> Invitation:
    """The invitation of a link, whatever its state (the page says it), or a 404 for a
    link that is not one."""
    pk, _sep, _digest = str(token or "").partition("-")
    if not (pk.isascii() and pk.isdigit()) or len(pk) > 18:
        raise Http404
    invitation = (
        Invitation.objects.select_related("account", "profile", "profile__account", "invited_by")
        .filter(pk=int(pk))
        .first()
    )
    if invitation is None or not constant_time_compare(invitation_token(invitation), token):
        raise Http404
    return invitation
