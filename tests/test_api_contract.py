"""Schemathesis against the whole OpenAPI schema, through the Django WSGI app, as
anonymous and as several demo personas (token authentication): no generated request
causes a 5xx, and every response (status, content type and body) is one the schema
documents.

The demo data of every app is seeded once for the module inside an outer transaction
that is rolled back at the end; each test (one operation, one persona) runs in a
savepoint on top of it, so writes (Pay now in the sandbox, requests, PO numbers) are
undone after each operation and never leave the test database.
"""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.db import transaction
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

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
    from rest_framework.authtoken.models import Token

    from accounts import demo as accounts_demo
    from invoices import demo as invoices_demo
    from payments import demo as payments_demo
    from purchase_orders import demo as po_demo
    from support import demo as support_demo

    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            demo = accounts_demo.seed()
            payments_demo.seed(demo)
            invoices_demo.seed(demo)
            po_demo.seed(demo)
            support_demo.seed(demo)
            keys = {name: Token.objects.get_or_create(user=demo.users[name])[0].key for name in PERSONAS[1:]}
            yield keys
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


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
    headers = {"Authorization": f"Token {tokens[persona]}"} if persona != "anonymous" else {}
    case.call_and_validate(headers=headers, checks=CHECKS)
