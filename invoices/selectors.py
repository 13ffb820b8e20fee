"""Reads of invoices that serve requests. Each takes the user and returns only the
invoices of billing scopes they may see (accounts.permissions.can_view_invoices);
another tenant's invoice is reported like one that does not exist (Http404)."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property, lru_cache

from django.db.models import Count, F, Min, Q, QuerySet, Sum, Value, Window
from django.db.models.functions import Greatest, RowNumber
from django.http import Http404

from accounts import permissions
from accounts.models import Subscription, scope_name
from accounts.selectors import profiles_where
from billing_portal.db import PreparedRead

from .models import CreditNote, CreditNoteKind, Invoice, InvoiceRevision, InvoiceStatus


def invoice_profiles(user) -> list:
    """The billing profiles whose invoices the user may see (one query)."""
    return profiles_where(user, permissions.can_view_invoices)


# Newest first: the order of every invoice list (the list indexes follow it).
NEWEST_FIRST = ("-issue_date", "-number")


def invoices_for_user(user, profiles: list | None = None) -> QuerySet[Invoice]:
    """Invoices the user may see, newest first, with account, profile and current
    revision loaded. The visible scopes are chosen in SQL
    (permissions.can_view_invoices_filter, from the cached grants), so this costs no
    query beyond the grants; ``profiles`` narrows it to the given profiles instead."""
    if profiles is None:
        scope = permissions.can_view_invoices_filter(user)
    else:
        scope = Q(profile_id__in=[p.pk for p in profiles])
    return (
        Invoice.objects.filter(scope)
        .select_related("account", "profile", "profile__account", "current_revision")
        .order_by(*NEWEST_FIRST)
    )


def invoice_values_for_user(user, columns: tuple[str, ...], *, named: bool = False) -> QuerySet:
    """The invoices of ``invoices_for_user`` as the values of ``columns`` only (tuples,
    or dicts when ``named``), for list pages that need no model instance per row."""
    return _newest_first(tuple(columns), named).filter(permissions.can_view_invoices_filter(user))


class FirstRowsPrepared:
    """``invoice_values_for_user(user, columns, named=named)`` (newest first, unfiltered)
    whose slices from the start, the first page that nearly every visit of a list shows,
    are read with SQL compiled once per shape (the columns, how many accounts and
    profiles the user reaches, the slice's end), the ids put in as values
    (billing_portal.db.PreparedRead): building it through the ORM cost more CPU than the
    rest of the page's query. Any other slice, a COUNT, and a user who reaches more
    scopes than a prepared read has slots go through the ORM's queryset."""

    def __init__(self, user, columns: tuple[str, ...], *, named: bool = False):
        self._user, self._columns, self._named = user, tuple(columns), named

    @cached_property
    def queryset(self) -> QuerySet:
        return invoice_values_for_user(self._user, self._columns, named=self._named)

    def __getitem__(self, item):
        if not (isinstance(item, slice) and not item.start and item.step is None and item.stop):
            return self.queryset[item]
        accounts, profiles = permissions.visible_scope_ids(self._user)
        if not accounts and not profiles:
            return []
        if len(accounts) + len(profiles) > PREPARED_IDS:
            return self.queryset[item]
        read = _first_rows_read(self._columns, self._named, len(accounts), len(profiles), item.stop)
        return read.rows(*accounts, *profiles)

    def count(self) -> int:
        return self.queryset.count()


# The most ids a prepared read of visible rows takes (PreparedRead's slots).
PREPARED_IDS = 99


def _visible_slots(accounts: int, profiles: int, **fields):
    """``permissions.scope_ids_filter`` with PreparedRead slots for ``accounts`` account
    ids and then ``profiles`` profile ids."""
    slots = [PreparedRead.slot(number) for number in range(1, accounts + profiles + 1)]
    return permissions.scope_ids_filter(slots[:accounts], slots[accounts:], **fields)


@lru_cache(maxsize=64)
def _first_rows_read(columns: tuple[str, ...], named: bool, accounts: int, profiles: int, size: int) -> PreparedRead:
    return PreparedRead(_newest_first(columns, named).filter(_visible_slots(accounts, profiles))[:size], None)


@lru_cache(maxsize=16)
def _newest_first(columns: tuple[str, ...], named: bool) -> QuerySet:
    """Resolving the columns costs about as much as the rest of a page's query, so it is
    done once per column set; this queryset is only ever filtered (a copy), never read."""
    invoices = Invoice.objects.order_by(*NEWEST_FIRST)
    return invoices.values(*columns) if named else invoices.values_list(*columns)


def invoice_filter_scopes(user) -> list[tuple]:
    """The subscriptions whose invoices the user may see, for the list's billing profile and
    subscription filters (invoices.filters), in one query: (subscription ID, name, pk,
    billing profile id, the profile's name, None for a default profile, which the
    interface never shows). Every invoice line names its subscription and a subscription
    never leaves its account, so these are the scopes of every invoice the user sees."""
    accounts, profiles = permissions.visible_scope_ids(user)
    if not accounts and not profiles:
        return []
    if len(accounts) + len(profiles) > PREPARED_IDS:
        rows = _scope_rows().filter(permissions.scope_ids_filter(accounts, profiles))
    else:  # compiled once per shape, as first_invoice_values
        rows = _scopes_read(len(accounts), len(profiles)).rows(*accounts, *profiles)
    return [
        (uuid, name, pk, profile_id, None if is_default else scope_name(account_name, profile_name, is_default))
        for uuid, name, pk, profile_id, account_name, profile_name, is_default in rows
    ]


@lru_cache(maxsize=32)
def _scopes_read(accounts: int, profiles: int) -> PreparedRead:
    return PreparedRead(_scope_rows().filter(_visible_slots(accounts, profiles)), None)


@lru_cache(maxsize=1)
def _scope_rows() -> QuerySet:
    """The columns and order of ``invoice_filter_scopes``, resolved once (as
    ``_newest_first``): on every list page, resolving them cost more than the query's
    filter. Only ever filtered (a copy), never read."""
    return Subscription.objects.order_by("profile__account__name", "profile__name", "name", "pk").values_list(
        "subscription_id",
        "name",
        "pk",
        "profile_id",
        "profile__account__name",
        "profile__name",
        "profile__is_default",
    )


def _invoice_with_scope(pk) -> Invoice:
    """One invoice with its profile, account and current revision (Invoice.DoesNotExist
    otherwise). The invoice's account is its profile's: read once, not joined twice."""
    invoice = _WITH_SCOPE.one(pk)
    if invoice.account_id == invoice.profile.account_id:
        invoice.account = invoice.profile.account
    return invoice


# Without the model's ordering: a get by primary key needs no ORDER BY (planning it cost
# PostgreSQL about 0.7 ms). Compiled once: building its SQL cost about 1 ms of CPU of every
# invoice door (docs/benchmarks.md).
_WITH_SCOPE = PreparedRead(Invoice.objects.select_related("profile__account", "current_revision").order_by(), "pk")


def get_invoice_for_user(user, pk) -> Invoice:
    try:
        invoice = _invoice_with_scope(pk)
    except (Invoice.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not permissions.can_view_invoices(user, invoice.profile):
        raise Http404
    return invoice


def get_revision_for_user(user, invoice_pk, revision_number=None) -> InvoiceRevision:
    """A revision of an invoice the user may see (the current one by default)."""
    return _revision_of(get_invoice_for_user(user, invoice_pk), revision_number)


def get_revision(invoice_pk, revision_number=None) -> InvoiceRevision:
    """A revision of any invoice (404 if there is none): for callers that checked the
    operator's own permission first (support staff, invoices.downloads)."""
    try:
        invoice = Invoice.objects.select_related("account", "profile", "current_revision").get(pk=invoice_pk)
    except (Invoice.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    return _revision_of(invoice, revision_number)


def _revision_of(invoice, revision_number) -> InvoiceRevision:
    if revision_number is None:
        revision = invoice.current_revision
    else:
        revision = invoice.revisions.filter(number=revision_number).first()
    if revision is None:
        raise Http404
    revision.invoice = invoice
    return revision


def credit_notes_for_invoice(invoice):
    """The credit notes of an invoice the caller may already see, oldest first."""
    return CreditNote.objects.filter(invoice_id=invoice.pk).select_related("applied_to").order_by("number")


def credit_notes_on_invoice(invoice) -> list[CreditNote]:
    """``credit_notes_for_invoice`` for an invoice's page. Every credit note adds its total
    to the invoice's ``amount_credited`` (``services.write_credit_note``), and only a
    correction of an invoice with nothing left to credit has a total of 0: an invoice
    with a positive total and nothing credited has none, and costs no query."""
    if invoice.amount_credited == 0 and invoice.total > 0:
        return []
    return list(credit_notes_for_invoice(invoice))


def replacing_invoice(credit_notes) -> Invoice | None:
    """The corrected invoice that replaces an invoice, from its credit notes (with
    ``applied_to`` loaded): the one its correction credit note names. A correction writes
    both at once (``services.invoice_correct``, once per invoice), so no query is needed."""
    return next((note.applied_to for note in credit_notes if note.kind == CreditNoteKind.CORRECTION), None)


def revisions_for_invoice(invoice) -> list[InvoiceRevision]:
    """An invoice's revisions, newest first. Revisions are numbered from 1 and the current
    one is the newest (an amendment adds the next number and makes it current), so an
    invoice whose current revision is number 1 has no other: no query for it."""
    current = invoice.current_revision
    if current is not None and current.number == 1:
        return [current]
    return list(invoice.revisions.order_by("-number"))


def credit_notes_for_user(user) -> QuerySet[CreditNote]:
    """Every credit note of the invoices the user may see, newest first (one query beyond
    the cached grants), with the invoice loaded: for a payment history."""
    return (
        CreditNote.objects.filter(permissions.can_view_invoices_filter(user))
        .select_related("invoice", "applied_to")
        .order_by("-issue_date", "-number")
    )


def get_credit_note_for_user(user, pk) -> CreditNote:
    """A credit note of an invoice the user may see (the invoice's read rule); 404 otherwise."""
    try:
        credit_note = CreditNote.objects.select_related(
            "invoice", "invoice__account", "revision", "profile", "profile__account", "applied_to"
        ).get(pk=pk)
    except (CreditNote.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not permissions.can_view_invoices(user, credit_note.profile):
        raise Http404
    return credit_note


def get_invoice_to_credit(user, pk) -> Invoice:
    """The invoice a credit note is asked for: any invoice for support staff (who hold no
    customer role), otherwise one the user may see (another tenant's is a 404); the
    service then refuses customer roles (403)."""
    if not permissions.can_credit_invoices(user):
        return get_invoice_for_user(user, pk)
    try:
        return _invoice_with_scope(pk)
    except (Invoice.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


# --- What a billing scope owes (the overview) ---------------------------------------------------


@dataclass(frozen=True)
class Owed:
    """A billing scope's open invoices, summed: what is still to pay (``balance_due``),
    of which past due, the next due date of an invoice not yet past due, and the invoice
    to pay first (the open invoice due earliest)."""

    invoice_count: int
    open_count: int
    balance_due: Decimal
    past_due_amount: Decimal
    past_due_count: int
    next_due_date: dt.date | None
    first_to_pay: Invoice | None


_OPEN = (InvoiceStatus.DUE, InvoiceStatus.PAST_DUE)
_AMOUNT_DUE = Greatest(F("total") - F("amount_credited") - F("amount_paid"), Value(Decimal("0")))


def owed_by_scope(profile_ids: list[int]) -> dict[int, Owed]:
    """What each of these billing profiles owes, whatever their number and their
    invoices': two queries (the sums per profile; the open invoice due first per
    profile). The caller chose profiles the user may see (can_view_invoices). Amounts are
    in the scope's currency: every invoice of a scope is billed in its account's."""
    if not profile_ids:
        return {}
    sums = (
        Invoice.objects.filter(profile_id__in=profile_ids)
        .values("profile_id")
        .annotate(
            invoice_count=Count("pk"),
            open_count=Count("pk", filter=Q(status__in=_OPEN)),
            balance_due=Sum(_AMOUNT_DUE, filter=Q(status__in=_OPEN)),
            past_due_amount=Sum(_AMOUNT_DUE, filter=Q(status=InvoiceStatus.PAST_DUE)),
            past_due_count=Count("pk", filter=Q(status=InvoiceStatus.PAST_DUE)),
            next_due_date=Min("due_date", filter=Q(status=InvoiceStatus.DUE)),
        )
        .order_by()
    )
    first = {
        invoice.profile_id: invoice
        for invoice in Invoice.objects.filter(profile_id__in=profile_ids, status__in=_OPEN)
        .annotate(
            place=Window(RowNumber(), partition_by=[F("profile_id")], order_by=[F("due_date").asc(), F("pk").asc()])
        )
        .filter(place=1)
    }
    zero = Decimal("0.00")
    return {
        row["profile_id"]: Owed(
            invoice_count=row["invoice_count"],
            open_count=row["open_count"],
            balance_due=row["balance_due"] or zero,
            past_due_amount=row["past_due_amount"] or zero,
            past_due_count=row["past_due_count"],
            next_due_date=row["next_due_date"],
            first_to_pay=first.get(row["profile_id"]),
        )
        for row in sums
    }
