"""The invoice list page's rows (``views.invoice_list``): one page read without counting,
as plain column values, and the table rows built once from escaped values."""

from functools import lru_cache
from html import escape

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template.loader import render_to_string
from django.utils import formats, translation
from django.utils.formats import FORMAT_SETTINGS
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, gettext_noop

from accounts import permissions
from accounts.models import BillingAccount, BillingProfile, scope_name
from billing_portal import clock

from . import formatting
from .filters import PARAMS
from .models import InvoiceStatus, PaymentTerms

PAGE_SIZE = 25
# The highest page whose OFFSET still fits the database's 64-bit integer; a higher
# number is past the end of any list.
MAX_PAGE = (2**63 - 2) // PAGE_SIZE
# The columns the list shows, read as plain values (no model instances per row): the
# scope's name is str(profile) (accounts.models.scope_name: account name, profile name
# unless default), PAY-1 (can_pay_invoices) reads the profile's account (agreement type
# and who signed up). A profile and account object is made, from these values only, for
# each billing profile whose row offers Pay now: anything else read from them costs a
# query per billing profile, which the constant-query tests catch.
INVOICE_COLUMNS = (
    "pk",
    "number",
    "period",
    "issue_date",
    "due_date",
    "status",
    "currency",
    "total",
    "payment_terms",
    "payment_reference",
    "profile_id",
)
PROFILE_COLUMNS = ("profile__name", "profile__is_default", "profile__account")
ACCOUNT_COLUMNS = ("profile__account__name", "profile__account__agreement_type", "profile__account__signed_up_by")
LIST_COLUMNS = INVOICE_COLUMNS + PROFILE_COLUMNS + ACCOUNT_COLUMNS
_PROFILE_ID = INVOICE_COLUMNS.index("profile_id")
_PROFILE_NAME, _IS_DEFAULT = LIST_COLUMNS.index("profile__name"), LIST_COLUMNS.index("profile__is_default")
_ACCOUNT_NAME = LIST_COLUMNS.index("profile__account__name")


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


def page(queryset, number) -> ListPage:
    """Page ``number`` (1-based) of ``queryset``. Like Paginator.get_page: not a number gives the first
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
    '<tr><td class="select" data-label="@select@"><label class="tap-target"><input type="checkbox" name="invoice"'
    ' value="{pk}" form="invoice-selection" aria-label="{select_label} {number}"></label></td>'
    '<td data-label="@invoice@"><a href="{url}">{number}</a></td><td data-label="@scope@">{scope}</td>'
    '<td data-label="@period@">{period}</td><td data-label="@issue_date@">{issue_date}</td>'
    '<td data-label="@due_date@">{due_date}</td><td class="num" data-label="@total@">{total}</td>'
    '<td data-label="@status@"><span class="status status-{status}">{status_label}</span></td>'
    '<td data-label="@payment@">{payment}</td></tr>\n'
)
# The column names each cell carries for the stacked rows of a phone (table-stacked),
# put into the row's markup once per page.
_LABELS = {
    "select": gettext_noop("Select"),
    "invoice": gettext_noop("Invoice"),
    "scope": gettext_noop("Billing scope"),
    "period": gettext_noop("Billing period"),
    "issue_date": gettext_noop("Invoice date"),
    "due_date": gettext_noop("Due date"),
    "total": gettext_noop("Total"),
    "status": gettext_noop("Status"),
    "payment": gettext_noop("Payment"),
}


@lru_cache(maxsize=16)
def _texts(language: str) -> tuple:
    """The page's fixed texts in ``language`` (the active one): the row markup with its
    column names, the status labels and the payment cell's words, escaped, built once
    per language and process (a translation does not change while a process runs)."""
    markup = _ROW
    for key, label in _LABELS.items():
        markup = markup.replace(f"@{key}@", escape(gettext(label)).replace("{", "{{").replace("}", "}}"))
    status_labels = {value: escape(str(label)) for value, label in InvoiceStatus.choices}
    words = tuple(escape(gettext(t)) for t in ("Bank transfer", "reference", "Pay now", "Select"))
    return (markup, status_labels, *words)


@lru_cache(maxsize=4096)
def _short_date(language: str, day) -> str:
    """``day`` in the SHORT_DATE_FORMAT of ``language`` (the active one), escaped: a page
    shows few distinct dates, and formatting one costs more than the rest of its row."""
    return escape(formats.date_format(day, "SHORT_DATE_FORMAT"))


@receiver(setting_changed)
def _forget_texts(*, setting, **kwargs):
    """Settings that change the language's texts or date formats (tests) drop both caches."""
    if setting in FORMAT_SETTINGS or setting in {"FORMAT_MODULE_PATH", "LANGUAGES", "LANGUAGE_CODE", "LOCALE_PATHS"}:
        _texts.cache_clear()
        _short_date.cache_clear()


