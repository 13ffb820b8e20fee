"""The sandbox gateway's hosted pages, mounted under /sandbox-gateway/: card entry, and
the bank's authentication page of a charge that needs 3-D Secure.

It stands in for the processor's own page: the portal redirects the customer here and
gets them back at the session's return URL. The card number and CVC are posted to this
view only; they are validated and reduced to a token and a summary at once, are never
rendered back into the page, never saved, and are hidden from Django's error reports
(``sensitive_post_parameters``) and from the logs.
"""

from django import forms
from django.conf import settings
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.debug import SafeExceptionReporterFilter
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods

from .models import SandboxCharge, SandboxSession
from .sandbox import CardInvalid, SandboxGateway

SENSITIVE = ("number", "cvc")


class SandboxCardForm(forms.Form):
    # render_value is not a thing for TextInput; the view never passes posted data back.
    number = forms.CharField(
        label=_("Card number"),
        max_length=23,
        widget=forms.TextInput(attrs={"autocomplete": "cc-number", "inputmode": "numeric"}),
    )
    exp_month = forms.CharField(
        label=_("Expiry month (MM)"),
        max_length=2,
        widget=forms.TextInput(attrs={"autocomplete": "cc-exp-month", "inputmode": "numeric"}),
    )
    exp_year = forms.CharField(
        label=_("Expiry year (YYYY)"),
        max_length=4,
        widget=forms.TextInput(attrs={"autocomplete": "cc-exp-year", "inputmode": "numeric"}),
    )
    cvc = forms.CharField(
        label=_("Security code (CVC)"),
        max_length=4,
        widget=forms.PasswordInput(attrs={"autocomplete": "cc-csc", "inputmode": "numeric"}),
    )
    holder_name = forms.CharField(
        label=_("Name on the card"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "cc-name"})
    )


class CardEntryReporterFilter(SafeExceptionReporterFilter):
    """Error reports of the card page hide the card even with DEBUG on (Django's own
    filter steps aside in DEBUG): every local variable of every frame and the number
    and CVC of the POST are masked."""

    def is_active(self, request):
        return True

    def get_traceback_frame_variables(self, request, tb_frame):
        return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]


def _session_or_404(session_id) -> SandboxSession:
    if settings.PAYMENT_GATEWAY != "sandbox":
        raise Http404
    session = SandboxSession.objects.filter(pk=str(session_id)[:64]).first()
    if session is None:
        raise Http404
    return session


def _back(session: SandboxSession | SandboxCharge) -> HttpResponseRedirect:
    url = session.return_url
    if not url_has_allowed_host_and_scheme(url, allowed_hosts=None) or not url.startswith("/"):
        url = "/"
    return HttpResponseRedirect(url)


@never_cache
@sensitive_post_parameters(*SENSITIVE)
@sensitive_variables("number", "cvc", "data")
def card_entry(request, session_id):
    request.exception_reporter_filter = CardEntryReporterFilter()
    session = _session_or_404(session_id)
    if session.status != "open":
        return _back(session)
    errors = {}
    form = SandboxCardForm()
    if request.method == "POST":
        if request.POST.get("action") == "cancel":
            SandboxGateway().cancel_session(session.pk)
            return _back(session)
        data = request.POST
        try:
            SandboxGateway().submit_card(
                session.pk,
                number=data.get("number", "")[:40],
                exp_month=data.get("exp_month", ""),
                exp_year=data.get("exp_year", ""),
                cvc=data.get("cvc", "")[:8],
                holder_name=data.get("holder_name", "")[:200],
            )
        except CardInvalid as exc:
            errors = exc.errors
            # Only the non-secret fields are shown again (not a name refused as card-like).
            form = SandboxCardForm(
                initial={
                    "exp_month": data.get("exp_month", "")[:2],
                    "exp_year": data.get("exp_year", "")[:4],
                    "holder_name": "" if "holder_name" in errors else data.get("holder_name", "")[:150],
                }
            )
        else:
            return _back(session)
    return render(
        request,
        "payments/sandbox_card_entry.html",
        {"form": form, "errors": errors, "session": session},
        status=400 if errors else 200,
    )


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def authenticate(request, reference):
    """The bank's 3-D Secure page of a charge that needs authentication: Approve or
    Decline, then back to the charge's return URL (the portal settles the payment there)."""
    if settings.PAYMENT_GATEWAY != "sandbox":
        raise Http404
    charge = SandboxCharge.objects.filter(pk=str(reference)[:64]).first()
    if charge is None:
        raise Http404
    if request.method == "POST" and charge.status == "requires_action":
        charge = SandboxGateway().authenticate(charge.pk, approve=request.POST.get("action") == "approve")
    if charge.status != "requires_action":
        return _back(charge)
    return render(request, "payments/sandbox_authenticate.html", {"charge": charge})
