"""The payment history page and the receipt PDF download (docs/payments.md, "Receipts
and the payment history")."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_safe

from invoices import selectors as invoice_selectors

from . import downloads, history

PAGE_SIZE = 25


@login_required
@require_safe
def payment_history(request):
    """Every payment of the scopes whose invoices the user may read (or of one,
    ``?profile=``), newest first, a page at a time (``history.payment_history``)."""
    scope = history.history_scope(request.user, request.GET.get("profile"))
    page = Paginator(history.payment_history(scope), PAGE_SIZE).get_page(request.GET.get("page"))
    profiles = invoice_selectors.invoice_profiles(request.user)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "payments/history.html",
        {
            "page": page,
            "rows": page.object_list,
            "scope": scope,
            "profiles": profiles if len(profiles) > 1 else [],
            "query": query.urlencode(),
            "has_profiles": bool(profiles),
        },
    )


@login_required
@require_safe
def receipt_pdf(request, pk):
    """A receipt's PDF, for everyone who may read its invoice (payments.downloads)."""
    return downloads.receipt_pdf_response(request.user, pk)
