"""Credit notes: full and partial (an amount split pro rata, or per line), VAT per line at
the invoice's rate, to the cent; the invoice's balance and status; over-credit refused
with nothing written; who may issue (support, at every door) and read (the invoice's
readers); the PDF; the gap-free CN number series (also under concurrency on PostgreSQL);
and the correction of a paid invoice whose VAT treatment changes."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connections
from django.urls import reverse
from django.utils import translation

from billing_portal.errors import Conflict, InvalidInput, NotAllowed
from invoices import pdf, services
from invoices.models import (
    CreditNote,
    CreditNoteLine,
    CreditNoteNumberSequence,
    Invoice,
    InvoiceLine,
    InvoiceRevision,
    InvoiceStatus,
)
from notifications.models import Notification
from tests.factories import make_account, make_subscription

pytestmark = pytest.mark.django_db

BE_VAT = "BE0403019261"
D = Decimal


def _bill(add_charge, run_billing, account):
    subscription = make_subscription(account)
    add_charge(subscription, quantity="3", unit_price="0.35")  # 1.05, VAT 0.2205 -> 0.22
    add_charge(subscription, quantity="1", unit_price="2.50")  # 2.50, VAT 0.525 -> 0.53 (half-up)
    add_charge(subscription, quantity="10", unit_price="9.99")  # 99.90, VAT 20.979 -> 20.98
    run_billing()
    return Invoice.objects.get(profile__account=account)


@pytest.fixture
def nl_invoice(add_charge, run_billing):
    """A Dutch customer's invoice, 21 % VAT per line: 103.45 + 21.73 = 125.18."""
    invoice = _bill(
        add_charge,
        run_billing,
        make_account(country="NL", payment_mode="invoice", language="nl", billing_contact_email="finance@nl.example"),
    )
    assert (invoice.subtotal, invoice.tax_amount, invoice.total) == (D("103.45"), D("21.73"), D("125.18"))
    return invoice


@pytest.fixture
def be_invoice(add_charge, run_billing):
    """A Belgian business customer without a VAT ID, billed with Belgian VAT (21 %)."""
    account = make_account(country="BE", vat_id="", payment_mode="invoice", billing_contact_email="ap@be.example")
    return _bill(add_charge, run_billing, account)


def _issue(invoice, capture, **kwargs):
    kwargs.setdefault("reason", "Service outage")
    with capture(execute=True):
        return services.credit_note_issue(invoice=invoice, actor=None, **kwargs)


def _lines(credit_note):
    return [(line.amount, line.tax_amount) for line in credit_note.lines.order_by("position")]


def test_full_credit_of_an_unpaid_invoice_voids_it(nl_invoice, django_capture_on_commit_callbacks):
    credit_note = _issue(nl_invoice, django_capture_on_commit_callbacks)
    assert credit_note.number == f"CN-{credit_note.issue_date.year}-000001"
    assert (credit_note.subtotal, credit_note.tax_amount, credit_note.total) == (D("103.45"), D("21.73"), D("125.18"))
    assert _lines(credit_note) == [(D("1.05"), D("0.22")), (D("2.50"), D("0.53")), (D("99.90"), D("20.98"))]
    invoice = Invoice.objects.get(pk=nl_invoice.pk)
    assert invoice.amount_credited == D("125.18") and invoice.amount_due == D("0.00")
    assert invoice.status == InvoiceStatus.VOID and not invoice.is_payable
    assert nl_invoice.status == InvoiceStatus.VOID  # the caller's object follows


def test_partial_amount_split_pro_rata_over_the_lines_to_the_cent(nl_invoice, django_capture_on_commit_callbacks):
    credit_note = _issue(nl_invoice, django_capture_on_commit_callbacks, amount="50.00")
    # 50.00 over 1.27 / 3.03 / 120.88 of gross: 0.51 / 1.21 / 48.28 (largest remainder),
    # each split at 21 %: net = gross / 1.21 half-up, VAT = gross - net.
    assert _lines(credit_note) == [(D("0.42"), D("0.09")), (D("1.00"), D("0.21")), (D("39.90"), D("8.38"))]
    assert (credit_note.subtotal, credit_note.tax_amount, credit_note.total) == (D("41.32"), D("8.68"), D("50.00"))
    invoice = Invoice.objects.get(pk=nl_invoice.pk)
    assert invoice.status == InvoiceStatus.DUE and invoice.amount_credited == D("50.00")
    assert invoice.amount_due == D("75.18")


