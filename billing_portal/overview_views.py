"""The overview page (``accounts:overview``, the page after sign-in): what each billing
scope owes (``billing_portal.overview``), then the billing accounts with the user's roles."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_safe

from accounts import permissions
from accounts import selectors as account_selectors

from . import overview as selectors


@login_required
@require_safe
def overview(request):
    return render(
        request,
        "overview.html",
        {
            "scopes": selectors.scopes_for_user(request.user),
            "rows": account_selectors.account_overview(request.user),
            "works_support_queue": permissions.can_work_support_queue(request.user),
        },
    )
