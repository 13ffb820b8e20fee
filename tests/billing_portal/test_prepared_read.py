"""billing_portal.db.PreparedRead: a fixed-shape read compiled once gives what its queryset
gives (model instances with their select_related objects, values_list rows), is counted
like any query, keeps the ORM's answers for bad and out-of-range ids, and refuses what
it cannot run as the queryset would."""

from decimal import Decimal

import pytest
from django.db import NotSupportedError, connection, transaction
from django.db.models import Count, FilteredRelation, Q
from django.db.models.sql.compiler import SQLCompiler
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from billing_portal.db import PreparedRead
from invoices.models import Invoice, InvoiceLine
from payments.models import PaymentMethod
from tests.payments.conftest import APPROVED, give_card, make_invoice

pytestmark = pytest.mark.django_db

WITH_SCOPE = Invoice.objects.select_related("profile__account", "current_revision").order_by()


@pytest.fixture
def invoice(demo):
    invoice = make_invoice(demo.profiles["contoso"])
    InvoiceLine.objects.bulk_create(
        [
            InvoiceLine(
                invoice=invoice,
                position=i,
                service_name=f"Service {i}",
                meter="hours",
                quantity=Decimal(i + 1),
                unit_price=Decimal("0.5"),
                amount=Decimal(i + 1) / 2,
            )
            for i in range(3)
        ]
    )
    return invoice


def _row_of(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields}


def test_model_rows_with_their_related_objects_are_the_querysets(invoice):
    prepared = PreparedRead(WITH_SCOPE, "pk").one(invoice.pk)
    orm = WITH_SCOPE.get(pk=invoice.pk)
    assert _row_of(prepared) == _row_of(orm)
    assert _row_of(prepared.profile) == _row_of(orm.profile)
    assert _row_of(prepared.profile.account) == _row_of(orm.profile.account)
    assert _row_of(prepared.current_revision) == _row_of(orm.current_revision)
    assert prepared._state.adding is False and prepared._state.db == "default"


def test_related_objects_cost_no_further_query(invoice, django_assert_num_queries):
    read = PreparedRead(WITH_SCOPE, "pk")
    with django_assert_num_queries(1):
        found = read.one(invoice.pk)
        assert found.profile.account.name and found.current_revision.number == 1


def test_values_list_rows_in_the_querysets_order(invoice):
    lines = InvoiceLine.objects.values_list("position", "service_name", "quantity")
    assert PreparedRead(lines, "invoice_id").rows(invoice.pk) == list(lines.filter(invoice_id=invoice.pk))
    flat = InvoiceLine.objects.values_list("service_name", flat=True)
    assert PreparedRead(flat, "invoice").rows(invoice.pk) == ["Service 0", "Service 1", "Service 2"]


def test_dict_rows_are_the_querysets(invoice):
    lines = InvoiceLine.objects.values("position", "service_name", "invoice__number").order_by("position")
    assert PreparedRead(lines, "invoice_id").rows(invoice.pk) == list(lines.filter(invoice_id=invoice.pk))


def test_without_an_id_every_value_is_a_slots_and_a_slice_is_kept(invoice, demo):
    other = make_invoice(demo.profiles["fabrikam"])

    def visible(first, second):
        return Invoice.objects.filter(profile_id__in=[first, second]).order_by("-pk").values_list("pk", "number")

    read = PreparedRead(visible(PreparedRead.slot(1), PreparedRead.slot(2))[:1], None)
    for pair in ((invoice.profile_id, other.profile_id), (invoice.profile_id, 0), (0, 0), (None, 2**63)):
        assert read.rows(*pair) == list(visible(*pair)[:1]), pair
    assert read.rows(invoice.profile_id, other.profile_id) == [(other.pk, other.number)]
    with pytest.raises(TypeError):
        read.rows(invoice.profile_id)
    with pytest.raises(TypeError):
        PreparedRead(WITH_SCOPE, "pk").rows()
    # The id's marker, written into a read without an id, is refused.
    with pytest.raises(NotSupportedError):
        PreparedRead(Invoice.objects.filter(pk=PreparedRead.MARKER), None).rows()


def test_the_sql_is_compiled_once(invoice, monkeypatch):
    compiled = []
    as_sql = SQLCompiler.as_sql

    def counting(self, *args, **kwargs):
        compiled.append(self.query.model)
        return as_sql(self, *args, **kwargs)

    monkeypatch.setattr(SQLCompiler, "as_sql", counting)
    read = PreparedRead(InvoiceLine.objects.values_list("pk"), "invoice_id")
    for _ in range(3):
        assert len(read.rows(invoice.pk)) == 3
    assert compiled == [InvoiceLine]