def test_partial_credits_add_up_to_every_line(nl_invoice, django_capture_on_commit_callbacks):
    _issue(nl_invoice, django_capture_on_commit_callbacks, amount="33.33")
    _issue(nl_invoice, django_capture_on_commit_callbacks, lines=[{"position": 3, "amount": "10.00"}])
    last = _issue(nl_invoice, django_capture_on_commit_callbacks)  # the rest
    for line in InvoiceLine.objects.filter(invoice=nl_invoice):
        credited = CreditNoteLine.objects.filter(invoice_line=line)
        assert sum(c.amount for c in credited) == line.amount
        assert sum(c.tax_amount for c in credited) == line.tax_amount
    assert sum(c.total for c in CreditNote.objects.filter(invoice=nl_invoice)) == D("125.18")
    assert last.number.endswith("000003")
    assert Invoice.objects.get(pk=nl_invoice.pk).status == InvoiceStatus.VOID


def test_credit_by_lines_taxes_each_line_as_the_billing_run(nl_invoice, django_capture_on_commit_callbacks):
    credit_note = _issue(
        nl_invoice,
        django_capture_on_commit_callbacks,
        lines=[{"position": 3, "amount": "10.05"}, {"position": 2, "amount": "2.50"}],
    )
    # 10.05 x 21 % = 2.1105 -> 2.11 (half-up per line); line 2 credited to its end takes its VAT.
    assert _lines(credit_note) == [(D("10.05"), D("2.11")), (D("2.50"), D("0.53"))]
    assert credit_note.total == D("15.19")
    assert Invoice.objects.get(pk=nl_invoice.pk).amount_due == D("109.99")


def test_over_credit_refused_with_a_clear_error_and_nothing_written(nl_invoice, django_capture_on_commit_callbacks):
    with pytest.raises(InvalidInput) as refused:
        _issue(nl_invoice, django_capture_on_commit_callbacks, amount="125.19")
    assert refused.value.code == "over_credit" and "125.18" in refused.value.message
    assert not CreditNote.objects.exists() and not CreditNoteNumberSequence.objects.filter(last_number__gt=0).exists()
    _issue(nl_invoice, django_capture_on_commit_callbacks, amount="100.00")
    with pytest.raises(InvalidInput) as refused:
        _issue(nl_invoice, django_capture_on_commit_callbacks, amount="25.19")
    assert refused.value.code == "over_credit" and "25.18" in refused.value.message
    with pytest.raises(InvalidInput):
        _issue(nl_invoice, django_capture_on_commit_callbacks, lines=[{"position": 1, "amount": "1.06"}])
    with pytest.raises(InvalidInput):
        _issue(nl_invoice, django_capture_on_commit_callbacks, lines=[{"position": 9, "amount": "1.00"}])
    with pytest.raises(InvalidInput):
        _issue(nl_invoice, django_capture_on_commit_callbacks, amount="1.001")
    with pytest.raises(InvalidInput):
        _issue(nl_invoice, django_capture_on_commit_callbacks, amount="-1")
    with pytest.raises(InvalidInput):
        _issue(nl_invoice, django_capture_on_commit_callbacks, amount="1", lines=[{"position": 1, "amount": "1"}])
    assert CreditNote.objects.count() == 1
    invoice = Invoice.objects.get(pk=nl_invoice.pk)
    assert invoice.amount_credited == D("100.00") and invoice.amount_due == D("25.18")
    _issue(nl_invoice, django_capture_on_commit_callbacks)
    with pytest.raises(Conflict) as refused:  # void now
        _issue(nl_invoice, django_capture_on_commit_callbacks, amount="0.01")
    assert refused.value.code == "invoice_void"


