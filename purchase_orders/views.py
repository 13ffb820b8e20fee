"""Pages for PO and VAT numbers (PO-1..PO-8, VAT-1), invoice amendment requests and
the support queue. Views read through selectors, write through services."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts import permissions
from accounts.models import AgreementType, PaymentMode
from accounts.selectors import get_account_for_user, get_profile_for_user, get_subscription_for_user, profiles_for_user
from billing_portal import clock
from billing_portal.errors import Conflict, DomainError
from billing_portal.forms import add_domain_error

from . import selectors, services
from .csv_export import history_csv
from .forms import (
    AmendmentRequestForm,
    DeclineForm,
    HistoryFilterForm,
    PeriodPONumberForm,
    PONumberForm,
    QueueFilterForm,
    UsageSummaryForm,
    VATNumberForm,
)
from .models import AmendmentStatus, ChangedField

HISTORY_ON_PAGE = 10
PAGE_SIZE = 25


def _rebound(form_class, request, version: int):
    """The user's input again, now against the current version (after a conflict)."""
    data = request.POST.copy()
    data["version"] = str(version)
    form = form_class(data)
    form.is_valid()
    return form


def _save(request, form_class, call, *, current_version):
    """Validate the form, call the service; on a conflict show it with the current
    version so that a second Save is a deliberate overwrite. Returns (saved, form)."""
    form = form_class(request.POST)
    if not form.is_valid():
        return False, form
    try:
        call(form.cleaned_data)
    except Conflict as exc:
        form = _rebound(form_class, request, current_version())
        form.add_error(None, exc.message)
        return False, form
    except DomainError as exc:
        add_domain_error(form, exc)
        return False, form
    return True, form


def _number_form(request, form_class, obj, *, can_edit: bool, initial: dict, save, saved_message: str):
    """The shape every number page shares. GET: the form with the values read (None for a
    role that may not edit). POST: ``save(cleaned_data)`` through the service and redirect
    back once saved; otherwise the form with its errors and ``obj`` reloaded to show the
    value in force. Returns ``(form, redirect or None)``."""
    if request.method != "POST":
        return (form_class(initial={**initial, "version": obj.version}) if can_edit else None), None
    if not can_edit:
        raise PermissionDenied
    saved, form = _save(request, form_class, save, current_version=lambda: type(obj).objects.get(pk=obj.pk).version)
    if saved:
        messages.success(request, saved_message)
        return form, redirect(request.path)
    obj.refresh_from_db()
    return form, None


def _profile_po_form(request, profile, *, can_edit: bool):
    return _number_form(
        request,
        PONumberForm,
        profile,
        can_edit=can_edit,
        initial={"po_number": profile.po_number},
        save=lambda data: services.profile_po_number_set(
            profile=profile, po_number=data["po_number"], actor=request.user, version=data["version"]
        ),
        saved_message=_("The PO number was saved. It will be printed on the next invoice."),
    )


def _usage_summary_redirect(account):
    return redirect(f"{reverse('purchase_orders:usage_summary')}?{urlencode({'account': account.pk})}")


def _first_subscription(account):
    return account.subscriptions.order_by("name", "pk").first()


def _history(user, account, **filters):
    return list(selectors.number_changes_for_user(user, account, **filters)[:HISTORY_ON_PAGE])


# --- Web direct: Subscription › Payment methods › Invoice (PO-1, PO-3) ---------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def web_direct_po(request, subscription_id):
    subscription = get_subscription_for_user(request.user, subscription_id)
    profile, account = subscription.profile, subscription.account
    if account.agreement_type == AgreementType.CUSTOMER_AGREEMENT:
        return redirect("purchase_orders:profile_po", pk=profile.pk)
    if account.agreement_type == AgreementType.ENTERPRISE:
        return _usage_summary_redirect(account)
    if not permissions.can_view_payment_methods(request.user, profile):
        raise PermissionDenied
    can_edit = permissions.can_edit_po(request.user, profile)
    pays_by_invoice = account.payment_mode == PaymentMode.INVOICE
    if request.method == "POST" and can_edit and not pays_by_invoice:
        messages.error(request, _("A PO number can only be added when the account pays by invoice."))
        return redirect(request.path)
    form, response = _profile_po_form(request, profile, can_edit=can_edit and pays_by_invoice)
    if response:
        return response
    return render(
        request,
        "purchase_orders/web_direct_po.html",
        {
            "subscription": subscription,
            "account": account,
            "profile": profile,
            "form": form,
            "can_edit": can_edit,
            "pays_by_invoice": pays_by_invoice,
            "seller": settings.PORTAL_SELLER,
            "history": _history(request.user, account, field=ChangedField.PO_NUMBER, profile=profile)
            if pays_by_invoice or profile.po_number
            else [],
        },
    )


