"""Gap-free yearly number series: ``INV-YYYY-NNNNNN`` for invoices, ``CN-YYYY-NNNNNN``
for credit notes. A number is taken under the year's sequence row lock in the same
transaction that writes the document, so a transaction that fails takes no number and
two that run at once wait for each other (tests/invoices/test_postgres.py,
tests/invoices/test_credit_notes.py). The billing run takes the lock as late as it can:
its rows are written first, under provisional numbers, and numbered just before the
commit (services/billing_run.py)."""

from django.db import connection
from stdnum.iso7064 import mod_97_10

from ..models import CreditNoteNumberSequence, InvoiceNumberSequence


def invoice_number(year: int, sequence: int) -> str:
    return f"INV-{year}-{sequence:06d}"


def credit_note_number(year: int, sequence: int) -> str:
    return f"CN-{year}-{sequence:06d}"


def payment_reference(year: int, sequence: int) -> str:
    """ISO 11649 structured creditor reference ("RF" + check digits + the invoice number's
    digits), quoted on a bank transfer (PBI-9)."""
    body = f"{year}{sequence:06d}"
    check = mod_97_10.calc_check_digits(body + "RF")
    return f"RF{check}{body}"


def locked_sequence(model, year: int):
    """The year's sequence row (``InvoiceNumberSequence`` or ``CreditNoteNumberSequence``),
    created if missing and locked until the transaction ends. Inside a transaction only."""
    model.objects.bulk_create([model(year=year)], ignore_conflicts=True)
    return model.objects.select_for_update().get(year=year)


def take_number(model, year: int) -> int:
    """The next number of the year's series, taken under the row lock (kept until commit):
    one ``UPDATE ... RETURNING`` (the year's row is created first when it is missing).
    Inside a transaction only."""
    table = connection.ops.quote_name(model._meta.db_table)
    sql = f"UPDATE {table} SET last_number = last_number + 1 WHERE year = %s RETURNING last_number"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [year])
        row = cursor.fetchone()
        if row is None:
            locked_sequence(model, year)
            cursor.execute(sql, [year])
            row = cursor.fetchone()
    return row[0]


def next_invoice_number(year: int) -> tuple[str, str]:
    """(invoice number, payment reference) of one more invoice of ``year``."""
    sequence = take_number(InvoiceNumberSequence, year)
    return invoice_number(year, sequence), payment_reference(year, sequence)


def next_credit_note_number(year: int) -> str:
    return credit_note_number(year, take_number(CreditNoteNumberSequence, year))
