"""The invoice list's search, filters and sort, on the page and the API list: invoice
number from its start, whole PO number, amount; status; a period range (month and year
selects on the page, YYYY-MM in the API); billing profile; subscription; every sort in
both directions; invalid input answered with a message (page) or a 400 naming the field
(API), never a 500; the selects labelled in the page's language; constant queries."""

import datetime as dt

import pytest
from django.urls import reverse

from billing_portal import clock
from invoices.filters import SORTS, parse_amount
from tests.factories import UserFactory
from tests.invoices.helpers import customer_agreement, make_invoice

pytestmark = pytest.mark.django_db

LIST = "/api/v1/invoices/"


@pytest.fixture
def listed():
    owner, reader, account, (nl, de), subs = customer_agreement()
    made = {
        "jan": make_invoice(
            nl,
            "INV-2026-000101",
            period=dt.date(2026, 1, 1),
            total="1234.50",
            status="paid",
            po_number="PO-Alpha-7",
            subscriptions=[subs["prod"]],
            due_date=dt.date(2026, 3, 20),
        ),
        "feb": make_invoice(
            nl,
            "INV-2026-000102",
            period=dt.date(2026, 2, 1),
            total="99.99",
            po_number="4500012345",
            subscriptions=[subs["prod"], subs["prod_twin"]],
            due_date=dt.date(2026, 3, 1),
        ),
        "mar": make_invoice(
            de,
            "INV-2026-000203",
            period=dt.date(2026, 3, 1),
            total="500.00",
            status="past_due",
            subscriptions=[subs["berlin"]],
            due_date=dt.date(2026, 4, 1),
        ),
        "dec": make_invoice(
            de,
            "INV-2025-000999",
            period=dt.date(2025, 12, 1),
            total="12.10",
            subscriptions=[subs["berlin"]],
            due_date=dt.date(2026, 1, 31),
        ),
    }
    # Another tenant's invoice with the same PO number and total: never listed.
    _other, _r, _a, (other_nl, _de), other_subs = customer_agreement(name="Elsewhere")
    make_invoice(
        other_nl, "INV-2026-000104", total="1234.50", po_number="PO-Alpha-7", subscriptions=[other_subs["prod"]]
    )
    return owner, reader, subs, (nl, de), made


def _numbers(api, **params):
    response = api.get(LIST, params)
    assert response.status_code == 200, response.json()
    return [row["number"] for row in response.json()["results"]]


def _page_numbers(client, made, **params):
    html = client.get(reverse("invoices:list"), params).content.decode()
    return {key for key, invoice in made.items() if f">{invoice.number}</a>" in html}


@pytest.mark.parametrize(
    "term, expected",
    [
        ("INV-2026-0001", {"jan", "feb"}),  # the number from its start
        ("inv-2026-000203", {"mar"}),  # case does not matter
        ("000203", set()),  # not from the middle
        ("po-alpha-7", {"jan"}),  # the whole PO number, whatever the case
        ("PO-Alpha", set()),
        ("4500012345", {"feb"}),  # a PO number of digits only (also read as an amount: none)
        ("1234.50", {"jan"}),  # the total
        ("1.234,50", {"jan"}),
        ("€ 1,234.5", {"jan"}),
        ("99,99", {"feb"}),
        ("500", {"mar"}),
        ("12.11", set()),
    ],
)
def test_search_by_number_po_number_and_amount(listed, api_for, client_for, term, expected):
    owner, _reader, _subs, _profiles, made = listed
    by_number = {invoice.number: key for key, invoice in made.items()}
    assert {by_number[n] for n in _numbers(api_for(owner), q=term)} == expected
    assert _page_numbers(client_for(owner), made, q=term) == expected


def test_search_without_match_says_so(listed, client_for):
    owner, *_ = listed
    html = client_for(owner).get(reverse("invoices:list"), {"q": "INV-1999"}).content.decode()
    assert "No invoices match." in html and 'value="INV-1999"' in html


def test_filter_by_status(listed, api_for, client_for):
    owner, _reader, _subs, _profiles, made = listed
    assert _numbers(api_for(owner), status="past_due") == [made["mar"].number]
    assert _page_numbers(client_for(owner), made, status="paid") == {"jan"}


