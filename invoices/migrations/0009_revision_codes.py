"""Tax notes and the portal's own revision reasons become codes, put into words in the
reader's language (invoices/printed.py).

The notes and reasons written so far were text in the language of whoever caused them
(the invoice's for a tax note, the actor's for a reason). Each is mapped to its code:
a revision with the reverse-charge flag has the reverse-charge note, any other note is
the outside-the-EU one (the only other note the portal writes); a reason is matched in
English and Dutch. A reason that matches neither was typed by support staff and stays
as typed. Going back writes the English texts. The text column goes in 0010 (PostgreSQL
alters no table in the transaction that updated its rows)."""

import re

from django.db import migrations, models

REVERSE_CHARGE = "VAT reverse charge: the customer accounts for the VAT (Article 196 of Council Directive 2006/112/EC)."
OUTSIDE_EU = "No EU VAT charged: the place of supply is outside the European Union."
PO_WINDOW_TEXTS = (
    "PO number changed by the enrollment's administrator within seven days of the invoice notification.",
    "PO-nummer gewijzigd door de beheerder van de inschrijving binnen zeven dagen na de factuurmelding.",
)
SUPPORT_REQUEST = re.compile(r"(?:Support request|Ondersteuningsaanvraag) #(\d+): (.*)", re.DOTALL)


def to_codes(apps, schema_editor):
    Revision = apps.get_model("invoices", "InvoiceRevision")
    Revision.objects.filter(reverse_charge=True).exclude(tax_note="").update(tax_note_code="reverse_charge")
    Revision.objects.filter(reverse_charge=False).exclude(tax_note="").update(tax_note_code="outside_eu")
    Revision.objects.filter(reason__in=PO_WINDOW_TEXTS).update(reason="", reason_code="po_window")
    for revision in Revision.objects.filter(reason__regex=r"^(Support request|Ondersteuningsaanvraag) #[0-9]+: "):
        match = SUPPORT_REQUEST.fullmatch(revision.reason)
        if match:
            revision.reason_code, revision.reason_ref, revision.reason = "support_request", int(match[1]), match[2]
            revision.save(update_fields=["reason_code", "reason_ref", "reason"])


def to_texts(apps, schema_editor):
    Revision = apps.get_model("invoices", "InvoiceRevision")
    Revision.objects.filter(tax_note_code="reverse_charge").update(tax_note=REVERSE_CHARGE)
    Revision.objects.filter(tax_note_code="outside_eu").update(tax_note=OUTSIDE_EU)
    Revision.objects.filter(reason_code="po_window").update(reason=PO_WINDOW_TEXTS[0])
    for revision in Revision.objects.filter(reason_code="support_request"):
        revision.reason = f"Support request #{revision.reason_ref}: {revision.reason}"
        revision.save(update_fields=["reason"])


class Migration(migrations.Migration):
    dependencies = [
        ("invoices", "0008_invoice_profile_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="invoicerevision",
            name="reason_code",
            field=models.CharField(
                blank=True,
                choices=[
                    ("po_window", "PO number changed within seven days of the invoice notification"),
                    ("support_request", "Support request approved"),
                ],
                max_length=16,
                verbose_name="reason code",
            ),
        ),
        migrations.AddField(
            model_name="invoicerevision",
            name="reason_ref",
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name="support request"),
        ),
        migrations.AddField(
            model_name="invoicerevision",
            name="tax_note_code",
            field=models.CharField(
                blank=True,
                choices=[
                    ("reverse_charge", REVERSE_CHARGE),
                    ("outside_eu", OUTSIDE_EU),
                ],
                max_length=16,
                verbose_name="tax note",
            ),
        ),
        migrations.RunPython(to_codes, to_texts),
    ]
