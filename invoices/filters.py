"""The invoice list's search, filters and sort: one form for the list page, the API list
and the exports of a list (ZIP of PDFs, CSV), so that every door lists the same invoices.

* ``q``: an invoice number from its start (``INV-2026-0001`` finds INV-2026-000100 to
  -000199; case does not matter), the PO number printed on the current revision (the
  whole number, case does not matter) or, when it reads as an amount (``1234.50``,
  ``1.234,50``, ``€ 12,10``), the invoice's total;
* ``status``; ``period`` (one billing period) or ``period_from`` / ``period_to`` (a range
  of months, either end open), each ``YYYY-MM`` or, from the page, a month select and a
  year select (``period_from_month`` + ``period_from_year``);
* ``profile`` (a billing profile's id) and ``subscription`` (a subscription's ID): only
  those the user sees, from ``selectors.invoice_filter_scopes`` (one query);
* ``sort``: ``SORTS``; every order is served by an index of the account's invoices
  (``invoice_account_*_idx``), read forwards or backwards.
"""

import re
from decimal import Decimal
from functools import lru_cache

from django import forms
from django.db.models import Q
from django.utils.dates import MONTHS
from django.utils.translation import gettext_lazy as _

from billing_portal import clock
from billing_portal.forms import EMPTY_CHOICE, SharedChoiceField, SharedChoicesSelect

from .models import InvoiceLine, InvoiceStatus

# sort value -> (label, order_by). The default is the list's own order, newest first.
SORTS = {
    "-date": (_("Newest first"), ("-issue_date", "-number")),
    "date": (_("Oldest first"), ("issue_date", "number")),
    "-number": (_("Invoice number, high to low"), ("-number",)),
    "number": (_("Invoice number, low to high"), ("number",)),
    "-amount": (_("Amount, high to low"), ("-total", "-number")),
    "amount": (_("Amount, low to high"), ("total", "number")),
    "-due_date": (_("Due date, latest first"), ("-due_date", "-number")),
    "due_date": (_("Due date, earliest first"), ("due_date", "number")),
}
DEFAULT_SORT = "-date"
# The query parameters of the filters (the API list documents each; the page's month and
# year selects are read into period_from / period_to).
PARAMS = ("q", "status", "period", "period_from", "period_to", "profile", "subscription", "sort")
# The first year the period selects offer (a period given as YYYY-MM may be any year).
FIRST_YEAR = 2015
_CURRENCY_SIGNS = re.compile(r"\s|[€$£¥]|EUR|USD|GBP|CHF|SEK|DKK|NOK|PLN|JPY")
_GROUPED = re.compile(r"\d{1,3}(?:[.,]\d{3})*|\d+")


def parse_amount(text: str) -> Decimal | None:
    """An amount as people type it: ``1234.5``, ``1,234.50``, ``1.234,50``, ``12,10``, with
    or without a currency sign or code; a separator followed by one or two digits at the
    end is the decimal one, the others group thousands. None when the text is no amount."""
    value = _CURRENCY_SIGNS.sub("", text.upper())
    decimals = re.search(r"[.,](\d{1,2})$", value)
    whole, fraction = (value[: decimals.start()], decimals[1]) if decimals else (value, "")
    if not _GROUPED.fullmatch(whole):
        return None
    digits = re.sub(r"[.,]", "", whole)
    return Decimal(f"{digits}.{fraction}" if fraction else digits)


def _newest_year() -> int:
    """The last year the period selects offer: next year."""
    return clock.today().year + 1


@lru_cache(maxsize=4)
def _years(newest: int) -> list:
    """The year select's choices, newest first, down to ``FIRST_YEAR``."""
    return [("", _("Year")), *((str(year), str(year)) for year in range(newest, FIRST_YEAR - 1, -1))]


class MonthWidget(forms.MultiWidget):
    """A month as two selects, month (named in the page's language) and year: unlike
    ``<input type=month>`` it shows the same in every browser. ``name=YYYY-MM`` in the
    query (the API's form, a link) is read too."""

    def __init__(self, attrs=None):
        months = [("", _("Month")), *((str(number), name) for number, name in MONTHS.items())]
        super().__init__(
            {
                "month": SharedChoicesSelect(attrs={"aria-label": _("Month")}, choices=months),
                "year": SharedChoicesSelect(attrs={"aria-label": _("Year")}, choices=_years(_newest_year())),
            },
            attrs,
        )

    def decompress(self, value):
        period = clock.parse_period(value) if value else None
        return [str(period.month), str(period.year)] if period else [None, None]

    def get_context(self, name, value, attrs):
        # The years end with next year's, counted today: a form class is built once per
        # process, and a process may run past New Year.
        newest = _newest_year()
        if self.widgets[1].choices[1][0] != str(newest):
            self.widgets[1].choices = _years(newest)
        period = clock.parse_period(value) if isinstance(value, str) else None
        if period is not None:  # YYYY-MM from a link or the API: shown in the selects
            value = [str(period.month), str(period.year)]
            years = self.widgets[1].choices
            if (str(period.year), str(period.year)) not in years:
                self.widgets[1].choices = [*years, (str(period.year), str(period.year))]
        return super().get_context(name, value, attrs)

    def value_from_datadict(self, data, files, name):
        if name in data:
            return data.get(name)
        return [data.get(f"{name}_month") or "", data.get(f"{name}_year") or ""]

    def value_omitted_from_data(self, data, files, name):
        return name not in data and f"{name}_month" not in data and f"{name}_year" not in data


