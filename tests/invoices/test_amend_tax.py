"""PO-5 / VAT-1: an amendment whose new VAT number changes the tax treatment.

Unpaid: every line's tax, the invoice's tax and total and the revision's rate,
reverse-charge flag and note are recomputed (half-up per line, as the billing run).
Paid (or credited): the invoice is credited in full and a corrected invoice issued with
the payment carried over (tests/invoices/test_credit_notes.py has the details). A card
payment pending: refused until it settles, nothing written.
"""

from decimal import Decimal

import pytest
from django.utils import translation

from billing_portal.errors import Conflict
from invoices import pdf, services
from invoices.models import Invoice, InvoiceLine, InvoiceRevision
from invoices.services import amendments
from payments.models import Payment, PaymentKind, PaymentSource, PaymentStatus
from tests.factories import make_account, make_subscription

pytestmark = pytest.mark.django_db

BE_VAT = "BE0403019261"


@pytest.fixture
def be_invoice(add_charge, run_billing):
    """A Belgian business customer without a VAT ID, billed with Belgian VAT (21 %)."""
    account = make_account(country="BE", vat_id="", payment_mode="invoice", language="en")
    subscription = make_subscription(account)
    add_charge(subscription, quantity="3", unit_price="0.35")  # 1.05, VAT 0.2205 -> 0.22
    add_charge(subscription, quantity="1", unit_price="2.50")  # 2.50, VAT 0.525 -> 0.53 (half-up)
    add_charge(subscription, quantity="10", unit_price="9.99")  # 99.90, VAT 20.979 -> 20.98
    run_billing()
    invoice = Invoice.objects.get(profile__account=account)
    assert [line.tax_amount for line in invoice.lines.all()] == [Decimal("0.22"), Decimal("0.53"), Decimal("20.98")]
    assert (invoice.subtotal, invoice.tax_amount, invoice.total) == (
        Decimal("103.45"),
        Decimal("21.73"),
        Decimal("125.18"),
    )
    revision = invoice.current_revision
    assert revision.tax_rate == Decimal("21") and not revision.reverse_charge and revision.tax_note_code == ""
    return invoice


def _amend(invoice, capture, **kwargs):
    with capture(execute=True):
        return services.invoice_amend(invoice=invoice, actor=None, reason="Support request", **kwargs)


def test_vat_1_valid_be_vat_id_on_unpaid_invoice_becomes_reverse_charge(be_invoice, django_capture_on_commit_callbacks):
    first = be_invoice.current_revision
    first_pdf = first.pdf.name
    assert first_pdf
    revision = _amend(be_invoice, django_capture_on_commit_callbacks, vat_id="BE 0403.019.261")
    invoice = Invoice.objects.get(pk=be_invoice.pk)
    assert revision.vat_id == BE_VAT and revision.number == 2 and invoice.current_revision_id == revision.pk
    assert revision.tax_rate == Decimal("0") and revision.reverse_charge
    assert revision.tax_note_code == "reverse_charge"
    assert "Article 196" in pdf.invoice_html(revision) and "2006/112" in pdf.invoice_html(revision)
    assert list(invoice.lines.values_list("tax_amount", flat=True)) == [Decimal("0.00")] * 3
    assert (invoice.subtotal, invoice.tax_amount, invoice.total) == (
        Decimal("103.45"),
        Decimal("0.00"),
        Decimal("103.45"),
    )
    assert invoice.amount_due == Decimal("103.45")
    # The caller's object is brought up to date too.
    assert (be_invoice.tax_amount, be_invoice.total) == (Decimal("0.00"), Decimal("103.45"))
    # The earlier revision keeps what it printed, with its PDF; the new one gets its own.
    first.refresh_from_db()
    assert first.pdf.name == first_pdf and first.tax_rate == Decimal("21") and not first.reverse_charge
    revision.refresh_from_db()
    assert revision.pdf and revision.pdf.name != first_pdf