def test_no_row_a_bad_id_and_an_id_out_of_range_answer_as_the_orm(invoice):
    read = PreparedRead(WITH_SCOPE, "pk")
    for missing in (0, -1, 2**63, -(2**63) - 1, 10**30):
        with pytest.raises(Invoice.DoesNotExist):
            read.one(missing)
        assert not WITH_SCOPE.filter(pk=missing).exists()
    with pytest.raises(ValueError):
        read.one("abc")
    with pytest.raises(ValueError):
        WITH_SCOPE.get(pk="abc")
    with pytest.raises(TypeError):  # where the ORM would look for a NULL id
        read.one(None)
    assert read.one(str(invoice.pk)).pk == invoice.pk


def test_several_rows_for_one_are_refused(invoice):
    with pytest.raises(InvoiceLine.MultipleObjectsReturned):
        PreparedRead(InvoiceLine.objects.all(), "invoice_id").one(invoice.pk)


@pytest.mark.parametrize(
    "queryset",
    [
        pytest.param(lambda: Invoice.objects.prefetch_related("lines"), id="prefetch"),
        pytest.param(lambda: Invoice.objects.annotate(n=Count("lines")), id="annotation"),
        pytest.param(lambda: Invoice.objects.values_list("pk", named=True), id="named"),
        pytest.param(lambda: Invoice.objects.filter(pk__in=[]), id="matches-nothing"),
    ],
)
def test_what_it_cannot_run_as_the_queryset_is_refused(invoice, queryset):
    with pytest.raises(NotSupportedError):
        PreparedRead(queryset(), "pk").rows(invoice.pk)


@pytest.mark.django_db(transaction=True)
def test_a_locking_read_needs_a_transaction(invoice):
    read = PreparedRead(Invoice.objects.select_for_update(of=("self",)).select_related("profile"), "pk")
    with pytest.raises(TransactionManagementError):
        read.one(invoice.pk)
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        assert read.one(invoice.pk).profile.pk == invoice.profile_id
    if connection.features.has_select_for_update:
        assert "FOR UPDATE" in queries.captured_queries[-1]["sql"]


def _with_card(card):
    """An invoice with one of its profile's cards joined by a condition: the card is the
    read's further value (as the pay service's locked invoice)."""
    return (
        Invoice.objects.annotate(
            chosen_card=FilteredRelation("profile__payment_methods", condition=Q(profile__payment_methods__pk=card))
        )
        .select_related("profile", "chosen_card")
        .order_by()
    )


def test_a_further_value_in_a_join_condition_answers_as_the_orm(invoice, demo):
    card = give_card(demo, invoice.profile, APPROVED, make_active=False)
    other_scope = give_card(demo, demo.profiles["fabrikam"], APPROVED, make_active=False)
    read = PreparedRead(_with_card(PreparedRead.slot(1)), "pk")
    for value in (card.pk, other_scope.pk, 0):
        prepared, orm = read.one(invoice.pk, value), _with_card(value).get(pk=invoice.pk)
        assert _row_of(prepared) == _row_of(orm) and _row_of(prepared.profile) == _row_of(orm.profile)
        found = getattr(prepared, "chosen_card", None)
        assert getattr(found, "pk", None) == getattr(getattr(orm, "chosen_card", None), "pk", None)
        assert (found is not None) == (value == card.pk)
    assert isinstance(read.one(invoice.pk, str(card.pk)).chosen_card, PaymentMethod)
    # None, and an id out of the 64-bit range, join no card; the invoice is still found.
    for value in (None, 2**63, -(2**63) - 1, 10**30):
        assert getattr(read.one(invoice.pk, value), "chosen_card", None) is None
    with pytest.raises(ValueError):
        read.one(invoice.pk, "abc")


def test_further_values_are_counted_and_numbered(invoice):
    read = PreparedRead(_with_card(PreparedRead.slot(1)), "pk")
    with pytest.raises(TypeError):
        read.rows(invoice.pk)
    with pytest.raises(TypeError):
        read.rows(invoice.pk, 1, 2)
    with pytest.raises(TypeError):
        PreparedRead(WITH_SCOPE, "pk").rows(invoice.pk, 1)
    with pytest.raises(NotSupportedError):  # slot(2) without a slot(1)
        PreparedRead(_with_card(PreparedRead.slot(2)), "pk").rows(invoice.pk, 1)
    twice = Invoice.objects.filter(Q(profile_id=PreparedRead.slot(1)) | Q(account_id=PreparedRead.slot(1)))
    with pytest.raises(NotSupportedError):
        PreparedRead(twice, "pk").rows(invoice.pk, 1)
    for number in (0, 100):
        with pytest.raises(ValueError):
            PreparedRead.slot(number)
