"""The payment history (``payments.history.payment_history``): the scope's payments only
(succeeded, failed, pending; card and bank transfer) and its refunds, newest first, as
typed rows, a page at a time, on the page and in the API."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from payments import history, services
from payments.models import Payment, PaymentSource

from .conftest import INSUFFICIENT, give_card, make_invoice

pytestmark = pytest.mark.django_db


def _card_payment(profile, total="10.00", card=None):
    profile.refresh_from_db()
    card = card or services.scope_active_card(profile)
    return services.invoice_pay(
        invoice=make_invoice(profile, total=total), payment_method=card, source=PaymentSource.AUTOMATIC
    )


@pytest.fixture
def world(cards, clock):
    """Woodgrove NL: a card payment, a declined one, a bank transfer, a pending one (older to
    newer); Woodgrove DE and Contoso one payment each."""
    clock.set(dt.datetime(2026, 3, 1, 9))
    nl, de = cards.profiles["woodgrove_nl"], cards.profiles["woodgrove_de"]
    paid = _card_payment(nl, total="99.95")
    clock.advance(hours=1)
    declined = _card_payment(
        nl, card=give_card(cards, nl, INSUFFICIENT, make_active=False, actor=cards.users["ca_owner"])
    )
    clock.advance(hours=1)
    transfer = services.payment_record_bank_transfer(
        invoice=make_invoice(nl, total="50.00"),
        amount="50.00",
        received_on=dt.date(2026, 2, 27),
        reference="WIRE-9",
        actor=cards.users["support"],
    )
    clock.advance(hours=1)
    pending = Payment.objects.create(
        invoice=make_invoice(nl),
        account=nl.account,
        profile=nl,
        kind="card",
        source="pay_now",
        amount=Decimal("7.00"),
        currency="EUR",
        created_at=clock.now(),
    )
    clock.advance(hours=1)
    other_profile = _card_payment(de, total="11.00")
    other_tenant = _card_payment(cards.profiles["contoso"], total="12.00")
    return {
        "paid": paid,
        "declined": declined,
        "transfer": transfer,
        "pending": pending,
        "de": other_profile,
        "contoso": other_tenant,
    }


def _rows(user, profile_id=None):
    return list(history.payment_history(history.history_scope(user, profile_id))[0:100])


def test_the_history_lists_the_scopes_payments_only_newest_first(cards, world):
    rows = _rows(cards.users["ca_bp_reader"])  # a reader of Woodgrove Nederland
    assert [(r.kind, r.id) for r in rows] == [
        ("payment", world[key].pk) for key in ("pending", "transfer", "declined", "paid")
    ]
    owner_rows = _rows(cards.users["ca_owner"])  # the whole billing account: NL and DE
    assert {r.id for r in owner_rows} == {world[k].pk for k in ("pending", "transfer", "declined", "paid", "de")}
    assert [r.id for r in _rows(cards.users["ca_owner"], cards.profiles["woodgrove_de"].pk)] == [world["de"].pk]
    assert [r.id for r in _rows(cards.users["wd_admin"])] == [world["contoso"].pk]
    assert _rows(cards.users["support"]) == []


def test_rows_are_typed_with_method_amount_status_and_receipt(cards, world):
    rows = {r.id: r for r in _rows(cards.users["ca_owner"])}
    paid = rows[world["paid"].pk]
    receipt = world["paid"].receipt
    assert isinstance(paid, history.HistoryRow)
    assert (paid.kind, paid.amount, paid.currency, paid.status) == ("payment", Decimal("99.95"), "EUR", "succeeded")
    assert paid.method == "Mastercard •••• 4444" and paid.invoice_number == world["paid"].invoice.number
    assert paid.document == receipt.number and paid.link == reverse("payments:receipt_pdf", args=[receipt.pk])
    assert (
        paid.api_link == f"/api/v1/receipts/{receipt.pk}/pdf/" and paid.scope == "Woodgrove Bank / Woodgrove Nederland"
    )
    declined = rows[world["declined"].pk]
    assert (declined.status, declined.document, declined.link) == ("failed", "", "")
    assert declined.method.endswith("9995")
    transfer = rows[world["transfer"].pk]
    assert (transfer.method, transfer.reference, transfer.document) == (
        "Bank transfer",
        "WIRE-9",
        world["transfer"].receipt.number,
    )
    assert rows[world["pending"].pk].status == "pending"


def test_refunds_are_rows_of_their_own_with_a_negative_amount(cards, world, clock):
    from payments.models import Refund

    paid = world["paid"]
    refund = Refund.objects.create(
        payment=paid,
        invoice=paid.invoice,
        account=paid.account,
        profile=paid.profile,
        amount=Decimal("9.95"),
        currency="EUR",
        reason="Goodwill",
        status="succeeded",
        gateway_key="refund-history-1",
        gateway_reference="re_1",
        created_at=clock.advance(hours=1),
        settled_at=clock.now(),
    )
    rows = _rows(cards.users["ca_bp_reader"])
    assert (rows[0].kind, rows[0].id, rows[0].amount, rows[0].status) == (
        "refund",
        refund.pk,
        Decimal("-9.95"),
        "succeeded",
    )
    assert rows[0].method == "Mastercard •••• 4444" and rows[0].invoice_id == paid.invoice_id
    assert (rows[0].reference, rows[0].document, rows[0].link) == ("re_1", "", "")
    assert [r.kind for r in rows[1:]] == ["payment"] * 4
    assert history.payment_history(history.history_scope(cards.users["ca_bp_reader"])).count() == 5
    assert history.payment_history(history.history_scope(cards.users["wd_admin"])).count() == 1


def test_credit_notes_that_return_no_money_are_rows_and_a_refunds_is_on_the_refund(
    cards, clock, django_capture_on_commit_callbacks
):
    from invoices import services as invoice_services

    from .test_refunds import _bill

    clock.set(dt.datetime(2026, 3, 1, 9))
    invoice = _bill(cards.subscriptions["contoso_prod"], django_capture_on_commit_callbacks)  # paid by card
    clock.advance(hours=1)
    note = invoice_services.credit_note_issue(invoice=invoice, actor=None, reason="Goodwill", amount="5.00")
    clock.advance(hours=1)
    backing = invoice_services.credit_note_issue(
        invoice=invoice, actor=None, reason="Back", amount="1.00", kind="refund"
    )
    rows = _rows(cards.users["wd_admin"])  # Contoso's
    assert (rows[0].kind, rows[0].id, rows[0].amount, rows[0].status) == (
        "credit_note",
        note.pk,
        Decimal("-5.00"),
        "issued",
    )
    assert rows[0].document == note.number and rows[0].link == reverse("invoices:credit_note_pdf", args=[note.pk])
    assert rows[0].invoice_id == invoice.pk and rows[0].method == "Goodwill"
    assert [r.kind for r in rows] == ["credit_note", "payment"] and backing.pk not in {r.id for r in rows}
    assert _rows(cards.users["ca_owner"]) == []  # another tenant sees none of them


def test_other_profiles_and_tenants_are_404_in_the_scope(cards, world):
    from django.http import Http404

    for user, profile in (
        (cards.users["ca_bp_owner"], cards.profiles["woodgrove_nl"]),  # a role on DE only
        (cards.users["wd_admin"], cards.profiles["woodgrove_nl"]),
        (cards.users["ca_owner"], "not-a-number"),
    ):
        with pytest.raises(Http404):
            history.history_scope(user, getattr(profile, "pk", profile))


def test_the_page_shows_the_rows_stacked_on_phones_with_receipt_links(cards, world, client_for):
    client = client_for(cards.users["ca_ba_reader"])  # English; the whole billing account
    html = client.get(reverse("payments:history")).content.decode()
    assert 'class="table table-stacked"' in html and 'data-label="Amount"' in html
    assert world["paid"].receipt.number in html and world["transfer"].receipt.number in html
    assert reverse("payments:receipt_pdf", args=[world["paid"].receipt.pk]) in html
    assert "Failed" in html and "Pending" in html and "WIRE-9" in html
    assert world["contoso"].invoice.number not in html
    assert 'id="id_profile"' in html  # two profiles: the scope can be narrowed
    narrowed = client.get(reverse("payments:history"), {"profile": cards.profiles["woodgrove_de"].pk}).content.decode()
    assert world["de"].invoice.number in narrowed and world["paid"].invoice.number not in narrowed


def test_the_page_in_dutch(cards, world, client_for):
    user = cards.users["ca_bp_reader"]  # Dutch
    html = client_for(user).get(reverse("payments:history")).content.decode()
    assert "Betalingsgeschiedenis" in html and 'data-label="Bedrag"' in html and "Bankoverschrijving" in html
    assert 'id="id_profile"' not in html  # one profile: nothing to choose


def test_the_page_is_paginated_newest_first(cards, client_for, clock):
    profile = cards.profiles["fabrikam"]
    invoice = make_invoice(profile, total="1000.00")
    for day in range(30):
        clock.set(dt.datetime(2026, 1, 1, 9) + dt.timedelta(days=day))
        services.payment_record_bank_transfer(
            invoice=invoice,
            amount="1.00",
            received_on=clock.now().date(),
            reference=f"W{day}",
            actor=cards.users["support"],
        )
    user = cards.users["wd_invoice_admin"]
    user.language = "en"
    user.save(update_fields=["language"])
    client = client_for(user)
    first = client.get(reverse("payments:history")).content.decode()
    assert first.count('class="history-payment"') == 25 and "W29" in first and "W4<" not in first
    assert "Page 1 of 2" in first and 'rel="next"' in first
    second = client.get(reverse("payments:history"), {"page": 2}).content.decode()
    assert second.count('class="history-payment"') == 5 and "W0<" in second
    assert client.get(reverse("payments:history"), {"page": "x"}).status_code == 200
    body = client_for(cards.users["wd_invoice_admin"]).get("/api/v1/payment-history/", {"page_size": 10, "page": 3})
    assert body.status_code == 200 and len(body.json()["results"]) == 10 and body.json()["next"] is None
    assert body.json()["results"][-1]["reference"] == "W0"


def test_the_page_costs_the_same_queries_for_one_row_or_twenty(cards, client_for, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    profile = cards.profiles["fabrikam"]
    invoice = make_invoice(profile, total="1000.00")
    client = client_for(cards.users["wd_invoice_admin"])
    counts = []
    for n in (1, 19):
        for i in range(n):
            services.payment_record_bank_transfer(
                invoice=invoice,
                amount="1.00",
                received_on=dt.date(2026, 1, 2),
                reference=f"R{i}",
                actor=cards.users["support"],
            )
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("payments:history")).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_api_history_rows_and_errors(cards, world, api_for):
    api = api_for(cards.users["ca_bp_reader"])
    body = api.get("/api/v1/payment-history/").json()
    assert len(body["results"]) == 4 and body["next"] is None
    first = body["results"][0]
    assert (first["kind"], first["id"], first["status"], first["document_url"]) == (
        "payment",
        world["pending"].pk,
        "pending",
        None,
    )
    paid = body["results"][-1]
    assert paid["amount"] == "99.95" and paid["document"] == world["paid"].receipt.number
    assert paid["document_url"].endswith(f"/api/v1/receipts/{world['paid'].receipt.pk}/pdf/")
    assert api.get("/api/v1/payment-history/", {"profile": ""}).status_code == 400
    assert api.get("/api/v1/payment-history/", {"page": 9}).status_code == 404


def test_navigation_and_the_invoice_list_link_the_history(cards, client_for):
    html = client_for(cards.users["ca_ba_reader"]).get(reverse("invoices:list")).content.decode()
    assert html.count(f'href="{reverse("payments:history")}"') == 2  # the navigation and the list
    assert 'id="payment-history-link"' in html