def test_vat_1_vat_id_removed_goes_back_to_the_country_rate(be_invoice, django_capture_on_commit_callbacks):
    _amend(be_invoice, django_capture_on_commit_callbacks, vat_id=BE_VAT)
    revision = _amend(be_invoice, django_capture_on_commit_callbacks, vat_id="")
    invoice = Invoice.objects.get(pk=be_invoice.pk)
    assert revision.number == 3 and revision.vat_id == ""
    assert revision.tax_rate == Decimal("21") and not revision.reverse_charge and revision.tax_note_code == ""
    assert list(invoice.lines.values_list("tax_amount", flat=True)) == [
        Decimal("0.22"),
        Decimal("0.53"),
        Decimal("20.98"),
    ]
    assert (invoice.tax_amount, invoice.total) == (Decimal("21.73"), Decimal("125.18"))


def test_vat_1_reverse_charge_note_in_the_invoice_language(add_charge, run_billing, django_capture_on_commit_callbacks):
    account = make_account(country="BE", vat_id="", payment_mode="invoice", language="nl")
    add_charge(make_subscription(account), quantity="1", unit_price="10.05")  # VAT 2.1105 -> 2.11
    run_billing()
    invoice = Invoice.objects.get(profile__account=account)
    assert invoice.total == Decimal("12.16")
    revision = _amend(invoice, django_capture_on_commit_callbacks, vat_id=BE_VAT)
    assert revision.reverse_charge and revision.tax_note_code == "reverse_charge"
    assert "Btw verlegd" in pdf.invoice_html(revision)  # the PDF in the invoice's language
    invoice.refresh_from_db()
    assert (invoice.tax_amount, invoice.total) == (Decimal("0.00"), Decimal("10.05"))


def test_vat_1_partly_paid_invoice_is_credited_and_reissued(be_invoice, django_capture_on_commit_callbacks):
    services.invoice_record_payment(invoice=be_invoice, amount=Decimal("10.00"))
    revision = _amend(be_invoice, django_capture_on_commit_callbacks, vat_id=BE_VAT)
    corrected = Invoice.objects.get(pk=revision.invoice_id)
    assert corrected.replaces_id == be_invoice.pk and revision.reverse_charge and revision.number == 1
    assert (corrected.tax_amount, corrected.total, corrected.amount_paid) == (
        Decimal("0.00"),
        Decimal("103.45"),
        Decimal("10.00"),
    )
    invoice = Invoice.objects.get(pk=be_invoice.pk)
    # The credited invoice keeps its revision, lines and figures.
    assert InvoiceRevision.objects.filter(invoice=invoice).count() == 1
    assert (invoice.tax_amount, invoice.total, invoice.amount_credited, invoice.amount_paid) == (
        Decimal("21.73"),
        Decimal("125.18"),
        Decimal("125.18"),
        Decimal("0.00"),
    )
    assert invoice.status == "void"
    assert list(InvoiceLine.objects.filter(invoice=invoice).values_list("tax_amount", flat=True)) == [
        Decimal("0.22"),
        Decimal("0.53"),
        Decimal("20.98"),
    ]


def test_vat_1_refused_while_a_card_payment_is_pending(be_invoice, django_capture_on_commit_callbacks):
    Payment.objects.create(
        invoice=be_invoice,
        account=be_invoice.account,
        profile=be_invoice.profile,
        kind=PaymentKind.CARD,
        source=PaymentSource.PAY_NOW,
        amount=be_invoice.total,
        currency="EUR",
        status=PaymentStatus.PENDING,
    )
    with pytest.raises(Conflict) as refused:
        _amend(be_invoice, django_capture_on_commit_callbacks, vat_id=BE_VAT)
    assert refused.value.code == "payment_in_progress" and refused.value.status_code == 409
    with translation.override("nl"):
        with pytest.raises(Conflict) as refused_nl:
            _amend(be_invoice, django_capture_on_commit_callbacks, vat_id=BE_VAT)
    assert "verwerkt" in refused_nl.value.message
    invoice = Invoice.objects.get(pk=be_invoice.pk)
    assert InvoiceRevision.objects.filter(invoice=invoice).count() == 1
    assert (invoice.tax_amount, invoice.total, invoice.amount_credited) == (
        Decimal("21.73"),
        Decimal("125.18"),
        Decimal("0.00"),
    )
    assert not Invoice.objects.filter(replaces=invoice).exists()


