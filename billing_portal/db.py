"""Database helpers shared by the apps."""

from django.db import IntegrityError, connection, transaction


def insert_once(instance, *, unique: tuple[str, ...]) -> bool:
    """Insert ``instance`` unless a row with the same values of ``unique`` (the fields of
    a unique constraint) exists: True if it was inserted (its primary key set), False if
    not. One ``INSERT ... ON CONFLICT (...) DO NOTHING RETURNING`` statement, so that,
    unlike an INSERT whose IntegrityError is caught, it needs no savepoint inside a
    transaction and no transaction of its own outside one (SQLite before 3.35: the
    savepoint way)."""
    meta = instance._meta
    if not connection.features.can_return_columns_from_insert:
        try:
            with transaction.atomic():
                instance.save(force_insert=True)
        except IntegrityError:
            return False
        return True
    quote = connection.ops.quote_name
    fields = [f for f in meta.concrete_fields if not (f.primary_key and instance.pk is None)]
    values = [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]
    target = ", ".join(quote(meta.get_field(name).column) for name in unique)
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608 - model names
        f"VALUES ({', '.join(['%s'] * len(fields))}) ON CONFLICT ({target}) DO NOTHING RETURNING {quote(meta.pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:
        return False
    instance.pk = row[0]
    instance._state.adding, instance._state.db = False, connection.alias
    return True
