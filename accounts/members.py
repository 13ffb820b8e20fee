"""Members of a billing scope: change their roles, remove them (docs/rules.md, MEM-1 to
MEM-6), and what the invitations (``accounts.invitations``) share with these services.

A scope is a billing account or a billing profile of a customer agreement. Every service
locks the scope's account row first, so that two changes to one account's members run
one after the other; under that lock it reads the actor's roles again and asks
``permissions.grantable_roles`` (MEM-2), and the last-owner check (MEM-4) sees what the
other change did. Every change is recorded (``MemberChange``, MEM-6); the member is told
by e-mail through ``hooks.send_email`` (the notifications app sends it after commit).
"""

from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from billing_portal import clock
from billing_portal.errors import Conflict, InvalidInput, NotAllowed

from . import hooks, permissions
from .models import (
    BillingAccount,
    BillingProfile,
    Invitation,
    MemberAction,
    MemberChange,
    RoleAssignment,
    User,
)
from .roles import Role
from .services import refuse_roles_outside_scope, role_assign

Scope = BillingAccount | BillingProfile


# --- Scopes, roles and links ----------------------------------------------------------------


def scope_parts(scope: Scope) -> tuple[BillingAccount, BillingProfile | None]:
    """(account, profile) of a scope; the profile is None for a billing account."""
    return (scope.account, scope) if isinstance(scope, BillingProfile) else (scope, None)


def scope_of(row: Invitation | MemberChange) -> Scope:
    return row.profile if row.profile_id else row.account


def scope_url(scope: Scope, name: str, *args) -> str:
    """The path of a members page of the scope: ``members``, ``member``, ``member_remove``,
    ``invitation_revoke`` (accounts/urls.py)."""
    kind = "profile" if isinstance(scope, BillingProfile) else "account"
    return reverse(f"accounts:{kind}_{name}", args=[scope.pk, *args])


def scope_assignments(scope: Scope) -> QuerySet[RoleAssignment]:
    """The role assignments on the scope itself (for a profile: not the account's)."""
    account, profile = scope_parts(scope)
    return RoleAssignment.objects.filter(account=account, profile=profile)


def ordered_roles(roles) -> list[str]:
    """Role codes in the order of ``Role`` (owners first), without repeats."""
    wanted = set(roles)
    return [role for role in Role.values if role in wanted]


def role_names(roles) -> str:
    """Role codes named in the active language: "Billing account owner, Billing account reader"."""
    labels = dict(Role.choices)
    return ", ".join(str(labels[role]) for role in ordered_roles(roles or []))


def member_roles(scope: Scope, user) -> list[str]:
    return ordered_roles(scope_assignments(scope).filter(user=user).values_list("role", flat=True))


# --- Checks shared by the services ----------------------------------------------------------


def lock_scope(scope: Scope) -> None:
    account, _profile = scope_parts(scope)
    BillingAccount.objects.select_for_update().get(pk=account.pk)


def authorize(actor, scope: Scope, roles=()) -> None:
    """MEM-1, MEM-2, under the lock: the actor's roles read again; refused unless they
    may grant (so change and remove) each of ``roles`` on the scope."""
    if actor is not None:
        permissions.forget_grants(actor)
    grantable = permissions.grantable_roles(actor, scope)
    if not grantable:
        raise NotAllowed(_("Your role cannot change the members of this billing scope."), code="members_not_allowed")
    if set(roles) - grantable:
        message = _("You cannot give or take away a role beyond your own rights on this billing scope.")
        raise NotAllowed(message, code="role_not_grantable", fields={"roles": [message]})


def clean_roles(roles, scope: Scope) -> list[str]:
    roles = list(roles or [])
    if not roles:
        message = _("Choose at least one role.")
        raise InvalidInput(message, code="roles_required", fields={"roles": [message]})
    refuse_roles_outside_scope(roles, scope)
    return ordered_roles(roles)


def _owners_left(scope: Scope, member) -> bool:
    """MEM-4: whether an active owner of the scope other than ``member`` remains (for a
    billing profile, a billing account owner counts too)."""
    account, profile = scope_parts(scope)
    owners = Q(profile__isnull=True, role__in=permissions.scope_owner_roles(account))
    if profile is not None:
        owners |= Q(profile=profile, role__in=permissions.scope_owner_roles(profile))
    remaining = RoleAssignment.objects.filter(owners, account=account, user__is_active=True).exclude(user=member)
    return remaining.exists()


