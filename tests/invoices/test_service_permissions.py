"""One permission contract: the invoices services that take an actor check its predicate
themselves, whichever door called them (page, API, admin, support request, task)."""

import pytest

from billing_portal.errors import NotAllowed
from invoices import services
from invoices.models import Charge, Invoice, InvoiceStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def northwind_invoice(demo, add_charge, run_billing):
    add_charge(demo.subscriptions["northwind_erp"], quantity="3", unit_price="12.50")
    run_billing()
    return Invoice.objects.get(profile=demo.profiles["northwind"])


def test_po_5_only_support_staff_amend_the_vat_number_of_an_issued_invoice(demo, northwind_invoice):
    for key in ("ea_admin", "ea_readonly", "wd_admin"):
        with pytest.raises(NotAllowed):
            services.invoice_amend(
                invoice=northwind_invoice, actor=demo.users[key], reason="x", vat_id="NL 8537.46.333.B01"
            )
    assert northwind_invoice.revisions.count() == 1


def test_po_7_a_po_editor_may_change_the_po_number_but_a_reader_may_not(
    demo, northwind_invoice, django_capture_on_commit_callbacks
):
    with pytest.raises(NotAllowed):
        services.invoice_amend(invoice=northwind_invoice, actor=demo.users["ea_readonly"], reason="x", po_number="P1")
    with django_capture_on_commit_callbacks(execute=True):
        revision = services.invoice_amend(
            invoice=northwind_invoice, actor=demo.users["ea_admin"], reason="PO-7 window", po_number="P1"
        )
    assert revision.po_number == "P1" and revision.created_by == demo.users["ea_admin"]


def test_po_5_support_staff_amend_any_number(demo, northwind_invoice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        revision = services.invoice_amend(
            invoice=northwind_invoice, actor=demo.users["support"], reason="Support request", po_number="P2"
        )
    assert revision.number == 2


def test_only_support_staff_void_an_invoice(demo, northwind_invoice):
    with pytest.raises(NotAllowed):
        services.invoice_void(invoice=northwind_invoice, actor=demo.users["ea_admin"], reason="x")
    northwind_invoice.refresh_from_db()
    assert northwind_invoice.status == InvoiceStatus.DUE
    services.invoice_void(invoice=northwind_invoice, actor=demo.users["support"], reason="x")
    northwind_invoice.refresh_from_db()
    assert northwind_invoice.status == InvoiceStatus.VOID


def test_charge_import_refuses_a_customer_whatever_the_door(demo):
    row = {
        "subscription_id": str(demo.subscriptions["contoso_prod"].subscription_id),
        "period": "2026-01",
        "service_name": "Compute",
        "meter": "hours",
        "quantity": "1",
        "unit_price": "1",
        "currency": "EUR",
    }
    before = Charge.objects.count()
    for key in ("wd_admin", "ea_admin", "ca_owner"):
        with pytest.raises(NotAllowed):
            services.charge_import(rows=[row], actor=demo.users[key], source="test")
    assert Charge.objects.count() == before
    report = services.charge_import(rows=[row], actor=demo.users["support"], source="test")  # operator staff
    assert report.accepted == 1
