"""The invoice PDF's layout over many pages (budget "Invoice PDF: linear in pages", timed
by benchmarks/pdf.py, never here): an 800-line invoice runs over pages with every line
on exactly one of them, in order; the line table's header repeats at the top of every
page with the same column positions; the totals and the page count end the last page."""

import datetime as dt
import gc
from decimal import Decimal

import pytest

from invoices import pdf
from invoices.models import Invoice, InvoiceLine, InvoiceRevision
from tests.factories import make_account, make_subscription

pytestmark = pytest.mark.django_db

LINES = 800
HEADER = ["Service", "Meter", "Quantity", "Unit price", "Amount"]


@pytest.fixture
def long_revision():
    account = make_account(payment_mode="invoice", language="en")
    subscription = make_subscription(account)
    invoice = Invoice.objects.create(
        number="INV-2026-000800",
        account=account,
        profile=subscription.profile,
        period=dt.date(2026, 1, 1),
        issue_date=dt.date(2026, 2, 1),
        due_date=dt.date(2026, 3, 3),
        currency="EUR",
        subtotal=Decimal("8000.00"),
        tax_amount=Decimal("1680.00"),
        total=Decimal("9680.00"),
        payment_reference="RF712026000800",
        payment_terms="bank_transfer",
    )
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            invoice=invoice,
            subscription=subscription,
            position=n,
            service_name=f"Service {n:03d}",
            meter="Data transfer out, zone 1, premium tier (GB)" if n == 1 else "D2s v5 hours",
            quantity=Decimal("1"),
            unit_price=Decimal("10.00"),
            amount=Decimal("10.00"),
            tax_amount=Decimal("2.10"),
        )
        for n in range(1, LINES + 1)
    )
    return InvoiceRevision.objects.create(
        invoice=invoice, number=1, language="en", sold_to="Tenant B.V.", bill_to="Tenant B.V.", tax_rate=Decimal("21")
    )


def _text(box) -> str:
    return "".join(child.text for child in box.descendants() if hasattr(child, "text"))


def _tables(page):
    """The line table's parts on a page: (header cells, x of each header cell, body rows)."""
    for box in page._page_box.descendants():
        header = next((group for group in getattr(box, "children", ()) if getattr(group, "is_header", False)), None)
        if type(box).__name__ == "TableBox" and header is not None:
            cells = header.children[0].children
            rows = [
                [_text(cell) for cell in row.children]
                for group in box.children
                if not group.is_header
                for row in group.children
            ]
            return [_text(cell) for cell in cells], [cell.position_x for cell in cells], rows
    return None


def test_pdf_linear_in_pages_800_lines_every_line_once_with_the_header_on_every_page(long_revision):
    document = pdf.render_document(pdf.invoice_html(long_revision))

    assert len(document.pages) >= LINES // 40
    tables = [_tables(page) for page in document.pages]
    assert all(table is not None for table in tables)  # the lines run over every page
    for header, positions, rows in tables:
        assert header == HEADER
        assert positions == tables[0][1]
        assert rows  # no page with a header alone
    cells = [row[0] for _header, _positions, rows in tables for row in rows]
    # The lines of the one subscription under its heading (name and ID), then every line once.
    subscription = long_revision.invoice.lines.first().subscription
    assert cells[0] == f"Subscription: {subscription.name} {subscription.subscription_id}"
    assert cells[1:] == [f"Service {n:03d}" for n in range(1, LINES + 1)]
    last_page = _text(document.pages[-1]._page_box)
    assert "Total" in last_page and "€9,680.00" in last_page
    assert f"{len(document.pages)} / {len(document.pages)}" in last_page


def test_pdf_render_switches_the_cyclic_garbage_collector_back_on(monkeypatch):
    """Rendering pauses Python's cyclic garbage collector (its full collections walked
    every page's boxes again); it is on again after a render, and after one that failed."""
    assert gc.isenabled()
    assert pdf.html_to_pdf("<p>Invoice</p>").startswith(b"%PDF")
    assert gc.isenabled()

    def failing_render(*args, **kwargs):
        assert not gc.isenabled()
        raise RuntimeError("layout failed")

    monkeypatch.setattr("weasyprint.HTML.render", failing_render)
    with pytest.raises(RuntimeError, match="layout failed"):
        pdf.html_to_pdf("<p>Invoice</p>")
    assert gc.isenabled()
