"""Pages for PO and VAT numbers (PO-1..PO-3, PO-8, VAT-1) and their history. Views
read through selectors, write through services."""

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
from accounts.models import AgreementType
from accounts.selectors import (
    first_subscription,
    get_account_for_user,
    get_profile_for_user,
    get_subscription_for_user,
    profiles_for_user,
)
from billing_portal import clock

from .. import selectors, services
from ..csv_export import history_csv
from ..forms import HistoryFilterForm, PONumberForm, VATNumberForm
from ..models import ChangedField
from .editing import PAGE_SIZE, number_form, recent_history


def _profile_po_form(request, profile, *, can_edit: bool):
    return number_form(
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
    pays_by_invoice = permissions.pays_by_invoice(account)
    if request.method == "POST" and can_edit and not pays_by_invoice:
        messages.error(request, services.profile_po_refusal(request.user, profile).message)
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
            "history": recent_history(request.user, account, field=ChangedField.PO_NUMBER, profile=profile)
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
        subscription = first_subscription(account)
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
            "history": recent_history(request.user, account, field=ChangedField.PO_NUMBER, profile=profile),
        },
    )


# --- VAT number (VAT-1) -------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def vat_number(request, pk):
    account = get_account_for_user(request.user, pk)
    can_edit = permissions.can_edit_vat(request.user, account)
    form, response = number_form(
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
            "history": recent_history(request.user, account, field=ChangedField.VAT_ID),
        },
    )


# --- One account's PO and VAT numbers, and the full history -------------------------------------------------


@login_required
def numbers(request, pk):
    account = get_account_for_user(request.user, pk)
    profiles = [p for p in profiles_for_user(request.user) if p.account_id == account.pk]
    subscription = first_subscription(account) if account.is_web_direct else None
    return render(
        request,
        "purchase_orders/numbers.html",
        {
            "account": account,
            "profiles": profiles,
            "first_subscription": subscription,
            "can_edit_vat": permissions.can_edit_vat(request.user, account),
            "history": recent_history(request.user, account),
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
