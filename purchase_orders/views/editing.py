"""The shape every number page shares: a versioned form saved through a service."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect

from billing_portal.errors import Conflict, DomainError
from billing_portal.forms import add_domain_error, rebound_with_version

from .. import selectors

HISTORY_ON_PAGE = 10
PAGE_SIZE = 25


def save_form(request, form_class, call, *, current_version):
    """Validate the form, call the service; on a conflict keep the user's input, now
    against the current version, so that a second Save is a deliberate overwrite.
    Returns (saved, form)."""
    form = form_class(request.POST)
    if not form.is_valid():
        return False, form
    try:
        call(form.cleaned_data)
    except Conflict as exc:
        form = rebound_with_version(form_class, request.POST, current_version())
        add_domain_error(form, exc)
        return False, form
    except DomainError as exc:
        add_domain_error(form, exc)
        return False, form
    return True, form


def number_form(request, form_class, obj, *, can_edit: bool, initial: dict, save, saved_message: str):
    """GET: the form with the values read (None for a role that may not edit). POST:
    ``save(cleaned_data)`` through the service and redirect back once saved; otherwise
    the form with its errors and ``obj`` reloaded to show the value in force. Returns
    ``(form, redirect or None)``."""
    if request.method != "POST":
        return (form_class(initial={**initial, "version": obj.version}) if can_edit else None), None
    if not can_edit:
        raise PermissionDenied
    saved, form = save_form(request, form_class, save, current_version=lambda: type(obj).objects.get(pk=obj.pk).version)
    if saved:
        messages.success(request, saved_message)
        return form, redirect(request.path)
    obj.refresh_from_db()
    return form, None


def recent_history(user, account, **filters):
    return list(selectors.number_changes_for_user(user, account, **filters)[:HISTORY_ON_PAGE])
