"""Pages of self-service access (accounts.self_service): the profile, changing the
password, and resetting a forgotten one from the sign-in page."""

from axes.helpers import get_client_ip_address
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from billing_portal.errors import DomainError
from billing_portal.forms import add_domain_error

from . import self_service
from .password_forms import (
    PasswordResetRequestForm,
    PortalPasswordChangeForm,
    PortalSetPasswordForm,
    UserProfileForm,
    posted_data,
)


@require_http_methods(["GET", "HEAD", "POST"])
def password_reset(request):
    """Ask for a reset link. The answer never says whether the address has an account."""
    form = PasswordResetRequestForm(posted_data(request))
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            self_service.password_reset_request(
                email=form.cleaned_data["email"], address=get_client_ip_address(request) or ""
            )
        except DomainError as exc:
            add_domain_error(form, exc)
            status = exc.status_code
        else:
            return redirect("accounts:password_reset_sent")
    return render(request, "accounts/password_reset.html", {"form": form}, status=status)


@require_http_methods(["GET", "HEAD"])
def password_reset_sent(request):
    return render(request, "accounts/password_reset_sent.html")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's check of the link (it moves the token into the session, so that the
    address bar and the Referer no longer carry it); the new password goes through
    ``self_service.password_set``, which also e-mails the confirmation."""

    form_class = PortalSetPasswordForm
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:login")

    def form_valid(self, form):
        try:
            self_service.password_set(
                user=form.user, password=form.cleaned_data["new_password1"], how=self_service.CHANGED_BY_RESET
            )
        except DomainError as exc:
            add_domain_error(form, exc)
            return self.form_invalid(form)
        del self.request.session[auth_views.INTERNAL_RESET_SESSION_TOKEN]
        messages.success(self.request, _("Your password was changed. Sign in with the new password."))
        return HttpResponseRedirect(self.get_success_url())


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def password_change(request):
    """Change the password with the current one; other sessions are signed out."""
    user = request.user
    form = PortalPasswordChangeForm(user, posted_data(request), request=request)
    if request.method == "POST" and form.is_valid():
        try:
            self_service.password_set(
                user=user, password=form.cleaned_data["new_password1"], how=self_service.CHANGED_ON_PAGE
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            update_session_auth_hash(request, user)  # this session stays signed in
            messages.success(
                request,
                _("Your password was changed. Everywhere else you were signed in, you are now signed out."),
            )
            return redirect("accounts:password_change")
    return render(request, "accounts/password_change.html", {"form": form})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def user_profile(request):
    """Your name and preferred language."""
    user = request.user
    initial = {"full_name": user.full_name, "language": user.language}
    form = UserProfileForm(posted_data(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            self_service.user_update_profile(user=user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            translation.activate(user.language)  # the message in the language just chosen
            messages.success(request, _("Your profile was saved."))
            return redirect("accounts:user_profile")
    return render(request, "accounts/user_profile.html", {"form": form})