def test_reason_required_and_card_number_refused(nl_invoice, django_capture_on_commit_callbacks):
    for reason in ("", "   ", "refund to 4242 4242 4242 4242"):
        with pytest.raises(InvalidInput) as refused:
            _issue(nl_invoice, django_capture_on_commit_callbacks, reason=reason)
        assert "reason" in refused.value.fields
        assert "4242" not in refused.value.message
    assert not CreditNote.objects.exists()


def test_credited_after_payment_settles_and_leaves_a_surplus(nl_invoice, django_capture_on_commit_callbacks):
    services.invoice_record_payment(invoice=nl_invoice, amount=D("25.00"))
    _issue(nl_invoice, django_capture_on_commit_callbacks, amount="100.18")
    invoice = Invoice.objects.get(pk=nl_invoice.pk)
    assert invoice.status == InvoiceStatus.PAID and invoice.paid_at  # credits + payments cover the total
    assert invoice.amount_due == D("0.00") and invoice.surplus == D("0.00")
    _issue(nl_invoice, django_capture_on_commit_callbacks)  # the remaining 25.00
    invoice.refresh_from_db()
    # Credited in full with something paid: settled, the payment is a surplus to refund.
    assert invoice.status == InvoiceStatus.PAID and invoice.surplus == D("25.00")
    services.invoice_record_refund(invoice=invoice, amount="25.00")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.VOID and invoice.amount_paid == D("0.00")


def test_customer_roles_may_not_issue_credit_notes(demo, nl_invoice, django_capture_on_commit_callbacks):
    for persona in ("ca_owner", "wd_admin", "ea_admin", "ca_invoice_manager"):
        with pytest.raises(NotAllowed):
            with django_capture_on_commit_callbacks(execute=True):
                services.credit_note_issue(invoice=nl_invoice, actor=demo.users[persona], reason="x")
    credit_note = services.credit_note_issue(invoice=nl_invoice, actor=demo.users["support"], reason="Goodwill")
    assert credit_note.created_by == demo.users["support"]


def test_repeat_with_the_same_key_returns_the_first_credit_note(nl_invoice, django_capture_on_commit_callbacks):
    first = _issue(nl_invoice, django_capture_on_commit_callbacks, amount="10.00", request_key="k1")
    again = _issue(nl_invoice, django_capture_on_commit_callbacks, amount="10.00", request_key="k1")
    assert again.pk == first.pk and CreditNote.objects.count() == 1
    with pytest.raises(services.CreditNoteKeyReused) as refused:
        _issue(nl_invoice, django_capture_on_commit_callbacks, amount="11.00", request_key="k1")
    assert refused.value.status_code == 422
    assert Invoice.objects.get(pk=nl_invoice.pk).amount_credited == D("10.00")


def test_number_series_per_year_without_gaps(nl_invoice, django_capture_on_commit_callbacks, clock):
    clock.set(dt.datetime(2026, 12, 31, 12))
    numbers = [_issue(nl_invoice, django_capture_on_commit_callbacks, amount="1.00").number for _ in range(2)]
    with pytest.raises(InvalidInput):  # a refused credit note takes no number
        _issue(nl_invoice, django_capture_on_commit_callbacks, amount="500.00")
    clock.set(dt.datetime(2027, 1, 1, 12))
    numbers.append(_issue(nl_invoice, django_capture_on_commit_callbacks, amount="1.00").number)
    assert numbers == ["CN-2026-000001", "CN-2026-000002", "CN-2027-000001"]


def test_pdf_renders_in_the_account_language_and_references_the_invoice(nl_invoice, django_capture_on_commit_callbacks):
    credit_note = _issue(nl_invoice, django_capture_on_commit_callbacks, amount="12.10", reason="Storing")
    credit_note.refresh_from_db()
    assert credit_note.pdf and credit_note.pdf_rendered_at  # rendered by the task on commit
    assert credit_note.pdf.open("rb").read().startswith(b"%PDF")
    html = pdf.credit_note_html(credit_note)
    assert nl_invoice.number in html and credit_note.number in html and "Storing" in html
    assert "Creditnota" in html and "Crediteert factuur" in html  # the account's language (nl)
    assert "€\xa012,10" in html
    assert services.credit_note_render_pdf(credit_note_id=credit_note.pk) is False  # once