_BANK_TRANSFER = (
    '<span class="payment-instructions">{label}: IBAN {iban} · {reference_label} <code>{reference}</code></span>'
)
_PAY_NOW = '<a class="button-primary pay-now" href="{url}">{label}</a>'


def _from_columns(model, **values):
    """A model instance holding only ``values`` (the others deferred), as the ORM
    builds one from selected columns."""
    names = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db("default", names, [values[name] for name in names])


class _Scopes:
    """The billing profiles of a page's rows, from the selected columns: each one's name
    (``scope_name``, as ``str(profile)``) and, only for a row that offers Pay now, PAY-1
    from one profile and account object per profile (``permissions.can_pay_invoices``,
    from the cached grants)."""

    def __init__(self, user, page_rows):
        self.user = user
        self.rows = {row[_PROFILE_ID]: row for row in page_rows}
        self.names = {
            pk: escape(scope_name(row[_ACCOUNT_NAME], row[_PROFILE_NAME], row[_IS_DEFAULT]))
            for pk, row in self.rows.items()
        }
        self.accounts: dict[int, BillingAccount] = {}
        self.payable: dict[int, bool] = {}

    def can_pay(self, profile_id) -> bool:
        if profile_id not in self.payable:
            self.payable[profile_id] = permissions.can_pay_invoices(self.user, self._profile(profile_id))
        return self.payable[profile_id]

    def _profile(self, profile_id) -> BillingProfile:
        name, is_default, account_id, account_name, agreement_type, signed_up_by = self.rows[profile_id][
            len(INVOICE_COLUMNS) :
        ]
        if account_id not in self.accounts:
            self.accounts[account_id] = _from_columns(
                BillingAccount,
                id=account_id,
                name=account_name,
                agreement_type=agreement_type,
                signed_up_by_id=signed_up_by,
            )
        profile = _from_columns(BillingProfile, id=profile_id, name=name, is_default=is_default, account_id=account_id)
        profile.account = self.accounts[account_id]
        return profile


def rows(user, page_rows, seller) -> str:
    """The table rows of ``page_rows`` (LIST_COLUMNS values) as one safe string."""
    language = translation.get_language() or "en"
    row, status_labels, bank_label, reference_label, pay_label, select_label = _texts(language)
    payable = {InvoiceStatus.DUE, InvoiceStatus.PAST_DUE}
    iban = escape(seller["iban"])
    detail_url = formatting.url_maker("invoices:detail")
    pay_url = formatting.url_maker("payments:pay")
    scopes = _Scopes(user, page_rows)
    out = []
    for (
        pk,
        number,
        period,
        issue_date,
        due_date,
        status,
        currency,
        total,
        terms,
        reference,
        profile_id,
        *_,
    ) in page_rows:
        payment = ""
        if status in payable:
            if terms == PaymentTerms.BANK_TRANSFER:
                payment = _BANK_TRANSFER.format(
                    label=bank_label, iban=iban, reference_label=reference_label, reference=escape(reference)
                )
            elif pay_url is not None and scopes.can_pay(profile_id):
                payment = _PAY_NOW.format(url=pay_url(pk), label=pay_label)
        out.append(
            row.format(
                pk=int(pk),
                select_label=select_label,
                url=detail_url(pk),
                number=escape(number),
                scope=scopes.names[profile_id],
                period=f"{period:%Y-%m}",
                issue_date=_short_date(language, issue_date),
                due_date=_short_date(language, due_date),
                total=escape(formatting.money_formatter(currency, language)(total)),
                status=escape(status),
                status_label=status_labels.get(status) or escape(status),
                payment=payment,
            )
        )
    return mark_safe("".join(out))  # every value above is escaped


# The filter form's HTML (its includes and widgets cost about as much as the rest of the
# page) depends only on the language, the year, the submitted values and the user's
# billing profiles and subscriptions (the choices); a valid or empty form's HTML is kept
# per process (bounded), a form with errors is always rendered.
_FILTERS_HTML: dict = {}
_FILTERS_HTML_MAX = 256
_FILTER_KEYS = (*PARAMS, *(f"{name}_{part}" for name in ("period_from", "period_to") for part in ("month", "year")))


def filters_html(form, language: str) -> str:
    """The filter form's HTML (``invoices/_list_filters.html``)."""
    if form.is_bound and not form.is_valid():
        return render_to_string("invoices/_list_filters.html", {"form": form})
    key = (language, clock.today().year, form.is_bound, tuple(form.data.get(k) for k in _FILTER_KEYS), form.scopes)
    html = _FILTERS_HTML.get(key)
    if html is None:
        html = render_to_string("invoices/_list_filters.html", {"form": form})
        if len(_FILTERS_HTML) >= _FILTERS_HTML_MAX:
            _FILTERS_HTML.clear()
        _FILTERS_HTML[key] = html
    return html
