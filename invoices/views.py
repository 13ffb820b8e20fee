from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.utils import formats, translation
from django.views.decorators.http import require_safe

from accounts import permissions

from . import formatting, selectors, services
from .forms import InvoiceFilterForm
from .models import InvoiceStatus

PAGE_SIZE = 25
# The columns the list shows (the scope's name is BillingProfile.__str__: account name,
# profile name unless default) or needs for PAY-1 (can_pay_invoices reads the profile's
# account: agreement type and who signed up). Anything else read later costs a query
# per billing profile on the page, which the constant-query tests catch.
LIST_FIELDS = (
    "number", "period", "issue_date", "due_date", "status", "currency", "total", "payment_terms",
    "payment_reference", "profile__name", "profile__is_default", "profile__account__name",
    "profile__account__agreement_type", "profile__account__signed_up_by",
)


class ListPage:
    """One page of a list read without counting the rows: PAGE_SIZE + 1 rows are
    fetched, the extra one only tells whether there is a next page."""

    def __init__(self, number: int, rows: list, has_next: bool):
        self.number = number
        self.object_list = rows
        self.has_next = has_next
        self.has_previous = number > 1
        self.has_other_pages = self.has_previous or has_next
        self.previous_page_number = number - 1
        self.next_page_number = number + 1


def _page(queryset, number) -> ListPage:
    """Page ``number`` (1-based). Like Paginator.get_page: not a number gives the first
    page; a number past the end (or below 1) gives the last page, which only then costs
    a COUNT."""
    try:
        number = int(number)
    except (TypeError, ValueError):
        number = 1
    if number >= 1:
        start = (number - 1) * PAGE_SIZE
        rows = list(queryset[start : start + PAGE_SIZE + 1])
        if rows or number == 1:
            return ListPage(number, rows[:PAGE_SIZE], len(rows) > PAGE_SIZE)
    last = max(1, -(-queryset.count() // PAGE_SIZE))
    start = (last - 1) * PAGE_SIZE
    return ListPage(last, list(queryset[start : start + PAGE_SIZE]), False)


@login_required
@require_safe
def invoice_list(request):
    user = request.user
    form = InvoiceFilterForm(request.GET or None)
    invoices = (
        form.apply(selectors.invoices_for_user(user))
        .select_related(None)
        .select_related("profile__account")
        .only(*LIST_FIELDS)
    )
    page = _page(invoices, request.GET.get("page"))
    # Every cell is computed here once: the template engine's lookups, filters, lazy
    # translations, {% url %} and includes per cell cost more than the rest of the page.
    language = translation.get_language() or "en"
    status_labels = {value: str(label) for value, label in InvoiceStatus.choices}
    detail_url = formatting.url_maker("invoices:detail")
    pay_url = formatting.url_maker("payments:pay")
    can_pay: dict[int, bool] = {}  # per billing profile (PAY-1), from the cached grants
    dates: dict = {}
    rows = []
    for invoice in page.object_list:
        profile = invoice.profile
        if profile.pk not in can_pay:
            can_pay[profile.pk] = permissions.can_pay_invoices(user, profile)
        for day in (invoice.issue_date, invoice.due_date):
            if day not in dates:
                dates[day] = formats.date_format(day, "SHORT_DATE_FORMAT")
        # As invoices/_payment.html: bank-transfer instructions, else Pay now (PAY-1).
        bank_transfer = invoice.is_payable and invoice.pays_by_bank_transfer
        pays_now = invoice.is_payable and not bank_transfer and can_pay[profile.pk] and pay_url is not None
        rows.append(
            {
                "number": invoice.number,
                "url": detail_url(invoice.pk),
                "scope": str(profile),
                "period": f"{invoice.period:%Y-%m}",
                "issue_date": dates[invoice.issue_date],
                "due_date": dates[invoice.due_date],
                "total": formatting.money_formatter(invoice.currency, language)(invoice.total),
                "status": invoice.status,
                "status_label": status_labels.get(invoice.status, invoice.status),
                "bank_transfer": bank_transfer,
                "pay_url": pay_url(invoice.pk) if pays_now else "",
                "payment_reference": invoice.payment_reference,
            }
        )
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
            "has_profiles": bool(rows) or selectors.has_invoice_scopes(user),
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
