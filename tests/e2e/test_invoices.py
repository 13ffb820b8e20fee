"""Browser journey of Invoices, at desktop and phone sizes, in English and Dutch: sign in,
search and filter the list (status, a period range with the month and year selects,
sort), download the selected invoices and all listed ones as a ZIP of PDFs, export the
list as CSV, open an invoice (its lines under their subscription), export its lines,
download its PDF. Nothing wider than the phone; no Content-Security-Policy violation."""

import csv
import io
import re
import zipfile
import zlib

import pytest

from invoices import demo as invoices_demo
from invoices.models import Invoice
from tests.e2e.layout import nothing_overflows

pytestmark = pytest.mark.django_db(transaction=True)

# Each language's persona (web direct: Contoso in English, Fabrikam in Dutch) and texts.
LANGUAGES = {
    "en": {
        "email": "wd.admin@contoso.example",
        "profile": "contoso",
        "filter": "Filter",
        "from": "Billing period from",
        "selected": "Download selected (ZIP)",
        "listed": "Download all listed (ZIP)",
        "csv": "Export listed (CSV)",
        "lines": "Export lines (CSV)",
        "pdf": "Download PDF",
        "number": "Invoice number",
        "subscription": "Subscription",
        "month": "March",
        "none_selected": "Select at least one invoice to download.",
    },
    "nl": {
        "email": "wd.admin@fabrikam.example",
        "profile": "fabrikam",
        "filter": "Filter",  # Django admin's catalogue ("Filter") comes before the apps' ("Filteren")
        "from": "Factureringsperiode vanaf",
        "selected": "Selectie downloaden (ZIP)",
        "listed": "Alle getoonde downloaden (ZIP)",
        "csv": "Getoonde exporteren (CSV)",
        "lines": "Regels exporteren (CSV)",
        "pdf": "PDF downloaden",
        "number": "Factuurnummer",
        "subscription": "Abonnement",
        "month": "maart",
        "none_selected": "Selecteer ten minste één factuur om te downloaden.",
    },
}


@pytest.fixture
def sized_page(new_page, size):
    return new_page(size, accept_downloads=True, timeout=20_000)


def _download(page, click) -> tuple[str, bytes]:
    with page.expect_download() as info:
        click()
    download = info.value
    return download.suggested_filename, open(download.path(), "rb").read()


def test_invoices_filter_download_and_export(sized_page, language, tmp_path):
    from accounts import demo as accounts_demo
    from tests.e2e.signing_in import sign_in_through_form

    demo = accounts_demo.seed()
    invoices_demo.seed(demo)
    text = LANGUAGES[language]
    page = sized_page
    invoices = list(Invoice.objects.filter(profile=demo.profiles[text["profile"]]).order_by("-period"))
    invoice = invoices[0]
    assert len(invoices) == 3

    sign_in_through_form(page, text["email"])
    page.goto("/invoices/")
    rows = page.locator("#invoice-list tbody tr")
    assert rows.count() == 3
    assert page.locator("fieldset.month-field legend").first.inner_text() == text["from"]
    nothing_overflows(page, "invoices")

    # Nothing ticked: back to the list with the message.
    page.click("#download-selected")
    page.wait_for_url("**/invoices/**")
    assert text["none_selected"] in page.locator(".messages").inner_text()

    # Filter: status, then the one month as a range with the selects, newest first.
    page.select_option("select[name=status]", invoice.status)
    for end in ("period_from", "period_to"):
        page.select_option(f"select[name={end}_month]", str(invoice.period.month))
        page.select_option(f"select[name={end}_year]", str(invoice.period.year))
    page.select_option("select[name=sort]", "-amount")
    button = page.locator("form.filters button[type=submit]")
    assert button.inner_text() == text["filter"]
    button.click()
    page.wait_for_url(f"**/invoices/?*status={invoice.status}*")
    assert rows.count() == 1 and invoice.number in rows.first.inner_text()
    assert page.locator("select[name=period_from_month] option:checked").inner_text() == (
        page.locator(f"select[name=period_from_month] option[value='{invoice.period.month}']").inner_text()
    )
    nothing_overflows(page, "invoices")

    # The ticked invoice as a ZIP of its PDF.
    page.check(f"input[name=invoice][value='{invoice.pk}']")
    name, data = _download(page, lambda: page.click("#download-selected"))
    assert name.endswith(".zip")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == [f"{invoice.number}.pdf"]
        assert archive.read(f"{invoice.number}.pdf").startswith(b"%PDF")
    # All listed (the filter) as a ZIP, and as CSV.
    _name, data = _download(page, lambda: page.click(f"text={text['listed']}"))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == [f"{invoice.number}.pdf"]
    name, data = _download(page, lambda: page.click(f"text={text['csv']}"))
    assert name.endswith(".csv") and data.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert table[0][0] == text["number"] and [row[0] for row in table[1:]] == [invoice.number]

    # The invoice: lines under their subscription, lines as CSV, the PDF.
    page.click(f"#invoice-list >> text={invoice.number}")
    page.wait_for_url(f"**/invoices/{invoice.pk}/")
    subscription = invoice.lines.first().subscription
    heading = page.locator("tr.line-group").first.inner_text()
    assert (
        heading.startswith(f"{text['subscription']}: {subscription.name}")
        and str(subscription.subscription_id) in heading
    )
    nothing_overflows(page, "invoices")
    name, data = _download(page, lambda: page.click(f"text={text['lines']}"))
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert name == f"{invoice.number}-lines.csv" and len(lines) == invoice.lines.count() + 1
    ids = invoice.lines.values_list("subscription__subscription_id", flat=True)
    assert {row[2] for row in lines[1:]} == {str(subscription_id) for subscription_id in ids}
    assert page.locator("tr.line-group").count() == len(set(ids))
    name, data = _download(page, lambda: page.click(f"text={text['pdf']}"))
    assert invoice.number in name and data.startswith(b"%PDF") and _pdf_mentions(data, invoice.number)
    assert not _pdf_mentions(data, "INV-1999-999999")
    assert page.csp_violations == []


def _pdf_mentions(data: bytes, text: str) -> bool:
    """The PDF names the text (its title, "Invoice <number>", may sit in a compressed stream)."""
    chunks = [data]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            chunks.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    needles = [text.encode(), text.encode("utf-16-be"), text.encode("utf-16-be").hex().upper().encode()]
    return any(needle in chunk for chunk in chunks for needle in needles)
