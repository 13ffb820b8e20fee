"""Huge, negative and malformed page numbers: the invoice page answers its last page;
the API answers 404 past the end and 400 for a malformed page or page_size, never 500."""

import pytest
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
