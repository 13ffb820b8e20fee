from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.http import require_safe

from accounts import permissions
from billing_portal.money import format_money

from . import selectors, services
from .forms import InvoiceFilterForm
from .models import InvoiceStatus

PAGE_SIZE = 25


def _pay_context(user, profiles) -> dict:
    """Per billing scope: may the user pay its invoices in the portal (PAY-1)?"""
    return {profile.pk: permissions.can_pay_invoices(user, profile) for profile in profiles}


@login_required
@require_safe
def invoice_list(request):
    profiles = selectors.invoice_profiles(request.user)
    form = InvoiceFilterForm(request.GET or None)
    invoices = form.apply(selectors.invoices_for_user(request.user, profiles=profiles))
    page = Paginator(invoices, PAGE_SIZE).get_page(request.GET.get("page"))
    can_pay = _pay_context(request.user, profiles)
    # Per-row display values computed here once (the template engine's lookups, lazy
    # translations and {% url %} per cell cost more than the rest of the page).
    language = translation.get_language() or "en"
    status_labels = {value: str(label) for value, label in InvoiceStatus.choices}
    rows = [
        {
            "invoice": invoice,
            "can_pay": can_pay.get(invoice.profile_id, False),
            "url": reverse("invoices:detail", args=[invoice.pk]),
            "status_label": status_labels.get(invoice.status, invoice.status),
            "total": format_money(invoice.total, invoice.currency, language),
        }
        for invoice in page.object_list
    ]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "invoices/invoice_list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "query": query.urlencode(),
            "has_profiles": bool(profiles),
            "seller": settings.PORTAL_SELLER,
        },
    )


@login_required
@require_safe
def invoice_detail(request, pk):
    invoice = selectors.get_invoice_for_user(request.user, pk)
    return render(
        request,
        "invoices/invoice_detail.html",
        {
            "invoice": invoice,
            "revision": invoice.current_revision,
            "lines": invoice.lines.select_related("subscription"),
            "revisions": invoice.revisions.order_by("-number"),
            "can_pay": permissions.can_pay_invoices(request.user, invoice.profile),
            "can_request_amendment": permissions.can_request_invoice_amendment(request.user, invoice.profile),
            "seller": settings.PORTAL_SELLER,
        },
    )


@login_required
@require_safe
def invoice_pdf(request, pk, revision=None):
    """The stored PDF of the current (or a given) revision. Rendered once: if the
    worker has not stored it yet, it is rendered and stored now."""
    revision_obj = selectors.get_revision_for_user(request.user, pk, revision)
    if not revision_obj.pdf:
        services.invoice_revision_render_pdf(revision_id=revision_obj.pk)
        revision_obj.refresh_from_db(fields=["pdf", "pdf_rendered_at"])
    if not revision_obj.pdf:
        raise Http404
    suffix = f"-r{revision_obj.number}" if revision_obj.number > 1 else ""
    return FileResponse(
        revision_obj.pdf.open("rb"),
        as_attachment=True,
        filename=f"{revision_obj.invoice.number}{suffix}.pdf",
        content_type="application/pdf",
    )
