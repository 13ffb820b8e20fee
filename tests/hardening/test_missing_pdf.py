"""A stored PDF whose file is gone is rendered again and served, on the page and the API."""

import pytest
from django.urls import reverse

from invoices import services
from invoices.models import Invoice

pytestmark = pytest.mark.django_db


@pytest.fixture
def contoso_invoice(demo, add_charge, run_billing):
    add_charge(demo.subscriptions["contoso_prod"])
    run_billing()
    invoice = Invoice.objects.select_related("current_revision").get(profile=demo.profiles["contoso"])
    revision = invoice.current_revision
    assert revision.pdf
    revision.pdf.storage.delete(revision.pdf.name)  # the file is gone, the name stays
    assert not revision.pdf.storage.exists(revision.pdf.name)
    return invoice


def _assert_pdf(response, invoice):
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    revision = invoice.revisions.get(number=1)
    assert revision.pdf and revision.pdf.storage.exists(revision.pdf.name)


def test_page_renders_missing_pdf_file_again(demo, contoso_invoice, client_for):
    response = client_for(demo.users["wd_admin"]).get(reverse("invoices:pdf", args=[contoso_invoice.pk]))
    _assert_pdf(response, contoso_invoice)


def test_api_renders_missing_pdf_file_again(demo, contoso_invoice, api_for):
    response = api_for(demo.users["wd_admin"]).get(f"/api/v1/invoices/{contoso_invoice.pk}/pdf/1/")
    _assert_pdf(response, contoso_invoice)


def test_restore_service_leaves_a_present_file_alone(contoso_invoice):
    revision_id = contoso_invoice.current_revision_id
    assert services.invoice_revision_restore_pdf(revision_id=revision_id) is True
    assert services.invoice_revision_restore_pdf(revision_id=revision_id) is False
    assert services.invoice_revision_restore_pdf(revision_id=0) is False
