"""The payment history of a billing scope: ONE selector, ``payment_history(scope)``, read
by the page (``payments:history``) and the API (``GET /api/v1/payment-history/``).

A scope is chosen as the invoice list chooses it (``history_scope``): every billing
profile whose invoices the user may read (``can_view_invoices``, as the filter
``can_view_invoices_filter``), or one of them (``?profile=``; another tenant's, or one the
user may not read invoices of, is a 404).

The history is a sequence of ``HistoryRow`` (kind, date, amount, currency, status,
method, reference, invoice, the document and its link), newest first, read one page at a
time: the rows of every kind are ordered together in SQL (a UNION of each kind's
``(kind, date, id)``), so a page costs one query for its index plus one per kind on it.

Row kinds now: ``payment`` (its receipt is the document), ``refund`` (money given back
to a card, negative; the credit note that backs it is the document) and ``credit_note``
(a credit note that returns no money: a credit, a correction; negative, it lowers what
is owed; the credit note of a refund is shown on the refund's row). How to add a row
kind:

1. Write a ``RowKind``: ``name`` (the rows' ``kind``, e.g. ``"refund"``); ``rows_of(scope)``,
   a queryset of the kind's model narrowed to the scope (``scope.filter()`` works on any
   model with ``account_id`` and ``profile_id`` columns; refunds and credit notes have
   them); ``date``, the expression the history orders it by (a field name or e.g.
   ``Coalesce("settled_at", "created_at")``, a datetime); and ``rows(ids)``, which loads
   the objects of one page and returns ``{id: HistoryRow}``. Money going back to the
   customer (a refund) has a negative ``amount``; a kind may keep its own ``status``
   values (with ``status_label``).
2. Append it to ``ROW_KINDS`` below.

The page, the API, its serializer and the pagination show any kind without a change;
the page links ``HistoryRow.link`` (the document's download, e.g. a credit note's PDF).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import CharField, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts import permissions
from accounts import selectors as account_selectors
from invoices.models import CreditNote, CreditNoteKind

from . import labels
from .models import Payment, PaymentStatus, Refund


@dataclass(frozen=True)
class HistoryScope:
    """Whose history: the user's, narrowed to one billing profile when ``profile`` is set."""

    user: object
    profile: object | None = None

    def filter(self) -> Q:
        """The rows of the scope, for any model with ``account_id`` and ``profile_id``."""
        if self.profile is not None:
            return Q(profile_id=self.profile.pk)
        return permissions.can_view_invoices_filter(self.user)


def history_scope(user, profile_id=None) -> HistoryScope:
    """The scope of a request: the user's, or one profile they may read invoices of (404
    otherwise)."""
    if profile_id in (None, ""):
        return HistoryScope(user=user)
    profile = account_selectors.get_profile_for_user(user, profile_id)
    if not permissions.can_view_invoices(user, profile):
        raise Http404
    return HistoryScope(user=user, profile=profile)


@dataclass(frozen=True)
class HistoryRow:
    kind: str  # "payment", "refund", "credit_note"
    kind_label: str
    id: int  # the object's id within its kind
    date: datetime  # when it happened: the history's order, newest first
    amount: Decimal  # money received positive, money given back negative
    currency: str
    status: str  # payments: succeeded / failed / pending
    status_label: str
    method: str  # "Visa •••• 4242", "Bank transfer"
    reference: str  # a transfer's reference, a card charge's gateway reference
    invoice_id: int | None
    invoice_number: str
    invoice_link: str
    scope: str  # the billing scope's name
    document: str = ""  # the number of the row's document (receipt, credit note), "" when none
    link: str = ""  # the document's download in the portal, "" when none
    api_link: str = ""  # the same in the API


@dataclass(frozen=True)
class RowKind:
    name: str
    rows_of: Callable[[HistoryScope], QuerySet]
    date: object  # a field name or an expression (datetime)
    rows: Callable[[list[int]], dict[int, HistoryRow]]


# --- Payments (with their receipts) ---------------------------------------------------------


def _payments_of(scope: HistoryScope) -> QuerySet:
    return Payment.objects.filter(scope.filter())


def _payment_rows(ids: list[int]) -> dict[int, HistoryRow]:
    payments = Payment.objects.filter(pk__in=ids).select_related(
        "invoice", "payment_method", "profile__account", "receipt"
    )
    status_labels = dict(PaymentStatus.choices)
    rows = {}
    for payment in payments:
        receipt = getattr(payment, "receipt", None)
        rows[payment.pk] = HistoryRow(
            kind="payment",
            kind_label=_("Payment"),
            id=payment.pk,
            date=payment.settled_at or payment.created_at,
            amount=payment.amount,
            currency=payment.currency,
            status=payment.status,
            status_label=str(status_labels.get(payment.status, payment.status)),
            method=labels.payment_method(payment),
            reference=payment.reference or payment.gateway_reference,
            invoice_id=payment.invoice_id,
            invoice_number=payment.invoice.number,
            invoice_link=reverse("invoices:detail", args=[payment.invoice_id]),
            scope=str(payment.profile),
            document=receipt.number if receipt else "",
            link=reverse("payments:receipt_pdf", args=[receipt.pk]) if receipt else "",
            api_link=reverse("api-receipt-pdf", args=[receipt.pk]) if receipt else "",
        )
    return rows


