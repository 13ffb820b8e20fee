"""Enterprise: Reports › Usage summary and the PO number of a billing period (PO-4,
PO-6, PO-7)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts import permissions

from .. import selectors, services
from ..forms import PeriodPONumberForm, UsageSummaryForm
from ..models import ChangedField
from .editing import recent_history, save_form

# --- Enterprise: Reports › Usage summary (PO-4, PO-6, PO-7) -------------------------------------------------


def _amendment_to_confirm(request, state):
    """PO-7: a change inside the edit window amends the issued invoice (a new revision
    and PDF), which cannot be undone: the first Save shows what will happen and asks
    again. Returns the valid form to confirm, or None when there is nothing to confirm
    (no issued invoice, already confirmed, invalid input or nothing changes)."""
    if not (state.window.amends_invoice and state.invoice) or request.POST.get("confirmed") == "yes":
        return None
    form = PeriodPONumberForm(request.POST)
    if not form.is_valid() or form.cleaned_data["po_number"].strip() == (state.row.po_number if state.row else ""):
        return None
    return form


def _saved_message(state, *, amended: bool) -> str:
    if state.is_default:
        text = _("The PO number of this period was cleared: the default, the enrollment number %(po)s, applies again.")
    else:
        text = _("The PO number was saved: %(po)s.")
    text %= {"po": state.po_number}
    if amended and state.invoice is not None:
        return (
            text
            + " "
            + _("Invoice %(number)s was updated: a new revision with a new PDF.") % {"number": state.invoice.number}
        )
    return text + " " + _("It will be printed on this period's invoice.")


def _enterprise_scope(request, account_id=None):
    accounts = selectors.enterprise_accounts_for_user(request.user)
    if account_id is None:
        if not accounts:
            raise PermissionDenied
        account = accounts[0]
    else:
        account = selectors.get_enterprise_account_for_user(request.user, account_id)
    return accounts, account, selectors.enterprise_profile(account)


@login_required
def usage_summary(request):
    account_id = request.GET.get("account") or None
    accounts, account, profile = _enterprise_scope(request, account_id)
    periods = selectors.enterprise_periods(profile)
    by_key = {state.key: state for state in periods}
    wanted = request.GET.get("period") or ""
    state = by_key.get(wanted) or (periods[0] if periods else None)
    if wanted and wanted not in by_key:
        messages.info(request, _("That billing period has no usage; showing the latest period."))
    form = UsageSummaryForm(
        initial={"account": account.pk, "period": state.key if state else ""},
        accounts=accounts,
        periods=[(s.key, s.period) for s in periods],
    )
    return render(
        request,
        "purchase_orders/usage_summary.html",
        {
            "accounts": accounts,
            "account": account,
            "profile": profile,
            "periods": periods,
            "state": state,
            "form": form,
            "summary": selectors.charges_summary(profile, state.period) if state else None,
            "can_edit": permissions.can_edit_po(request.user, profile),
        },
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def period_po(request, account_id, period):
    _accounts, account, profile = _enterprise_scope(request, account_id)
    day = selectors.get_period(account, period)
    state = selectors.period_state(profile, day)
    can_edit = permissions.can_edit_po(request.user, profile)
    form = None
    confirm = None
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        confirm = _amendment_to_confirm(request, state)
    if confirm is not None:
        form = confirm
    elif request.method == "POST":
        saved, form = save_form(
            request,
            PeriodPONumberForm,
            lambda data: services.period_po_number_set(
                profile=profile, period=day, po_number=data["po_number"], actor=request.user, version=data["version"]
            ),
            current_version=lambda: selectors.period_state(profile, day).version,
        )
        if saved:
            new_state = selectors.period_state(profile, day)
            messages.success(request, _saved_message(new_state, amended=state.window.amends_invoice))
            return redirect("purchase_orders:period_po", account_id=account.pk, period=state.key)
        state = selectors.period_state(profile, day)
    elif can_edit and state.window.is_open:
        form = PeriodPONumberForm(
            initial={"po_number": state.row.po_number if state.row else "", "version": state.version}
        )
    return render(
        request,
        "purchase_orders/period_po.html",
        {
            "account": account,
            "profile": profile,
            "state": state,
            "form": form if state.window.is_open else None,
            "confirm": confirm,
            "can_edit": can_edit,
            "can_request": permissions.can_request_invoice_amendment(request.user, profile),
            "history": recent_history(request.user, account, field=ChangedField.PO_NUMBER),
        },
    )
