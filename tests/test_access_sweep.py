"""Access sweep: every URL pattern and every GET of the API schema, visited (GET only) as
anonymous, as each role that must be refused, and as users of other tenants, against the
expected outcomes in tests/access_table.py. A route without an entry fails: add it to the
table. Writes are covered by each app's own tests."""

import re

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from tests.access_sweep import PERSONAS, TENANT, fill, route_to_schema_path, url_patterns
from tests.access_table import ADMIN, ADMIN_PERSONAS, API, PAGES, seed_demo
from tests.factories import sign_in_with_verified_device


@pytest.fixture
def seeded(db):
    return seed_demo()


def _clients(demo):
    clients = {}
    for persona in PERSONAS:
        client = Client()
        if persona == "support":  # signed in with two factors, as staff must be
            sign_in_with_verified_device(client, demo.users[persona])
        elif persona != "anonymous":
            client.force_login(demo.users[persona])
        clients[persona] = client
    return clients


def _api_gets():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {path for path, operations in schema["paths"].items() if "get" in operations}, set(schema["paths"])


def test_every_route_has_an_entry():
    api_gets, api_paths = _api_gets()
    missing = []
    for name, route in url_patterns():
        if route.startswith("admin/"):
            continue
        if route.startswith("api/v1/"):
            path = route_to_schema_path(route)
            if path not in api_paths:
                missing.append(f"{name} ({route}): not in the API schema")
            elif path in api_gets and path not in API:
                missing.append(f"GET {path}")
            continue
        if name not in PAGES:
            missing.append(f"{name} ({route})")
    missing += [f"GET {path}" for path in api_gets - set(API)]
    assert not missing, "add it to tests/access_table.py: " + ", ".join(sorted(missing))


def test_table_never_lets_another_tenant_in():
    """Every object of a tenant answers 404 (or 403 for support's own pages) to the
    personas of other tenants, and pages redirect anonymous users to sign-in (API: 401)."""
    for key, entry in {**PAGES, **API}.items():
        expect = entry.expect
        public = ("payments:sandbox_card_entry", "payments:sandbox_authenticate", "payments:stripe_webhook")
        public += ("accounts:password_reset", "accounts:password_reset_sent", "accounts:password_reset_confirm")
        if key not in (
            "accounts:login",
            "accounts:invitation",
            *public,
            "healthz",
            "metrics",
            "favicon",
            "set_language",
            "accounts:logout",
        ):
            if not key.startswith(("api-", "/api/")):
                assert expect["anonymous"] == 302, f"{key}: anonymous must be sent to sign-in"
        if key.startswith("/api/"):
            assert expect["anonymous"] == 401, f"{key}: anonymous must get 401"
        for persona, status in expect.items():
            if entry.tenant and TENANT.get(persona) not in (None, entry.tenant):
                assert status in (403, 404), f"{key}: {persona} of another tenant expected {status}"


def test_access_sweep(seeded):
    demo, objs = seeded
    clients = _clients(demo)
    wrong = []

    def visit(key, url, expect):
        for persona in expect:
            status = clients[persona].get(url).status_code
            if status != expect[persona]:
                wrong.append(f"{key} {url} as {persona}: {status}, expected {expect[persona]}")

    for name, route in url_patterns():
        if route.startswith("api/v1/"):
            continue
        if route.startswith("admin/"):
            url = fill(route, dict.fromkeys(re.findall(r"<(?:\w+:)?(\w+)>", route), 1))
            visit(name, url, dict.fromkeys(ADMIN_PERSONAS, ADMIN.get(name, ADMIN["*"])))
            continue
        entry = PAGES[name]
        visit(name, fill(route, entry.path_args(objs)), entry.expect)
    for path, entry in API.items():
        visit(
            f"GET {path}",
            fill(path.lstrip("/").replace("{", "<").replace("}", ">"), entry.path_args(objs)),
            entry.expect,
        )
    assert not wrong, "\n".join(wrong)