# --- Refunds (with the credit note that backs them, if any) ---------------------------------


def _refunds_of(scope: HistoryScope) -> QuerySet:
    return Refund.objects.filter(scope.filter())


def _refund_rows(ids: list[int]) -> dict[int, HistoryRow]:
    refunds = Refund.objects.filter(pk__in=ids).select_related(
        "invoice", "payment__payment_method", "profile__account", "credit_note"
    )
    status_labels = dict(PaymentStatus.choices)
    rows = {}
    for refund in refunds:
        credit_note = refund.credit_note
        rows[refund.pk] = HistoryRow(
            kind="refund",
            kind_label=_("Refund"),
            id=refund.pk,
            date=refund.settled_at or refund.created_at,
            amount=-refund.amount,
            currency=refund.currency,
            status=refund.status,
            status_label=str(status_labels.get(refund.status, refund.status)),
            method=labels.payment_method(refund.payment),
            reference=refund.gateway_reference,
            invoice_id=refund.invoice_id,
            invoice_number=refund.invoice.number,
            invoice_link=reverse("invoices:detail", args=[refund.invoice_id]),
            scope=str(refund.profile),
            document=credit_note.number if credit_note else "",
            link=reverse("invoices:credit_note_pdf", args=[credit_note.pk]) if credit_note else "",
            api_link=reverse("api-credit-note-pdf", args=[credit_note.pk]) if credit_note else "",
        )
    return rows


# --- Credit notes that return no money -----------------------------------------------------


def _credit_notes_of(scope: HistoryScope) -> QuerySet:
    return CreditNote.objects.filter(scope.filter()).exclude(kind=CreditNoteKind.REFUND)


def _credit_note_rows(ids: list[int]) -> dict[int, HistoryRow]:
    notes = CreditNote.objects.filter(pk__in=ids).select_related("invoice", "profile__account")
    return {
        note.pk: HistoryRow(
            kind="credit_note",
            kind_label=_("Credit note"),
            id=note.pk,
            date=note.created_at,
            amount=-note.total,
            currency=note.currency,
            status="issued",
            status_label=_("Issued"),
            method=note.reason,
            reference="",
            invoice_id=note.invoice_id,
            invoice_number=note.invoice.number,
            invoice_link=reverse("invoices:detail", args=[note.invoice_id]),
            scope=str(note.profile),
            document=note.number,
            link=reverse("invoices:credit_note_pdf", args=[note.pk]),
            api_link=reverse("api-credit-note-pdf", args=[note.pk]),
        )
        for note in notes
    }


ROW_KINDS: tuple[RowKind, ...] = (
    RowKind(name="payment", rows_of=_payments_of, date=Coalesce("settled_at", "created_at"), rows=_payment_rows),
    RowKind(name="refund", rows_of=_refunds_of, date=Coalesce("settled_at", "created_at"), rows=_refund_rows),
    RowKind(name="credit_note", rows_of=_credit_notes_of, date="created_at", rows=_credit_note_rows),
)


# --- The history --------------------------------------------------------------------------


def _index(kind: RowKind, scope: HistoryScope) -> QuerySet:
    date = F(kind.date) if isinstance(kind.date, str) else kind.date
    return (
        kind.rows_of(scope)
        .order_by()
        .annotate(h_kind=Value(kind.name, output_field=CharField()), h_at=date, h_id=F("pk"))
        .values_list("h_kind", "h_at", "h_id")
    )


class History:
    """The history of a scope, newest first. ``count()`` and slicing read the database,
    one page at a time: what Django's ``Paginator`` (the page) and the API's pagination use."""

    def __init__(self, scope: HistoryScope, kinds: tuple[RowKind, ...] = ROW_KINDS):
        self.scope = scope
        self.kinds = {kind.name: kind for kind in kinds}
        indexes = [_index(kind, scope) for kind in kinds]
        combined = indexes[0].union(*indexes[1:], all=True) if len(indexes) > 1 else indexes[0]
        self._index = combined.order_by("-h_at", "-h_id", "h_kind")

    def count(self) -> int:
        return self._index.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, item):
        if isinstance(item, int):
            rows = self[item : item + 1]
            if not rows:
                raise IndexError(item)
            return rows[0]
        entries = list(self._index[item])
        ids: dict[str, list[int]] = {}
        for kind, _at, pk in entries:
            ids.setdefault(kind, []).append(pk)
        loaded = {name: self.kinds[name].rows(pks) for name, pks in ids.items()}
        return [loaded[kind][pk] for kind, _at, pk in entries if pk in loaded[kind]]


def payment_history(scope: HistoryScope) -> History:
    """Every payment of the scope (succeeded, failed and pending, by card or bank
    transfer, with its receipt) and every refund (with its credit note), newest first,
    as ``HistoryRow``; see the module's docstring for adding row kinds."""
    return History(scope)
