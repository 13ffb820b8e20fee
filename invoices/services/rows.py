"""Plain-row bulk writes for the billing run: ids taken beforehand, then one ``COPY``
per table on PostgreSQL.

Building model instances and Django's per-value SQL compilation dominate a billing run
otherwise, and a ``COPY`` of text rows costs the server less than a multi-row INSERT
of the same values (benchmarks/billing.py prints both). The ids come from the table's
own sequence before the rows are written, so rows that point at each other (an invoice
at its revision, lines at their invoice) can be written in any order: the foreign keys
are checked at commit (Django creates them ``DEFERRABLE INITIALLY DEFERRED``).
"""

import csv
import io

from django.db import connection, models
from psycopg2.extras import execute_values

INVOICE_COLUMNS = (
    "id",
    "number",
    "account_id",
    "profile_id",
    "period",
    "issue_date",
    "due_date",
    "status",
    "currency",
    "subtotal",
    "tax_amount",
    "total",
    "amount_paid",
    "amount_credited",
    "replaces_id",
    "payment_reference",
    "payment_terms",
    "billing_run_id",
    "current_revision_id",
    "notified_at",
    "paid_at",
    "created_at",
)
REVISION_COLUMNS = (
    "id",
    "invoice_id",
    "number",
    "language",
    "sold_to",
    "bill_to",
    "vat_id",
    "po_number",
    "tax_rate",
    "reverse_charge",
    "tax_note_code",
    "pdf",
    "pdf_rendered_at",
    "reason",
    "reason_code",
    "reason_ref",
    "created_by_id",
    "created_at",
)
LINE_COLUMNS = (
    "invoice_id",
    "subscription_id",
    "position",
    "service_name",
    "meter",
    "quantity",
    "unit_price",
    "amount",
    "tax_amount",
    "is_marketplace",
)


def allocate_ids(model, count: int) -> list[int]:
    """``count`` new primary keys of ``model``'s table, in ascending order, for rows
    written later in the same transaction. On PostgreSQL from the table's sequence
    (ids of a transaction that rolls back are skipped, as with any insert); on SQLite
    after the highest id ever used, which is safe because every transaction holds the
    database's write lock from its start (settings: ``transaction_mode`` IMMEDIATE)."""
    if count <= 0:
        return []
    table = model._meta.db_table
    column = model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The sequence looked up once, not for every id.
            cursor.execute(
                "WITH s AS MATERIALIZED (SELECT pg_get_serial_sequence(%s, %s)::regclass AS seq) "
                "SELECT nextval(s.seq) FROM s, generate_series(1, %s)",
                [connection.ops.quote_name(table), column, count],
            )
            return sorted(row[0] for row in cursor.fetchall())
        cursor.execute(
            f"SELECT MAX({connection.ops.quote_name(column)}), (SELECT seq FROM sqlite_sequence WHERE name = %s) "  # noqa: S608 - model names
            f"FROM {connection.ops.quote_name(table)}",
            [table],
        )
        last = max(value or 0 for value in cursor.fetchone())
    return list(range(last + 1, last + 1 + count))


def insert_rows(model, columns: tuple, rows: list[tuple]) -> None:
    """Bulk insert plain rows. ``columns`` are attribute names: every concrete field
    but the primary key must be given, the primary key may be (ids from
    ``allocate_ids``). On PostgreSQL one ``COPY ... FROM STDIN`` in CSV (written by the
    csv module, in C): strings are quoted, numbers and booleans are not, and None (an
    empty quoted field) is read as NULL in the nullable columns, which hold no text;
    elsewhere Django's bulk_create."""
    pk = model._meta.pk.attname
    expected = {f.attname for f in model._meta.concrete_fields if not f.primary_key}
    if set(columns) - {pk} != expected or len(set(columns)) != len(columns):
        raise RuntimeError(f"{model.__name__} insert columns out of date: {sorted(expected ^ set(columns))}")
    if not rows:
        return
    if connection.vendor != "postgresql":
        objects = [model(**dict(zip(columns, row, strict=True))) for row in rows]
        model.objects.bulk_create(objects, batch_size=2000)
        return
    fields = [model._meta.pk if c == pk else model._meta.get_field(c) for c in columns]
    if any(f.null and isinstance(f, (models.CharField, models.TextField)) for f in fields):
        raise RuntimeError(f"{model.__name__}: a nullable text column cannot be told from an empty one in COPY")
    text = io.StringIO()
    csv.writer(text, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n").writerows(rows)
    text.seek(0)
    quote = connection.ops.quote_name
    nullable = ", ".join(quote(f.column) for f in fields if f.null)
    options = f"FORMAT csv, FORCE_NULL ({nullable})" if nullable else "FORMAT csv"
    names = ", ".join(quote(f.column) for f in fields)
    sql = f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN WITH ({options})"
    # The driver's cursor, so Django's error translation is applied here: a lost server
    # raises django.db's OperationalError (503, retries) and marks the connection for clean-up.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.cursor.copy_expert(sql, text)


def check_foreign_keys() -> None:
    """Check the foreign keys of the rows written so far in this transaction now rather
    than at commit. On PostgreSQL Django's ``check_constraints`` (the deferred constraints
    made immediate, then deferred again); on SQLite they wait for the commit (its check
    reads whole tables, and its transactions run one at a time anyway)."""
    if connection.vendor == "postgresql":
        connection.check_constraints()


def update_rows(model, columns: tuple, rows: list[tuple]) -> None:
    """Set ``columns`` (attribute names of plain columns) of many rows at once; each row
    is (primary key, *values). On PostgreSQL one UPDATE from a VALUES list; elsewhere
    Django's bulk_update."""
    if not rows:
        return
    pk = model._meta.pk
    if connection.vendor != "postgresql":
        objects = [model(**{pk.attname: row[0]}, **dict(zip(columns, row[1:], strict=True))) for row in rows]
        model.objects.bulk_update(objects, columns, batch_size=2000)
        return
    quote = connection.ops.quote_name
    names = [quote(model._meta.get_field(c).column) for c in columns]
    assignments = ", ".join(f"{name} = v.{name}" for name in names)
    sql = (
        f"UPDATE {quote(model._meta.db_table)} AS t SET {assignments} "  # noqa: S608 - model names
        f"FROM (VALUES %s) AS v ({quote(pk.column)}, {', '.join(names)}) WHERE t.{quote(pk.column)} = v.{quote(pk.column)}"
    )
    with connection.cursor() as cursor, connection.wrap_database_errors:
        execute_values(cursor.cursor, sql, rows, page_size=len(rows))
