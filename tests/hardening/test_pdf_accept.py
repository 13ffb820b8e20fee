"""The API PDF endpoints serve the PDF with ``Accept: application/pdf``, with JSON and
with no Accept header; their errors stay the JSON error shape."""

import pytest

from invoices.models import Invoice

pytestmark = pytest.mark.django_db


@pytest.fixture
def contoso_invoice(demo, add_charge, run_billing):
    add_charge(demo.subscriptions["contoso_prod"])
    run_billing()
    return Invoice.objects.get(profile=demo.profiles["contoso"])


@pytest.mark.parametrize("suffix", ["pdf/", "pdf/1/"])
@pytest.mark.parametrize("accept", ["application/pdf", None, "application/json", "application/pdf, */*;q=0.1"])
def test_api_pdf_endpoints_serve_pdf_for_accept(demo, contoso_invoice, api_for, suffix, accept):
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    response = api_for(demo.users["wd_admin"]).get(f"/api/v1/invoices/{contoso_invoice.pk}/{suffix}", **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")


@pytest.mark.parametrize("suffix", ["pdf/", "pdf/9/"])
def test_api_pdf_errors_with_accept_pdf_are_json(demo, contoso_invoice, api_for, suffix):
    pk = contoso_invoice.pk if suffix == "pdf/9/" else 0
    response = api_for(demo.users["wd_admin"]).get(f"/api/v1/invoices/{pk}/{suffix}", HTTP_ACCEPT="application/pdf")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert set(response.json()) == {"code", "detail", "fields"}


def test_api_pdf_anonymous_with_accept_pdf_is_json_401(contoso_invoice, api_for):
    response = api_for(None).get(f"/api/v1/invoices/{contoso_invoice.pk}/pdf/", HTTP_ACCEPT="application/pdf")
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"