# --- Customer agreement: a billing profile's PO number -------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def profile_po(request, pk):
    profile = get_profile_for_user(request.user, pk)
    account = profile.account
    if account.agreement_type == AgreementType.ENTERPRISE:
        return _usage_summary_redirect(account)
    if account.agreement_type == AgreementType.WEB_DIRECT:
        subscription = _first_subscription(account)
        if subscription is None:
            raise Http404
        return redirect("purchase_orders:web_direct_po", subscription_id=subscription.subscription_id)
    can_edit = permissions.can_edit_po(request.user, profile)
    form, response = _profile_po_form(request, profile, can_edit=can_edit)
    if response:
        return response
    return render(
        request,
        "purchase_orders/profile_po.html",
        {
            "account": account,
            "profile": profile,
            "form": form,
            "can_edit": can_edit,
            "history": _history(request.user, account, field=ChangedField.PO_NUMBER, profile=profile),
        },
    )


# --- VAT number (VAT-1) -------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def vat_number(request, pk):
    account = get_account_for_user(request.user, pk)
    can_edit = permissions.can_edit_vat(request.user, account)
    form, response = _number_form(
        request,
        VATNumberForm,
        account,
        can_edit=can_edit,
        initial={"vat_id": account.vat_id},
        save=lambda data: services.vat_number_set(
            account=account, vat_id=data["vat_id"], actor=request.user, version=data["version"]
        ),
        saved_message=_("The VAT number was saved. It will be printed on the next invoice."),
    )
    if response:
        return response
    return render(
        request,
        "purchase_orders/vat_number.html",
        {
            "account": account,
            "form": form,
            "can_edit": can_edit,
            "history": _history(request.user, account, field=ChangedField.VAT_ID),
        },
    )


# --- One account's PO and VAT numbers, and the full history -------------------------------------------------


@login_required
def numbers(request, pk):
    account = get_account_for_user(request.user, pk)
    profiles = [p for p in profiles_for_user(request.user) if p.account_id == account.pk]
    first_subscription = _first_subscription(account) if account.is_web_direct else None
    return render(
        request,
        "purchase_orders/numbers.html",
        {
            "account": account,
            "profiles": profiles,
            "first_subscription": first_subscription,
            "can_edit_vat": permissions.can_edit_vat(request.user, account),
            "history": _history(request.user, account),
        },
    )


@login_required
def history(request, pk):
    account = get_account_for_user(request.user, pk)
    filters = HistoryFilterForm(request.GET or None)
    field = filters.cleaned_data.get("field") if filters.is_valid() else None
    changes = selectors.number_changes_for_user(request.user, account, field=field or None)
    page = Paginator(changes, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "purchase_orders/history.html",
        {"account": account, "page": page, "filters": filters, "field": field or ""},
    )


@login_required
def history_export(request, pk):
    account = get_account_for_user(request.user, pk)
    filters = HistoryFilterForm(request.GET or None)
    field = filters.cleaned_data.get("field") if filters.is_valid() else None
    changes = selectors.number_changes_for_user(request.user, account, field=field or None).select_related("account")
    response = HttpResponse(history_csv(changes), content_type="text/csv; charset=utf-8")
    filename = f"po-vat-history-{account.pk}-{clock.today():%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- Enterprise: Reports › Usage summary (PO-4, PO-6, PO-7) -------------------------------------------------


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
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied
        saved, form = _save(
            request,
            PeriodPONumberForm,
            lambda data: services.period_po_number_set(
                profile=profile, period=day, po_number=data["po_number"], actor=request.user, version=data["version"]
            ),
            current_version=lambda: selectors.period_state(profile, day).version,
        )
        if saved:
            new_state = selectors.period_state(profile, day)
            if new_state.invoice is not None and state.window.amends_invoice:
                messages.success(
                    request,
                    _("The PO number was saved and invoice %(number)s was updated: a new revision with a new PDF.")
                    % {"number": new_state.invoice.number},
                )
            else:
                messages.success(request, _("The PO number was saved. It will be printed on this period's invoice."))
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
            "can_edit": can_edit,
            "can_request": permissions.can_request_invoice_amendment(request.user, profile),
            "history": _history(request.user, account, field=ChangedField.PO_NUMBER),
        },
    )


