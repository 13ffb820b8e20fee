"""Billing run: totals and VAT to the cent, numbering, re-runs, snapshots, statuses."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command

from billing_portal.errors import DomainError
from invoices import pdf, services
from invoices.models import BillingRun, Invoice, InvoiceLine, InvoiceStatus, PaymentTerms
from invoices.services import billing_run
from notifications.models import Notification
from purchase_orders.models import PeriodPONumber
from tests.factories import make_account, make_subscription

pytestmark = pytest.mark.django_db

JAN = dt.date(2026, 1, 1)


def test_vat_nl_rounding_half_up_per_line(add_charge, run_billing):
    account = make_account(country="NL", vat_id="NL853746333B01")
    sub = make_subscription(account)
    # 3 x 0.35 = 1.05; VAT 21 % = 0.2205 -> 0.22
    add_charge(sub, quantity="3", unit_price="0.35")
    # 1 x 2.50; VAT = 0.525 -> 0.53 (half-up)
    add_charge(sub, quantity="1", unit_price="2.50")
    # 7 x 0.015 = 0.105 -> 0.11 (line rounded half-up); VAT 0.0231 -> 0.02
    add_charge(sub, quantity="7", unit_price="0.015")
    run_billing()
    invoice = Invoice.objects.get(profile__account=account)
    assert [line.amount for line in invoice.lines.all()] == [Decimal("1.05"), Decimal("2.50"), Decimal("0.11")]
    assert [line.tax_amount for line in invoice.lines.all()] == [Decimal("0.22"), Decimal("0.53"), Decimal("0.02")]
    assert invoice.subtotal == Decimal("3.66")
    assert invoice.tax_amount == Decimal("0.77")
    assert invoice.total == Decimal("4.43")
    revision = invoice.current_revision
    assert revision.tax_rate == Decimal("21") and not revision.reverse_charge and revision.tax_note_code == ""


def test_vat_reverse_charge_eu_business_with_valid_vat_id(add_charge, run_billing):
    account = make_account(country="BE", vat_id="BE0403019261", language="nl")
    add_charge(make_subscription(account), quantity="10", unit_price="9.99")
    run_billing()
    invoice = Invoice.objects.get(profile__account=account)
    assert (invoice.subtotal, invoice.tax_amount, invoice.total) == (
        Decimal("99.90"),
        Decimal("0.00"),
        Decimal("99.90"),
    )
    revision = invoice.current_revision
    assert revision.reverse_charge and revision.tax_rate == 0
    assert revision.tax_note_code == "reverse_charge"
    printed = pdf.invoice_html(revision)
    assert "2006/112" in printed and "Btw verlegd" in printed  # the PDF in the account's language (Dutch)


def test_vat_eu_without_valid_vat_id_uses_customer_country_rate(add_charge, run_billing):
    account = make_account(country="DE", vat_id="", kind="individual")
    add_charge(make_subscription(account), quantity="1", unit_price="10.05")
    run_billing()
    invoice = Invoice.objects.get(profile__account=account)
    # 19 % of 10.05 = 1.9095 -> 1.91
    assert (invoice.tax_amount, invoice.total) == (Decimal("1.91"), Decimal("11.96"))
    assert not invoice.current_revision.reverse_charge


def test_vat_outside_eu_zero_with_note(add_charge, run_billing):
    account = make_account(country="US", currency="USD", vat_id="")
    add_charge(make_subscription(account), quantity="2", unit_price="5.125", currency="USD")
    run_billing()
    invoice = Invoice.objects.get(profile__account=account)
    # 2 x 5.125 = 10.25
    assert (invoice.subtotal, invoice.tax_amount, invoice.total, invoice.currency) == (
        Decimal("10.25"),
        Decimal("0.00"),
        Decimal("10.25"),
        "USD",
    )
    assert invoice.current_revision.tax_note_code == "outside_eu"
    assert "outside the European Union" in pdf.invoice_html(invoice.current_revision)


def test_due_dates_card_at_issue_bank_transfer_30_days(demo, add_charge, run_billing):
    for key in ("contoso_prod", "fabrikam_main", "northwind_erp"):
        add_charge(demo.subscriptions[key])
    run_billing(today=dt.datetime(2026, 2, 2, 8, 0))
    contoso = Invoice.objects.get(profile=demo.profiles["contoso"])
    assert contoso.payment_terms == PaymentTerms.CARD and contoso.due_date == contoso.issue_date == dt.date(2026, 2, 2)
    for key in ("fabrikam", "northwind"):
        invoice = Invoice.objects.get(profile=demo.profiles[key])
        assert invoice.payment_terms == PaymentTerms.BANK_TRANSFER
        assert invoice.due_date == dt.date(2026, 3, 4)
        assert (
            invoice.payment_reference.startswith("RF")
            and invoice.number.replace("INV-", "").replace("-", "") in invoice.payment_reference
        )


def test_numbers_sequential_per_year_and_rerun_creates_nothing(demo, add_charge, run_billing, clock):
    for sub in demo.subscriptions.values():
        add_charge(sub)
    run = run_billing()
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == [f"INV-2026-{n:06d}" for n in range(1, 8)]  # 7 billing scopes
    assert run.status == "running"  # as returned before the chunks ran
    run.refresh_from_db()
    assert (run.status, run.invoices_created, run.done_chunks, run.total_chunks) == ("finished", 7, 1, 1)
    lines, outbox = InvoiceLine.objects.count(), len(mail.outbox)
    run_billing()
    run_billing()
    assert Invoice.objects.count() == 7 and InvoiceLine.objects.count() == lines and len(mail.outbox) == outbox
    # A new scope's charge after the run: a re-run invoices only that scope, next number.
    late = make_subscription(make_account())
    add_charge(late)
    run_billing()
    assert Invoice.objects.get(profile=late.profile).number == "INV-2026-000008"
    assert Invoice.objects.count() == 8


def test_chunked_run_and_reprocessing_a_chunk_is_a_no_op(add_charge, clock, django_capture_on_commit_callbacks):
    subs = [make_subscription(make_account()) for _ in range(5)]
    for sub in subs:
        add_charge(sub)
    clock.set(dt.datetime(2026, 2, 1, 6))
    run = services.billing_run_start(period=JAN, chunk_size=2, enqueue=False)
    assert run.total_chunks == 3 and run.total_scopes == 5
    chunk_ids = list(run.chunks.values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=False):
        for chunk_id in chunk_ids:
            services.billing_chunk_process(chunk_id=chunk_id)
        assert services.billing_chunk_process(chunk_id=chunk_ids[0]) == 0
    run.refresh_from_db()
    assert (run.done_chunks, run.invoices_created, run.status) == (3, 5, "finished")
    assert Invoice.objects.count() == 5


def _scopes_with_two_charges(add_charge, count: int) -> None:
    for _ in range(count):
        sub = make_subscription(make_account())
        add_charge(sub)
        add_charge(sub, service="Storage")


def test_chunk_queries_constant(add_charge, clock, django_assert_max_num_queries, django_capture_on_commit_callbacks):
    clock.set(dt.datetime(2026, 2, 1, 6))
    _scopes_with_two_charges(add_charge, 12)
    run = services.billing_run_start(period=JAN, chunk_size=3, enqueue=False)
    small, *rest = list(run.chunks.order_by("index").values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=False), django_assert_max_num_queries(20) as small_ctx:
        services.billing_chunk_process(chunk_id=small)
    run2 = services.billing_run_start(period=JAN, chunk_size=9, enqueue=False)
    assert run2.pk == run.pk
    # A bigger chunk (9 scopes, 18 lines) issues with the same number of queries.
    from invoices.models import BillingRunChunk

    BillingRunChunk.objects.filter(pk__in=rest).delete()
    run.total_chunks = 1
    run.save()
    big = services.billing_run_start(period=JAN, chunk_size=9, enqueue=False).chunks.filter(done=False).get()
    with django_capture_on_commit_callbacks(execute=False), django_assert_max_num_queries(len(small_ctx)) as big_ctx:
        services.billing_chunk_process(chunk_id=big.pk)
    assert len(big.profile_ids) == 9
    assert len(big_ctx) == len(small_ctx)


def test_a_chunk_with_a_scope_invoiced_meanwhile_issues_the_others_and_numbers_stay_gap_free(
    add_charge, clock, django_capture_on_commit_callbacks
):
    from invoices.models import InvoiceRevision

    clock.set(dt.datetime(2026, 2, 1, 6))
    _scopes_with_two_charges(add_charge, 3)
    run = services.billing_run_start(period=JAN, chunk_size=2, enqueue=False)
    first, second = run.chunks.order_by("index")
    # The second chunk also holds a scope the first one invoiced: it is skipped.
    second.profile_ids = [*second.profile_ids, first.profile_ids[0]]
    second.save()
    with django_capture_on_commit_callbacks(execute=False):
        assert services.billing_chunk_process(chunk_id=first.pk) == 2
        assert services.billing_chunk_process(chunk_id=second.pk) == 1
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == [f"INV-2026-{n:06d}" for n in range(1, 4)]
    assert (InvoiceRevision.objects.count(), InvoiceLine.objects.count()) == (3, 6)
    assert all(invoice.lines.count() == 2 for invoice in Invoice.objects.all())
    run.refresh_from_db()
    assert (run.status, run.invoices_created) == ("finished", 3)


def test_issued_rows_hold_every_drafted_value_exactly(demo, add_charge, clock, django_capture_on_commit_callbacks):
    """The bulk writes (COPY on PostgreSQL) keep quotes, tabs, backslashes and line breaks
    of the printed addresses, decimals, booleans, NULLs and times as drafted."""
    from django.utils import translation

    from accounts.models import BillingAccount
    from invoices.models import InvoiceRevision

    BillingAccount.objects.filter(pk=demo.accounts["fabrikam"].pk).update(
        company_name='Fabrikam "Noord"\tB.V. \\ Co', address_line2="Postbus 1\r\nAfdeling ,Crediteuren"
    )
    add_charge(demo.subscriptions["fabrikam_main"], quantity="3.123456", unit_price="0.333333")
    add_charge(demo.subscriptions["contoso_prod"], quantity="1", unit_price="-2.50")
    clock.set(dt.datetime(2026, 2, 1, 6, 30, 15, 123456, tzinfo=dt.UTC))
    run = services.billing_run_start(period=JAN, enqueue=False)
    with django_capture_on_commit_callbacks(execute=False):
        services.billing_chunk_process(chunk_id=run.chunks.get().pk)
    for key in ("fabrikam", "contoso"):
        profile = demo.profiles[key]
        profile.refresh_from_db()
        invoice = Invoice.objects.get(profile=profile)
        revision = InvoiceRevision.objects.get(invoice=invoice)
        with translation.override(profile.account.language):
            assert (revision.sold_to, revision.bill_to) == services.address_lines(profile)
        assert invoice.current_revision_id == revision.pk and invoice.billing_run_id == run.pk
        assert (invoice.replaces_id, invoice.notified_at, invoice.paid_at) == (None, None, None)
        assert invoice.created_at == revision.created_at == clock.now()
        assert (revision.pdf.name, revision.pdf_rendered_at, revision.created_by_id, revision.reason) == (
            "",
            None,
            None,
            "",
        )
        line = invoice.lines.get()
        assert line.subscription_id is not None and line.is_marketplace is False
    fabrikam = Invoice.objects.get(profile=demo.profiles["fabrikam"])
    assert 'Fabrikam "Noord"\tB.V. \\ Co' in fabrikam.current_revision.sold_to
    assert fabrikam.current_revision.reverse_charge is True and fabrikam.current_revision.tax_note_code
    line = fabrikam.lines.get()
    assert (line.quantity, line.unit_price, line.amount) == (Decimal("3.123456"), Decimal("0.333333"), Decimal("1.04"))
    assert Invoice.objects.get(profile=demo.profiles["contoso"]).subtotal == Decimal("-2.50")


def test_po_8_snapshot_does_not_move_after_account_changes(demo, add_charge, run_billing):
    from purchase_orders.services import vat_number_set

    add_charge(demo.subscriptions["fabrikam_main"])
    add_charge(demo.subscriptions["northwind_erp"])
    PeriodPONumber.objects.create(profile=demo.profiles["northwind"], period=JAN, po_number="NW-JAN")
    run_billing()
    fabrikam = Invoice.objects.get(profile=demo.profiles["fabrikam"])
    northwind = Invoice.objects.get(profile=demo.profiles["northwind"])
    assert fabrikam.current_revision.po_number == "PO-FAB-2026-001"
    assert fabrikam.current_revision.vat_id == "BE0403019261"
    assert northwind.current_revision.po_number == "NW-JAN"
    # Later changes on the account do not touch the issued invoice.
    account = demo.accounts["fabrikam"]
    vat_number_set(account=account, vat_id="BE0202239951", actor=demo.users["wd_invoice_admin"])
    profile = demo.profiles["fabrikam"]
    profile.po_number = "PO-CHANGED"
    profile.save()
    account.refresh_from_db()
    account.address_line1 = "Nieuwe straat 1"
    account.save()
    PeriodPONumber.objects.filter(profile=demo.profiles["northwind"]).update(po_number="NW-LATER")
    run_billing()
    fabrikam.refresh_from_db()
    revision = fabrikam.current_revision
    revision.refresh_from_db()
    assert (revision.po_number, revision.vat_id) == ("PO-FAB-2026-001", "BE0403019261")
    assert "Rue de la Loi 16" in revision.sold_to
    assert fabrikam.revisions.count() == 1
    northwind.current_revision.refresh_from_db()
    assert northwind.current_revision.po_number == "NW-JAN"


def test_po_6_enterprise_default_po_is_enrollment_number(demo, add_charge, run_billing):
    add_charge(demo.subscriptions["tailspin_games"])
    run_billing()
    assert Invoice.objects.get(profile=demo.profiles["tailspin"]).current_revision.po_number == "12345678"


def test_run_refuses_open_period(clock):
    clock.set(dt.datetime(2026, 1, 20, 12))
    with pytest.raises(DomainError):
        services.billing_run_start(period=JAN)
    assert not BillingRun.objects.exists()


def test_past_due_transition_and_notification_once(
    demo, add_charge, run_billing, clock, django_capture_on_commit_callbacks
):
    add_charge(demo.subscriptions["contoso_prod"])  # card: due at issue
    add_charge(demo.subscriptions["fabrikam_main"])  # bank transfer: 30 days
    run_billing(today=dt.datetime(2026, 2, 1, 6))
    clock.set(dt.datetime(2026, 2, 1, 23))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.invoices_mark_past_due() == 0
    clock.set(dt.datetime(2026, 2, 2, 3, 30))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.invoices_mark_past_due() == 1
    contoso = Invoice.objects.get(profile=demo.profiles["contoso"])
    assert contoso.status == InvoiceStatus.PAST_DUE
    assert Invoice.objects.get(profile=demo.profiles["fabrikam"]).status == InvoiceStatus.DUE
    past_due = Notification.objects.filter(kind="invoice_past_due", invoice=contoso)
    assert {n.recipient for n in past_due} == {"finance@contoso.example", "wd.admin@contoso.example"}
    assert len(mail.outbox) == 2 and all(contoso.number in m.subject for m in mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.invoices_mark_past_due() == 0
    assert len(mail.outbox) == 2
    # Paid invoices are never moved.
    clock.set(dt.datetime(2026, 3, 10, 3, 30))
    services.invoice_record_payment(invoice=Invoice.objects.get(profile=demo.profiles["fabrikam"]), amount="10.00")
    assert services.invoices_mark_past_due() == 0


def test_each_invoice_notification_sent_once_in_recipient_language(
    demo, add_charge, run_billing, django_capture_on_commit_callbacks
):
    add_charge(demo.subscriptions["woodgrove_core"])
    run_billing()
    invoice = Invoice.objects.get(profile=demo.profiles["woodgrove_nl"])
    sent = {m.to[0]: m for m in mail.outbox}
    # billing contact, billing account owner, invoice manager of Woodgrove Nederland; not readers/contributors
    assert set(sent) == {"finance@woodgrove.example", "ca.owner@woodgrove.example", "ca.invoices@woodgrove.example"}
    assert "is klaar" in sent["ca.owner@woodgrove.example"].subject  # Dutch user
    assert "is ready" in sent["ca.invoices@woodgrove.example"].subject  # English user
    html = sent["ca.invoices@woodgrove.example"].alternatives[0][0]
    assert f"/invoices/{invoice.pk}/" in html
    count = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        services.invoices_notify_ready(invoice_ids=[invoice.pk])
        billing_run._after_issue([invoice.pk])
    assert len(mail.outbox) == count


def test_sweeper_requeues_lost_work(demo, add_charge, clock, django_capture_on_commit_callbacks, settings):
    add_charge(demo.subscriptions["contoso_prod"])
    clock.set(dt.datetime(2026, 2, 1, 6))
    # The chunk messages are "lost": start without enqueueing, and drop after-issue work.
    with django_capture_on_commit_callbacks(execute=False):
        run = services.billing_run_start(period=JAN, enqueue=False)
    assert not Invoice.objects.exists()
    clock.advance(minutes=11)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = services.sweep_unfinished_work()
    assert result["chunks"] == 1
    invoice = Invoice.objects.get()
    assert not invoice.current_revision.pdf and invoice.notified_at is None
    assert callbacks  # after-issue work was queued but is dropped here (a lost message)
    clock.advance(minutes=11)
    with django_capture_on_commit_callbacks(execute=True):
        result = services.sweep_unfinished_work()
    assert result == {"chunks": 0, "pdfs": 1, "invoice_notifications": 1, "notifications": 0}
    invoice.refresh_from_db()
    invoice.current_revision.refresh_from_db()
    assert invoice.current_revision.pdf and invoice.notified_at is not None
    run.refresh_from_db()
    assert run.status == "finished"
    clock.advance(minutes=11)
    assert services.sweep_unfinished_work() == {"chunks": 0, "pdfs": 0, "invoice_notifications": 0, "notifications": 0}


def test_beat_starts_previous_month_once(demo, add_charge, clock, django_capture_on_commit_callbacks):
    add_charge(demo.subscriptions["contoso_prod"], period=dt.date(2026, 3, 1))
    clock.set(dt.datetime(2026, 4, 1, 0, 15))
    with django_capture_on_commit_callbacks(execute=True):
        from invoices.tasks import billing_start_closed_periods

        assert billing_start_closed_periods() is not None
        assert billing_start_closed_periods() is None
    assert Invoice.objects.filter(period=dt.date(2026, 3, 1)).count() == 1


def test_run_billing_command(demo, add_charge, clock, capsys):
    add_charge(demo.subscriptions["contoso_prod"])
    add_charge(demo.subscriptions["fabrikam_main"])
    clock.set(dt.datetime(2026, 2, 1, 6))
    call_command("run_billing", "--period", "2026-01", "--chunk-size", "1")
    out = capsys.readouterr()
    assert "2 invoices for 2 billing scopes (2/2 chunks)" in out.out
    assert Invoice.objects.count() == 2
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("run_billing", "--period", "2026-13")


@pytest.mark.parametrize("language", ["en", "nl"])
def test_po_8_printed_addresses_match_the_account_model(demo, language):
    from django.utils import translation

    with translation.override(language):
        for profile in demo.profiles.values():
            profile.refresh_from_db()
            sold_to, bill_to = services.address_lines(profile)
            assert sold_to == "\n".join(profile.account.sold_to_lines)
            assert bill_to == "\n".join(profile.bill_to_lines)
