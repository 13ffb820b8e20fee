"""Payment-method pages (PM-1..PM-7).

Web direct: Subscriptions › subscription › Payment methods. Customer agreement: the
same operations on a billing profile (PM-2). Reading needs can_view_payment_methods,
changing needs can_manage_payment_methods (PM-3); the services check again.
"""

from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts import permissions
from accounts import selectors as account_selectors
from accounts.models import AgreementType, Subscription
from accounts.selectors import first_subscription
from billing_portal.errors import DomainError
from billing_portal.forms import add_domain_error

from . import declines, selectors, services
from .forms import AddCardForm, UpdateCardForm
from .models import CardSetupStatus


class Scope:
    """The page's billing scope: a web-direct subscription or a customer-agreement profile."""

    def __init__(self, *, profile, subscription: Subscription | None = None):
        self.profile = profile
        self.subscription = subscription
        self.account = profile.account

    @property
    def is_web_direct(self) -> bool:
        return self.account.agreement_type == AgreementType.WEB_DIRECT

    def _url(self, subscription_view: str, profile_view: str) -> str:
        """A page of this scope: a subscription's (web direct: the first one when none was
        given; the payments index when there is none) or the billing profile's."""
        if self.subscription is None and not self.is_web_direct:
            return reverse(profile_view, args=[self.profile.pk])
        subscription = self.subscription or first_subscription(self.profile)
        if subscription is None:
            return reverse("payments:index")
        return reverse(subscription_view, args=[str(subscription.subscription_id)])

    @property
    def methods_url(self) -> str:
        return self._url("payments:subscription_methods", "payments:profile_methods")

    @property
    def add_url(self) -> str:
        return self._url("payments:subscription_add_card", "payments:profile_add_card")

    @property
    def query(self) -> str:
        return f"?subscription={self.subscription.subscription_id}" if self.subscription is not None else ""

    @property
    def title(self) -> str:
        if self.subscription is not None:
            return self.subscription.name
        return self.profile.name


def _subscription_scope(request, subscription_id) -> Scope:
    subscription = account_selectors.get_subscription_for_user(request.user, subscription_id)
    if not permissions.can_view_payment_methods(request.user, subscription.profile):
        raise PermissionDenied
    return Scope(profile=subscription.profile, subscription=subscription)


def _profile_scope(request, pk) -> Scope:
    profile = account_selectors.get_profile_for_user(request.user, pk)
    if profile.account.agreement_type != AgreementType.CUSTOMER_AGREEMENT:
        # Web-direct cards are reached through a subscription; enterprise has none.
        raise PermissionDenied
    if not permissions.can_view_payment_methods(request.user, profile):
        raise PermissionDenied
    return Scope(profile=profile)


def _scope_from_query(request, method) -> Scope:
    subscription_id = request.GET.get("subscription") or request.POST.get("subscription")
    if subscription_id:
        scope = _subscription_scope(request, subscription_id)
        if scope.profile.pk != method.profile_id:
            raise PermissionDenied
        return scope
    if method.profile.account.agreement_type == AgreementType.CUSTOMER_AGREEMENT:
        return _profile_scope(request, method.profile_id)
    return Scope(profile=method.profile, subscription=first_subscription(method.profile))


@login_required
def index(request):
    rows = selectors.payment_scopes_for_user(request.user)
    return render(request, "payments/index.html", {"rows": rows})


def _activate(request, scope: Scope, method) -> None:
    try:
        services.payment_method_activate(payment_method=method, actor=request.user, subscription=scope.subscription)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(card)s is now the active payment method.") % {"card": method})


def _methods_action(request, scope: Scope):
    """The buttons of the payment-methods page: Delete (to its confirmation) and Make active."""
    if not permissions.can_manage_payment_methods(request.user, scope.profile):
        raise PermissionDenied
    method_id = request.POST.get("method")
    if not method_id:
        messages.error(request, _("Tick the box next to a card first."))
        return redirect(scope.methods_url)
    method = selectors.get_method_for_user(request.user, method_id)
    if method.profile_id != scope.profile.pk:
        raise PermissionDenied
    action = request.POST.get("action")
    if action == "delete":
        return redirect(reverse("payments:method_delete", args=[method.pk]) + scope.query)
    if action == "activate":
        _activate(request, scope, method)
    return redirect(scope.methods_url)


def _methods_context(request, scope: Scope) -> dict:
    subscription = scope.subscription
    pays_by_invoice = permissions.pays_by_invoice(scope.profile)
    active_id = subscription.payment_method_id if subscription is not None else scope.profile.payment_method_id
    return {
        "scope": scope,
        "subscription": subscription,
        "profile": scope.profile,
        "account": scope.account,
        "methods": list(selectors.methods_for_profile(scope.profile)),
        # PBI-5: a scope that pays by invoice has no active card, whatever a row still says.
        "active_id": None if pays_by_invoice else active_id,
        "can_manage": permissions.can_manage_payment_methods(request.user, scope.profile),
        "events": selectors.events_for_profile(scope.profile),
        "pays_by_invoice": pays_by_invoice,
        "seller": settings.PORTAL_SELLER,
        "po_url": (
            reverse("purchase_orders:web_direct_po", args=[str(subscription.subscription_id)]) if subscription else ""
        ),
    }


