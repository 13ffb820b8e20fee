"""PAY-2: the invoice list's first page (page and API) and its filter's scopes are read with
SQL compiled once per shape (invoices.selectors.FirstRowsPrepared, billing_portal.db.
PreparedRead), and answer exactly what the ORM's queryset answers, for every persona; the
filter form's copies share their fixed choices without one form's changes reaching
another; the rows' fixed texts and dates are built once per language."""

import datetime as dt

import pytest
from django.http import QueryDict
from django.urls import reverse
from django.utils import translation

from accounts import permissions
from accounts.models import BillingProfile
from invoices import listing, selectors
from invoices.api.serializers import InvoiceSerializer
from invoices.filters import DEFAULT_SORT, SORTS, InvoiceFilterForm
from invoices.models import InvoiceStatus
from tests.factories import UserFactory
from tests.invoices.test_list_page import _account_with_profiles, _invoices

pytestmark = pytest.mark.django_db


def _users(demo):
    return [*demo.users.values(), UserFactory()]


def test_pay_2_first_rows_are_the_querysets_for_every_persona(demo):
    _invoices(list(BillingProfile.objects.order_by("pk")), 60)
    api_columns = InvoiceSerializer.value_columns()
    seen = 0
    for user in _users(demo):
        for columns, named in ((listing.LIST_COLUMNS, False), (api_columns, True)):
            orm = selectors.invoice_values_for_user(user, columns, named=named)
            prepared = selectors.FirstRowsPrepared(user, columns, named=named)
            for size in (1, 26, 201):
                assert prepared[:size] == list(orm[:size]), (user.email, size)
            seen += bool(prepared[:1])
            # Other slices and the count are the queryset's.
            assert list(prepared[2:5]) == list(orm[2:5])
            assert prepared.count() == orm.count()
    assert seen > 2  # several personas see invoices: the comparison means something


def test_pay_2_filter_scopes_are_the_querysets_for_every_persona(demo, monkeypatch):
    expected, users = {}, _users(demo)
    for user in users:
        rows = selectors._scope_rows().filter(permissions.can_view_invoices_filter(user))
        expected[user.pk] = [
            (uuid, name, pk, profile_id, None if is_default else f"{account} / {profile}")
            for uuid, name, pk, profile_id, account, profile, is_default in rows
        ]
        found = selectors.invoice_filter_scopes(user)
        assert [row[:4] for row in found] == [row[:4] for row in expected[user.pk]], user.email
        assert [row[4] is None for row in found] == [row[4] is None for row in expected[user.pk]]
    # A user reaching more scopes than a prepared read has slots is read by the ORM: same rows.
    monkeypatch.setattr(selectors, "PREPARED_IDS", 0)
    for user in users:
        assert [row[:4] for row in selectors.invoice_filter_scopes(user)] == [row[:4] for row in expected[user.pk]]


def test_pay_2_more_scopes_than_slots_read_through_the_orm(monkeypatch):
    owner, account, scopes = _account_with_profiles(2)
    _invoices(scopes, 5)
    reader = UserFactory()
    from accounts import services as account_services

    for profile in scopes:
        account_services.role_assign(user=reader, role="bp_reader", account=account, profile=profile)
    monkeypatch.setattr(selectors, "PREPARED_IDS", 1)
    selectors._first_rows_read.cache_clear()
    rows = list(selectors.FirstRowsPrepared(reader, listing.LIST_COLUMNS)[:26])
    assert rows == list(selectors.invoice_values_for_user(reader, listing.LIST_COLUMNS)[:26]) and len(rows) == 5
    assert selectors._first_rows_read.cache_info().currsize == 0