def _refuse_losing_owner(scope: Scope, member, old, new) -> None:
    """MEM-4, MEM-5: the last owner of a scope, or the user who signed up, keeps the
    owner role."""
    if not (set(old) - set(new)) & permissions.scope_owner_roles(scope):
        return
    account, profile = scope_parts(scope)
    if profile is None and permissions.keeps_owner_role(member, account):
        raise Conflict(
            _("%(email)s signed up for this billing account and keeps its owner role.") % {"email": member.email},
            code="signup_user_keeps_owner",
        )
    if not _owners_left(scope, member):
        raise Conflict(
            _("%(email)s is the last owner of this billing scope: make someone else an owner first.")
            % {"email": member.email},
            code="last_owner",
        )


def record_change(scope: Scope, action: str, actor, email: str, *, member=None, old=(), new=()) -> MemberChange:
    account, profile = scope_parts(scope)
    return MemberChange.objects.create(
        account=account,
        profile=profile,
        action=action,
        actor=actor,
        actor_email=getattr(actor, "email", "") or "",
        member=member,
        member_email=email,
        old_roles=list(old),
        new_roles=list(new),
        created_at=clock.now(),
    )


def send_member_mail(kind: str, scope: Scope, *, recipient: str, language: str, dedupe_key: str, **context) -> None:
    context.update(scope_name=str(scope), members_path=scope_url(scope, "members"))
    account, _profile = scope_parts(scope)
    hooks.send_email(
        kind=kind, recipient=recipient, dedupe_key=dedupe_key, language=language, context=context, account=account
    )


def _tell_member(change: MemberChange, kind: str, member, scope: Scope) -> None:
    """MEM-6: the member sees the change of their roles in an e-mail."""
    if member.is_active:
        send_member_mail(
            kind,
            scope,
            recipient=member.email,
            language=member.language,
            dedupe_key=f"{kind}:{change.pk}",
            actor_name=change.actor.get_full_name(),
            old_roles=change.old_roles,
            new_roles=change.new_roles,
        )


# --- Members (MEM-2, MEM-4, MEM-6) ------------------------------------------------------------


def _current_roles(scope: Scope, member) -> list[str]:
    roles = member_roles(scope, member)
    if not roles:
        raise InvalidInput(_("This user is not a member of this billing scope."), code="not_a_member")
    return roles


@transaction.atomic
def member_set_roles(*, scope: Scope, member: User, roles, actor) -> list[str]:
    """Give a member exactly ``roles`` on the scope (an owner keeps the scope's last
    owner role); unchanged roles change nothing."""
    roles = clean_roles(roles, scope)
    lock_scope(scope)
    old = _current_roles(scope, member)
    authorize(actor, scope, {*old, *roles})
    if old == roles:
        return old
    _refuse_losing_owner(scope, member, old, roles)
    account, profile = scope_parts(scope)
    scope_assignments(scope).filter(user=member).exclude(role__in=roles).delete()
    for role in set(roles) - set(old):
        role_assign(user=member, role=role, account=account, profile=profile)
    permissions.forget_grants(member)
    permissions.forget_grants(actor)  # perhaps the same user, as another object
    change = record_change(scope, MemberAction.ROLES_CHANGED, actor, member.email, member=member, old=old, new=roles)
    _tell_member(change, "member_roles_changed", member, scope)
    return roles


@transaction.atomic
def member_remove(*, scope: Scope, member: User, actor) -> None:
    """Take every role of the member on the scope (roles on other scopes stay)."""
    lock_scope(scope)
    old = _current_roles(scope, member)
    authorize(actor, scope, old)
    _refuse_losing_owner(scope, member, old, [])
    scope_assignments(scope).filter(user=member).delete()
    permissions.forget_grants(member)
    permissions.forget_grants(actor)  # perhaps the same user, as another object
    change = record_change(scope, MemberAction.REMOVED, actor, member.email, member=member, old=old)
    _tell_member(change, "member_removed", member, scope)
