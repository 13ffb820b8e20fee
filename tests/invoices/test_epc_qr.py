"""The EPC QR code ("SEPA credit transfer", EPC069-12 version 002) of invoices paid by bank
transfer (PBI-9), on the invoice page and in the PDF, and the seller's Chamber of Commerce
number. The code is decoded with zxing-cpp (requirements-dev.txt) and its fields checked
one by one; card invoices, paid and void invoices and invoices in another currency have
none."""

import base64
import importlib
import io
from decimal import Decimal

import pytest
import zxingcpp
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from PIL import Image

from accounts import services as account_services
from billing_portal import seller_settings
from invoices import epc, pdf, services
from invoices.models import Invoice
from tests.factories import UserFactory, make_account, make_subscription

pytestmark = pytest.mark.django_db

SELLER = {
    "name": "Portal Cloud Services B.V.",
    "address": "Stationsplein 1, 1012 AB Amsterdam",
    "country": "NL",
    "vat_id": "NL810433941B01",
    "coc_number": "81043394",
    "iban": "NL91ABNA0417164300",
    "bic": "ABNANL2A",
    "bank": "ABN AMRO Bank N.V.",
}


@pytest.fixture(autouse=True)
def _seller(settings):
    settings.PORTAL_SELLER = dict(SELLER)


@pytest.fixture
def invoices(add_charge, run_billing):
    """One account admin's invoices: bank transfer in euros, card in euros, bank transfer
    in US dollars (a USD account outside the EU, so no VAT)."""
    owner = UserFactory(language="en")
    made = {}
    for key, mode, currency, country in (
        ("bank", "invoice", "EUR", "NL"),
        ("card", "card", "EUR", "NL"),
        ("usd", "invoice", "USD", "US"),
    ):
        account = make_account(signed_up_by=owner, payment_mode=mode, currency=currency, country=country)
        account_services.role_assign(user=owner, role="account_admin", account=account)
        add_charge(make_subscription(account), quantity="3", unit_price="41.15")
        made[key] = account
    run_billing()
    return owner, {key: Invoice.objects.get(profile__account=account) for key, account in made.items()}


def decode(qr) -> str:
    """The text a scanner reads from the segno code, drawn as a PNG like a screen shows it."""
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=6, border=4)
    buffer.seek(0)
    found = zxingcpp.read_barcodes(Image.open(buffer))
    assert len(found) == 1 and found[0].format == zxingcpp.BarcodeFormat.QRCode
    return found[0].text


def test_pbi_9_epc_payload_holds_every_field_of_the_standard(invoices):
    _owner, made = invoices
    bank = made["bank"]
    assert bank.total == Decimal("149.37")  # 123.45 + 21 % VAT 25.92
    fields = epc.epc_payload(bank).split("\n")
    assert fields == [
        "BCD",  # service tag
        "002",  # version
        "1",  # character set: UTF-8
        "SCT",  # SEPA credit transfer
        "ABNANL2A",  # BIC of the beneficiary's bank
        "Portal Cloud Services B.V.",  # beneficiary
        "NL91ABNA0417164300",  # IBAN
        "EUR149.37",  # the amount due, two decimals
        "",  # purpose: none
        bank.payment_reference,  # structured remittance: the ISO 11649 reference
    ]
    assert bank.payment_reference.startswith("RF")


def test_pbi_9_epc_code_decodes_to_the_payload_at_level_m(invoices):
    _owner, made = invoices
    qr = epc._qr(made["bank"])
    assert qr.error == "M" and not qr.is_micro and qr.version <= 13  # EPC069-12: level M, version 13 at most
    assert decode(qr) == epc.epc_payload(made["bank"])


def test_pbi_9_epc_amount_is_what_is_still_due(invoices):
    _owner, made = invoices
    bank = made["bank"]
    services.credit_note_issue(invoice=bank, actor=None, reason="Outage", amount="49.37")
    bank.refresh_from_db()
    assert decode(epc._qr(bank)).split("\n")[7] == "EUR100.00"


def test_pbi_9_epc_without_bic_leaves_the_field_empty(invoices, settings):
    settings.PORTAL_SELLER = {**SELLER, "bic": ""}
    _owner, made = invoices
    assert decode(epc._qr(made["bank"])).split("\n")[4] == ""  # version 002: the BIC is optional


def test_pbi_9_epc_beneficiary_name_cut_to_70_characters(invoices, settings):
    settings.PORTAL_SELLER = {**SELLER, "name": "Ä" * 80}
    _owner, made = invoices
    assert decode(epc._qr(made["bank"])).split("\n")[5] == "Ä" * 70  # UTF-8 kept


