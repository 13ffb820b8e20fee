from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.http import require_safe

from accounts import permissions

from . import detail, downloads, epc, hooks, listing, selectors
from .forms import InvoiceFilterForm
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
    form = InvoiceFilterForm(request.GET or None)
    invoices = form.apply(selectors.invoice_values_for_user(user, listing.LIST_COLUMNS))
    page = listing.page(invoices, request.GET.get("page"))
    rows = listing.rows(user, page.object_list, settings.PORTAL_SELLER)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "invoices/invoice_list.html",
        {
            "filters": listing.filters_html(form, translation.get_language() or "en"),
            "page": page,
            "rows": rows,
            "has_rows": bool(page.object_list),
            "query": query.urlencode(),
            "has_profiles": bool(page.object_list) or selectors.has_invoice_scopes(user),
        },
    )


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
