"""accounts migration 0004: DRF's authtoken tokens become the portal's API tokens. A
customer's key keeps working (stored as its SHA-256 now, expiring in 90 days); staff
tokens are not carried over (they may date from before two-factor sign-in); the table
that held the keys in plain text is dropped."""

import hashlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from rest_framework.test import APIClient

BEFORE = [("accounts", "0003_profile_payment_mode")]
AFTER = [("accounts", "0004_api_tokens")]
CUSTOMER_KEY = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"
STAFF_KEY = "0123456789abcdef0123456789abcdef01234567"


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


@pytest.fixture
def migrator():
    yield _migrate
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def _old_drf_table(rows):
    """The table of rest_framework.authtoken as its migrations left it."""
    with connection.schema_editor() as editor:
        editor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) NOT NULL PRIMARY KEY, "
            "created timestamp with time zone NOT NULL, user_id bigint NOT NULL UNIQUE)"
            if connection.vendor == "postgresql"
            else "CREATE TABLE authtoken_token (key varchar(40) NOT NULL PRIMARY KEY, "
            "created datetime NOT NULL, user_id bigint NOT NULL UNIQUE)"
        )
    with connection.cursor() as cursor:
        for key, user_id in rows:
            cursor.execute(
                "INSERT INTO authtoken_token (key, created, user_id) VALUES (%s, %s, %s)",
                [key, timezone.now(), user_id],
            )
        cursor.execute(
            "INSERT INTO django_migrations (app, name, applied) VALUES (%s, %s, %s)",
            ["authtoken", "0001_initial", timezone.now()],
        )


@pytest.mark.django_db(transaction=True)
def test_drf_tokens_of_customers_are_carried_over_as_hashes_and_the_old_table_goes(migrator):
    old_apps = migrator(BEFORE)
    User = old_apps.get_model("accounts", "User")
    customer = User.objects.create(email="customer@example.com", password="x")
    staff = User.objects.create(email="staff@example.com", password="x", is_staff=True)
    _old_drf_table([(CUSTOMER_KEY, customer.pk), (STAFF_KEY, staff.pk)])

    new_apps = migrator(AFTER)
    ApiToken = new_apps.get_model("accounts", "ApiToken")
    (carried,) = ApiToken.objects.all()
    assert carried.user_id == customer.pk and carried.origin == "carried_over"
    assert carried.key_hash == hashlib.sha256(CUSTOMER_KEY.encode()).hexdigest() and carried.prefix == "9944b091"
    assert 89 <= (carried.expires_at - timezone.now()).days <= 90
    assert "authtoken_token" not in connection.introspection.table_names()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM django_migrations WHERE app = 'authtoken'")
        assert cursor.fetchone()[0] == 0

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {CUSTOMER_KEY}")
    assert api.get("/api/v1/me/").json()["email"] == "customer@example.com"
    api.credentials(HTTP_AUTHORIZATION=f"Token {STAFF_KEY}")
    assert api.get("/api/v1/me/").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_a_new_database_without_drf_tokens_migrates_as_well(migrator):
    migrator(BEFORE)
    new_apps = migrator(AFTER)
    assert not new_apps.get_model("accounts", "ApiToken").objects.exists()