def test_pdf_rendered_again_when_its_file_is_gone(demo, add_charge, run_billing, client_for):
    invoice = _woodgrove_invoice(demo, add_charge, run_billing)
    credit_note = services.credit_note_issue(invoice=invoice, actor=None, reason="x", amount="5.00")
    client = client_for(demo.users["ca_bp_reader"])
    url = reverse("invoices:credit_note_pdf", args=[credit_note.pk])
    response = client.get(url)  # not rendered yet (no on-commit here): rendered now
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")
    credit_note.refresh_from_db()
    credit_note.pdf.storage.delete(credit_note.pdf.name)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Disposition"].endswith(f'{credit_note.number}.pdf"')
    credit_note.refresh_from_db()
    assert credit_note.pdf.storage.exists(credit_note.pdf.name)


def test_sweeper_renders_credit_notes_left_without_pdf(nl_invoice, django_capture_on_commit_callbacks):
    credit_note = services.credit_note_issue(invoice=nl_invoice, actor=None, reason="x", amount="5.00")
    assert not credit_note.pdf
    assert services.sweep_unfinished_work(older_than=dt.timedelta(0))["pdfs"] >= 1
    credit_note.refresh_from_db()
    assert credit_note.pdf


def test_credit_note_e_mail_in_the_recipients_language(nl_invoice, django_capture_on_commit_callbacks):
    from django.core import mail

    mail.outbox.clear()
    credit_note = _issue(nl_invoice, django_capture_on_commit_callbacks, amount="25.18", reason="Storing")
    notes = Notification.objects.filter(kind="credit_note_issued", invoice=nl_invoice)
    assert notes.exists() and all(n.language == "nl" for n in notes)
    message = next(m for m in mail.outbox if credit_note.number in m.subject)
    assert "Creditnota" in message.subject and "€\xa025,18" in message.body and "€\xa0100,00" in message.body


# --- Pages, API and admin ---------------------------------------------------------------------


def _woodgrove_invoice(demo, add_charge, run_billing):
    add_charge(demo.subscriptions["woodgrove_core"], quantity="3", unit_price="12.50")  # 37.50 + 7.88
    run_billing()
    return Invoice.objects.get(profile=demo.profiles["woodgrove_nl"])


@pytest.fixture
def woodgrove(demo, add_charge, run_billing):
    return _woodgrove_invoice(demo, add_charge, run_billing)


def _api_issue(api, invoice, key="key-1", **body):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return api.post(f"/api/v1/invoices/{invoice.pk}/credit-notes/", body, format="json", **headers)


def test_api_support_issues_a_credit_note_and_a_repeat_replays_it(demo, woodgrove, api_for):
    support = api_for(demo.users["support"])
    response = _api_issue(support, woodgrove, amount="10.00", reason="Goodwill")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["number"].startswith("CN-") and body["total"] == "10.00" and body["invoice_number"] == woodgrove.number
    assert sum(D(line["amount"]) + D(line["tax_amount"]) for line in body["lines"]) == D("10.00")
    again = _api_issue(support, woodgrove, amount="10.00", reason="Goodwill")
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true" and again.json()["id"] == body["id"]
    other = _api_issue(support, woodgrove, amount="11.00", reason="Goodwill")
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    over = _api_issue(support, woodgrove, key="key-2", amount="999.00", reason="Too much")
    assert over.status_code == 400 and over.json()["code"] == "over_credit"
    assert _api_issue(support, woodgrove, key="", reason="x").status_code == 400
    assert CreditNote.objects.filter(invoice=woodgrove).count() == 1
    # Readers of the invoice see it in the invoice detail, the list, the detail and the PDF.
    reader = api_for(demo.users["ca_bp_reader"])
    detail = reader.get(f"/api/v1/invoices/{woodgrove.pk}/").json()
    assert detail["amount_credited"] == "10.00" and detail["amount_due"] == "35.38"
    assert [c["number"] for c in detail["credit_notes"]] == [body["number"]]
    listed = reader.get(f"/api/v1/invoices/{woodgrove.pk}/credit-notes/").json()
    assert [c["id"] for c in listed["results"]] == [body["id"]]
    assert reader.get(f"/api/v1/credit-notes/{body['id']}/").json()["lines"] == body["lines"]
    pdf_response = reader.get(f"/api/v1/credit-notes/{body['id']}/pdf/", HTTP_ACCEPT="application/pdf")
    assert pdf_response.status_code == 200 and pdf_response["Content-Type"] == "application/pdf"