def test_filter_by_period_range_page_selects_and_api(listed, api_for, client_for):
    owner, _reader, _subs, _profiles, made = listed
    api = api_for(owner)
    assert set(_numbers(api, period_from="2026-01", period_to="2026-02")) == {made["jan"].number, made["feb"].number}
    assert set(_numbers(api, period_from="2026-02")) == {made["feb"].number, made["mar"].number}
    assert set(_numbers(api, period_to="2025-12")) == {made["dec"].number}
    assert _numbers(api, period="2026-03") == [made["mar"].number]
    client = client_for(owner)
    selects = {"period_from_month": "12", "period_from_year": "2025", "period_to_month": "1", "period_to_year": "2026"}
    assert _page_numbers(client, made, **selects) == {"dec", "jan"}
    assert _page_numbers(client, made, period_from_month="3", period_from_year="2026") == {"mar"}
    # The chosen months stay chosen.
    html = client.get(reverse("invoices:list"), selects).content.decode()
    assert '<option value="12" selected>December</option>' in html
    assert '<option value="2025" selected>2025</option>' in html


def test_filter_by_billing_profile_and_subscription(listed, api_for, client_for):
    owner, reader, subs, (nl, de), made = listed
    api = api_for(owner)
    assert set(_numbers(api, profile=de.pk)) == {made["mar"].number, made["dec"].number}
    twin = str(subs["prod_twin"].subscription_id)
    assert _numbers(api, subscription=twin) == [made["feb"].number]
    assert set(_numbers(api, subscription=str(subs["prod"].subscription_id))) == {
        made["jan"].number,
        made["feb"].number,
    }
    client = client_for(owner)
    assert _page_numbers(client, made, profile=str(nl.pk)) == {"jan", "feb"}
    assert _page_numbers(client, made, subscription=twin) == {"feb"}
    html = client.get(reverse("invoices:list")).content.decode()
    # Both selects, the profiles by name; the two subscriptions named alike told apart by their ID.
    assert 'name="profile"' in html and f">{nl.account.name} / Deutschland</option>" in html
    assert f">Production ({twin[:8]})</option>" in html and ">Berlin</option>" in html
    # A profile reader is offered only its profile's subscriptions, and cannot ask for another's.
    reader_html = client_for(reader).get(reverse("invoices:list")).content.decode()
    assert "Berlin" not in reader_html
    refused = api_for(reader).get(LIST, {"subscription": str(subs["berlin"].subscription_id)})
    assert refused.status_code == 400 and "subscription" in refused.json()["fields"]
    assert api_for(reader).get(LIST, {"profile": de.pk}).status_code == 400


def test_web_direct_list_offers_no_billing_profile_select(client_for):
    from accounts import services as account_services
    from tests.factories import make_account, make_subscription

    owner = UserFactory()
    account = make_account(signed_up_by=owner)
    account_services.role_assign(user=owner, role="account_admin", account=account)
    first, second = make_subscription(account, name="Shop"), make_subscription(account, name="Campaigns")
    make_invoice(account.profiles.get(), "INV-2026-000001", subscriptions=[first, second])
    html = client_for(owner).get(reverse("invoices:list")).content.decode()
    assert 'name="profile"' not in html and 'name="subscription"' in html


@pytest.mark.parametrize("sort", list(SORTS))
def test_sort_each_order_both_ways(listed, api_for, client_for, sort):
    owner, _reader, _subs, _profiles, made = listed
    key = {
        "date": lambda inv: (inv.issue_date, inv.number),
        "number": lambda inv: inv.number,
        "amount": lambda inv: (inv.total, inv.number),
        "due_date": lambda inv: (inv.due_date, inv.number),
    }[sort.lstrip("-")]
    expected = [inv.number for inv in sorted(made.values(), key=key, reverse=sort.startswith("-"))]
    assert _numbers(api_for(owner), sort=sort) == expected
    html = client_for(owner).get(reverse("invoices:list"), {"sort": sort}).content.decode()
    assert [n for n in sorted(expected, key=html.index)] == expected
    assert f'<option value="{sort}" selected>' in html


def test_default_order_is_newest_first(listed, api_for):
    owner, _reader, _subs, _profiles, made = listed
    assert _numbers(api_for(owner)) == _numbers(api_for(owner), sort="-date")