class MonthField(forms.Field):
    widget = MonthWidget

    def to_python(self, value):
        if isinstance(value, (list, tuple)):
            month, year = (str(part or "").strip() for part in value)
            if not month and not year:
                return None
            if not month or not year:
                raise forms.ValidationError(_("Choose both a month and a year."), code="incomplete")
            value = f"{year}-{month.zfill(2)}"
        value = str(value or "").strip()
        if not value:
            return None
        period = clock.parse_period(value)
        if period is None:
            raise forms.ValidationError(_("Use YYYY-MM, for example 2026-01."), code="invalid")
        return period


class InvoiceFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        help_text=_("Invoice number, PO number or amount"),
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    status = SharedChoiceField(
        label=_("Status"), required=False, choices=[("", _("All"))] + list(InvoiceStatus.choices)
    )
    period = forms.CharField(label=_("Billing period"), required=False, max_length=7, widget=forms.HiddenInput)
    period_from = MonthField(label=_("Billing period from"), required=False)
    period_to = MonthField(label=_("Billing period to"), required=False)
    profile = SharedChoiceField(label=_("Billing profile"), required=False)
    subscription = SharedChoiceField(label=_("Subscription"), required=False)
    sort = SharedChoiceField(
        label=_("Sort by"), required=False, choices=[(value, label) for value, (label, _order) in SORTS.items()]
    )

    def __init__(self, data=None, *, scopes=(), **kwargs):
        """``scopes``: ``selectors.invoice_filter_scopes`` rows (subscription ID, name, pk,
        billing profile id, the profile's name or None for a default one): the choices of the billing
        profile and subscription selects (only the API's list may leave them out, when
        neither filter is asked for)."""
        super().__init__(data, **kwargs)
        self.scopes = tuple(scopes)
        profiles = {row[3]: row[4] for row in self.scopes if row[4] is not None}
        self.fields["profile"].choices = [("", EMPTY_CHOICE), *((str(pk), name) for pk, name in profiles.items())]
        names = [row[1] for row in self.scopes]
        self.subscription_ids = {str(row[0]): row[2] for row in self.scopes}
        self.fields["subscription"].choices = [
            ("", EMPTY_CHOICE),
            *(
                (str(row[0]), f"{row[1]} ({str(row[0])[:8]})" if names.count(row[1]) > 1 else row[1])
                for row in self.scopes
            ),
        ]
        # Default billing profiles are never shown (docs/architecture.md): no select for them.
        self.shows_profiles = bool(profiles)

    def clean_period(self):
        value = (self.cleaned_data.get("period") or "").strip()
        if not value:
            return None
        period = clock.parse_period(value)
        if period is None:
            raise forms.ValidationError(_("Use YYYY-MM, for example 2026-01."))
        return period

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("period_from"), cleaned.get("period_to")
        if start and end and start > end:
            self.add_error("period_to", _("The end of the period range is before its start."))
        return cleaned

    @property
    def sort_order(self) -> tuple[str, ...]:
        sort = self.cleaned_data.get("sort") if self.is_valid() else None
        return SORTS[sort or DEFAULT_SORT][1]

    def filters_nothing(self) -> bool:
        """True when ``apply`` lists every invoice in the default order (newest first):
        no form, no filter, or a form with errors (which filters nothing)."""
        if not self.is_valid():
            return True
        data = self.cleaned_data
        return (
            not any(data.get(name) for name in PARAMS if name != "sort") and self.sort_order == SORTS[DEFAULT_SORT][1]
        )

    def apply(self, queryset):
        """``queryset`` (invoices, or their values) filtered and sorted as asked; a form
        with errors filters nothing (the page shows the errors, the API answers 400)."""
        if not self.is_valid():
            return queryset
        data = self.cleaned_data
        filters = Q()
        if data.get("q"):
            filters &= search(data["q"])
        if data.get("status"):
            filters &= Q(status=data["status"])
        if data.get("period"):
            filters &= Q(period=data["period"])
        if data.get("period_from"):
            filters &= Q(period__gte=data["period_from"])
        if data.get("period_to"):
            filters &= Q(period__lte=data["period_to"])
        if data.get("profile"):
            filters &= Q(profile_id=int(data["profile"]))
        if data.get("subscription"):
            lines = InvoiceLine.objects.filter(subscription_id=self.subscription_ids[data["subscription"]])
            filters &= Q(pk__in=lines.values("invoice_id"))
        return queryset.filter(filters).order_by(*self.sort_order)


def search(text: str) -> Q:
    """``q``: the invoice number from its start, the whole PO number, or the total."""
    term = text.strip()
    found = Q(number__startswith=term.upper()) | Q(current_revision__po_number__iexact=term)
    amount = parse_amount(term)
    if amount is not None and amount < Decimal("1e12"):
        found |= Q(total=amount)
    return found
