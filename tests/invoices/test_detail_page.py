"""The invoice page: a fixed number of queries whatever the invoice holds (revisions and
credit notes are read only when there can be any), and everything still shown: lines,
revisions newest first, credit notes, the invoice that replaces a corrected one."""

import pytest
from django.urls import reverse

from accounts import services as account_services
from invoices import services
from invoices.models import Invoice
from tests.factories import UserFactory, make_account, make_subscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def owned(add_charge, run_billing):
    """Two invoices of one account admin: a card one and one paid by bank transfer."""
    owner = UserFactory(language="en")
    invoices = []
    for payment_mode in ("card", "invoice"):
        account = make_account(signed_up_by=owner, payment_mode=payment_mode, country="NL")
        account_services.role_assign(user=owner, role="account_admin", account=account)
        subscription = make_subscription(account, name="Production <1>")
        add_charge(subscription, quantity="3", unit_price="0.35")
        add_charge(subscription, quantity="1", unit_price="2.123456", marketplace=True, service="Mail")
        invoices.append(account)
    run_billing()
    return owner, [Invoice.objects.get(profile__account=account) for account in invoices]


def _page(client, invoice):
    return client.get(reverse("invoices:detail", args=[invoice.pk])).content.decode()


def test_detail_page_queries_fixed_for_a_plain_invoice(owned, client_for, django_assert_max_num_queries):
    owner, (card, _bank) = owned
    client = client_for(owner)
    # session, user, invoice, grants, receipts, lines: no revisions (only the current
    # one exists) and no credit notes (nothing credited) to read.
    with django_assert_max_num_queries(6):
        html = _page(client, card)
    assert "Production &lt;1&gt;" in html and "Mail" in html and 'class="badge">Marketplace' in html
    assert "€2.123456" in html or "2.123456" in html
    assert html.count(reverse("invoices:pdf", args=[card.pk, 1])) == 1
    assert 'class="badge">current' in html


def test_detail_page_shows_revisions_newest_first_and_credit_notes(
    owned, client_for, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    owner, (card, bank) = owned
    with django_capture_on_commit_callbacks(execute=True):
        services.invoice_amend(invoice=bank, actor=None, reason="Support request", po_number="PO-7")
        note = services.credit_note_issue(invoice=card, actor=None, reason="Outage", amount="1.00")
    client = client_for(owner)
    with django_assert_max_num_queries(7):  # the revisions are read: there are two
        html = _page(client, bank)
    second, first = reverse("invoices:pdf", args=[bank.pk, 2]), reverse("invoices:pdf", args=[bank.pk, 1])
    assert second in html and first in html and html.index(second) < html.index(first)
    assert "PO-7" in html and html.count('class="badge">current') == 1
    with django_assert_max_num_queries(7):  # the credit notes are read: something is credited
        html = _page(client, card)
    assert 'id="credit-notes"' in html and note.number in html


def test_corrected_invoice_page_names_the_invoice_that_replaces_it(
    owned, client_for, django_capture_on_commit_callbacks
):
    owner, (card, _bank) = owned
    services.invoice_record_payment(invoice=card, amount=card.total)
    with django_capture_on_commit_callbacks(execute=True):
        corrected = services.invoice_correct(invoice=card, actor=None, reason="VAT", vat_id="NL004495445B01")
    client = client_for(owner)
    html = _page(client, card)
    assert "Replaced by" in html and f'href="{reverse("invoices:detail", args=[corrected.pk])}"' in html
    assert corrected.number in html
    html = _page(client, corrected)
    assert "Replaces" in html and f'href="{reverse("invoices:detail", args=[card.pk])}"' in html
    assert "Replaced by" not in html
    detail = client.get(f"/api/v1/invoices/{card.pk}/").json()
    assert detail["replaced_by"] == corrected.pk
