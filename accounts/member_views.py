"""Members pages of a billing account or billing profile (MEM-1 to MEM-6): the members
with their roles, the open invitations and the record of changes; invite, change roles,
remove (after a confirmation), revoke; and the invitation link's page, where the invitee
signs up or, signed in, accepts. Every change goes through ``accounts.members``."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from billing_portal.errors import DomainError
from billing_portal.forms import add_domain_error

from . import invitations, member_selectors, members, permissions
from .member_forms import InviteForm, RolesForm, SignUpForm
from .models import InvitationStatus, User

CHANGES_PER_PAGE = 25


def _members_url(scope) -> str:
    return members.scope_url(scope, "members")


def _posted(request):
    """The form data of a POST (even an empty one), None for a GET."""
    return request.POST if request.method == "POST" else None


def _scope_context(scope, **extra) -> dict:
    account, profile = members.scope_parts(scope)
    return {"scope": scope, "account": account, "is_profile": profile is not None, **extra}


def _post_scope(request, kind, pk):
    """The scope for a page that changes members: visible (404), with a role on it (403),
    and only its owners may post (403)."""
    scope = member_selectors.get_scope_for_user(request.user, kind, pk)
    if request.method == "POST":
        member_selectors.require_manager(request.user, scope)
    return scope


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def member_list(request, kind, pk):
    """The members, open invitations (owners) and changes of the scope; POST invites."""
    scope = _post_scope(request, kind, pk)
    can_manage = permissions.can_manage_members(request.user, scope)
    form = InviteForm(_posted(request), scope=scope) if can_manage else None
    if request.method == "POST" and form.is_valid():
        try:
            invitation = invitations.member_invite(
                scope=scope, email=form.cleaned_data["email"], roles=form.cleaned_data["roles"], actor=request.user
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(
                request, _("An invitation was sent to %(email)s. It is valid for 7 days.") % {"email": invitation.email}
            )
            return redirect(_members_url(scope))
    changes = Paginator(member_selectors.member_changes(scope), CHANGES_PER_PAGE).get_page(request.GET.get("page"))
    account = members.scope_parts(scope)[0]
    context = _scope_context(
        scope,
        members=list(member_selectors.members(scope)),
        invitations=list(member_selectors.open_invitations(scope)) if can_manage else [],
        changes=changes.object_list,
        page=changes,
        can_manage=can_manage,
        form=form,
        profiles=list(account.profiles.filter(is_default=False)) if scope is account else [],
    )
    return render(request, "accounts/members_list.html", context)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def member_edit(request, kind, pk, user_id):
    """Change a member's roles."""
    scope = _post_scope(request, kind, pk)
    member_selectors.require_manager(request.user, scope)
    member = member_selectors.get_member(scope, user_id)
    current = members.member_roles(scope, member)
    form = RolesForm(_posted(request), scope=scope, initial={"roles": current})
    if request.method == "POST" and form.is_valid():
        try:
            members.member_set_roles(scope=scope, member=member, roles=form.cleaned_data["roles"], actor=request.user)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The roles of %(email)s were saved.") % {"email": member.email})
            return redirect(_members_url(scope))
    context = _scope_context(scope, member=member, current=current, form=form)
    return render(request, "accounts/members_edit.html", context)


def _confirmed(request, scope, change, done: str):
    """The POST of a confirmation page: (a redirect once ``change`` is done, or the
    service's refusal to show on the page)."""
    if request.method != "POST":
        return None, None
    try:
        change()
    except DomainError as exc:
        return None, exc.message
    messages.success(request, done)
    if not permissions.can_view_members(request.user, scope):  # they removed themselves
        return redirect("accounts:overview"), None
    return redirect(_members_url(scope)), None


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def member_remove(request, kind, pk, user_id):
    """Remove a member from the scope, after a confirmation."""
    scope = _post_scope(request, kind, pk)
    member_selectors.require_manager(request.user, scope)
    member = member_selectors.get_member(scope, user_id)
    done, error = _confirmed(
        request,
        scope,
        lambda: members.member_remove(scope=scope, member=member, actor=request.user),
        _("%(email)s was removed.") % {"email": member.email},
    )
    context = _scope_context(scope, member=member, roles=members.member_roles(scope, member), error=error)
    return done or render(request, "accounts/members_remove.html", context)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def invitation_revoke(request, kind, pk, invitation_id):
    """Revoke an open invitation, after a confirmation: its link stops working."""
    scope = _post_scope(request, kind, pk)
    member_selectors.require_manager(request.user, scope)
    invitation = member_selectors.get_open_invitation(scope, invitation_id)
    done, error = _confirmed(
        request,
        scope,
        lambda: invitations.invitation_revoke(invitation=invitation, actor=request.user),
        _("The invitation of %(email)s was revoked.") % {"email": invitation.email},
    )
    context = _scope_context(scope, invitation=invitation, error=error)
    return done or render(request, "accounts/members_revoke.html", context)


def _accept(request, invitation):
    """POST of the invitation page: sign up (no account yet) or accept (signed in)."""
    if request.user.is_authenticated:
        invitations.invitation_accept(invitation=invitation, user=request.user)
        return None
    form = SignUpForm(request.POST)
    if not form.is_valid():
        return form
    try:
        user = invitations.invitation_sign_up(
            invitation=invitation,
            full_name=form.cleaned_data["full_name"],
            password=form.cleaned_data["password"],
            language=get_language(),
        )
    except DomainError as exc:
        if exc.code not in ("invalid_name", "invalid_password", "card_number_refused"):
            raise
        add_domain_error(form, exc)
        return form
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return None


@require_http_methods(["GET", "HEAD", "POST"])
def invitation(request, token):
    """The page of an invitation link (MEM-3). Without an account: a name and a password;
    with one: sign in, then accept. Someone signed in with another address is told so."""
    invitation = member_selectors.invitation_for_token(token)
    status = invitations.invitation_status(invitation)
    has_account = User.objects.filter(email__iexact=invitation.email).exists()
    user = request.user
    other_user = user.is_authenticated and user.email.lower() != invitation.email.lower()
    form, error = None, None
    if request.method == "POST" and status == InvitationStatus.PENDING and not other_user:
        if has_account and not user.is_authenticated:
            raise PermissionDenied
        try:
            form = _accept(request, invitation)
        except DomainError as exc:
            invitation.refresh_from_db()  # used or revoked meanwhile, perhaps
            error, status = exc.message, invitations.invitation_status(invitation)
        else:
            if form is None:
                scope = members.scope_of(invitation)
                messages.success(request, _("Welcome. Your roles on %(scope)s are ready.") % {"scope": scope})
                return redirect("accounts:overview")
    if form is None and not has_account and not user.is_authenticated:
        form = SignUpForm()
    context = {
        "invitation": invitation,
        "scope": members.scope_of(invitation),
        "status": status,
        "has_account": has_account,
        "other_user": other_user,
        "form": form,
        "error": error,
        "sign_in_url": f"{reverse('accounts:login')}?next={request.path}",
    }
    return render(request, "accounts/members_invitation.html", context, status=403 if other_user else 200)
