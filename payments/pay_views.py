"""Pay now (PAY-2..PAY-4): Invoices › Pay now › Select a payment method › Pay now; a
payment that needs the customer's 3-D Secure check goes to the bank's page and back to
``pay_return``."""

import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts import permissions
from accounts.models import AgreementType
from billing_portal.errors import DomainError
from billing_portal.forms import add_domain_error
from invoices import selectors as invoice_selectors

from . import declines, selectors, services
from .forms import PayAddCardForm
from .gateway import GatewayError
from .models import CardSetupStatus, PaymentSource, PaymentStatus

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


def _declined_setup(request, invoice):
    """The card entered during this Pay now that the bank declined (``?card_setup=``, where
    the card's return page sends the customer back), or None."""
    try:
        setup = selectors.get_setup_for_user(request.user, request.GET.get("card_setup", ""))
    except Http404:
        return None
    if setup.profile_id != invoice.profile_id or setup.status != CardSetupStatus.DECLINED:
        return None
    return setup


def _decline_actions(invoice, code: str, card, *, can_add_card: bool) -> list[dict]:
    """The next steps a decline offers, the one that fits its code first: update the
    expiry date of the declined card, enter the card again, or try another card (the card
    form; for those who may not add cards, the list of the scope's cards)."""
    advice = declines.advice(code)
    if advice is None:
        return []
    actions = []
    pay_url = reverse("payments:pay", args=[invoice.pk])
    if advice.action == declines.UPDATE_EXPIRY and card is not None and can_add_card:
        edit_url = reverse("payments:method_edit", args=[card.pk])
        actions.append(
            {
                "id": "decline-update-expiry",
                "label": _("Update the expiry date"),
                "url": f"{edit_url}?{urlencode({'next': pay_url})}",
            }
        )
    if can_add_card:
        label = _("Enter the card again") if advice.action == declines.REENTER_CARD else _("Try another card")
        actions.append(
            {"id": "decline-another-card", "label": label, "url": reverse("payments:pay_add_card", args=[invoice.pk])}
        )
    else:
        actions.append({"id": "decline-another-card", "label": _("Choose another card"), "url": "#pay-methods"})
    return actions


def _render_pay(request, invoice, *, selected="", error="", decline_code="", declined_card=None, status=200):
    methods = selectors.payable_methods(invoice.profile)
    active = services.scope_active_card(invoice.profile)
    can_add_card = permissions.can_manage_payment_methods(request.user, invoice.profile)
    if not decline_code and request.method != "POST":
        setup = _declined_setup(request, invoice)
        decline_code = setup.decline_code if setup is not None else ""
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
            "can_add_card": can_add_card,
            "error": error,
            "code": decline_code,
            "reason": declines.reason(decline_code) if decline_code else "",
            "advice": declines.advice(decline_code),
            "decline_actions": _decline_actions(invoice, decline_code, declined_card, can_add_card=can_add_card),
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
        request,
        invoice,
        selected=str(payment.payment_method_id or ""),
        decline_code=payment.failure_code,
        declined_card=payment.payment_method,
        status=402,
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


def _subscriptions_for_activation(profile) -> list:
    """Web direct: the subscriptions a new card can be made active for (PM-4), the one
    whose card pays the scope's invoices automatically first. Other scopes: none."""
    if profile.account.agreement_type != AgreementType.WEB_DIRECT:
        return []
    subscriptions = selectors.subscriptions_of_scope(profile)
    active = services.scope_active_card(profile)
    return sorted(subscriptions, key=lambda s: active is None or s.payment_method_id != active.pk)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def pay_add_card(request, pk):
    """Add a new card without leaving Pay now: the gateway's page, then back to Pay now
    with the new card selected. The box "also use this card for automatic payments" makes
    it the active card in the same step, through the payment-methods page's card service
    (PM-4; PBI-5 refuses it once the scope pays by invoice)."""
    invoice = _invoice_for_payer(request, pk)
    profile = invoice.profile
    if not permissions.can_manage_payment_methods(request.user, profile):
        raise PermissionDenied
    pay_url = reverse("payments:pay", args=[invoice.pk])
    subscriptions = _subscriptions_for_activation(profile)
    if permissions.pays_by_invoice(profile):
        not_offered = _(
            "This billing scope pays by invoice: the new card pays this invoice only and does not become the "
            "active payment method."
        )
    elif profile.account.agreement_type == AgreementType.WEB_DIRECT and not subscriptions:
        not_offered = _(
            "No subscription can get a new active card (they are cancelled): the new card pays this invoice only."
        )
    else:
        not_offered = ""
    form = PayAddCardForm(
        request.POST if request.method == "POST" else None,
        subscriptions=subscriptions,
        offer_make_active=not not_offered,
    )
    if request.method == "POST" and form.is_valid():
        make_active = form.cleaned_data.get("make_active", False)
        try:
            _setup, url = services.card_setup_start(
                actor=request.user,
                profile=profile,
                subscription=form.chosen_subscription() if make_active else None,
                make_active=make_active,
                address={k: form.cleaned_data[k] for k in services.ADDRESS_FIELDS},
                next_path=pay_url,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            return HttpResponseRedirect(url)
    return render(
        request,
        "payments/pay_add_card.html",
        {"invoice": invoice, "form": form, "pay_url": pay_url, "not_offered": not_offered},
    )