def test_api_refuses_customers_other_tenants_and_anonymous(demo, woodgrove, api_for):
    for persona in ("ca_owner", "ca_ba_reader", "ca_bp_reader", "ca_invoice_manager"):
        response = _api_issue(api_for(demo.users[persona]), woodgrove, amount="1.00", reason="x")
        assert response.status_code == 403, persona
        assert response.json()["code"] == "credit_not_allowed"
    for persona in ("wd_admin", "ea_admin", "wd_individual"):
        assert _api_issue(api_for(demo.users[persona]), woodgrove, amount="1.00", reason="x").status_code == 404
    assert _api_issue(api_for(None), woodgrove, amount="1.00", reason="x").status_code == 401
    assert not CreditNote.objects.exists()
    credit_note = services.credit_note_issue(invoice=woodgrove, actor=None, reason="x", amount="1.00")
    for path in (f"/api/v1/credit-notes/{credit_note.pk}/", f"/api/v1/credit-notes/{credit_note.pk}/pdf/"):
        assert api_for(None).get(path).status_code == 401
        for persona in ("wd_admin", "ea_admin", "wd_individual", "support"):
            assert api_for(demo.users[persona]).get(path).status_code == 404, (persona, path)
        for persona in ("ca_owner", "ca_ba_reader", "ca_bp_reader", "ca_invoice_manager"):
            assert api_for(demo.users[persona]).get(path).status_code == 200, (persona, path)


def test_invoice_page_lists_credit_notes_and_pdf_follows_the_invoice_read_rule(demo, woodgrove, client_for):
    credit_note = services.credit_note_issue(invoice=woodgrove, actor=None, reason="Outage credit", amount="5.38")
    page = client_for(demo.users["ca_ba_reader"]).get(reverse("invoices:detail", args=[woodgrove.pk]))
    html = page.content.decode()
    assert credit_note.number in html and "Outage credit" in html and 'id="amount-credited"' in html
    assert "€40.00" in html  # the amount due: 45.38 - 5.38
    url = reverse("invoices:credit_note_pdf", args=[credit_note.pk])
    assert client_for(None).get(url).status_code == 302
    for persona in ("wd_admin", "ea_admin", "wd_individual", "support"):
        assert client_for(demo.users[persona]).get(url).status_code == 404, persona
    for persona in ("ca_owner", "ca_ba_reader", "ca_bp_reader", "ca_invoice_manager"):
        assert client_for(demo.users[persona]).get(url).status_code == 200, persona


def test_admin_support_issues_a_credit_note_once_per_form(demo, woodgrove, client_for):
    url = reverse("admin:invoices_invoice_credit", args=[woodgrove.pk])
    support = client_for(demo.users["support"])
    assert support.get(url).status_code == 200
    assert support.get(reverse("admin:invoices_invoice_change", args=[woodgrove.pk])).status_code == 200
    form = {"amount": "5.38", "reason": "Outage", "token": "t-1"}
    assert support.post(url, form).status_code == 302
    assert support.post(url, form).status_code == 302  # a double submission
    assert CreditNote.objects.filter(invoice=woodgrove).count() == 1
    refused = support.post(url, {"amount": "500", "reason": "Outage", "token": "t-2"})
    assert refused.status_code == 200 and "More than the invoice still has uncredited" in refused.content.decode()
    assert CreditNote.objects.filter(invoice=woodgrove).count() == 1
    credit_note = CreditNote.objects.get(invoice=woodgrove)
    download = support.get(reverse("admin:invoices_creditnote_pdf", args=[credit_note.pk]))
    assert download.status_code == 200
    for persona in ("ca_owner", "wd_individual"):  # not staff: the admin's sign-in
        assert client_for(demo.users[persona]).post(url, {**form, "token": "t-3"}).status_code == 302
    assert client_for(None).get(url).status_code == 302
    assert CreditNote.objects.filter(invoice=woodgrove).count() == 1


