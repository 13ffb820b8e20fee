from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from billing_portal.errors import Conflict, DomainError
from billing_portal.forms import add_domain_error, rebound_with_version

from . import permissions, selectors, services, two_factor
from .forms import AccountProfileForm, EmailAuthenticationForm
from .services import PROFILE_FIELDS


class LoginView(auth_views.LoginView):
    """The password step (django-axes counts the failures). A user with two-factor sign-in
    goes on to the code step, one who must have it but has none to the set-up; the
    session counts as signed in only after that (accounts.two_factor_middleware)."""

    form_class = EmailAuthenticationForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_success_url(self):
        url = super().get_success_url()
        step = two_factor.pending_step(self.request)
        return two_factor.step_url(step, url) if step else url


SUBSCRIPTIONS_PER_PAGE = 50


@login_required
def subscription_list(request):
    subscriptions = selectors.subscriptions_for_user(request.user).prefetch_related("marketplace_services")
    page = Paginator(subscriptions, SUBSCRIPTIONS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "accounts/subscription_list.html", {"subscriptions": page.object_list, "page": page})


@login_required
def subscription_detail(request, subscription_id):
    subscription = selectors.get_subscription_for_user(request.user, subscription_id)
    return render(
        request,
        "accounts/subscription_detail.html",
        {
            "subscription": subscription,
            "can_view_payment_methods": permissions.can_view_payment_methods(request.user, subscription.profile),
            "can_manage_services": permissions.can_manage_subscription_services(request.user, subscription.profile),
            "pays_by_invoice": permissions.pays_by_invoice(subscription.profile),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def marketplace_remove(request, subscription_id, service_id):
    """PBI-4: remove a marketplace service from a subscription, after a confirmation.
    ``next`` (a path of this portal) is where to go back to, e.g. the pay-by-invoice
    request being filled in."""
    subscription = selectors.get_subscription_for_user(request.user, subscription_id)
    service = get_object_or_404(subscription.marketplace_services, pk=service_id)
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts=None):
        next_url = ""
    if request.method == "POST":
        try:
            services.marketplace_service_remove(service=service, actor=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("%(service)s was removed from the subscription.") % {"service": service.name})
        return redirect(next_url or reverse("accounts:subscription", args=[subscription.subscription_id]))
    return render(
        request,
        "accounts/marketplace_remove.html",
        {
            "subscription": subscription,
            "service": service,
            "next": next_url,
            "can_remove": permissions.can_manage_subscription_services(request.user, subscription.profile),
        },
    )


def _saved_values(form) -> list[dict]:
    """After a conflict: the fields where what the user typed differs from what is saved
    now (the form was built on the current row), with the saved value."""
    rows = []
    for name in form.changed_data:
        if name in PROFILE_FIELDS:
            value = form.initial.get(name)
            rows.append({"label": form.fields[name].label, "value": str(getattr(value, "name", value) or "")})
    return rows


def _save_profile(request, account):
    """Save the profile form through the service. Returns (form, saved, the current
    values that differ from the input after a conflict)."""
    form = AccountProfileForm(request.POST, instance=account)
    if not form.is_valid():
        return form, False, []
    data = {name: form.cleaned_data[name] for name in PROFILE_FIELDS}
    try:
        services.billing_account_update_profile(
            account=account, actor=request.user, version=form.cleaned_data["version"], data=data
        )
    except Conflict as exc:
        # Keep what the user typed, now against the current version, and show what the
        # other person saved in the meantime.
        account.refresh_from_db()
        form = rebound_with_version(AccountProfileForm, request.POST, account.version, instance=account)
        add_domain_error(form, exc)
        return form, False, _saved_values(form)
    except DomainError as exc:
        add_domain_error(form, exc)
        return form, False, []
    return form, True, []


@login_required
def account_profile(request, pk):
    account = selectors.get_account_for_user(request.user, pk)
    can_edit = permissions.can_edit_account_profile(request.user, account)
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    form, saved_values = None, []
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        form, saved, saved_values = _save_profile(request, account)
        if saved:
            messages.success(request, _("The profile was saved. Changes apply to the next invoice."))
            return redirect("accounts:profile", pk=account.pk)
    elif can_edit:
        form = AccountProfileForm(instance=account, initial={"version": account.version})
    profiles = account.profiles.all() if account.is_customer_agreement else []
    return render(
        request,
        "accounts/account_profile.html",
        {
            "account": account,
            "form": form,
            "can_edit": can_edit,
            "profiles": profiles,
            "saved_values": saved_values,
            "can_view_members": permissions.can_view_members(request.user, account),
            "member_profiles": {p.pk for p in profiles if permissions.can_view_members(request.user, p)},
        },
    )


__all__ = ["LoginView", "subscription_list", "subscription_detail", "account_profile", "marketplace_remove"]
