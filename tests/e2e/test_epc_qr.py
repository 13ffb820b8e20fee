"""Browser check of the EPC QR code (PBI-9, invoices/epc.py) on the page of a euro invoice
paid by bank transfer, at desktop and phone sizes: the code as the screen shows it (a
screenshot of the element, decoded with zxing-cpp) carries the seller's IBAN, the amount
due and the invoice's payment reference, and fits the phone's screen."""

import io

import pytest
import zxingcpp
from django.conf import settings
from PIL import Image

from tests.e2e.layout import nothing_overflows
from tests.e2e.signing_in import sign_in_through_form
from tests.payments.conftest import make_invoice

pytestmark = pytest.mark.django_db(transaction=True)


def _scan(png: bytes) -> str:
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(found) == 1 and found[0].format == zxingcpp.BarcodeFormat.QRCode, found
    return found[0].text


def test_pbi_9_epc_qr_code_on_the_invoice_page_scans_to_the_iban_amount_and_reference(sized_page, size):
    from accounts import demo as accounts_demo

    demo = accounts_demo.seed()
    invoice = make_invoice(demo.profiles["northwind"], total="154.97")  # an enrollment pays by bank transfer
    assert invoice.currency == "EUR" and invoice.pays_by_bank_transfer
    page = sized_page
    sign_in_through_form(page, "ea.admin@northwind.example")
    page.goto(f"/invoices/{invoice.pk}/")

    code = page.locator("#epc-qr svg.qr-code")
    code.scroll_into_view_if_needed()
    box = code.bounding_box()
    assert box["width"] >= 150 and box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"]
    fields = _scan(code.screenshot()).split("\n")
    seller = settings.PORTAL_SELLER
    assert fields[:4] == ["BCD", "002", "1", "SCT"]
    assert fields[4] == seller["bic"] and fields[5] == seller["name"]
    assert fields[6] == seller["iban"].replace(" ", "")
    assert fields[7] == "EUR154.97"
    assert fields[9] == invoice.payment_reference
    # What the code carries is also written next to it.
    instructions = page.locator(".alert-info").first.inner_text()
    assert invoice.payment_reference in instructions and seller["iban"] in instructions
    nothing_overflows(page, "the invoice page with its EPC QR code")
    assert page.csp_violations == []