def test_pay_2_the_first_page_is_compiled_once_and_filtered_pages_are_not_prepared(client_for, api_for):
    owner, _account, scopes = _account_with_profiles(2)
    made = _invoices(scopes, listing.PAGE_SIZE + 2)
    newest = sorted(made, key=lambda inv: (inv.issue_date, inv.number), reverse=True)
    selectors._first_rows_read.cache_clear()
    client, api = client_for(owner), api_for(owner)
    for _ in range(3):
        html = client.get(reverse("invoices:list")).content.decode()
        assert newest[0].number in html and newest[listing.PAGE_SIZE].number not in html and "page=2" in html
        results = api.get("/api/v1/invoices/").json()
        assert [r["number"] for r in results["results"]] == [i.number for i in newest[: listing.PAGE_SIZE]]
    info = selectors._first_rows_read.cache_info()
    assert info.currsize == 2 and info.hits == 4  # one read per door, compiled on first use
    # A filter, another page or another sort reads through the ORM, and lists what it asks for.
    due = client.get(reverse("invoices:list"), {"status": "paid"}).content.decode()
    second = client.get(reverse("invoices:list"), {"page": 2}).content.decode()
    oldest = client.get(reverse("invoices:list"), {"sort": "date"}).content.decode()
    assert newest[0].number not in due and newest[-1].number in second and newest[-1].number in oldest
    assert selectors._first_rows_read.cache_info().hits == 4
    # A form with errors filters nothing: the first page of every invoice, prepared.
    wrong = client.get(reverse("invoices:list"), {"period_from": "13-2026"}).content.decode()
    assert newest[0].number in wrong and selectors._first_rows_read.cache_info().hits == 5


def test_pay_2_filters_nothing_only_when_apply_lists_every_invoice_newest_first():
    assert SORTS[DEFAULT_SORT][1] == selectors.NEWEST_FIRST
    assert InvoiceFilterForm(None).filters_nothing()
    for nothing in ("page=2", "sort=-date", "q=&status=", "period_from=13-2026"):
        assert InvoiceFilterForm(QueryDict(nothing)).filters_nothing(), nothing
    for something in ("sort=date", "q=INV", "status=due", "period=2026-01", "period_to_month=1&period_to_year=2026"):
        assert not InvoiceFilterForm(QueryDict(something)).filters_nothing(), something


def test_pay_2_filter_forms_share_fixed_choices_and_keep_their_own_changes():
    base = InvoiceFilterForm.base_fields
    first = InvoiceFilterForm(None, scopes=[("uuid-1", "VM", 1, 7, "Contoso / Dept")])
    second = InvoiceFilterForm(None)
    for name in ("status", "sort"):
        assert first.fields[name].choices is base[name].choices
        assert first.fields[name].widget.choices is base[name].widget.choices
    assert [value for value, _label in first.fields["status"].choices] == ["", *InvoiceStatus.values]
    # Choices given to one form stay on it.
    assert ("7", "Contoso / Dept") in first.fields["profile"].choices
    assert [value for value, _label in second.fields["profile"].choices] == [""]
    assert [value for value, _label in base["profile"].choices] == []
    # A year outside the selects' shown on one form (a link's YYYY-MM) is added to that form only.
    linked = InvoiceFilterForm(QueryDict("period_from=2001-05"))
    assert 'value="2001" selected' in str(linked["period_from"])
    assert 'value="2001"' not in str(InvoiceFilterForm(None)["period_from"])


def test_pay_2_row_texts_and_dates_follow_the_language_of_each_request():
    owner, _account, scopes = _account_with_profiles(1)
    invoice = _invoices(scopes, 1, status=InvoiceStatus.PAST_DUE)[0]
    page_rows = list(selectors.invoice_values_for_user(owner, listing.LIST_COLUMNS))
    seller = {"iban": "NL00TEST0123456789"}
    out = {}
    listing._texts.cache_clear()
    listing._short_date.cache_clear()
    for language in ("en", "nl", "en", "nl"):
        with translation.override(language):
            out.setdefault(language, set()).add(listing.rows(owner, page_rows, seller))
    assert len(out["en"]) == 1 and len(out["nl"]) == 1  # the same page twice
    # Built once per language: the second page in each language reads them.
    assert listing._texts.cache_info().misses == 2 and listing._texts.cache_info().hits == 2
    assert listing._short_date.cache_info().misses == 4  # two dates, two languages
    english, dutch = out["en"].pop(), out["nl"].pop()
    assert 'data-label="Due date"' in english and "Past due" in english and "Pay now" in english
    assert 'data-label="Vervaldatum"' in dutch and "Nu betalen" in dutch and "Past due" not in dutch
    assert invoice.issue_date == dt.date(2020, 2, 1)
    assert "1 Feb 2020" in english and "1 feb 2020" in dutch
