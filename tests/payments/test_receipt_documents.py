"""Receipt PDFs (in the account's language, with the right amount, method and invoice) and
who may download them: everyone who may read the invoice, at every door (the invoice
page's Receipts block, the PDF page, the API); anonymous users are sent to sign-in (API:
401), another tenant and roles that may not read the invoice get 404."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import formats, translation

from invoices.pdf import render_document
from payments import receipt_pdf, services
from payments.models import PaymentSource
from tests.factories import UserFactory, make_account

from .conftest import make_invoice

pytestmark = pytest.mark.django_db


def layout_text(html: str) -> str:
    """The text WeasyPrint lays out on the PDF's pages (what the reader sees)."""
    document = render_document(html)
    return " ".join(box.text for page in document.pages for box in page._page_box.descendants() if hasattr(box, "text"))


def pay_by_card(profile, total="242.00"):
    profile.refresh_from_db()  # the demo's copy predates its active card
    invoice = make_invoice(profile, total=total)
    card = services.scope_active_card(profile)
    payment = services.invoice_pay(invoice=invoice, payment_method=card, source=PaymentSource.AUTOMATIC)
    assert payment.status == "succeeded"
    return invoice, payment.receipt


def pay_by_transfer(cards, profile, amount="150.00", reference="NL-WIRE-77"):
    invoice = make_invoice(profile, total="200.00")
    payment = services.payment_record_bank_transfer(
        invoice=invoice,
        amount=amount,
        received_on=dt.date(2026, 3, 2),
        reference=reference,
        actor=cards.users["support"],
    )
    return invoice, payment.receipt


@pytest.fixture
def woodgrove_receipt(cards):
    """A receipt of Woodgrove Nederland (a customer-agreement profile, Dutch account)."""
    return pay_by_card(cards.profiles["woodgrove_nl"], total="99.95")


def test_pdf_in_english_with_amount_card_and_invoice(cards, clock):
    clock.set(dt.datetime(2026, 3, 4, 9))
    invoice, receipt = pay_by_card(cards.profiles["contoso"])
    text = layout_text(receipt_pdf.receipt_html(receipt))
    assert f"Receipt {receipt.number}" in text and invoice.number in text
    assert "Visa •••• 4242" in text and "€242.00" in text and "Amount received" in text
    with translation.override("en"):
        day = formats.date_format(dt.date(2026, 3, 4), "SHORT_DATE_FORMAT")
    assert f"paid on {day}".lower() in text.lower() and "payment method" in text.lower() and "sold to" in text.lower()
    assert "paid on 4 mar 2026" in text.lower()  # day first (billing_portal/formats)
    content = receipt_pdf.render_receipt_pdf(receipt)
    assert content.startswith(b"%PDF")


def test_pdf_in_dutch_for_a_bank_transfer(cards):
    invoice, receipt = pay_by_transfer(cards, cards.profiles["fabrikam"])
    assert receipt.language == "nl"
    text = layout_text(receipt_pdf.receipt_html(receipt))
    assert f"Betalingsbewijs {receipt.number}" in text and invoice.number in text
    assert "Bankoverschrijving" in text and "NL-WIRE-77" in text
    assert "€\xa0150,00" in text and "Ontvangen bedrag" in text and "betaald op 2 mrt 2026" in text.lower()
    assert "Amount received" not in text


def test_pdf_page_downloads_and_is_stored_then_rendered_again_when_its_file_is_gone(
    cards, woodgrove_receipt, client_for
):
    _invoice, receipt = woodgrove_receipt
    client = client_for(cards.users["ca_bp_reader"])
    url = reverse("payments:receipt_pdf", args=[receipt.pk])
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert f'filename="{receipt.number}.pdf"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    receipt.refresh_from_db()
    assert receipt.pdf and receipt.pdf_rendered_at
    receipt.pdf.storage.delete(receipt.pdf.name)  # the storage lost the file
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")
    receipt.refresh_from_db()
    assert receipt.pdf.storage.exists(receipt.pdf.name)