def test_admin_staff_without_support_role_refused(demo, woodgrove, client_for):
    from tests.factories import UserFactory

    staff = UserFactory(is_staff=True)
    client = client_for(staff)
    assert client.get(reverse("admin:invoices_invoice_credit", args=[woodgrove.pk])).status_code == 403
    assert client.get(reverse("admin:invoices_invoice_correct", args=[woodgrove.pk])).status_code == 403


# --- Correcting a paid invoice whose VAT treatment changes (VAT-1, PO-5) -------------------------


def _amend(invoice, capture, actor=None, **kwargs):
    with capture(execute=True):
        return services.invoice_amend(invoice=invoice, actor=actor, reason="Support request", **kwargs)


def test_vat_1_paid_invoice_credited_in_full_and_reissued_with_the_payment_carried_over(
    be_invoice, django_capture_on_commit_callbacks
):
    services.invoice_record_payment(invoice=be_invoice, amount=be_invoice.total)  # 125.18 paid
    revision = _amend(be_invoice, django_capture_on_commit_callbacks, vat_id="BE 0403.019.261")
    corrected = revision.invoice
    original = Invoice.objects.get(pk=be_invoice.pk)
    assert corrected.pk != original.pk and corrected.replaces_id == original.pk
    assert corrected.number.startswith("INV-") and corrected.number != original.number
    # The corrected invoice: reverse charge, 0 % per line, the legal note.
    assert revision.vat_id == BE_VAT and revision.reverse_charge and revision.tax_note_code == "reverse_charge"
    assert (corrected.subtotal, corrected.tax_amount, corrected.total) == (D("103.45"), D("0.00"), D("103.45"))
    assert list(corrected.lines.values_list("amount", "tax_amount")) == [
        (D("1.05"), D("0.00")),
        (D("2.50"), D("0.00")),
        (D("99.90"), D("0.00")),
    ]
    # The credit note credits the original in full and carries 103.45 of the 125.18 paid.
    credit_note = CreditNote.objects.get(invoice=original)
    assert credit_note.kind == "correction" and credit_note.total == D("125.18")
    assert credit_note.applied_to_id == corrected.pk and credit_note.amount_applied == D("103.45")
    corrected.refresh_from_db()
    assert corrected.amount_paid == D("103.45") and corrected.status == InvoiceStatus.PAID
    assert original.amount_credited == D("125.18") and original.amount_paid == D("21.73")
    assert original.surplus == D("21.73") and original.status == InvoiceStatus.PAID  # 21.73 to refund
    # The original keeps its revision and figures; both PDFs exist.
    assert InvoiceRevision.objects.filter(invoice=original).count() == 1 and original.total == D("125.18")
    credit_note.refresh_from_db()
    assert credit_note.pdf and InvoiceRevision.objects.get(invoice=corrected).pdf
    note = Notification.objects.filter(kind="invoice_corrected", invoice=corrected).first()
    assert note and note.context["original_number"] == original.number
    assert note.context["amount_applied"] == "103.45" and note.context["credit_note_number"] == credit_note.number


def test_vat_1_partly_paid_invoice_corrected_leaves_the_rest_due(be_invoice, django_capture_on_commit_callbacks):
    services.invoice_record_payment(invoice=be_invoice, amount=D("10.00"))
    corrected = _amend(be_invoice, django_capture_on_commit_callbacks, vat_id=BE_VAT).invoice
    corrected.refresh_from_db()
    original = Invoice.objects.get(pk=be_invoice.pk)
    assert original.status == InvoiceStatus.VOID and original.amount_paid == D("0.00")
    assert corrected.amount_paid == D("10.00") and corrected.amount_due == D("93.45")
    assert corrected.status == InvoiceStatus.DUE and corrected.is_payable
    assert corrected.due_date == corrected.issue_date + dt.timedelta(days=30)  # bank transfer terms


