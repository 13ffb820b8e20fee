from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.http import require_safe

from accounts import permissions
from billing_portal.errors import DomainError

from . import detail, downloads, epc, exports, hooks, listing, selectors
from .filters import InvoiceFilterForm
from .models import InvoiceStatus

# The pages of the list (invoices.listing); PAGE_SIZE is named here for the tests.
PAGE_SIZE = listing.PAGE_SIZE


@login_required
@require_safe
def invoice_list(request):
    """The invoices the user may see, one page at a time (``listing.page``). A ``page`` that
    is not a number gives the first page; one past the end, however large, gives the
    last page (like Paginator.get_page), not a 404: a bookmarked page of a list that
    has shrunk still shows invoices."""
    user = request.user
    data = request.GET
    if "period" in data and not any(name.startswith("period_") for name in data):
        # One period (a link of an earlier list): the range of that one month.
        data = data.copy()
        data["period_from"] = data["period_to"] = data.pop("period")[-1]
    form = InvoiceFilterForm(data or None, scopes=selectors.invoice_filter_scopes(user))
    if form.filters_nothing():  # the first page, what most visits show, read prepared
        invoices = selectors.FirstRowsPrepared(user, listing.LIST_COLUMNS)
    else:
        invoices = form.apply(selectors.invoice_values_for_user(user, listing.LIST_COLUMNS))
    page = listing.page(invoices, request.GET.get("page"))
    rows = listing.rows(user, page.object_list, settings.PORTAL_SELLER)
    return render(
        request,
        "invoices/invoice_list.html",
        {
            "filters": listing.filters_html(form, translation.get_language() or "en"),
            "page": page,
            "rows": rows,
            "has_rows": bool(page.object_list),
            "query": _list_query(data),
            "listed_valid": not form.is_bound or form.is_valid(),
            "zip_limit": settings.INVOICE_ZIP_MAX_INVOICES,
            # Every invoice line names its subscription: without one, the user has no invoice.
            "has_profiles": bool(page.object_list) or bool(form.scopes),
        },
    )


def _list_query(params) -> str:
    """The list's filter as a query string (no page, no selection)."""
    query = params.copy()
    for name in ("page", "invoice", "selected"):
        query.pop(name, None)
    return query.urlencode()


@login_required
@require_safe
def invoice_download(request):
    """The PDFs of the selected invoices, or of every invoice the filter lists, as one ZIP
    (invoices.exports). A refusal (nothing selected, too many) goes back to the list with
    its message."""
    return _export(request, exports.zip_response)


@login_required
@require_safe
def invoice_export(request):
    """The invoices the filter lists as CSV (invoices.exports)."""
    return _export(request, exports.csv_response)


def _export(request, respond):
    try:
        return respond(request.user, request.GET)
    except DomainError as error:
        messages.error(request, error.message)
        query = _list_query(request.GET)
        return redirect(reverse("invoices:list") + (f"?{query}" if query else ""))


@login_required
@require_safe
def invoice_lines_export(request, pk):
    """One invoice's lines as CSV (invoices.exports)."""
    return exports.lines_csv_response(request.user, pk)


@login_required
@require_safe
def invoice_detail(request, pk):
    invoice = selectors.get_invoice_for_user(request.user, pk)
    credit_notes = selectors.credit_notes_on_invoice(invoice)
    return render(
        request,
        "invoices/invoice_detail.html",
        {
            "invoice": invoice,
            "revision": invoice.current_revision,
            "line_rows": detail.line_rows(invoice),
            "revision_rows": detail.revision_rows(invoice, selectors.revisions_for_invoice(invoice)),
            "credit_notes": credit_notes,
            "replaced_by": selectors.replacing_invoice(credit_notes),
            "can_pay": permissions.can_pay_invoices(request.user, invoice.profile),
            # PO-5: the predicate of the amendment request service, which also refuses a void invoice.
            "can_request_amendment": invoice.status != InvoiceStatus.VOID
            and permissions.can_request_invoice_amendment(request.user, invoice.profile),
            "seller": settings.PORTAL_SELLER,
            "epc_qr": epc.qr_svg(invoice),
            "receipts": [row for rows in hooks.invoice_receipts(invoice=invoice) for row in rows],
        },
    )


@login_required
@require_safe
def invoice_pdf(request, pk, revision=None):
    """The stored PDF of the current (or a given) revision (invoices.downloads)."""
    return downloads.revision_pdf_response(request.user, pk, revision)


@login_required
@require_safe
def support_invoice_pdf(request, pk, revision=None):
    """Support staff: the PDF of the invoice a request is about (invoices.downloads)."""
    return downloads.support_revision_pdf_response(request.user, pk, revision)


@login_required
@require_safe
def credit_note_pdf(request, pk):
    """A credit note's PDF, for everyone who may read its invoice (invoices.downloads)."""
    return downloads.credit_note_pdf_response(request.user, pk)
