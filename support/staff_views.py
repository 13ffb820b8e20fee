"""Support staff's pages: the one support queue (both kinds of request, oldest first,
with filters) and a pay-by-invoice request with everything needed to decide it.

Irreversible steps (send the credit application, approve, reject) take a confirmation
first: the first submit shows what will happen, carrying what was typed; nothing is
written until the staff member confirms (``confirmed=yes``)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.models import AgreementType
from billing_portal.errors import DomainError
from billing_portal.forms import add_domain_error
from invoices.models import Invoice
from payments.models import Payment

from . import prechecks, scopes, selectors, services
from .forms import CreditDecisionForm, MessageForm, NoteForm, QueueFilterForm, RejectForm

CONFIRMED_STEPS = {"send_credit_application", "approve", "reject"}


@login_required
def queue(request):
    form = QueueFilterForm(request.GET or None, agreement_types=AgreementType.choices, initial={"status": "open"})
    queue_filter = selectors.QueueFilter()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        queue_filter = selectors.QueueFilter(
            kind=data["kind"] or "",
            status=data["status"] if "status" in request.GET else "open",
            older_than_days=data["older_than_days"],
            country=data["country"] or "",
            agreement_type=data["agreement_type"] or "",
        )
    rows = selectors.support_queue(request.user, queue_filter)
    return render(request, "support/queue.html", {"filters": form, "rows": rows})


def _run_step(request, pbi, action, forms):
    """Run a confirmed or reversible step. Returns a message on success."""
    user = request.user
    if action == "ask_information" and forms["message"].is_valid():
        services.pbi_ask_information(request=pbi, actor=user, message=forms["message"].cleaned_data["message"])
        return _("The question was sent; the request now waits for the customer.")
    if action == "note" and forms["note"].is_valid():
        services.pbi_add_note(request=pbi, actor=user, note=forms["note"].cleaned_data["note"])
        return _("The note was added.")
    if action == "credit_decision" and forms["decision"].is_valid():
        data = forms["decision"].cleaned_data
        services.pbi_record_credit_decision(
            request=pbi, actor=user, decision=data["decision"], credit_limit=data["credit_limit"]
        )
        return _("The credit decision was recorded.")
    if action == "send_credit_application":
        services.pbi_send_credit_application(request=pbi, actor=user)
        return _("The credit application was sent to the customer.")
    if action == "approve":
        services.pbi_approve(request=pbi, actor=user)
        return _("Approved: the billing scope now pays by invoice. The customer was sent the instructions.")
    if action == "reject" and forms["reject"].is_valid():
        services.pbi_reject(request=pbi, actor=user, reason=forms["reject"].cleaned_data["reason"])
        return _("The request was rejected. The customer was told why.")
    return None


@login_required
@require_http_methods(["GET", "POST"])
def staff_request(request, pk):
    pbi = selectors.get_request_for_staff(request.user, pk)
    action = request.POST.get("action") if request.method == "POST" else request.GET.get("action")
    posted = request.POST if request.method == "POST" else None
    forms = {
        "message": MessageForm(posted if action == "ask_information" else None),
        "note": NoteForm(posted if action == "note" else None),
        "decision": CreditDecisionForm(posted if action == "credit_decision" else None),
        "reject": RejectForm(posted if action == "reject" else None),
    }
    needs_confirmation = action in CONFIRMED_STEPS
    confirmed = request.method == "POST" and request.POST.get("confirmed") == "yes" and "edit" not in request.POST
    confirming = needs_confirmation and not confirmed and (action != "reject" or forms["reject"].is_valid())
    if request.method == "POST" and (confirmed or not needs_confirmation):
        form_for_error = {"ask_information": "message", "note": "note", "credit_decision": "decision"}.get(action)
        try:
            done = _run_step(request, pbi, action, forms)
        except DomainError as exc:
            if form_for_error:
                add_domain_error(forms[form_for_error], exc)
            else:
                messages.error(request, exc.message)
                return redirect("support:staff_request", pk=pbi.pk)
        else:
            if done:
                messages.success(request, done)
                return redirect("support:staff_request", pk=pbi.pk)
    now = [
        prechecks.describe(c)
        for c in prechecks.run_prechecks(
            profile=pbi.profile, subscription=pbi.subscription, for_approval=True, request_id=pbi.pk
        )
    ]
    context = {
        "pbi": pbi,
        "forms": forms,
        "action": action,
        "confirming": confirming,
        "submitted_checks": [prechecks.describe(c) for c in pbi.prechecks],
        "current_checks": now,
        "events": pbi.events.select_related("actor"),
        "messages_list": pbi.messages.select_related("author"),
        "application": getattr(pbi, "credit_application", None),
        "decision_dates": scopes.decision_dates(pbi),
        "invoices": Invoice.objects.filter(profile=pbi.profile).order_by("-issue_date", "-pk")[:10],
        "payments": Payment.objects.filter(profile=pbi.profile).select_related("invoice").order_by("-created_at")[:10],
        "account": pbi.account,
    }
    return render(request, "support/staff_request.html", context)
