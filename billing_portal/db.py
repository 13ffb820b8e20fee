"""Database helpers shared by the apps."""

from collections.abc import Callable
from typing import NamedTuple

from django.core.exceptions import EmptyResultSet
from django.db import IntegrityError, NotSupportedError, connection, connections, transaction
from django.db.models.query import (
    FlatValuesListIterable,
    ModelIterable,
    ValuesIterable,
    ValuesListIterable,
    get_related_populators,
)
from django.db.transaction import TransactionManagementError


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


_SLOTS = 99
_BIGINT = 2**63  # a further value outside [-2**63, 2**63) fits no integer column


class _Compiled(NamedTuple):
    """What ``PreparedRead`` keeps of its compiled query."""

    alias: str
    sql: str
    params: tuple
    place: int | None  # where the id goes in ``params`` (None: a read without one)
    slots: tuple  # where each further value (``PreparedRead.slot(n)``) goes, in order
    locks: bool  # select_for_update: only inside a transaction
    compiler: object
    converters: dict
    build: Callable[[list], list]
    id_range: tuple  # (low, high) of the id's column; None for no bound


class PreparedRead:
    """A read of one fixed shape whose SQL is compiled once per process, for the queries
    that every request of a page runs with only an id changing.

    Django builds and compiles a queryset's SQL each time it is evaluated: for the invoice
    page's invoice (four tables, about 80 columns) that cost 1.45 ms of CPU through the
    ORM against 0.34 ms prepared, more than PostgreSQL takes to run it
    (docs/benchmarks.md). ``PreparedRead(queryset, "invoice_id")`` compiles
    ``queryset.filter(invoice_id=<marker>)`` on first use; ``rows(value)`` then runs that
    SQL with ``value`` in the marker's place and builds the rows as the queryset itself
    would: model instances with their ``select_related`` objects, ``values_list`` tuples
    or flat values, the database's converters applied. Queries go through the
    connection's cursor, so they are logged and counted like any other.

    ``lookup`` must take an integer (a primary key or foreign key id): ``value`` is turned
    into one with ``int()``, as the ORM does for such a field (ValueError otherwise, and
    TypeError for None, where the ORM would look for NULL); an id out of the column's
    range matches nothing, as in the ORM. A queryset this cannot run as its own iterable
    would (prefetching, annotations, extra columns, named or dict rows, an empty ``__in``)
    is refused when it is compiled (NotSupportedError), never answered differently.

    A further integer the query needs elsewhere (a join's condition, say) is written into
    the queryset as ``PreparedRead.slot(1)``, ``slot(2)`` ...; ``rows(value, *further)``
    puts them in, in that order. A further value may be None, and one out of the 64-bit
    range is None too: the query compares it with SQL's NULL, which equals nothing.

    ``lookup=None`` reads without an id: every value is a slot's (``rows(*further)``); the
    queryset may then be sliced (a list's first page: ``[:26]``), whose LIMIT is part of
    the compiled SQL. Rows may also be dicts (``values()``)."""

    MARKER = 918_273_645_019  # an id no table reaches, found once in the compiled parameters

    def __init__(self, queryset, lookup: str | None):
        self._queryset = queryset
        self._lookup = lookup
        self._compiled = None

    @classmethod
    def slot(cls, number: int) -> int:
        """The marker of the ``number``-th further value (from 1), for the queryset."""
        if not 1 <= number <= _SLOTS:
            raise ValueError(f"PreparedRead.slot numbers go from 1 to {_SLOTS}")
        return cls.MARKER + number

    def one(self, value, *further):
        """The single row for ``value``: the model's DoesNotExist if there is none (and
        MultipleObjectsReturned if there are several), like ``get()``."""
        rows = self.rows(value, *further)
        if len(rows) == 1:
            return rows[0]
        model = self._queryset.model
        raise (model.DoesNotExist if not rows else model.MultipleObjectsReturned)(
            f"{len(rows)} {model._meta.object_name} rows for {self._lookup}={value!r}"
        )

    def rows(self, *values) -> list:
        """The rows for ``values``: the id first (unless ``lookup`` is None), then each slot's."""
        read = self._compiled or self._compile()
        if read.place is None:
            value, further = None, values
        elif not values:
            raise TypeError(f"PreparedRead: the value of {self._lookup!r} is missing")
        else:
            value, *further = values
            value = int(value)
        further = [None if v is None else int(v) for v in further]
        if len(further) != len(read.slots):
            raise TypeError(f"PreparedRead: {len(read.slots)} further values expected, {len(further)} given")
        if value is not None:
            low, high = read.id_range
            if not (low is None or low <= value) or not (high is None or value <= high):
                return []  # as the ORM: an id out of the column's range matches nothing
        database = connections[read.alias]
        if read.locks and database.get_autocommit():
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        params = list(read.params)
        if value is not None:
            params[read.place] = value
        for place, number in zip(read.slots, further, strict=True):
            params[place] = number if number is None or -_BIGINT <= number < _BIGINT else None
        with database.cursor() as cursor:
            cursor.execute(read.sql, params)
            rows = cursor.fetchall()
        if read.converters:
            rows = list(read.compiler.apply_converters(rows, read.converters))
        return read.build(rows)

    def _compile(self):
        queryset = self._queryset if self._lookup is None else self._queryset.filter(**{self._lookup: self.MARKER})
        query, kind = queryset.query, queryset._iterable_class
        if queryset._prefetch_related_lookups or queryset._known_related_objects:
            raise NotSupportedError("PreparedRead: prefetch_related and known related objects are not supported")
        if query.extra_select or query.annotation_select or kind not in _BUILDERS:
            raise NotSupportedError("PreparedRead: only model instances and values_list rows without annotations")
        alias = queryset.db
        compiler = query.get_compiler(using=alias)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            raise NotSupportedError("PreparedRead: the query can match nothing (an empty __in)") from None
        places = [i for i, param in enumerate(params) if type(param) is int and param == self.MARKER]
        if len(places) != (self._lookup is not None):
            raise NotSupportedError(f"PreparedRead: {self._lookup!r} is not one integer parameter")
        # Where each slot's marker is, by its number: each once, numbered 1, 2 ... without a gap.
        found = [(p - self.MARKER, i) for i, p in enumerate(params) if type(p) is int and 0 < p - self.MARKER <= _SLOTS]
        numbers = sorted(number for number, _place in found)
        if numbers != list(range(1, len(found) + 1)):
            raise NotSupportedError("PreparedRead: each slot once, numbered from 1 without a gap")
        slots = [place for _number, place in sorted(found)]
        converters = compiler.get_converters([column for column, _sql, _alias in compiler.select])
        self._compiled = _Compiled(
            alias=alias,
            sql=sql,
            params=tuple(params),
            place=places[0] if places else None,
            slots=tuple(slots),
            locks=bool(query.select_for_update),
            compiler=compiler,
            converters=converters,
            build=_BUILDERS[kind](compiler, alias),
            id_range=self._range(compiler.connection) if self._lookup is not None else (None, None),
        )
        return self._compiled

    def _range(self, database) -> tuple:
        meta = self._queryset.model._meta
        field = meta.pk if self._lookup == "pk" else meta.get_field(self._lookup.removesuffix("__exact"))
        field = getattr(field, "target_field", field)  # a foreign key: the column it refers to
        return database.ops.integer_field_range(field.get_internal_type())


def _model_rows(compiler, alias):
    """As django.db.models.query.ModelIterable: the model's columns, then each
    select_related object's."""
    select, klass_info = compiler.select, compiler.klass_info
    model = klass_info["model"]
    start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
    names = [column[0].target.attname for column in select[start:end]]
    populators = get_related_populators(klass_info, select, alias)

    def build(rows):
        out = []
        for row in rows:
            instance = model.from_db(alias, names, row[start:end])
            for populator in populators:
                populator.populate(row, instance)
            out.append(instance)
        return out

    return build


def _dict_rows(compiler, alias):
    """As django.db.models.query.ValuesIterable without extra or annotated columns."""
    names = compiler.query.values_select
    return lambda rows: [dict(zip(names, row, strict=True)) for row in rows]


_BUILDERS = {
    ModelIterable: _model_rows,
    ValuesIterable: _dict_rows,
    ValuesListIterable: lambda compiler, alias: lambda rows: [tuple(row) for row in rows],
    FlatValuesListIterable: lambda compiler, alias: lambda rows: [row[0] for row in rows],
}
