"""Huge, negative and malformed page numbers: the invoice page answers its last page;
the API answers 404 past the end and 400 for a malformed page or page_size, never 500.
The API's one pagination: ``{next, previous, results}`` without a count, ``next`` only
when there is more, and no COUNT query for a page (flat in the size of the list)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from invoices.views import PAGE_SIZE
from tests.invoices.test_list_page import _account_with_profiles, _invoices

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"


@pytest.fixture
def owner_with_invoices():
    owner, _account, scopes = _account_with_profiles(1)
    made = _invoices(scopes, PAGE_SIZE + 3)
    oldest = min(made, key=lambda inv: (inv.issue_date, inv.number))
    return owner, oldest


def test_invoice_page_with_huge_page_number_shows_last_page(owner_with_invoices, client_for):
    owner, oldest = owner_with_invoices
    client = client_for(owner)
    for page in (HUGE, str(2**63), "9" * 5000, "-" + HUGE):
        response = client.get(reverse("invoices:list"), {"page": page})
        assert response.status_code == 200
        assert oldest.number in response.content.decode()


def _assert_error(response, status, field=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "detail", "fields"}
    if field:
        assert list(body["fields"]) == [field]


@pytest.mark.parametrize("path", ["/api/v1/invoices/", "/api/v1/billing-accounts/", "/api/v1/payment-methods/"])
def test_api_page_past_the_end_is_404(owner_with_invoices, api_for, path):
    api = api_for(owner_with_invoices[0])
    for page in (HUGE, "9" * 5000, "2000"):
        _assert_error(api.get(path, {"page": page}), 404)
    assert api.get(path, {"page": "last"}).status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/invoices/", "/api/v1/billing-accounts/", "/api/v1/payment-methods/"])
def test_api_malformed_page_or_page_size_is_400_naming_it(owner_with_invoices, api_for, path):
    api = api_for(owner_with_invoices[0])
    for name in ("page", "page_size"):
        for value in ("", "null", "abc", "-1", "0", "1.5", "-" + HUGE, "١"):
            _assert_error(api.get(path, {name: value}), 400, name)


def test_api_huge_page_size_is_capped(owner_with_invoices, api_for):
    api = api_for(owner_with_invoices[0])
    response = api.get("/api/v1/invoices/", {"page_size": HUGE})
    assert response.status_code == 200 and len(response.json()["results"]) == PAGE_SIZE + 3
    assert len(api.get("/api/v1/invoices/", {"page_size": "2", "page": "2"}).json()["results"]) == 2


LISTS = ["/api/v1/invoices/", "/api/v1/billing-accounts/", "/api/v1/payment-methods/"]


def _counts(queries) -> list[str]:
    return [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]


def test_api_pages_link_next_only_when_there_is_more_without_count(owner_with_invoices, api_for):
    api = api_for(owner_with_invoices[0])
    url = "http://testserver/api/v1/invoices/"
    first = api.get(url, {"page_size": PAGE_SIZE}).json()
    assert set(first) == {"next", "previous", "results"}
    assert len(first["results"]) == PAGE_SIZE and first["previous"] is None
    assert first["next"] == f"{url}?page=2&page_size={PAGE_SIZE}"
    second = api.get(first["next"]).json()
    assert len(second["results"]) == 3 and second["next"] is None
    assert second["previous"] == f"{url}?page_size={PAGE_SIZE}"
    numbers = [row["number"] for row in first["results"] + second["results"]]
    assert len(set(numbers)) == PAGE_SIZE + 3
    # A page that is exactly full has no next page either.
    exact = api.get(url, {"page_size": PAGE_SIZE + 3}).json()
    assert len(exact["results"]) == PAGE_SIZE + 3 and exact["next"] is None
    third = api.get(url, {"page_size": 10, "page": 3}).json()
    assert len(third["results"]) == 8 and third["next"] is None
    assert third["previous"] == f"{url}?page=2&page_size=10"


@pytest.mark.parametrize("path", LISTS)
def test_api_list_page_issues_no_count_query(owner_with_invoices, api_for, path):
    api = api_for(owner_with_invoices[0])
    for params in ({}, {"page": "2", "page_size": "10"}, {"page_size": "200"}):
        with CaptureQueriesContext(connection) as queries:
            response = api.get(path, params)
        assert response.status_code in (200, 404)
        assert _counts(queries.captured_queries) == [], params
    # Only page=last counts (once): it has to know where the end is.
    with CaptureQueriesContext(connection) as queries:
        assert api.get(path, {"page": "last"}).status_code == 200
    assert len(_counts(queries.captured_queries)) <= 1


def test_api_last_page_is_the_last(owner_with_invoices, api_for):
    api = api_for(owner_with_invoices[0])
    last = api.get("/api/v1/invoices/", {"page": "last", "page_size": 10}).json()
    assert len(last["results"]) == (PAGE_SIZE + 3) % 10 and last["next"] is None
    assert owner_with_invoices[1].number in {row["number"] for row in last["results"]}


def test_api_schema_documents_pages_without_count(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    page = schema["components"]["schemas"]["PaginatedInvoiceList"]
    assert set(page["properties"]) == {"next", "previous", "results"} and "count" not in page["required"]
    assert page["properties"]["next"]["nullable"] is True
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/invoices/"]["get"]["parameters"]}
    assert "not counted" in parameters["page"]["description"] and "200" in parameters["page_size"]["description"]