def test_vat_1_correction_after_a_partial_credit_note(be_invoice, django_capture_on_commit_callbacks):
    _issue(be_invoice, django_capture_on_commit_callbacks, lines=[{"position": 1, "amount": "1.05"}])  # 1.27
    corrected = _amend(be_invoice, django_capture_on_commit_callbacks, vat_id=BE_VAT).invoice
    assert list(corrected.lines.values_list("amount", flat=True)) == [D("2.50"), D("99.90")]
    assert corrected.total == D("102.40")
    original = Invoice.objects.get(pk=be_invoice.pk)
    assert original.amount_credited == D("125.18") and original.status == InvoiceStatus.VOID


def test_vat_1_correction_in_the_customers_language_and_only_once(
    add_charge, run_billing, django_capture_on_commit_callbacks
):
    from django.core import mail

    invoice = _bill(
        add_charge,
        run_billing,
        make_account(
            country="BE", vat_id="", payment_mode="invoice", language="nl", billing_contact_email="finance@be.example"
        ),
    )
    services.invoice_record_payment(invoice=invoice, amount=invoice.total)
    mail.outbox.clear()
    corrected = _amend(invoice, django_capture_on_commit_callbacks, vat_id=BE_VAT).invoice
    assert corrected.current_revision.tax_note_code == "reverse_charge"
    assert "Btw verlegd" in pdf.invoice_html(corrected.current_revision)
    message = next(m for m in mail.outbox if corrected.number in m.subject)
    assert "gecorrigeerd" in message.subject and "€\xa0103,45" in message.body
    with pytest.raises(Conflict) as refused:
        with django_capture_on_commit_callbacks(execute=True):
            services.invoice_correct(invoice=invoice, actor=None, reason="again", vat_id="")
    assert refused.value.code in ("invoice_corrected", "invoice_void")
    assert Invoice.objects.filter(replaces=invoice).count() == 1


def test_vat_1_correction_refused_to_customers_and_nothing_written(demo, be_invoice):
    services.invoice_record_payment(invoice=be_invoice, amount=be_invoice.total)
    with pytest.raises(NotAllowed):
        services.invoice_correct(invoice=be_invoice, actor=demo.users["ca_owner"], reason="x", vat_id=BE_VAT)
    assert not CreditNote.objects.exists() and Invoice.objects.count() == 1


def test_vat_1_correction_from_the_admin(demo, be_invoice, client_for, django_capture_on_commit_callbacks):
    services.invoice_record_payment(invoice=be_invoice, amount=be_invoice.total)
    url = reverse("admin:invoices_invoice_correct", args=[be_invoice.pk])
    support = client_for(demo.users["support"])
    assert support.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = support.post(url, {"vat_id": BE_VAT, "reason": "Valid VAT ID given"})
    corrected = Invoice.objects.get(replaces=be_invoice)
    assert response.status_code == 302 and response["Location"].endswith(f"/{corrected.pk}/change/")
    assert corrected.total == D("103.45") and corrected.status == InvoiceStatus.PAID
    with translation.override("nl"):
        again = support.post(url, {"vat_id": BE_VAT, "reason": "again"})
    assert again.status_code == 200 and Invoice.objects.filter(replaces=be_invoice).count() == 1


