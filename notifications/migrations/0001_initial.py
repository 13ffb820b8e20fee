"""The Notification model moves here from the invoices app, keeping every row.

The table ``invoices_notification`` is taken over as it is (state only), then renamed to
``notifications_notification`` with its index; the invoices app's migration 0004 drops
the model from its own state without touching the table. The content type follows, so
admin history and permissions stay attached.
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


def move_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="notifications", model="notification").exists():
        ContentType.objects.filter(app_label="invoices", model="notification").update(app_label="notifications")


def move_content_type_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="invoices", model="notification").exists():
        ContentType.objects.filter(app_label="notifications", model="notification").update(app_label="invoices")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("accounts", "0002_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("invoices", "0003_invoice_list_order_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Notification",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("kind", models.CharField(max_length=64, verbose_name="kind")),
                        ("dedupe_key", models.CharField(max_length=200, unique=True, verbose_name="de-duplication key")),
                        ("recipient", models.EmailField(max_length=254, verbose_name="recipient")),
                        (
                            "language",
                            models.CharField(
                                choices=[("en", "English"), ("nl", "Dutch")], default="en", max_length=8, verbose_name="language"
                            ),
                        ),
                        ("context", models.JSONField(default=dict, verbose_name="context")),
                        (
                            "status",
                            models.CharField(
                                choices=[("pending", "Pending"), ("sent", "Sent"), ("failed", "Failed")],
                                default="pending",
                                max_length=16,
                                verbose_name="status",
                            ),
                        ),
                        ("attempts", models.PositiveSmallIntegerField(default=0, verbose_name="attempts")),
                        ("last_error", models.TextField(blank=True, verbose_name="last error")),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="created")),
                        ("sent_at", models.DateTimeField(blank=True, null=True, verbose_name="sent")),
                        (
                            "account",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="notifications",
                                to="accounts.billingaccount",
                            ),
                        ),
                        (
                            "invoice",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="notifications",
                                to="invoices.invoice",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "notification",
                        "verbose_name_plural": "notifications",
                        "ordering": ["-created_at"],
                        "db_table": "invoices_notification",
                        "indexes": [
                            models.Index(fields=["status", "created_at"], name="invoices_no_status_2800dc_idx")
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name="notification", table=None),
        migrations.RenameIndex(
            model_name="notification", new_name="notification_status_created", old_name="invoices_no_status_2800dc_idx"
        ),
        migrations.RunPython(move_content_type, move_content_type_back),
    ]