def _methods_page(request, scope: Scope):
    if request.method == "POST":
        return _methods_action(request, scope)
    return render(request, "payments/methods.html", _methods_context(request, scope))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def subscription_methods(request, subscription_id):
    return _methods_page(request, _subscription_scope(request, subscription_id))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def profile_methods(request, pk):
    return _methods_page(request, _profile_scope(request, pk))


def _add_card(request, scope: Scope):
    if not permissions.can_manage_payment_methods(request.user, scope.profile):
        raise PermissionDenied
    form = AddCardForm(request.POST if request.method == "POST" else None, initial={"make_active": True})
    if permissions.pays_by_invoice(scope.profile):
        del form.fields["make_active"]  # PBI-5: such a scope has no active card again
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            _setup, url = services.card_setup_start(
                actor=request.user,
                profile=scope.profile,
                subscription=scope.subscription,
                make_active=data.get("make_active", False),
                address={k: data[k] for k in services.ADDRESS_FIELDS},
                next_path=request.GET.get("next", ""),
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            return HttpResponseRedirect(url)
    return render(request, "payments/add_card.html", {"scope": scope, "form": form, "subscription": scope.subscription})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def subscription_add_card(request, subscription_id):
    return _add_card(request, _subscription_scope(request, subscription_id))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def profile_add_card(request, pk):
    return _add_card(request, _profile_scope(request, pk))


def _is_pay_now(path: str) -> bool:
    """Is ``path`` an invoice's Pay now page (where a card added on the way returns)?"""
    try:
        return bool(path) and resolve(urlsplit(path).path).view_name == "payments:pay"
    except Resolver404:
        return False


@login_required
@require_http_methods(["GET", "HEAD"])
def card_setup_return(request, setup_id):
    """Where the gateway's card page sends the customer back."""
    setup = selectors.get_setup_for_user(request.user, setup_id)
    scope = Scope(profile=setup.profile, subscription=setup.subscription)
    try:
        setup = services.card_setup_complete(setup=setup, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(setup.next_path or scope.methods_url)
    if setup.status == CardSetupStatus.COMPLETED:
        if setup.make_active:
            added = _("The card %(card)s was added and is now the active payment method.")
        else:
            added = _("The card %(card)s was added.")
        messages.success(request, added % {"card": setup.payment_method})
        if setup.next_path:
            sep = "&" if "?" in setup.next_path else "?"
            return redirect(f"{setup.next_path}{sep}method={setup.payment_method_id}")
        return redirect(scope.methods_url)
    if setup.status == CardSetupStatus.DECLINED:
        if _is_pay_now(setup.next_path):
            # Back to the invoice's Pay now, which shows the decline in its own context.
            return redirect(f"{setup.next_path}?{urlencode({'card_setup': setup.pk})}")
        return render(
            request,
            "payments/card_declined.html",
            {
                "scope": scope,
                "subscription": scope.subscription,
                "code": setup.decline_code,
                "reason": declines.reason(setup.decline_code),
                "advice": declines.advice(setup.decline_code),
                "retry_url": setup.next_path or scope.add_url,
                "back_url": setup.next_path or scope.methods_url,
            },
            status=402,
        )
    messages.info(request, _("No card was added."))
    return redirect(setup.next_path or scope.methods_url)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def method_edit(request, pk):
    """PM-5: click a card, change it in the form, Save."""
    method = selectors.get_method_for_user(request.user, pk)
    scope = _scope_from_query(request, method)
    if not permissions.can_manage_payment_methods(request.user, method.profile):
        raise PermissionDenied
    initial = {f: getattr(method, f) for f in services.UPDATABLE_FIELDS}
    initial["country"] = method.country.code or ""
    form = UpdateCardForm(request.POST if request.method == "POST" else None, initial=initial)
    # Where to go back to: the page that sent the customer here (Pay now after an expired
    # card was declined), else the scope's payment methods.
    back_url = services.safe_next_path(request.POST.get("next") or request.GET.get("next", "")) or scope.methods_url
    if request.method == "POST" and form.is_valid():
        try:
            services.payment_method_update(payment_method=method, actor=request.user, data=form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The card was saved."))
            return redirect(back_url)
    return render(
        request,
        "payments/edit_card.html",
        {"scope": scope, "subscription": scope.subscription, "method": method, "form": form, "back_url": back_url},
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def method_delete(request, pk):
    """PM-6: the confirmation step of Delete, and the refusal while the card is in use."""
    method = selectors.get_method_for_user(request.user, pk)
    scope = _scope_from_query(request, method)
    if not permissions.can_manage_payment_methods(request.user, method.profile):
        raise PermissionDenied
    blocking_subscriptions, blocking_profiles = services.payment_method_blockers(method)
    error = ""
    if request.method == "POST":
        try:
            services.payment_method_remove(payment_method=method, actor=request.user)
        except services.PaymentMethodInUse as exc:
            error = exc.message
            blocking_subscriptions, blocking_profiles = exc.subscriptions, exc.profiles
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, _("The card %(card)s was removed.") % {"card": method})
            return redirect(scope.methods_url)
    return render(
        request,
        "payments/delete_card.html",
        {
            "scope": scope,
            "subscription": scope.subscription,
            "method": method,
            "blocking_subscriptions": blocking_subscriptions,
            "blocking_profiles": blocking_profiles,
            "error": error,
        },
        status=409 if error else 200,
    )