def _page(client, invoice) -> str:
    response = client.get(reverse("invoices:detail", args=[invoice.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_pbi_9_epc_code_on_the_page_of_a_bank_transfer_invoice(invoices, client_for):
    owner, made = invoices
    html = _page(client_for(owner), made["bank"])
    assert 'id="epc-qr"' in html and str(epc.qr_svg(made["bank"])) in html
    assert '<svg role="img"' in html and "<script" not in html.split('id="epc-qr"')[1].split("</figure>")[0]
    assert "Scan this code with your banking app" in html


@pytest.mark.parametrize("key", ["card", "usd"])
def test_pbi_9_no_epc_code_on_card_or_non_euro_invoices(invoices, client_for, key):
    owner, made = invoices
    invoice = made[key]
    assert not epc.shows_epc_qr(invoice) and epc.qr_svg(invoice) == "" and epc.qr_data_uri(invoice) == ""
    assert 'id="epc-qr"' not in _page(client_for(owner), invoice)


def test_pbi_9_no_epc_code_on_a_paid_invoice(invoices, client_for):
    owner, made = invoices
    bank = services.invoice_record_payment(invoice=made["bank"], amount=made["bank"].total)
    assert bank.status == "paid" and not epc.shows_epc_qr(bank)
    assert 'id="epc-qr"' not in _page(client_for(owner), bank)


def test_pbi_9_no_epc_code_on_a_void_invoice(invoices, client_for):
    owner, made = invoices
    bank = services.invoice_void(invoice=made["bank"], actor=None, reason="Issued in error")
    assert bank.status == "void" and not epc.shows_epc_qr(bank)
    assert 'id="epc-qr"' not in _page(client_for(owner), bank)


def test_pbi_9_epc_code_in_the_pdf_of_a_bank_transfer_invoice(invoices):
    _owner, made = invoices
    bank, card = made["bank"], made["card"]
    html = pdf.invoice_html(bank.current_revision)
    assert f'<img class="epc-qr" src="{epc.qr_data_uri(bank)}"' in html
    assert "epc-qr" not in pdf.invoice_html(card.current_revision)
    assert pdf.render_revision_pdf(bank.current_revision).startswith(b"%PDF")


def test_pbi_9_epc_code_of_the_pdf_decodes_to_the_payload(invoices):
    """The PDF's image: a PNG of one pixel a module, drawn 30 mm wide without smoothing;
    scaled up the same way, a scanner reads the payload from it."""
    bank = invoices[1]["bank"]
    address = epc.qr_data_uri(bank)
    assert address.startswith("data:image/png;base64,")
    image = Image.open(io.BytesIO(base64.b64decode(address.split(",", 1)[1])))
    modules = epc._qr(bank).symbol_size(border=4)[0]
    assert image.size == (modules, modules)  # one pixel a module, the quiet zone included
    found = zxingcpp.read_barcodes(image.convert("L").resize((modules * 6, modules * 6), Image.NEAREST))
    assert [code.text for code in found] == [epc.epc_payload(bank)]
    assert "image-rendering: pixelated" in pdf.STYLESHEET.split(".epc-qr {", 1)[1].split("}", 1)[0]


def test_seller_coc_number_on_the_invoice_page_and_the_pdfs(invoices, client_for):
    owner, made = invoices
    card = made["card"]
    html = _page(client_for(owner), card)
    assert "Chamber of Commerce (KvK) number: 81043394" in html
    assert "Chamber of Commerce (KvK) number: 81043394" in pdf.invoice_html(card.current_revision)
    note = services.credit_note_issue(invoice=card, actor=None, reason="Outage")
    assert "Chamber of Commerce (KvK) number: 81043394" in pdf.credit_note_html(note)


def test_seller_coc_number_in_dutch(invoices, client_for):
    owner, made = invoices
    owner.language = "nl"
    owner.save(update_fields=["language"])
    assert "KvK-nummer: 81043394" in _page(client_for(owner), made["bank"])


@pytest.mark.parametrize(
    ("variable", "value"), [("SELLER_IBAN", "NL91ABNA0417164301"), ("SELLER_BIC", "ABN-NL"), ("SELLER_IBAN", "")]
)
def test_malformed_seller_bank_details_stop_the_start_up(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ImproperlyConfigured, match=variable):
        importlib.reload(seller_settings)
    monkeypatch.delenv(variable)
    importlib.reload(seller_settings)
    assert seller_settings.PORTAL_SELLER["iban"] == "NL91ABNA0417164300"


def test_pbi_9_epc_payload_in_the_api(invoices, api_for):
    owner, made = invoices
    api = api_for(owner)
    body = api.get(f"/api/v1/invoices/{made['bank'].pk}/").json()
    assert body["epc_qr_payload"] == epc.epc_payload(made["bank"])
    for key in ("card", "usd"):
        assert api.get(f"/api/v1/invoices/{made[key].pk}/").json()["epc_qr_payload"] is None
