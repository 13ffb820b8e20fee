"""The tax note's text column: migration 0009 turned it into ``tax_note_code``."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("invoices", "0009_revision_codes"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="invoicerevision",
            name="tax_note",
        ),
    ]
