"""CSV export of the PO / VAT change history, safe to open in a spreadsheet.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would be
read as a formula by Excel / LibreOffice (CSV injection); such cells get a leading
apostrophe so that they are shown as text (``invoices.exports.safe_cell``, the one rule of
every CSV export).
"""

import csv
import io

from django.utils.translation import gettext as _

from invoices.exports import safe_cell


def history_header() -> list[str]:
    return [
        _("Changed at (UTC)"),
        _("Changed by"),
        _("Number"),
        _("Billing account"),
        _("Billing profile"),
        _("Billing period"),
        _("Old value"),
        _("New value"),
        _("Applied to invoice"),
        _("Source"),
    ]


def history_row(change) -> list[str]:
    return [
        change.changed_at.strftime("%Y-%m-%d %H:%M:%S"),
        change.changed_by.email if change.changed_by else "",
        change.get_field_display(),
        change.account.name,
        change.profile.name if change.profile and not change.profile.is_default else "",
        f"{change.period:%Y-%m}" if change.period else "",
        change.old_value,
        change.new_value,
        change.invoice.number if change.invoice else "",
        change.get_source_display(),
    ]


def history_csv(changes) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(c) for c in history_header()])
    for change in changes:
        writer.writerow([safe_cell(c) for c in history_row(change)])
    return buffer.getvalue()
