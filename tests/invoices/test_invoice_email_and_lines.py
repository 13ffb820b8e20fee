"""The invoice-ready e-mail carries the invoice's PDF besides the link (INVOICE_EMAIL_ATTACH_PDF,
on by default, turns it off); the invoice's page and PDF print each subscription's lines
under a heading with the subscription's name and ID (two subscriptions with the same
services are told apart), and unit prices in one money format on both, in English and Dutch."""

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse

from invoices import pdf
from invoices.models import Invoice, InvoiceRevision
from tests.factories import UserFactory
from tests.invoices.helpers import customer_agreement, make_invoice

pytestmark = pytest.mark.django_db


def _ready_mails(number):
    return [m for m in mail.outbox if number in m.subject]


def test_invoice_ready_email_carries_the_pdf(demo, add_charge, run_billing):
    add_charge(demo.subscriptions["contoso_prod"])
    run_billing()
    invoice = Invoice.objects.get(profile=demo.profiles["contoso"])
    messages = _ready_mails(invoice.number)
    assert messages
    stored = InvoiceRevision.objects.get(pk=invoice.current_revision_id).pdf.read()
    for message in messages:
        ((name, content, mimetype),) = message.attachments
        assert (name, mimetype) == (f"{invoice.number}.pdf", "application/pdf")
        assert content == stored and content.startswith(b"%PDF")
        assert reverse("invoices:detail", args=[invoice.pk]) in message.body  # the link stays
        assert "The invoice's PDF is attached to this e-mail." in message.body
        assert "The invoice's PDF is attached to this e-mail." in message.alternatives[0][0]


def test_invoice_ready_email_without_the_pdf_when_turned_off(demo, add_charge, run_billing, settings):
    settings.INVOICE_EMAIL_ATTACH_PDF = False
    add_charge(demo.subscriptions["contoso_prod"])
    run_billing()
    invoice = Invoice.objects.get(profile=demo.profiles["contoso"])
    messages = _ready_mails(invoice.number)
    assert messages
    for message in messages:
        assert message.attachments == []
        assert reverse("invoices:detail", args=[invoice.pk]) in message.body
        assert "attached" not in message.body


def test_invoice_ready_email_attaches_a_pdf_the_worker_had_not_rendered(demo, add_charge, run_billing, monkeypatch):
    """The e-mail may go out before the PDF task ran: the PDF is rendered for it then."""
    from invoices import tasks

    monkeypatch.setattr(tasks.render_invoice_pdfs, "run", lambda *args, **kwargs: 0)
    add_charge(demo.subscriptions["fabrikam_main"])
    run_billing()
    invoice = Invoice.objects.get(profile=demo.profiles["fabrikam"])
    (message, *_rest) = _ready_mails(invoice.number)
    assert message.attachments[0][1].startswith(b"%PDF")
    assert InvoiceRevision.objects.get(pk=invoice.current_revision_id).pdf  # stored once, for later downloads


@pytest.fixture
def twins():
    """An invoice with two subscriptions of the same name and the same services."""
    owner, _reader, _account, (nl, _de), subs = customer_agreement()
    invoice = make_invoice(
        nl,
        "INV-2026-000777",
        period=dt.date(2026, 1, 1),
        subscriptions=[subs["prod"], subs["prod_twin"]],
        lines=[("Virtual Machines", "D2s v5 hours", "3", "0.0184"), ("Storage", "GB-month", "2", "10.00")],
    )
    return owner, invoice, subs


def test_detail_page_shows_the_subscription_of_each_line(twins, client_for):
    owner, invoice, subs = twins
    html = client_for(owner).get(reverse("invoices:detail", args=[invoice.pk])).content.decode()
    first, second = (str(subs[key].subscription_id) for key in ("prod", "prod_twin"))
    heading = '<tr class="line-group"><th scope="colgroup" colspan="5">Subscription: Production <span class="subscription-id">{}</span>'
    at_first, at_second = html.index(heading.format(first)), html.index(heading.format(second))
    assert at_first < at_second
    # Each heading is followed by that subscription's two lines.
    assert html[at_first:at_second].count("D2s v5 hours") == 1 and html[at_first:at_second].count("GB-month") == 1
    assert html[at_second:].count("D2s v5 hours") == 1
    # Unit prices in one format: the money format, every decimal that is not zero.
    assert html.count('<td class="num">€0.0184</td>') == 2 and html.count('<td class="num">€10.00</td>') == 2
    owner.language = "nl"
    owner.save(update_fields=["language"])
    html = client_for(owner).get(reverse("invoices:detail", args=[invoice.pk])).content.decode()
    assert "Abonnement: Production" in html and html.count("€\xa00,0184") == 2 and html.count("€\xa010,00") >= 2


def _document_text(revision) -> str:
    """The text of the laid-out PDF (what WeasyPrint draws; pypdf is not installed)."""
    document = pdf.render_document(pdf.invoice_html(revision))
    return "\n".join(
        "".join(box.text for box in page._page_box.descendants() if hasattr(box, "text")) for page in document.pages
    )


def test_pdf_shows_the_subscription_of_each_line(twins):
    _owner, invoice, subs = twins
    revision = invoice.current_revision
    revision.invoice = invoice
    text = _document_text(revision)
    first, second = (str(subs[key].subscription_id) for key in ("prod", "prod_twin"))
    at_first, at_second = (
        text.index(f"Subscription: Production {first}"),
        text.index(f"Subscription: Production {second}"),
    )
    assert at_first < at_second
    assert text[at_first:at_second].count("D2s v5 hours") == 1 and text[at_second:].count("D2s v5 hours") == 1
    assert text.count("€0.0184") == 2 and text.count("€10.00") == 2
    revision.language = "nl"
    text = _document_text(revision)
    assert f"Abonnement: Production {first}" in text and text.count("€\xa00,0184") == 2


def test_unit_price_format_is_the_money_format():
    from django.utils import translation

    from invoices.templatetags.invoice_tags import money, unit_price

    with translation.override("en"):
        assert unit_price("10.000000", "EUR") == money("10", "EUR") == "€10.00"
        assert unit_price("0.018400", "EUR") == "€0.0184" and unit_price("1234.5", "USD") == "US$1,234.50"
    with translation.override("nl"):
        assert unit_price("0.018400", "EUR") == "€\xa00,0184" and unit_price("2", "EUR") == money("2", "EUR")


def test_an_outsider_reads_no_invoice_lines(twins, client_for):
    _owner, invoice, _subs = twins
    assert client_for(UserFactory()).get(reverse("invoices:detail", args=[invoice.pk])).status_code == 404
