"""The API tokens page (accounts.api_tokens): make a named token with an expiry (its key
shown once, in the answer to the form, and stored nowhere), see when each was made and
last used, and revoke one after a confirmation."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from billing_portal import clock
from billing_portal.errors import DomainError
from billing_portal.forms import add_domain_error

from . import api_tokens, two_factor
from .password_forms import ApiTokenForm, posted_data


def _rows(user) -> list[dict]:
    now = clock.now()
    rows = []
    for token in api_tokens.tokens_for_user(user):
        status = api_tokens.token_status(token, now)
        rows.append({"token": token, "status": status, "status_label": api_tokens.STATUS_LABELS[status]})
    return rows


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def api_tokens_page(request):
    user = request.user
    form = ApiTokenForm(posted_data(request))
    created, status = None, 200
    if request.method == "POST" and form.is_valid():
        try:
            token, key = api_tokens.api_token_create(
                user=user,
                name=form.cleaned_data["name"],
                days=form.cleaned_data["expires_in_days"],
                session_verified=two_factor.is_verified(user),
            )
        except DomainError as exc:
            add_domain_error(form, exc)
            status = 403 if exc.status_code == 403 else 200
        else:
            # Shown in this answer only (never stored, never shown again); no-store like
            # every page of a signed-in user.
            created, form = {"token": token, "key": key}, ApiTokenForm()
    context = {"form": form, "rows": _rows(user), "created": created}
    return render(request, "accounts/api_tokens.html", context, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def api_token_revoke(request, pk):
    token = api_tokens.get_token_for_user(request.user, pk)
    if request.method == "POST":
        api_tokens.api_token_revoke(token=token, actor=request.user)
        messages.success(
            request, _("The token “%(name)s” was revoked. Calls with it are refused.") % {"name": token.name}
        )
        return redirect("accounts:api_tokens")
    return render(request, "accounts/api_token_revoke.html", {"token": token})
