"""Pay now (PAY-2..PAY-4): Invoices › Pay now › Select a payment method › Pay now; a
payment that needs the customer's 3-D Secure check goes to the bank's page and back to
``pay_return``."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts import permissions
from billing_portal.errors import DomainError
from billing_portal.forms import add_domain_error
from invoices import selectors as invoice_selectors

from . import declines, selectors, services
from .forms import AddCardForm
from .gateway import GatewayError
from .models import PaymentSource, PaymentStatus

TOKEN_SALT = "payments.pay-now"
TOKEN_MAX_AGE = 2 * 3600
# Refusals that mean "look at the invoice": it was paid or is being paid meanwhile.
SETTLED_CODES = {"invoice_paid", "payment_in_progress", "invoice_void", "nothing_due", "pays_by_bank_transfer"}


def _form_token(request, invoice) -> str:
    """The one-time token of the Pay now form: a repeated submission of the same form
    (double click, reload) maps to the same payment and never charges twice."""
    return signing.dumps({"i": invoice.pk, "u": request.user.pk, "n": uuid.uuid4().hex}, salt=TOKEN_SALT)


def _request_key(request, invoice, token: str) -> str | None:
    try:
        data = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None
    if data.get("i") != invoice.pk or data.get("u") != request.user.pk:
        return None
    return f"web:{data['n']}"


def _invoice_for_payer(request, pk):
    invoice = invoice_selectors.get_invoice_for_user(request.user, pk)
    if not permissions.can_pay_invoices(request.user, invoice.profile):
        raise PermissionDenied
    return invoice


def _render_pay(request, invoice, *, selected="", error="", decline_code="", status=200):
    methods = selectors.payable_methods(invoice.profile)
    active = services.scope_active_card(invoice.profile)
    if not selected:
        selected = request.POST.get("method") or request.GET.get("method") or (str(active.pk) if active else "")
    return render(
        request,
        "payments/pay.html",
        {
            "invoice": invoice,
            "methods": methods,
            "selected": selected,
            "active_id": active.pk if active else None,
            "token": _form_token(request, invoice),
            "can_add_card": permissions.can_manage_payment_methods(request.user, invoice.profile),
            "error": error,
            "code": decline_code,
            "reason": declines.reason(decline_code) if decline_code else "",
            "guidance": declines.guidance(decline_code),
            "amount_due": invoice.amount_due,
            "attempts": selectors.payments_for_invoice(invoice)[:20],
            "awaiting": selectors.payment_awaiting_action(invoice),
        },
        status=status,
    )


def _after_payment(request, invoice, payment):
    """Where a payment's outcome takes the customer: the invoice when paid or pending,
    the bank's authentication page when it waits for 3-D Secure, the decline otherwise."""
    detail_url = reverse("invoices:detail", args=[invoice.pk])
    if payment.status == PaymentStatus.SUCCEEDED:
        messages.success(request, _("Thank you: the invoice %(number)s is paid.") % {"number": invoice.number})
        return redirect(detail_url)
    if payment.status == PaymentStatus.PENDING and payment.action_url:
        return HttpResponseRedirect(payment.action_url)
    if payment.status == PaymentStatus.PENDING:
        messages.info(request, declines.reason("processor_timeout"))
        return redirect(detail_url)
    invoice.refresh_from_db()
    return _render_pay(
        request, invoice, selected=str(payment.payment_method_id or ""), decline_code=payment.failure_code, status=402
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def pay(request, pk):
    invoice = _invoice_for_payer(request, pk)
    if request.method != "POST":
        return _render_pay(request, invoice)
    request_key = _request_key(request, invoice, request.POST.get("token", ""))
    methods = selectors.payable_methods(invoice.profile)
    method = next((m for m in methods if str(m.pk) == request.POST.get("method", "")), None)
    if request_key is None:
        return _render_pay(
            request, invoice, error=_("This form has expired. Check the invoice and try again."), status=400
        )
    if method is None:
        return _render_pay(request, invoice, error=_("Select a payment method."), status=400)
    try:
        payment = services.invoice_pay(
            invoice=invoice,
            payment_method=method,
            actor=request.user,
            source=PaymentSource.PAY_NOW,
            request_key=request_key,
        )
    except DomainError as exc:
        if exc.code in SETTLED_CODES:
            messages.info(request, exc.message)
            return redirect(reverse("invoices:detail", args=[invoice.pk]))
        return _render_pay(request, invoice, error=exc.message, status=exc.status_code)
    return _after_payment(request, invoice, payment)


@login_required
@require_http_methods(["GET", "HEAD"])
def pay_return(request, pk, payment_id):
    """Where the bank's authentication page (3-D Secure) sends the customer back: the
    payment is settled from the gateway's state, then Paid, the decline, or still pending."""
    invoice = _invoice_for_payer(request, pk)
    payment = selectors.get_card_payment_of_invoice(invoice, payment_id)
    try:
        payment = services.payment_refresh(payment=payment)
    except GatewayError:
        messages.info(request, declines.reason("processor_timeout"))
        return redirect(reverse("invoices:detail", args=[invoice.pk]))
    if payment.status == PaymentStatus.PENDING and payment.action_url:
        messages.info(request, _("The payment waits for your confirmation with your bank."))
        return redirect(reverse("payments:pay", args=[invoice.pk]))
    return _after_payment(request, invoice, payment)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def pay_add_card(request, pk):
    """Add a new card without leaving Pay now: the gateway's page, then back to Pay now
    with the new card selected."""
    invoice = _invoice_for_payer(request, pk)
    if not permissions.can_manage_payment_methods(request.user, invoice.profile):
        raise PermissionDenied
    pay_url = reverse("payments:pay", args=[invoice.pk])
    form = AddCardForm(request.POST if request.method == "POST" else None)
    del form.fields["make_active"]
    if request.method == "POST" and form.is_valid():
        try:
            _setup, url = services.card_setup_start(
                actor=request.user,
                profile=invoice.profile,
                make_active=False,
                address={k: form.cleaned_data[k] for k in services.ADDRESS_FIELDS},
                next_path=pay_url,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            return HttpResponseRedirect(url)
    return render(request, "payments/pay_add_card.html", {"invoice": invoice, "form": form, "pay_url": pay_url})