def test_vat_1_failed_card_payment_does_not_block_the_recompute(be_invoice, django_capture_on_commit_callbacks):
    Payment.objects.create(
        invoice=be_invoice,
        account=be_invoice.account,
        profile=be_invoice.profile,
        kind=PaymentKind.CARD,
        source=PaymentSource.AUTOMATIC,
        amount=be_invoice.total,
        currency="EUR",
        status=PaymentStatus.FAILED,
    )
    revision = _amend(be_invoice, django_capture_on_commit_callbacks, vat_id=BE_VAT)
    assert revision.reverse_charge
    assert Invoice.objects.get(pk=be_invoice.pk).total == Decimal("103.45")


def test_po_5_po_only_amendment_keeps_tax_and_amounts(be_invoice, django_capture_on_commit_callbacks):
    revision = _amend(be_invoice, django_capture_on_commit_callbacks, po_number="PO-2026-17")
    invoice = Invoice.objects.get(pk=be_invoice.pk)
    assert revision.po_number == "PO-2026-17" and revision.vat_id == ""
    assert revision.tax_rate == Decimal("21") and not revision.reverse_charge and revision.tax_note_code == ""
    assert list(invoice.lines.values_list("tax_amount", flat=True)) == [
        Decimal("0.22"),
        Decimal("0.53"),
        Decimal("20.98"),
    ]
    assert (invoice.tax_amount, invoice.total) == (Decimal("21.73"), Decimal("125.18"))


def test_po_5_po_only_amendment_allowed_on_a_paid_invoice(be_invoice, django_capture_on_commit_callbacks):
    services.invoice_record_payment(invoice=be_invoice, amount=be_invoice.total)
    revision = _amend(be_invoice, django_capture_on_commit_callbacks, po_number="PO-9")
    assert revision.number == 2 and revision.tax_rate == Decimal("21")
    assert Invoice.objects.get(pk=be_invoice.pk).total == Decimal("125.18")


def test_vat_1_vat_change_with_the_same_treatment_keeps_amounts_even_when_paid(
    add_charge, run_billing, django_capture_on_commit_callbacks
):
    account = make_account(country="NL", vat_id="NL853746333B01", payment_mode="invoice")
    add_charge(make_subscription(account), quantity="1", unit_price="2.50")  # VAT 0.525 -> 0.53
    run_billing()
    invoice = Invoice.objects.get(profile__account=account)
    services.invoice_record_payment(invoice=invoice, amount=invoice.total)
    revision = _amend(invoice, django_capture_on_commit_callbacks, vat_id="")  # Dutch customers pay 21 % anyway
    invoice.refresh_from_db()
    assert revision.vat_id == "" and revision.tax_rate == Decimal("21")
    assert (invoice.tax_amount, invoice.total) == (Decimal("0.53"), Decimal("3.03"))


def test_vat_1_earlier_revision_pdf_rendered_before_the_recompute(
    be_invoice, django_capture_on_commit_callbacks, monkeypatch
):
    first = be_invoice.current_revision
    InvoiceRevision.objects.filter(pk=first.pk).update(pdf="", pdf_rendered_at=None)  # the worker lost it
    calls = []
    real_render = services.invoice_revision_render_pdf

    def spy(*, revision_id):
        # When revision 1 is rendered, its invoice still has the issued figures.
        calls.append((revision_id, Invoice.objects.get(pk=be_invoice.pk).total))
        return real_render(revision_id=revision_id)

    monkeypatch.setattr(amendments, "invoice_revision_render_pdf", spy)
    _amend(be_invoice, django_capture_on_commit_callbacks, vat_id=BE_VAT)
    assert calls[0] == (first.pk, Decimal("125.18"))
    first.refresh_from_db()
    assert first.pdf and first.pdf_rendered_at