# --- Concurrency on PostgreSQL -------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_credit_note_numbers_gap_free_under_concurrent_issue(clock, monkeypatch):
    from invoices.services import credit_notes

    # No PDF task or e-mail from the threads: eager Celery tasks in several threads at once
    # would race on Celery's process-wide "join will block" flag.
    monkeypatch.setattr(credit_notes, "queue_credit_note_notifications", lambda credit_note: 0)
    monkeypatch.setattr(credit_notes.queue, "publish_on_commit", lambda *args, **kwargs: None)
    clock.set(dt.datetime(2026, 3, 1, 6))
    invoices = []
    for _ in range(6):
        account = make_account(payment_mode="invoice")
        subscription = make_subscription(account)
        invoice = Invoice.objects.create(
            number=f"T-{subscription.pk}",
            account=account,
            profile=subscription.profile,
            period=dt.date(2026, 1, 1),
            issue_date=dt.date(2026, 2, 1),
            due_date=dt.date(2026, 3, 3),
            currency="EUR",
            subtotal=D("100.00"),
            tax_amount=D("21.00"),
            total=D("121.00"),
        )
        invoice.current_revision = InvoiceRevision.objects.create(
            invoice=invoice, number=1, sold_to="x", bill_to="x", tax_rate=D("21")
        )
        invoice.save(update_fields=["current_revision"])
        InvoiceLine.objects.create(
            invoice=invoice,
            position=1,
            service_name="VM",
            meter="hours",
            quantity=D("1"),
            unit_price=D("100"),
            amount=D("100.00"),
            tax_amount=D("21.00"),
        )
        invoices.append(invoice)
    errors, barrier = [], threading.Barrier(6)

    def worker(invoice):
        try:
            barrier.wait()
            for index in range(5):
                # Every thread races for the year's sequence, and all six for the first invoice.
                services.credit_note_issue(
                    invoice=invoice, actor=None, reason="x", amount="1.21", request_key=f"{invoice.pk}:{index}"
                )
                services.credit_note_issue(invoice=invoices[0], actor=None, reason="x", amount="1.21")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(invoice,)) for invoice in invoices]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    numbers = sorted(int(n.rsplit("-", 1)[1]) for n in CreditNote.objects.values_list("number", flat=True))
    assert numbers == list(range(1, 61))  # 6 x 5 keyed + 30 on the first invoice, no gap, no duplicate
    assert CreditNoteNumberSequence.objects.get(year=2026).last_number == 60
    first = Invoice.objects.get(pk=invoices[0].pk)
    assert first.amount_credited == D("1.21") * 35 and first.amount_due == D("121.00") - D("42.35")
    for invoice in invoices[1:]:
        invoice.refresh_from_db()
        assert invoice.amount_credited == D("6.05")


def test_vat_1_support_queue_approval_of_a_vat_change_on_a_paid_invoice_corrects_it(
    demo, add_charge, run_billing, django_capture_on_commit_callbacks
):
    from accounts import services as account_services
    from accounts.roles import Role
    from purchase_orders import services as po_services
    from purchase_orders.models import AmendmentStatus
    from tests.factories import UserFactory

    admin = UserFactory(language="en")
    account = make_account(country="BE", vat_id="", signed_up_by=admin, billing_contact_email="ap@be.example")
    account_services.role_assign(user=admin, role=Role.ACCOUNT_ADMIN, account=account)
    invoice = _bill(add_charge, run_billing, account)
    services.invoice_record_payment(invoice=invoice, amount=invoice.total)
    request = po_services.amendment_request_create(
        invoice=invoice, actor=admin, message="We have a VAT ID now", vat_id=BE_VAT
    )
    with django_capture_on_commit_callbacks(execute=True):
        po_services.amendment_request_approve(request=request, actor=demo.users["support"])
    request.refresh_from_db()
    corrected = Invoice.objects.get(replaces=invoice)
    assert request.status == AmendmentStatus.APPROVED and request.revision.invoice_id == corrected.pk
    assert corrected.total == D("103.45") and corrected.current_revision.reverse_charge
    assert CreditNote.objects.get(invoice=invoice).applied_to_id == corrected.pk


def test_credit_notes_and_refunds_for_a_user_follow_the_invoice_read_rule(demo, woodgrove):
    from invoices import selectors
    from payments import selectors as payment_selectors

    credit_note = services.credit_note_issue(invoice=woodgrove, actor=None, reason="x", amount="1.00")
    assert list(selectors.credit_notes_for_user(demo.users["ca_bp_reader"])) == [credit_note]
    for persona in ("wd_admin", "support", "wd_individual"):
        assert list(selectors.credit_notes_for_user(demo.users[persona])) == []
    assert list(payment_selectors.refunds_for_user(demo.users["ca_owner"])) == []