def test_pdf_api_honours_accept_pdf_and_answers_errors_as_json(cards, woodgrove_receipt, api_for):
    _invoice, receipt = woodgrove_receipt
    api = api_for(cards.users["ca_owner"])
    url = f"/api/v1/receipts/{receipt.pk}/pdf/"
    for accept in ("application/pdf", "application/json", None):
        headers = {"HTTP_ACCEPT": accept} if accept else {}
        response = api.get(url, **headers)
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf", accept
    missing = api.get("/api/v1/receipts/999999/pdf/", HTTP_ACCEPT="application/pdf")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_api_lists_and_reads_receipts(cards, woodgrove_receipt, api_for):
    invoice, receipt = woodgrove_receipt
    api = api_for(cards.users["ca_invoice_manager"])
    body = api.get(f"/api/v1/invoices/{invoice.pk}/receipts/").json()
    assert len(body["results"]) == 1
    row = body["results"][0]
    assert row["number"] == receipt.number and row["invoice_number"] == invoice.number
    assert (row["method"], row["method_display"], row["amount"]) == ("card", "Mastercard •••• 4444", "99.95")
    assert row["pdf_url"].endswith(f"/api/v1/receipts/{receipt.pk}/pdf/")
    assert api.get(f"/api/v1/receipts/{receipt.pk}/").json()["number"] == receipt.number
    listed = api.get("/api/v1/receipts/", {"profile": cards.profiles["woodgrove_nl"].pk}).json()
    assert [r["number"] for r in listed["results"]] == [receipt.number]


def test_invoice_page_lists_its_receipts_with_the_download(cards, woodgrove_receipt, client_for):
    invoice, receipt = woodgrove_receipt
    page = client_for(cards.users["ca_ba_reader"]).get(reverse("invoices:detail", args=[invoice.pk]))
    html = page.content.decode()
    assert 'id="receipts"' in html and receipt.number in html
    assert reverse("payments:receipt_pdf", args=[receipt.pk]) in html and "4444" in html
    # An invoice without payments shows no Receipts block.
    other = make_invoice(cards.profiles["woodgrove_nl"])
    assert (
        'id="receipts"'
        not in client_for(cards.users["ca_owner"]).get(reverse("invoices:detail", args=[other.pk])).content.decode()
    )


def _stranger():
    from accounts.services import role_assign

    stranger = UserFactory()
    role_assign(user=stranger, role="account_admin", account=make_account(signed_up_by=stranger))
    return stranger


def test_anonymous_is_sent_to_sign_in_and_the_api_answers_401(cards, woodgrove_receipt, client, api_for):
    invoice, receipt = woodgrove_receipt
    for url in (reverse("payments:receipt_pdf", args=[receipt.pk]), reverse("payments:history")):
        response = client.get(url)
        assert response.status_code == 302 and "/sign-in/" in response["Location"]
    for url in (
        f"/api/v1/receipts/{receipt.pk}/",
        f"/api/v1/receipts/{receipt.pk}/pdf/",
        f"/api/v1/invoices/{invoice.pk}/receipts/",
        "/api/v1/receipts/",
        "/api/v1/payment-history/",
    ):
        assert api_for(None).get(url).status_code == 401, url


@pytest.mark.parametrize("who", ["stranger", "wd_admin", "ca_bp_owner", "support"])
def test_other_tenants_and_roles_that_may_not_read_the_invoice_get_404(
    cards, woodgrove_receipt, client_for, api_for, who
):
    """ca_bp_owner holds a role on Woodgrove Deutschland only: the Nederland invoice and its
    receipt are not theirs to read; support staff hold no customer role."""
    invoice, receipt = woodgrove_receipt
    user = _stranger() if who == "stranger" else cards.users[who]
    client, api = client_for(user), api_for(user)
    assert client.get(reverse("payments:receipt_pdf", args=[receipt.pk])).status_code == 404
    assert client.get(reverse("invoices:detail", args=[invoice.pk])).status_code == 404
    assert client.get(reverse("payments:history"), {"profile": receipt.profile_id}).status_code == 404
    for url in (
        f"/api/v1/receipts/{receipt.pk}/",
        f"/api/v1/receipts/{receipt.pk}/pdf/",
        f"/api/v1/invoices/{invoice.pk}/receipts/",
    ):
        assert api.get(url).status_code == 404, url
    assert api.get("/api/v1/receipts/", {"profile": receipt.profile_id}).status_code == 404
    assert api.get("/api/v1/payment-history/", {"profile": receipt.profile_id}).status_code == 404
    assert api.get("/api/v1/receipts/").json()["results"] == []
    history = client.get(reverse("payments:history")).content.decode()
    assert receipt.number not in history


@pytest.mark.parametrize("who", ["ca_owner", "ca_ba_reader", "ca_bp_reader", "ca_invoice_manager", "ca_bp_contributor"])
def test_everyone_who_may_read_the_invoice_may_download_its_receipt(cards, woodgrove_receipt, client_for, api_for, who):
    _invoice, receipt = woodgrove_receipt
    user = cards.users[who]
    assert client_for(user).get(reverse("payments:receipt_pdf", args=[receipt.pk])).status_code == 200
    assert api_for(user).get(f"/api/v1/receipts/{receipt.pk}/").status_code == 200
