"""Template helpers of the members pages and e-mails: role names in the language being
rendered, the paths of a scope's members pages, the invitation link."""

from django import template
from django.urls import reverse
from django.utils.dateparse import parse_datetime

from accounts import invitations, members
from accounts.models import Invitation

register = template.Library()


@register.filter
def role_labels(roles) -> str:
    return members.role_names(roles)


@register.filter
def scope_role_codes(user) -> list[str]:
    """The role codes of a member row of ``member_selectors.members``."""
    return members.ordered_roles(a.role for a in user.scope_assignments)


@register.filter
def invitation_state(invitation) -> str:
    return invitations.invitation_status(invitation)


@register.filter
def iso_datetime(value):
    """A datetime kept as ISO text in an e-mail's context, for the ``date`` filter."""
    return parse_datetime(value) if isinstance(value, str) else value


@register.simple_tag
def scope_url(scope, name, *args) -> str:
    return members.scope_url(scope, name, *args)


@register.simple_tag
def invitation_path(invitation_id) -> str:
    """The one-time link's path, made when the e-mail is rendered (never stored)."""
    invitation = Invitation.objects.filter(pk=invitation_id).first()
    return reverse("accounts:invitation", args=[invitations.invitation_token(invitation)]) if invitation else ""
