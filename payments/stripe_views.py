"""The Stripe adapter's pages on the portal, and its webhook endpoint.

* ``card_entry``: Stripe Elements for one SetupIntent (the card-entry session of a
  card setup): the card number and CVC go from the customer's browser to Stripe only;
  the page then sends the customer to the setup's return URL.
* ``authenticate``: the bank's 3-D Secure check of a PaymentIntent, run by Stripe.js;
  then back to ``payments:pay_return``, which settles the payment.
* ``webhook``: Stripe's events, signature checked with STRIPE_WEBHOOK_SECRET.

Only these two pages may load Stripe.js and talk to Stripe (``stripe_csp``): the rest
of the portal keeps its "scripts from the portal only" Content-Security-Policy.
"""

from functools import wraps
from urllib.parse import urlsplit

from csp.decorators import csp_update
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from accounts import permissions
from invoices import selectors as invoice_selectors

from . import declines, selectors, services
from .gateway import GatewayError, get_gateway
from .models import CardSetup, CardSetupStatus, Payment, PaymentKind, PaymentStatus
from .stripe_gateway import construct_event
from .stripe_results import decline_texts

GATEWAY = "stripe"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def stripe_csp(view):
    """django-csp for one view: Stripe.js from its origin, its frames, calls to the API."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        script = _origin(settings.STRIPE_JS_URL)
        api = _origin(settings.STRIPE_API_BASE or "https://api.stripe.com")
        frames = [script] if settings.STRIPE_API_BASE else [script, "https://hooks.stripe.com"]
        policy = {"script-src": [script], "frame-src": frames, "connect-src": [api]}
        return csp_update(policy)(view)(request, *args, **kwargs)

    return wrapped


def _stripe_context(**extra) -> dict:
    return {
        "stripe_js_url": settings.STRIPE_JS_URL,
        "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
        "stripe_locale": (get_language() or "en")[:2],
        **extra,
    }


def _explain(code: str) -> tuple[str, str]:
    return declines.reason(code), declines.guidance(code)


@never_cache
@login_required
@stripe_csp
@require_http_methods(["GET", "HEAD", "POST"])
def card_entry(request, intent_id):
    found = CardSetup.objects.filter(gateway=GATEWAY, gateway_session_id=str(intent_id)[:64]).first()
    if found is None:
        raise Http404
    setup = selectors.get_setup_for_user(request.user, found.pk)
    setup_return = reverse("payments:card_setup_return", args=[setup.pk])
    if setup.status != CardSetupStatus.OPEN:
        return redirect(setup_return)
    gateway = get_gateway(GATEWAY)
    try:
        if request.method == "POST" and request.POST.get("action") == "cancel":
            gateway.cancel_card_session(setup.gateway_session_id)
            return redirect(setup_return)
        page = gateway.card_entry_page(setup.gateway_session_id)
    except GatewayError:
        return render(request, "payments/stripe_unavailable.html", {"back_url": setup_return}, status=503)
    if not page["open"]:
        return redirect(setup_return)
    return render(
        request,
        "payments/stripe_card_entry.html",
        _stripe_context(
            setup=setup,
            client_secret=page["client_secret"],
            return_url=setup_return,
            decline_texts=decline_texts(_explain),
        ),
    )


def _payment_for_payer(request, intent_id) -> Payment:
    payment = (
        Payment.objects.filter(gateway=GATEWAY, kind=PaymentKind.CARD, gateway_reference=str(intent_id)[:64])
        .order_by("-pk")
        .first()
    )
    if payment is None:
        raise Http404
    invoice = invoice_selectors.get_invoice_for_user(request.user, payment.invoice_id)
    if not permissions.can_pay_invoices(request.user, invoice.profile):
        raise PermissionDenied
    payment.invoice = invoice
    return payment


@never_cache
@login_required
@stripe_csp
@require_http_methods(["GET", "HEAD"])
def authenticate(request, intent_id):
    payment = _payment_for_payer(request, intent_id)
    return_url = reverse("payments:pay_return", args=[payment.invoice_id, payment.pk])
    if payment.status != PaymentStatus.PENDING:
        return HttpResponseRedirect(return_url)
    try:
        page = get_gateway(GATEWAY).authentication_page(payment.gateway_reference)
    except GatewayError:
        return render(request, "payments/stripe_unavailable.html", {"back_url": return_url}, status=503)
    if page is None:
        return HttpResponseRedirect(return_url)
    return render(
        request,
        "payments/stripe_authenticate.html",
        _stripe_context(
            payment=payment,
            invoice=payment.invoice,
            client_secret=page["client_secret"],
            payment_method=page["payment_method"],
            return_url=return_url,
        ),
    )


@csrf_exempt
@require_POST
def webhook(request):
    """Stripe's events: a missing or wrong signature is refused (400) and changes
    nothing; a valid event is stored once and processed once (payments/services/webhooks.py)."""
    try:
        event = construct_event(request.body, request.headers.get("Stripe-Signature", ""))
    except GatewayError:
        return HttpResponse("invalid signature", status=400, content_type="text/plain")
    if not event.get("id") or not event.get("type"):
        return HttpResponse("not an event", status=400, content_type="text/plain")
    _stored, created = services.webhook_event_store(event=event)
    return JsonResponse({"received": True, "duplicate": not created})
