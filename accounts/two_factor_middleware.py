"""Until a signed-in session has passed its two-factor step (accounts.two_factor), it
reaches that step's page, sign-out and the language switch, nothing else: a page sends
it to the step (and back to where it was going afterwards), the API answers 403 in the
one error shape. An API call with a token (``Authorization: Token ...``) does not use
the session and is not held here (the token endpoint asks for the code itself).

Installed after ``django_otp.middleware.OTPMiddleware`` (``request.user.is_verified()``).
"""

from django.http import JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from billing_portal.api import error_body

from . import two_factor

# What a session with a pending step may still use, besides the step's own page.
ALWAYS_ALLOWED = {"accounts:logout", "set_language", "healthz", "api-token"}


def _api_refusal(step: str) -> JsonResponse:
    if step == two_factor.SET_UP:
        code = "two_factor_setup_required"
        detail = _("Set up two-factor sign-in first: open the portal in your browser and follow the steps.")
    else:
        code = "two_factor_required"
        detail = _("Enter the code from your authenticator app on the portal's sign-in page first.")
    return JsonResponse(error_body(code, detail), status=403)


def _carries_token(request) -> bool:
    """DRF's token authentication answers for this request, never the session."""
    words = request.META.get("HTTP_AUTHORIZATION", "").split()
    return bool(words) and words[0].lower() == "token"


class TwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        step = two_factor.pending_step(request)
        if step is None:
            return None
        match = request.resolver_match
        name = match.view_name if match else ""
        if name in ALWAYS_ALLOWED or name == two_factor.STEP_URLS[step]:
            return None
        if request.path.startswith("/api/"):
            if _carries_token(request):
                return None
            return _api_refusal(step)
        next_url = request.get_full_path() if request.method in ("GET", "HEAD") else ""
        return redirect(two_factor.step_url(step, next_url))
