"""Pages of two-factor sign-in (accounts.two_factor): the code step after the password,
the set-up of an authenticator app (forced for support staff, chosen by a customer),
and the "Two-factor sign-in" page where a customer turns it on or off."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from billing_portal.errors import DomainError
from billing_portal.forms import add_domain_error

from . import permissions, two_factor
from .forms import TwoFactorCodeForm


def _next_url(request) -> str:
    """Where the user was going (a path of this portal), or ""."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    return next_url if url_has_allowed_host_and_scheme(next_url, allowed_hosts=None) else ""


def _code_form(request) -> TwoFactorCodeForm:
    return TwoFactorCodeForm(request.POST) if request.method == "POST" else TwoFactorCodeForm()


def _code_refused(form, exc: DomainError) -> int:
    add_domain_error(form, exc)
    return 429 if isinstance(exc, two_factor.TooManyWrongCodes) else 200


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def verify(request):
    """The second step of signing in: the code of the user's authenticator app."""
    next_url = _next_url(request)
    step = two_factor.pending_step(request)
    if step == two_factor.SET_UP:
        return redirect(two_factor.step_url(step, next_url))
    if step is None:  # nothing to verify (verified already, or no second factor)
        return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    form = _code_form(request)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            device = two_factor.two_factor_verify(user=request.user, code=form.cleaned_data["otp"])
        except DomainError as exc:
            status = _code_refused(form, exc)
        else:
            two_factor.mark_verified(request, device)
            return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    return render(request, "accounts/two_factor_verify.html", {"form": form, "next": next_url}, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def setup(request):
    """Set up an authenticator app: the secret as text and as a QR code, then the first
    code confirms it. Forced right after the password for whom it is required."""
    next_url = _next_url(request)
    step = two_factor.pending_step(request)
    user = request.user
    if step == two_factor.SET_UP and two_factor.has_two_factor(user):
        # Set up meanwhile in another session: this one passes the code step instead.
        request.session[two_factor.STEP_SESSION_KEY] = step = two_factor.VERIFY
    if step == two_factor.VERIFY:
        # A new device never replaces the code step of the existing one.
        return redirect(two_factor.step_url(step, next_url))
    if step is None and two_factor.has_two_factor(user):
        messages.info(request, _("Two-factor sign-in is already on."))
        return redirect("accounts:security")
    device = two_factor.totp_device_start(user=user)
    form = _code_form(request)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            device = two_factor.totp_device_confirm(user=user, code=form.cleaned_data["otp"])
        except DomainError as exc:
            status = _code_refused(form, exc)
        else:
            two_factor.mark_verified(request, device)
            messages.success(
                request,
                _("Two-factor sign-in is on. From now on you sign in with your password and a code from the app."),
            )
            return redirect(next_url or "accounts:security")
    context = {
        "form": form,
        "next": next_url,
        "forced": step == two_factor.SET_UP,
        "secret": two_factor.secret_text(device),
        "qr_svg": two_factor.qr_svg(device),
    }
    return render(request, "accounts/two_factor_setup.html", context, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def security(request):
    """Two-factor sign-in: on or off, required or not; a customer turns it off with a code."""
    user = request.user
    device = two_factor.confirmed_device(user)
    can_turn_off = device is not None and permissions.can_turn_off_two_factor(user)
    form = _code_form(request) if can_turn_off else None
    status = 200
    if request.method == "POST":
        if not can_turn_off:
            raise PermissionDenied
        if form.is_valid():
            try:
                two_factor.totp_device_remove(user=user, code=form.cleaned_data["otp"])
            except DomainError as exc:
                status = _code_refused(form, exc)
            else:
                messages.success(request, _("Two-factor sign-in is off. You sign in with your password only."))
                return redirect("accounts:security")
    context = {
        "device": device,
        "required": permissions.must_use_two_factor(user),
        "can_turn_off": can_turn_off,
        "form": form,
    }
    return render(request, "accounts/security.html", context, status=status)
