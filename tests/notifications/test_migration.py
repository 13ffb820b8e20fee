"""The Notification table moves from the invoices app to the notifications app without
losing a row (notifications migration 0001, invoices migration 0004)."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("invoices", "0003_invoice_list_order_index"), ("notifications", None)]
AFTER = [("invoices", "0004_move_notification_to_notifications"), ("notifications", "0001_initial")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state([t for t in targets if t[1] is not None]).apps


@pytest.fixture
def migrator():
    yield _migrate
    executor = MigrationExecutor(connection)
    _migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_notification_rows_survive_the_move_to_their_own_app(migrator):
    old_apps = migrator(BEFORE)
    OldNotification = old_apps.get_model("invoices", "Notification")
    BillingAccount = old_apps.get_model("accounts", "BillingAccount")
    account = BillingAccount.objects.create(name="Contoso", agreement_type="web_direct", currency="EUR")
    OldNotification.objects.create(
        kind="invoice_ready", dedupe_key="a", recipient="a@example.com", account=account, status="sent"
    )
    OldNotification.objects.create(kind="invoice_past_due", dedupe_key="b", recipient="b@example.com", context={"x": 1})
    ContentType = old_apps.get_model("contenttypes", "ContentType")
    ContentType.objects.get_or_create(app_label="invoices", model="notification")
    ids = set(OldNotification.objects.values_list("pk", flat=True))

    new_apps = migrator(AFTER)
    Notification = new_apps.get_model("notifications", "Notification")
    assert set(Notification.objects.values_list("pk", flat=True)) == ids
    first = Notification.objects.get(dedupe_key="a")
    assert (first.kind, first.recipient, first.status, first.account_id) == (
        "invoice_ready",
        "a@example.com",
        "sent",
        account.pk,
    )
    assert Notification.objects.get(dedupe_key="b").context == {"x": 1}
    assert Notification._meta.db_table == "notifications_notification"
    assert "notifications_notification" in connection.introspection.table_names()
    assert "invoices_notification" not in connection.introspection.table_names()
    ContentType = new_apps.get_model("contenttypes", "ContentType")
    assert ContentType.objects.filter(app_label="notifications", model="notification").exists()
    assert not ContentType.objects.filter(app_label="invoices", model="notification").exists()
    # A new row takes the next id (the sequence came along on PostgreSQL).
    new = Notification.objects.create(kind="x", dedupe_key="c", recipient="c@example.com")
    assert new.pk > max(ids)
