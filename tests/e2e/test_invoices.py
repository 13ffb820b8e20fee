"""Browser journey: sign in, Invoices, filter, open an invoice, download its PDF."""

import pytest

from invoices import demo as invoices_demo
from invoices.models import Invoice


@pytest.mark.django_db(transaction=True)
def test_invoices_journey_filter_open_download_pdf(live_server, page, sign_in, tmp_path):
    from accounts import demo as accounts_demo

    demo = accounts_demo.seed()
    invoices_demo.seed(demo)
    invoice = Invoice.objects.filter(profile=demo.profiles["contoso"]).order_by("-period").first()
    assert invoice is not None

    sign_in("wd.admin@contoso.example")
    page.click("nav.mainnav >> text=Invoices")
    page.wait_for_url("**/invoices/")
    assert page.locator("table.table tbody tr").count() == 3
    page.select_option("select[name=status]", invoice.status)
    page.fill("input[name=period]", f"{invoice.period:%Y-%m}")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(f"**/invoices/?*status={invoice.status}*")
    rows = page.locator("table.table tbody tr")
    assert rows.count() == 1
    page.click(f"text={invoice.number}")
    page.wait_for_url(f"**/invoices/{invoice.pk}/")
    assert page.locator("h1").inner_text().startswith(f"Invoice {invoice.number}")
    with page.expect_download() as download_info:
        page.click("text=Download PDF")
    download = download_info.value
    path = tmp_path / "invoice.pdf"
    download.save_as(path)
    data = path.read_bytes()
    assert data.startswith(b"%PDF")
    assert invoice.number in download.suggested_filename
    # The PDF names the invoice number (its title, "Invoice <number>", may sit in a compressed stream).
    assert _pdf_mentions(data, invoice.number)
    assert not _pdf_mentions(data, "INV-1999-999999")


def _pdf_mentions(data: bytes, text: str) -> bool:
    import re
    import zlib

    chunks = [data]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            chunks.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    needles = [text.encode(), text.encode("utf-16-be"), text.encode("utf-16-be").hex().upper().encode()]
    return any(needle in chunk for chunk in chunks for needle in needles)
