"""Signed-in pages, API answers and PDFs are never stored by a cache."""

import pytest
from django.urls import reverse

from invoices.models import Invoice
from tests.invoices.conftest import add_charge, run_billing  # noqa: F401

NO_STORE = "private, no-store"


@pytest.fixture
def issued(demo, add_charge, run_billing):  # noqa: F811
    add_charge(demo.subscriptions["woodgrove_core"])
    run_billing()
    return Invoice.objects.get(profile=demo.profiles["woodgrove_nl"])


def test_signed_in_pages_are_private_no_store(demo, client_for):
    client = client_for(demo.users["wd_admin"])
    for url in (reverse("accounts:overview"), reverse("invoices:list"), reverse("payments:index")):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == NO_STORE, url


def test_api_answers_are_private_no_store(demo, api_for, client):
    response = api_for(demo.users["wd_admin"]).get("/api/v1/me/")
    assert response["Cache-Control"] == NO_STORE
    assert client.get("/api/v1/me/")["Cache-Control"] == NO_STORE  # the 401 too


def test_invoice_pdf_is_private_no_store(demo, issued, client_for, api_for):
    response = client_for(demo.users["ca_invoice_manager"]).get(reverse("invoices:pdf", args=[issued.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == NO_STORE
    response = api_for(demo.users["ca_owner"]).get(f"/api/v1/invoices/{issued.pk}/pdf/1/")
    assert response.status_code == 200 and response["Cache-Control"] == NO_STORE
