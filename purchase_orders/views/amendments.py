"""Invoice amendment requests (PO-5): the customer's side and the support queue."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts import permissions
from billing_portal.errors import DomainError
from billing_portal.forms import add_domain_error

from .. import selectors, services
from ..forms import AmendmentRequestForm, DeclineForm
from .editing import PAGE_SIZE

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
    invoice_readable = permissions.can_view_invoices(request.user, amendment.invoice.profile)
    return render(
        request, "purchase_orders/amendment_detail.html", {"amendment": amendment, "invoice_readable": invoice_readable}
    )


# --- Support queue (support staff only) ---------------------------------------------------------------------


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
                return redirect("support:queue")
            if action == "decline" and confirm_decline:
                services.amendment_request_decline(
                    request=amendment, actor=request.user, reason=decline_form.cleaned_data["reason"]
                )
                messages.success(request, _("The request was declined. The customer was notified."))
                return redirect("support:queue")
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("purchase_orders:support_request", pk=amendment.pk)
    return render(
        request,
        "purchase_orders/support_request.html",
        {"amendment": amendment, "decline_form": decline_form, "action": action, "confirm_decline": confirm_decline},
    )