# --- Amendment requests (PO-5), customer side -------------------------------------------------------------


@login_required
def amendment_list(request):
    requests_qs = selectors.amendment_requests_for_user(request.user)
    page = Paginator(requests_qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "purchase_orders/amendment_list.html", {"page": page})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def amendment_new(request):
    invoices = selectors.amendable_invoices_for_user(request.user)
    if not invoices:
        return render(request, "purchase_orders/amendment_new.html", {"form": None})
    chosen = None
    if request.GET.get("invoice"):
        chosen = selectors.get_invoice_for_amendment(request.user, request.GET["invoice"])
    if request.method == "POST":
        form = AmendmentRequestForm(request.POST, invoices=invoices)
        if form.is_valid():
            data = form.cleaned_data
            invoice = next(inv for inv in invoices if inv.pk == data["invoice"])
            try:
                amendment = services.amendment_request_create(
                    invoice=invoice,
                    actor=request.user,
                    message=data["message"],
                    po_number=data["po_number"] if data["change_po_number"] else None,
                    vat_id=data["vat_id"] if data["change_vat_id"] else None,
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(
                    request, _("Your request was sent to support. You will get an e-mail when it is handled.")
                )
                return redirect("purchase_orders:amendment_detail", pk=amendment.pk)
    else:
        initial = {}
        if chosen is not None:
            initial["invoice"] = chosen.pk
            revision = chosen.current_revision
            initial["po_number"] = revision.po_number if revision else ""
            initial["vat_id"] = revision.vat_id if revision else ""
            if request.GET.get("change") == "po_number":
                initial["change_po_number"] = True
        form = AmendmentRequestForm(initial=initial, invoices=invoices)
    return render(request, "purchase_orders/amendment_new.html", {"form": form, "invoices": invoices})


@login_required
def amendment_detail(request, pk):
    amendment = selectors.get_amendment_request_for_user(request.user, pk)
    return render(request, "purchase_orders/amendment_detail.html", {"amendment": amendment})


# --- Support queue (support staff only) ---------------------------------------------------------------------


@login_required
def support_queue(request):
    filters = QueueFilterForm(request.GET or None)
    status = AmendmentStatus.OPEN
    if request.GET:
        status = filters.cleaned_data.get("status") if filters.is_valid() else AmendmentStatus.OPEN
    else:
        filters = QueueFilterForm(initial={"status": AmendmentStatus.OPEN})
    qs = selectors.support_queue(request.user, status=status or None)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "purchase_orders/support_queue.html", {"page": page, "filters": filters, "status": status})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def support_request(request, pk):
    """A request in the queue. Approving and declining are irreversible, so each takes a
    confirmation step first: approve by a GET (``?action=approve``), decline by posting
    the reason, which the confirmation carries back unchanged. Nothing is written until
    the staff member confirms (``confirmed=yes``)."""
    amendment = selectors.get_support_request(request.user, pk)
    action = request.POST.get("action") if request.method == "POST" else request.GET.get("action")
    confirmed = request.method == "POST" and request.POST.get("confirmed") == "yes"
    decline_form = DeclineForm(request.POST if request.method == "POST" and action == "decline" else None)
    # Decline is confirmed only with a valid reason; "Change the reason" goes back to the form.
    confirm_decline = decline_form.is_valid() and "edit" not in request.POST
    if confirmed:
        try:
            if action == "approve":
                services.amendment_request_approve(request=amendment, actor=request.user)
                messages.success(
                    request,
                    _("Invoice %(number)s was amended: a new revision with a new PDF. The customer was notified.")
                    % {"number": amendment.invoice.number},
                )
                return redirect("purchase_orders:support_queue")
            if action == "decline" and confirm_decline:
                services.amendment_request_decline(
                    request=amendment, actor=request.user, reason=decline_form.cleaned_data["reason"]
                )
                messages.success(request, _("The request was declined. The customer was notified."))
                return redirect("purchase_orders:support_queue")
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("purchase_orders:support_request", pk=amendment.pk)
    return render(
        request,
        "purchase_orders/support_request.html",
        {"amendment": amendment, "decline_form": decline_form, "action": action, "confirm_decline": confirm_decline},
    )
