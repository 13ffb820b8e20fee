"""Help + support pages for customers: New support request, the pay-by-invoice request
form with its pre-checks, My requests, a request's page. Views parse, call one service,
render; the services check the rules."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.selectors import accounts_for_user
from billing_portal.errors import DomainError
from billing_portal.forms import add_domain_error
from purchase_orders.selectors import amendment_requests_for_user, may_request_amendments

from . import details, prechecks, scopes, selectors, services
from .forms import CreditApplicationForm, MessageForm, NewRequestForm, PayByInvoiceForm

DRAFT_KEY = "support_pbi_draft"


@login_required
def help_home(request):
    return render(
        request,
        "support/help.html",
        {
            "accounts": accounts_for_user(request.user),
            "can_request": bool(selectors.requestable_profiles(request.user)),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def request_new(request):
    """New support request › Billing: the scope, a support plan and the problem type."""
    choices = scopes.scope_choices(request.user)
    form = NewRequestForm(
        request.POST or None,
        scopes=choices,
        may_amend=may_request_amendments(request.user),
        initial={"scope": request.GET.get("scope")},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data["problem_type"] == "invoice_amendment":
            return redirect("purchase_orders:amendment_new")
        return redirect(f"{reverse('support:pbi_new')}?scope={data['scope']}&plan={data['support_plan']}")
    return render(request, "support/request_new.html", {"form": form, "has_scopes": bool(choices)})


def _checks_for_display(checks):
    return [prechecks.describe(check) for check in checks]


@login_required
@require_http_methods(["GET", "POST"])
def pbi_new(request):
    """PBI-1, PBI-2: the pay-by-invoice request, prefilled, with the pre-checks shown
    while the customer fills it in (and on every submit). What was typed is kept in the
    session, so a trip to the profile page (PBI-6) comes back to it."""
    scope = scopes.resolve(request.user, request.GET.get("scope", ""))
    plan = request.GET.get("plan", "")
    draft_key = f"{DRAFT_KEY}:{scope.value}"
    if request.method == "POST":
        form = PayByInvoiceForm(request.POST)
        typed = {name: request.POST.get(name, "") for name in form.fields if name != "confirm"}
        request.session[draft_key] = typed
        if form.is_valid():
            try:
                pbi = services.pbi_request_create(
                    profile=scope.profile,
                    subscription=scope.subscription,
                    actor=request.user,
                    data={**typed, "support_plan": plan},
                    confirmed=form.cleaned_data["confirm"],
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                request.session.pop(draft_key, None)
                messages.success(request, _("Your request was sent to support. You will get an e-mail at each step."))
                return redirect("support:request", pk=pbi.pk)
        data = typed
    else:
        data = request.session.get(draft_key) or scopes.prefill(scope, request.user)
        form = PayByInvoiceForm(initial=data)
    cleaned = {key: str(value or "") for key, value in data.items()}
    checks = prechecks.run_prechecks(profile=scope.profile, subscription=scope.subscription, data=cleaned)
    return render(
        request,
        "support/pbi_new.html",
        {
            "form": form,
            "scope": scope,
            "plan": plan,
            "checks": _checks_for_display(checks),
            "blocked": bool(prechecks.blockers(checks)),
            "warnings": details.warnings(cleaned),
        },
    )


@login_required
def my_requests(request):
    return render(
        request,
        "support/my_requests.html",
        {
            "requests": selectors.requests_for_user(request.user),
            "amendments": amendment_requests_for_user(request.user),
        },
    )


def _customer_action(request, pbi):
    """Run the posted customer step; returns a redirect, or the form with its errors."""
    action = request.POST.get("action")
    form = None
    try:
        if action == "answer" or action == "message":
            form = MessageForm(request.POST)
            if form.is_valid():
                service = services.pbi_request_answer if action == "answer" else services.pbi_request_message
                service(request=pbi, actor=request.user, message=form.cleaned_data["message"])
                messages.success(request, _("Your message was sent to support."))
                return None, None
        elif action == "credit_application":
            form = CreditApplicationForm(request.POST)
            if form.is_valid():
                services.credit_application_submit(request=pbi, actor=request.user, data=form.cleaned_data)
                messages.success(request, _("Thank you. Support now checks your credit application."))
                return None, None
        elif action == "cancel" and request.POST.get("confirmed") == "yes":
            services.pbi_request_cancel(request=pbi, actor=request.user)
            messages.success(request, _("Your request was withdrawn."))
            return None, None
        else:
            raise Http404
    except DomainError as exc:
        if form is None:
            messages.error(request, exc.message)
            return None, None
        add_domain_error(form, exc)
    return action, form


@login_required
@require_http_methods(["GET", "POST"])
def request_detail(request, pk):
    """A pay-by-invoice request as the customer sees it: status, history, messages (not
    the internal notes), and the step that waits for them."""
    pbi = selectors.get_request_for_user(request.user, pk)
    action, failed_form = None, None
    if request.method == "POST":
        action, failed_form = _customer_action(request, pbi)
        if failed_form is None:
            return redirect("support:request", pk=pbi.pk)
    context = {
        "pbi": pbi,
        "events": pbi.events.select_related("actor"),
        "messages_list": pbi.messages.filter(internal=False).select_related("author"),
        "message_form": failed_form if action in ("answer", "message") else MessageForm(),
        "credit_form": failed_form if action == "credit_application" else CreditApplicationForm(),
        "application": getattr(pbi, "credit_application", None),
        "confirm_cancel": request.GET.get("action") == "cancel",
        "decision_dates": scopes.decision_dates(pbi),
    }
    return render(request, "support/request_detail.html", context)
