from html import escape

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import formats, translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.views.decorators.http import require_safe

from accounts import permissions

from . import downloads, formatting, hooks, selectors
from .forms import InvoiceFilterForm
from .models import InvoiceStatus

PAGE_SIZE = 25
# The highest page whose OFFSET still fits the database's 64-bit integer; a higher
# number is past the end of any list.
MAX_PAGE = (2**63 - 2) // PAGE_SIZE
# The columns the list shows (the scope's name is BillingProfile.__str__: account name,
# profile name unless default) or needs for PAY-1 (can_pay_invoices reads the profile's
# account: agreement type and who signed up). Anything else read later costs a query
# per billing profile on the page, which the constant-query tests catch.
LIST_FIELDS = (
    "number",
    "period",
    "issue_date",
    "due_date",
    "status",
    "currency",
    "total",
    "payment_terms",
    "payment_reference",
    "profile__name",
    "profile__is_default",
    "profile__account__name",
    "profile__account__agreement_type",
    "profile__account__signed_up_by",
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
    a COUNT. A number past MAX_PAGE (``?page=99999999999999999999``) is past the end
    too: it never reaches the database as an OFFSET."""
    digits = str(number or "").strip().lstrip("+")
    try:
        number = MAX_PAGE + 1 if digits.isascii() and digits.isdigit() and len(digits) > 20 else int(number)
    except (TypeError, ValueError):
        number = 1
    if 1 <= number <= MAX_PAGE:
        start = (number - 1) * PAGE_SIZE
        rows = list(queryset[start : start + PAGE_SIZE + 1])
        if rows or number == 1:
            return ListPage(number, rows[:PAGE_SIZE], len(rows) > PAGE_SIZE)
    last = max(1, -(-queryset.count() // PAGE_SIZE))
    start = (last - 1) * PAGE_SIZE
    return ListPage(last, list(queryset[start : start + PAGE_SIZE]), False)


# The list's table rows, built as one string: the template engine's variable lookups,
# escaping, filters, lazy translations, {% url %} and includes per cell cost more than
# the rest of the page. Every value is escaped; the markup matches the page's columns
# in invoices/invoice_list.html, the payment cell matches invoices/_payment.html.
_ROW = (
    '<tr><td><a href="{url}">{number}</a></td><td>{scope}</td><td>{period}</td><td>{issue_date}</td>'
    '<td>{due_date}</td><td class="num">{total}</td>'
    '<td><span class="status status-{status}">{status_label}</span></td><td>{payment}</td></tr>\n'
)
_BANK_TRANSFER = (
    '<span class="payment-instructions">{label}: IBAN {iban} · {reference_label} <code>{reference}</code></span>'
)
_PAY_NOW = '<a class="button-primary" href="{url}">{label}</a>'


def _list_rows(user, invoices, seller) -> str:
    language = translation.get_language() or "en"
    status_labels = {value: escape(str(label)) for value, label in InvoiceStatus.choices}
    bank_label, reference_label, pay_label = (escape(gettext(t)) for t in ("Bank transfer", "reference", "Pay now"))
    iban = escape(seller["iban"])
    detail_url = formatting.url_maker("invoices:detail")
    pay_url = formatting.url_maker("payments:pay")
    can_pay: dict[int, bool] = {}  # per billing profile (PAY-1), from the cached grants
    scopes: dict[int, str] = {}
    dates: dict = {}
    out = []
    for invoice in invoices:
        profile = invoice.profile
        if profile.pk not in can_pay:
            can_pay[profile.pk] = permissions.can_pay_invoices(user, profile)
            scopes[profile.pk] = escape(str(profile))
        for day in (invoice.issue_date, invoice.due_date):
            if day not in dates:
                dates[day] = escape(formats.date_format(day, "SHORT_DATE_FORMAT"))
        payment = ""
        if invoice.is_payable:
            if invoice.pays_by_bank_transfer:
                payment = _BANK_TRANSFER.format(
                    label=bank_label,
                    iban=iban,
                    reference_label=reference_label,
                    reference=escape(invoice.payment_reference),
                )
            elif can_pay[profile.pk] and pay_url is not None:
                payment = _PAY_NOW.format(url=pay_url(invoice.pk), label=pay_label)
        out.append(
            _ROW.format(
                url=detail_url(invoice.pk),
                number=escape(invoice.number),
                scope=scopes[profile.pk],
                period=f"{invoice.period:%Y-%m}",
                issue_date=dates[invoice.issue_date],
                due_date=dates[invoice.due_date],
                total=escape(formatting.money_formatter(invoice.currency, language)(invoice.total)),
                status=escape(invoice.status),
                status_label=status_labels.get(invoice.status) or escape(invoice.status),
                payment=payment,
            )
        )
    return mark_safe("".join(out))  # every value above is escaped


# The filter form's HTML (two includes/field.html and their widgets cost about as much
# as the rest of the page) depends only on the language and the submitted values; a
# valid or empty form's HTML is kept per process (bounded), a form with errors is
# always rendered.
_FILTERS_HTML: dict = {}
_FILTERS_HTML_MAX = 256


def _filters_html(form, language: str) -> str:
    if form.is_bound and not form.is_valid():
        return render_to_string("invoices/_list_filters.html", {"form": form})
    key = (language, form.is_bound, form.data.get("status"), form.data.get("period"))
    html = _FILTERS_HTML.get(key)
    if html is None:
        html = render_to_string("invoices/_list_filters.html", {"form": form})
        if len(_FILTERS_HTML) >= _FILTERS_HTML_MAX:
            _FILTERS_HTML.clear()
        _FILTERS_HTML[key] = html
    return html


@login_required
@require_safe
def invoice_list(request):
    """The invoices the user may see, one page at a time (``_page``). A ``page`` that
    is not a number gives the first page; one past the end, however large, gives the
    last page (like Paginator.get_page), not a 404: a bookmarked page of a list that
    has shrunk still shows invoices."""
    user = request.user
    form = InvoiceFilterForm(request.GET or None)
    invoices = (
        form.apply(selectors.invoices_for_user(user))
        .select_related(None)
        .select_related("profile__account")
        .only(*LIST_FIELDS)
    )
    page = _page(invoices, request.GET.get("page"))
    rows = _list_rows(user, page.object_list, settings.PORTAL_SELLER)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "invoices/invoice_list.html",
        {
            "filters": _filters_html(form, translation.get_language() or "en"),
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
    return render(
        request,
        "invoices/invoice_detail.html",
        {
            "invoice": invoice,
            "revision": invoice.current_revision,
            "lines": invoice.lines.select_related("subscription"),
            "revisions": invoice.revisions.order_by("-number"),
            "credit_notes": selectors.credit_notes_for_invoice(invoice),
            "replaced_by": invoice.replaced_by.order_by("pk").first(),
            "can_pay": permissions.can_pay_invoices(request.user, invoice.profile),
            "can_request_amendment": permissions.can_request_invoice_amendment(request.user, invoice.profile),
            "seller": settings.PORTAL_SELLER,
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
