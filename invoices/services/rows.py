"""Plain-row bulk inserts for the billing run: one multi-row INSERT on PostgreSQL."""

from django.db import connection
from psycopg2.extras import execute_values

INVOICE_COLUMNS = (
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
    "invoice_id",
    "number",
    "language",
    "sold_to",
    "bill_to",
    "vat_id",
    "po_number",
    "tax_rate",
    "reverse_charge",
    "tax_note",
    "pdf",
    "pdf_rendered_at",
    "reason",
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


def insert_rows(model, columns: tuple, rows: list[tuple], returning: bool = False) -> list[int]:
    """Bulk insert plain rows (``columns`` are attribute names; every concrete field but
    the primary key must be given). On PostgreSQL one multi-row INSERT straight from the
    values, because building model instances and Django's per-value SQL compilation
    dominate a billing run otherwise; elsewhere Django's bulk_create. Returns the new
    primary keys in row order when ``returning``."""
    expected = {f.attname for f in model._meta.concrete_fields if not f.primary_key}
    if set(columns) != expected:
        raise RuntimeError(f"{model.__name__} insert columns out of date: {sorted(expected ^ set(columns))}")
    if not rows:
        return []
    if connection.vendor != "postgresql":
        objects = [model(**dict(zip(columns, row, strict=True))) for row in rows]
        model.objects.bulk_create(objects, batch_size=2000)
        return [obj.pk for obj in objects]
    names = ", ".join(connection.ops.quote_name(model._meta.get_field(c).column) for c in columns)
    table = connection.ops.quote_name(model._meta.db_table)
    sql = f"INSERT INTO {table} ({names}) VALUES %s" + (" RETURNING id" if returning else "")  # noqa: S608 - model names
    # The driver's cursor, so Django's error translation is applied here: a lost server
    # raises django.db's OperationalError (503, retries) and marks the connection for clean-up.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        result = execute_values(cursor.cursor, sql, rows, page_size=len(rows), fetch=returning)
    return [row[0] for row in result] if returning else []
