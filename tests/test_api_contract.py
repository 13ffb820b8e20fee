"""Schemathesis against the whole OpenAPI schema, through the Django WSGI app, as
anonymous and as several demo personas (token authentication): no generated request
causes a 5xx, and every response (status, content type and body) is one the schema
documents.

Every other generated case has its path arguments replaced by ids of real demo objects
(tests/access_table.objects: Woodgrove's invoice, card, profile, ...; Northwind for the
enterprise PO periods; a pay-by-invoice request of Litware), so generated bodies and
queries also meet existing objects, not only 404s.

The demo data of every app is seeded once for the module inside an outer transaction
that is rolled back at the end; each test (one operation, one persona) runs in a
savepoint on top of it, so writes (Pay now in the sandbox, requests, PO numbers) are
undone after each operation and never leave the test database.
"""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.access_table import objects
from tests.factories import api_key_for

# (path prefix, objects key) for {id}; the first match wins.
REAL_IDS = [
    ("/api/v1/billing-accounts/{id}/po-periods/", "northwind"),
    ("/api/v1/billing-accounts/", "woodgrove"),
    ("/api/v1/billing-profiles/", "woodgrove_nl"),
    ("/api/v1/payment-methods/", "card"),
    ("/api/v1/card-setups/", "card_setup"),
    ("/api/v1/invoices/", "invoice"),
    ("/api/v1/credit-notes/", "credit_note"),
    ("/api/v1/refunds/", "missing"),
    ("/api/v1/payments/", "missing"),
    ("/api/v1/receipts/", "receipt"),
    ("/api/v1/amendment-requests/", "amendment"),
    ("/api/v1/support/amendment-requests/", "amendment"),
    ("/api/v1/support/pay-by-invoice-requests/", "pbi"),
    ("/api/v1/support/queue/pay-by-invoice/", "pbi"),
    ("/api/v1/tokens/", "token"),
]
OTHER_ARGS = {
    "subscription_id": "woodgrove_core",
    "period": "period",
    "revision": "revision",
    "user_id": "member",
    "invitation_id": "invitation",
}

PERSONAS = ["anonymous", "wd_admin", "ea_admin", "ca_owner", "ca_bp_reader", "support"]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
schema.app = get_wsgi_application()
# Generated (fuzzing) cases only: the coverage phase's hundreds of boundary cases per
# operation would take the run far beyond the CI budget.
schema.config.phases.coverage.enabled = False

FUZZ = settings(
    max_examples=10,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tokens(django_db_setup, django_db_blocker):
    """Seed the demo data once (rolled back after the module); a token per persona."""
    from accounts import demo as accounts_demo
    from invoices import demo as invoices_demo
    from payments import demo as payments_demo
    from purchase_orders import demo as po_demo
    from support import demo as support_demo

    # As django.test.Client does: a request must not close the test's connection (it is
    # inside the outer transaction, which close_old_connections sees as unusable).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            demo = accounts_demo.seed()
            payments_demo.seed(demo)
            invoices_demo.seed(demo)
            po_demo.seed(demo)
            support_demo.seed(demo)
            keys = {name: api_key_for(demo.users[name], name="Schema fuzz") for name in PERSONAS[1:]}
            yield keys, objects(demo)
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()  # throttle counters
    yield
    cache.clear()


@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
@schema.parametrize()
@FUZZ
def test_api_conforms_to_schema(case, persona, tokens):
    keys, objs = tokens
    if _real_objects(case):
        for name in case.path_parameters:
            key = OTHER_ARGS.get(name) or next(key for prefix, key in REAL_IDS if case.path.startswith(prefix))
            case.path_parameters[name] = objs[key]
    headers = {"Authorization": f"Token {keys[persona]}"} if persona != "anonymous" else {}
    case.call_and_validate(headers=headers, checks=CHECKS)


_seen = {}


def _real_objects(case) -> bool:
    """Every other case of an operation with path arguments."""
    if not case.path_parameters:
        return False
    key = (case.method, case.path)
    _seen[key] = _seen.get(key, 0) + 1
    return _seen[key] % 2 == 0
