"""What the portal prints on an invoice revision itself, the tax note and the reason for a
revision, is kept as a code and worded in the reader's language: the viewer's on the page
and in the API, the invoice's in the PDF (invoices.printed). A reason typed by support
staff is shown as typed. Migration 0009 turns the texts written before into codes."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from accounts import services as account_services
from billing_portal.errors import InvalidInput
from invoices import pdf, printed, services
from invoices.models import Invoice
from invoices.printed import RevisionReason, TaxNote
from tests.factories import UserFactory, make_account, make_subscription

pytestmark = pytest.mark.django_db

BE_VAT = "BE0403019261"
REVERSE_CHARGE_EN = "VAT reverse charge: the customer accounts for the VAT"
REVERSE_CHARGE_NL = "Btw verlegd: de afnemer voldoet de btw"
OUTSIDE_EU_EN = "No EU VAT charged: the place of supply is outside the European Union."
OUTSIDE_EU_NL = "Geen EU-btw berekend: de plaats van de dienst ligt buiten de Europese Unie."


@pytest.fixture
def readers():
    return UserFactory(language="en"), UserFactory(language="nl")


def _invoice_of(readers, add_charge, run_billing, **account_fields):
    account = make_account(payment_mode="invoice", language="en", **account_fields)
    for reader in readers:
        account_services.role_assign(user=reader, role="account_admin", account=account)
    add_charge(make_subscription(account), quantity="2", unit_price="10.00")
    run_billing()
    return Invoice.objects.get(profile__account=account)


def _page(client_for, user, invoice) -> str:
    return client_for(user).get(reverse("invoices:detail", args=[invoice.pk])).content.decode()


def test_vat_1_reverse_charge_note_in_the_language_of_each_reader(
    readers, add_charge, run_billing, client_for, api_for
):
    english, dutch = readers
    invoice = _invoice_of(readers, add_charge, run_billing, country="BE", vat_id=BE_VAT)
    revision = invoice.current_revision
    assert revision.tax_note_code == TaxNote.REVERSE_CHARGE
    assert REVERSE_CHARGE_EN in _page(client_for, english, invoice)
    html = _page(client_for, dutch, invoice)
    assert REVERSE_CHARGE_NL in html and REVERSE_CHARGE_EN not in html
    assert REVERSE_CHARGE_EN in pdf.invoice_html(revision)  # the PDF: the invoice's language (English)
    (api_revision,) = client_for(dutch).get(f"/api/v1/invoices/{invoice.pk}/").json()["revisions"]
    assert api_revision["tax_note_code"] == "reverse_charge" and api_revision["tax_note"].startswith(REVERSE_CHARGE_NL)


def test_outside_eu_note_in_the_language_of_each_reader(readers, add_charge, run_billing, client_for):
    english, dutch = readers
    invoice = _invoice_of(readers, add_charge, run_billing, country="US", currency="USD")
    assert invoice.current_revision.tax_note_code == TaxNote.OUTSIDE_EU
    assert OUTSIDE_EU_EN in _page(client_for, english, invoice)
    html = _page(client_for, dutch, invoice)
    assert OUTSIDE_EU_NL in html and OUTSIDE_EU_EN not in html


def test_po_7_revision_reason_in_the_language_of_each_reader(readers, add_charge, run_billing, client_for):
    english, dutch = readers
    invoice = _invoice_of(readers, add_charge, run_billing, country="NL")
    services.invoice_amend(invoice=invoice, actor=None, reason_code=RevisionReason.PO_WINDOW, po_number="PO-77")
    assert "PO number changed by the enrollment" in _page(client_for, english, invoice)
    html = _page(client_for, dutch, invoice)
    assert "PO-nummer gewijzigd door de beheerder van de inschrijving" in html and "changed by" not in html
    reasons = [r["reason"] for r in client_for(dutch).get(f"/api/v1/invoices/{invoice.pk}/").json()["revisions"]]
    assert reasons[-1].startswith("PO-nummer gewijzigd") and reasons[-1] != reasons[0]


def test_po_5_support_request_reason_in_the_language_of_each_reader(readers, add_charge, run_billing, client_for):
    english, dutch = readers
    invoice = _invoice_of(readers, add_charge, run_billing, country="NL")
    services.invoice_amend(
        invoice=invoice,
        actor=None,
        reason="Please print our new PO.",
        reason_code=RevisionReason.SUPPORT_REQUEST,
        reason_ref=42,
        po_number="PO-78",
    )
    assert "Support request #42: Please print our new PO." in _page(client_for, english, invoice)
    html = _page(client_for, dutch, invoice)
    assert "Ondersteuningsaanvraag #42: Please print our new PO." in html and "Support request" not in html


def test_reason_typed_by_support_is_shown_as_typed(readers, add_charge, run_billing, client_for):
    _english, dutch = readers
    invoice = _invoice_of(readers, add_charge, run_billing, country="NL")
    services.invoice_amend(invoice=invoice, actor=None, reason="Klant belde op 3 maart", po_number="PO-79")
    assert "Klant belde op 3 maart" in _page(client_for, dutch, invoice)


def test_a_coded_reason_needs_no_typed_text_but_a_plain_one_does(readers, add_charge, run_billing):
    invoice = _invoice_of(readers, add_charge, run_billing, country="NL")
    with pytest.raises(InvalidInput, match="reason"):
        services.invoice_amend(invoice=invoice, actor=None, reason="  ", po_number="PO-80")
    revision = services.invoice_amend(
        invoice=invoice, actor=None, reason_code=RevisionReason.PO_WINDOW, po_number="PO-81"
    )
    assert revision.reason == "" and printed.reason_text(revision).startswith("PO number changed")


# --- Migration 0009: the texts written before become codes ----------------------------------------------------

BEFORE = [("invoices", "0008_invoice_profile_index")]
AFTER = [("invoices", "0010_remove_invoicerevision_tax_note")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_migration_0009_maps_notes_and_reasons_to_codes(add_charge, run_billing):
    readers = (UserFactory(language="en"),)
    revisions = []
    for fields in ({"country": "BE", "vat_id": BE_VAT}, {"country": "US", "currency": "USD"}, {"country": "NL"}):
        revisions.append(_invoice_of(readers, add_charge, run_billing, **fields).current_revision_id)
    try:
        old = _migrate(BEFORE).get_model("invoices", "InvoiceRevision")
        old_texts = [
            ("Btw verlegd: de afnemer voldoet de btw (artikel 196 ...).", "Support request #7: New PO, please."),
            (
                OUTSIDE_EU_EN,
                "PO-nummer gewijzigd door de beheerder van de inschrijving binnen zeven dagen na de factuurmelding.",
            ),
            ("", "Typed by support"),
        ]
        for pk, (note, reason) in zip(revisions, old_texts, strict=True):
            old.objects.filter(pk=pk).update(tax_note=note, reason=reason)
        new = _migrate(AFTER).get_model("invoices", "InvoiceRevision")
        rows = {r.pk: r for r in new.objects.filter(pk__in=revisions)}
        got = [(rows[pk].tax_note_code, rows[pk].reason_code, rows[pk].reason_ref, rows[pk].reason) for pk in revisions]
        assert got == [
            ("reverse_charge", "support_request", 7, "New PO, please."),
            ("outside_eu", "po_window", None, ""),
            ("", "", None, "Typed by support"),
        ]
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
