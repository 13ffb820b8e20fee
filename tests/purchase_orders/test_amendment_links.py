"""PO-5: the pages about an amendment request link the invoice and its PDF, each through
a door the reader may use: customers who may read the invoice get its page and PDF,
support staff get the PDF through their own door, and nobody else gets either."""

import datetime as dt

import pytest
from django.urls import reverse

from accounts import permissions
from purchase_orders import services

from .conftest import make_invoice

pytestmark = pytest.mark.django_db

OCT = dt.date(2026, 10, 1)


@pytest.fixture
def amendment(demo):
    invoice = make_invoice(demo.profiles["woodgrove_nl"], OCT)
    return services.amendment_request_create(
        invoice=invoice, actor=demo.users["ca_owner"], message="New PO from purchasing.", po_number="WG-NL-1"
    )


def test_po_5_customer_request_page_links_the_invoice_page_and_pdf(demo, amendment, client_for):
    body = client_for(demo.users["ca_owner"]).get(reverse("purchase_orders:amendment_detail", args=[amendment.pk]))
    html = body.content.decode()
    assert reverse("invoices:detail", args=[amendment.invoice.pk]) in html
    assert reverse("invoices:pdf", args=[amendment.invoice.pk]) in html
    assert reverse("invoices:support_pdf", args=[amendment.invoice.pk]) not in html


def test_po_5_support_request_page_links_the_pdf_through_the_support_door(demo, amendment, client_for):
    staff = client_for(demo.users["support"])
    html = staff.get(reverse("purchase_orders:support_request", args=[amendment.pk])).content.decode()
    pdf_url = reverse("invoices:support_pdf", args=[amendment.invoice.pk])
    assert pdf_url in html
    assert f'href="{reverse("invoices:detail", args=[amendment.invoice.pk])}"' not in html  # closed to support
    response = staff.get(pdf_url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_po_5_support_pdf_door_is_closed_to_customers_even_of_the_same_tenant(demo, amendment, client_for):
    url = reverse("invoices:support_pdf", args=[amendment.invoice.pk])
    owner = demo.users["ca_owner"]
    assert permissions.can_view_invoices(owner, amendment.invoice.profile)
    assert client_for(owner).get(url).status_code == 404
    assert client_for(demo.users["wd_admin"]).get(url).status_code == 404
    assert client_for(None).get(url).status_code == 302
    missing = reverse("invoices:support_pdf", args=[amendment.invoice.pk + 10_000])
    assert client_for(demo.users["support"]).get(missing).status_code == 404


def test_po_5_approved_request_links_the_new_revision_pdf(demo, amendment, client_for):
    services.amendment_request_approve(request=amendment, actor=demo.users["support"])
    amendment.refresh_from_db()
    revision_pdf = reverse("invoices:pdf", args=[amendment.invoice.pk, amendment.revision.number])
    html = client_for(demo.users["ca_owner"]).get(reverse("purchase_orders:amendment_detail", args=[amendment.pk]))
    assert revision_pdf in html.content.decode()
