"""The pieces other apps rely on: selectors, amend, PDF render, payments, notified_at."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.http import Http404

from billing_portal.errors import DomainError
from invoices import selectors, services
from invoices.models import Invoice, InvoiceRevision, InvoiceStatus
from notifications.models import Notification, NotificationStatus
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued(demo, add_charge, run_billing):
    for key in ("contoso_prod", "northwind_erp", "woodgrove_core", "woodgrove_berlin", "fabrikam_main"):
        add_charge(demo.subscriptions[key], quantity="3", unit_price="12.50")
    run_billing()
    return {inv.profile_id: inv for inv in Invoice.objects.all()}


def test_invoices_for_user_only_visible_scopes(demo, issued, django_assert_max_num_queries):
    reader = demo.users["ca_bp_reader"]  # Woodgrove Nederland only
    with django_assert_max_num_queries(3):  # grants, profiles, invoices
        numbers = {inv.profile_id for inv in selectors.invoices_for_user(reader)}
    assert numbers == {demo.profiles["woodgrove_nl"].pk}
    owner = demo.users["ca_owner"]
    assert {inv.profile_id for inv in selectors.invoices_for_user(owner)} == {
        demo.profiles["woodgrove_nl"].pk,
        demo.profiles["woodgrove_de"].pk,
    }
    assert list(selectors.invoices_for_user(UserFactory())) == []


def test_get_invoice_for_user_404_for_other_tenant_and_unknown(demo, issued):
    contoso_invoice = issued[demo.profiles["contoso"].pk]
    assert selectors.get_invoice_for_user(demo.users["wd_admin"], contoso_invoice.pk) == contoso_invoice
    with pytest.raises(Http404):
        selectors.get_invoice_for_user(demo.users["ca_owner"], contoso_invoice.pk)
    with pytest.raises(Http404):
        selectors.get_invoice_for_user(demo.users["wd_admin"], 999999)
    with pytest.raises(Http404):
        selectors.get_invoice_for_user(demo.users["wd_admin"], "abc")


def test_po_5_amend_creates_revision_and_keeps_earlier_pdf(demo, issued, django_capture_on_commit_callbacks):
    invoice = issued[demo.profiles["northwind"].pk]
    first = invoice.current_revision
    assert first.pdf  # rendered after issue
    first_pdf = first.pdf.name
    with django_capture_on_commit_callbacks(execute=True):
        revision = services.invoice_amend(
            invoice=invoice, actor=demo.users["support"], reason="Customer asked", po_number="PO-NEW-7"
        )
    invoice.refresh_from_db()
    assert revision.number == 2 and invoice.current_revision_id == revision.pk
    assert revision.po_number == "PO-NEW-7" and revision.vat_id == first.vat_id
    revision.refresh_from_db()
    assert revision.pdf and revision.pdf.name != first_pdf
    first.refresh_from_db()
    assert first.pdf.name == first_pdf and first.po_number == "87654321"
    assert InvoiceRevision.objects.filter(invoice=invoice).count() == 2


def test_po_5_amend_vat_validated_and_nothing_written_on_error(demo, issued):
    invoice = issued[demo.profiles["northwind"].pk]
    with pytest.raises(DomainError):
        services.invoice_amend(invoice=invoice, actor=None, reason="x", vat_id="NL123")
    with pytest.raises(DomainError):
        services.invoice_amend(invoice=invoice, actor=None, reason="", po_number="A")
    with pytest.raises(DomainError):
        services.invoice_amend(invoice=invoice, actor=None, reason="same", po_number="87654321")
    assert InvoiceRevision.objects.filter(invoice=invoice).count() == 1
    revision = services.invoice_amend(invoice=invoice, actor=None, reason="VAT", vat_id="NL 8537.46.333.B01")
    assert revision.vat_id == "NL853746333B01"


def test_pdf_rendered_once_and_is_a_pdf(demo, issued):
    invoice = issued[demo.profiles["contoso"].pk]
    revision = invoice.current_revision
    revision.refresh_from_db()
    assert revision.pdf and revision.pdf_rendered_at
    rendered_at = revision.pdf_rendered_at
    assert services.invoice_revision_render_pdf(revision_id=revision.pk) is False
    revision.refresh_from_db()
    assert revision.pdf_rendered_at == rendered_at
    data = revision.pdf.open("rb").read()
    assert data.startswith(b"%PDF")


def test_record_payment_partial_then_full(demo, issued, clock):
    invoice = issued[demo.profiles["contoso"].pk]
    assert invoice.total == Decimal("45.38")  # 37.50 + 21 % VAT 7.875 -> 7.88
    services.invoice_record_payment(invoice=invoice, amount=Decimal("20.00"))
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.DUE and invoice.amount_paid == Decimal("20.00")
    paid_at = clock.set(dt.datetime(2026, 2, 3, 10, 0))
    services.invoice_record_payment(invoice=invoice, amount="25.38")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID and invoice.paid_at == paid_at
    with pytest.raises(DomainError):
        services.invoice_record_payment(invoice=invoice, amount="1.00")


def test_record_payment_with_an_old_copy_is_decided_by_the_current_row(demo, issued, django_assert_num_queries):
    invoice = issued[demo.profiles["contoso"].pk]  # 45.38 due
    old_copy = Invoice.objects.get(pk=invoice.pk)
    with django_assert_num_queries(1):  # a current copy: one compare-and-set UPDATE
        services.invoice_record_payment(invoice=invoice, amount="40.00")
    # The old copy still says 45.38 due; the row says 5.38: the row decides.
    with pytest.raises(DomainError):
        services.invoice_record_payment(invoice=old_copy, amount="10.00")
    services.invoice_record_payment(invoice=old_copy, amount="5.38")
    assert (old_copy.status, old_copy.amount_paid) == (InvoiceStatus.PAID, Decimal("45.38"))
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid) == (InvoiceStatus.PAID, Decimal("45.38"))
    with pytest.raises(DomainError):
        services.invoice_record_payment(invoice=Invoice.objects.get(pk=invoice.pk), amount="0.01")


def test_record_payment_refuses_bad_amounts_and_void(demo, issued):
    invoice = issued[demo.profiles["contoso"].pk]
    for amount in ("0", "-1", "abc", "1000.00"):
        with pytest.raises(DomainError):
            services.invoice_record_payment(invoice=invoice, amount=amount)
    services.invoice_void(invoice=invoice, actor=None, reason="test")
    with pytest.raises(DomainError):
        services.invoice_record_payment(invoice=invoice, amount="1.00")
    invoice.refresh_from_db()
    assert invoice.amount_paid == 0


def test_record_payment_keeps_past_due(demo, issued):
    invoice = issued[demo.profiles["fabrikam"].pk]
    Invoice.objects.filter(pk=invoice.pk).update(status=InvoiceStatus.PAST_DUE)
    invoice.refresh_from_db()
    services.invoice_record_payment(invoice=invoice, amount="1.00")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAST_DUE


def test_po_7_notified_at_set_when_sent(demo, issued):
    invoice = issued[demo.profiles["northwind"].pk]
    invoice.refresh_from_db()
    sent = Notification.objects.filter(invoice=invoice, kind="invoice_ready", status=NotificationStatus.SENT)
    assert sent.exists()
    assert invoice.notified_at == min(n.sent_at for n in sent)
    recipients = {n.recipient for n in sent}
    assert recipients == {"procurement@northwind.example", "ea.admin@northwind.example"}
    assert any("INV-2026-" in m.subject for m in mail.outbox)


def test_notified_at_not_set_when_sending_fails(demo, add_charge, run_billing, monkeypatch):
    add_charge(demo.subscriptions["tailspin_games"])

    def fail(self, *args, **kwargs):
        raise ConnectionError("smtp down")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", fail)
    with pytest.raises(Exception, match="smtp down"):
        run_billing()
    invoice = Invoice.objects.get(profile=demo.profiles["tailspin"])
    assert invoice.notified_at is None
    notification = Notification.objects.filter(invoice=invoice).exclude(last_error="").get()
    assert notification.status == NotificationStatus.PENDING and "smtp down" in notification.last_error