@pytest.mark.parametrize(
    "params, field",
    [
        ({"status": "open"}, "status"),
        ({"period_from": "2026-13"}, "period_from"),
        ({"period_to": "last month"}, "period_to"),
        ({"period_from": "2026-03", "period_to": "2026-01"}, "period_to"),
        ({"period": "2026-1"}, "period"),
        ({"sort": "total"}, "sort"),
        ({"profile": "abc"}, "profile"),
        ({"subscription": "not-a-subscription"}, "subscription"),
        ({"q": "x" * 101}, "q"),
        ({"q": ""}, "q"),
        ({"status": "null"}, "status"),
    ],
)
def test_invalid_filter_api_400_naming_the_field(listed, api_for, params, field):
    owner, *_ = listed
    response = api_for(owner).get(LIST, params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and field in body["fields"] and body["fields"][field][0]


@pytest.mark.parametrize(
    "params, message",
    [
        ({"period_from_month": "3"}, "Choose both a month and a year."),
        ({"period_to_year": "2026"}, "Choose both a month and a year."),
        ({"period_from_month": "13", "period_from_year": "2026"}, "Use YYYY-MM, for example 2026-01."),
        (
            {"period_from_month": "3", "period_from_year": "2026", "period_to_month": "1", "period_to_year": "2026"},
            "The end of the period range is before its start.",
        ),
        ({"sort": "total"}, "Select a valid choice."),
        ({"subscription": "0f0f0f0f-0000-0000-0000-000000000000"}, "Select a valid choice."),
    ],
)
def test_invalid_filter_page_shows_the_message(listed, client_for, params, message):
    owner, *_ = listed
    response = client_for(owner).get(reverse("invoices:list"), params)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="alert"' in html and message in html
    # No export of a list whose filter is wrong.
    assert 'id="download-listed"' not in html and 'id="export-listed"' not in html


def test_period_selects_labelled_in_the_page_language(listed, client_for):
    owner, *_ = listed
    html = client_for(owner).get(reverse("invoices:list")).content.decode()
    assert "<legend>Billing period from</legend>" in html and "<legend>Billing period to</legend>" in html
    assert 'aria-label="Month"' in html and 'aria-label="Year"' in html and ">March</option>" in html
    assert 'type="month"' not in html
    owner.language = "nl"
    owner.save(update_fields=["language"])
    html = client_for(owner).get(reverse("invoices:list")).content.decode()
    assert "<legend>Factureringsperiode vanaf</legend>" in html and 'aria-label="Maand"' in html
    assert ">maart</option>" in html and 'aria-label="Jaar"' in html


def test_period_year_select_follows_the_calendar_past_new_year(listed, client_for, monkeypatch):
    """The filter form's class is built once per process; its year select still ends with
    next year's after the process has run past New Year."""
    owner, *_ = listed
    html = client_for(owner).get(reverse("invoices:list")).content.decode()
    this_year = clock.today().year
    assert f'<option value="{this_year + 1}">' in html and f'<option value="{this_year + 2}">' not in html
    monkeypatch.setattr(clock, "today", lambda tz=None: dt.date(this_year + 5, 1, 2))
    html = client_for(owner).get(reverse("invoices:list")).content.decode()
    assert f'<option value="{this_year + 6}">' in html and f'<option value="{this_year + 5}">' in html
    assert '<option value="2015">' in html


def test_filtered_list_page_and_endpoint_constant_queries(listed, client_for, api_for, django_assert_max_num_queries):
    owner, _reader, subs, (_nl, de), _made = listed
    client = client_for(owner)
    params = {"q": "INV-2026", "status": "due", "period_from": "2025-01", "sort": "-amount", "profile": str(de.pk)}
    # session, user, grants, the billing profiles and subscriptions, one page of invoices
    with django_assert_max_num_queries(5):
        assert client.get(reverse("invoices:list"), params).status_code == 200
    with django_assert_max_num_queries(6):  # session, user, grants, scopes (a profile is named), page
        response = api_for(owner).get(LIST, {**params, "subscription": str(subs["berlin"].subscription_id)})
        assert response.status_code == 200


def test_parse_amount():
    assert parse_amount("1.234,50") == parse_amount("1,234.50") == parse_amount("1234.5")
    assert str(parse_amount("12,10")) == "12.10" and str(parse_amount("1.234")) == "1234"
    assert parse_amount("INV-2026") is None and parse_amount("12.5.3") is None and parse_amount("") is None
