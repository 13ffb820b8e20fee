"""Reads of PO and VAT numbers, enterprise periods, their history and amendment requests.

Every function that serves a request takes the user and returns only what that user
may see; an unknown or other tenant's id raises ``Http404``.
"""

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Q, QuerySet, Sum, Window
from django.db.models.functions import RowNumber
from django.http import Http404

from accounts import permissions
from accounts.models import AgreementType, BillingAccount, BillingProfile
from accounts.selectors import accounts_for_user, get_account_for_user, profiles_for_user
from billing_portal import clock
from invoices.models import Charge, Invoice

from .models import AmendmentRequest, AmendmentStatus, NumberChange, PeriodPONumber
from .windows import EditWindow, edit_window

# How many billing periods the Usage summary offers.
PERIODS_SHOWN = 24


def default_period_po_number(profile: BillingProfile) -> str:
    """PO-6: an enterprise period without a PO set by the EA admin uses the enrollment number."""
    return profile.account.enrollment_number


def po_numbers_in_force(profiles: list[BillingProfile], period: dt.date) -> dict[int, str]:
    """The PO number to print on each profile's invoice for ``period`` (PO-8 snapshot).

    Web direct and customer agreement: the profile's current PO number. Enterprise: the
    PO set for that period, else the default (PO-6). One query whatever the number of
    profiles (``profiles`` must have ``account`` loaded).
    """
    enterprise_ids = [p.pk for p in profiles if p.account.agreement_type == "enterprise"]
    period_pos = (
        dict(
            PeriodPONumber.objects.filter(profile_id__in=enterprise_ids, period=period).values_list(
                "profile_id", "po_number"
            )
        )
        if enterprise_ids
        else {}
    )
    result = {}
    for profile in profiles:
        if profile.account.agreement_type == "enterprise":
            result[profile.pk] = period_pos.get(profile.pk) or default_period_po_number(profile)
        else:
            result[profile.pk] = profile.po_number
    return result


# --- Periods ----------------------------------------------------------------------------------


def current_period(account: BillingAccount) -> dt.date:
    """The billing period (calendar month in the account's time zone) running now."""
    return clock.month_start(clock.today(account.time_zone))


def get_period(account: BillingAccount, value) -> dt.date:
    """A billing period named in a URL: well formed and not in the future, else Http404."""
    day = clock.parse_period(value)
    if day is None or day > current_period(account):
        raise Http404
    return day


def _invoices():
    return Invoice.objects.select_related("current_revision")


def invoice_for_period(profile: BillingProfile, period: dt.date):
    return _invoices().filter(profile=profile, period=period).first()


@dataclass
class PeriodState:
    """An enrollment's billing period as the Usage summary shows it."""

    period: dt.date
    row: PeriodPONumber | None
    invoice: object | None
    window: EditWindow
    default: str

    @property
    def po_number(self) -> str:
        """The PO number in force (PO-6: the enrollment number unless one was set)."""
        return (self.row.po_number if self.row else "") or self.default

    @property
    def is_default(self) -> bool:
        return not (self.row and self.row.po_number)

    @property
    def version(self) -> int:
        return self.row.version if self.row else 0

    @property
    def printed_po_number(self) -> str | None:
        """What the issued invoice prints (PO-8), or None before generation."""
        if self.invoice is None or self.invoice.current_revision is None:
            return None
        return self.invoice.current_revision.po_number

    @property
    def key(self) -> str:
        return f"{self.period:%Y-%m}"


def period_state(profile: BillingProfile, period: dt.date) -> PeriodState:
    invoice = invoice_for_period(profile, period)
    row = PeriodPONumber.objects.filter(profile=profile, period=period).select_related("set_by").first()
    return PeriodState(
        period=period,
        row=row,
        invoice=invoice,
        window=edit_window(invoice=invoice, time_zone=profile.account.time_zone),
        default=default_period_po_number(profile),
    )


def enterprise_periods(profile: BillingProfile, limit: int = PERIODS_SHOWN) -> list[PeriodState]:
    """The current period and every period with charges, an invoice or a PO set, newest
    first. Three queries whatever the number of periods."""
    now = clock.now()
    current = current_period(profile.account)
    periods = {current}
    periods.update(Charge.objects.filter(profile=profile).values_list("period", flat=True).distinct())
    invoices = {inv.period: inv for inv in _invoices().filter(profile=profile).order_by("-period")[:limit]}
    rows = {row.period: row for row in PeriodPONumber.objects.filter(profile=profile).select_related("set_by")}
    periods.update(invoices)
    periods.update(rows)
    default = default_period_po_number(profile)
    chosen = sorted((p for p in periods if p <= current), reverse=True)[:limit]
    return [
        PeriodState(
            period=p,
            row=rows.get(p),
            invoice=invoices.get(p),
            window=edit_window(invoice=invoices.get(p), time_zone=profile.account.time_zone, now=now),
            default=default,
        )
        for p in chosen
    ]


def enrollment_po_states(profiles: list[BillingProfile]) -> dict[int, PeriodState]:
    """For the overview: each enrollment's PO number in force and its PO-7 window, for the
    period of its newest invoice (the one it pays now; the window says whether the PO
    printed on it can still change), or the current period before its first invoice.
    Two queries whatever the number of enrollments (``profiles`` with ``account`` loaded;
    other agreement types are left out)."""
    enrollments = [p for p in profiles if p.account.agreement_type == AgreementType.ENTERPRISE]
    if not enrollments:
        return {}
    newest = {
        invoice.profile_id: invoice
        for invoice in _invoices()
        .filter(profile_id__in=[p.pk for p in enrollments], replaces__isnull=True)
        .annotate(place=Window(RowNumber(), partition_by=[F("profile_id")], order_by=[F("period").desc()]))
        .filter(place=1)
    }
    periods = {p.pk: newest[p.pk].period if p.pk in newest else current_period(p.account) for p in enrollments}
    rows = {
        (row.profile_id, row.period): row
        for row in PeriodPONumber.objects.filter(profile_id__in=list(periods), period__in=set(periods.values()))
    }
    now = clock.now()
    return {
        p.pk: PeriodState(
            period=periods[p.pk],
            row=rows.get((p.pk, periods[p.pk])),
            invoice=newest.get(p.pk),
            window=edit_window(invoice=newest.get(p.pk), time_zone=p.account.time_zone, now=now),
            default=default_period_po_number(p),
        )
        for p in enrollments
    }


def charges_summary(profile: BillingProfile, period: dt.date) -> dict:
    """The period's charges per service (one query): rows, total, currency."""
    rows = list(
        Charge.objects.filter(profile=profile, period=period)
        .values("service_name", "currency")
        .annotate(amount=Sum("amount"), lines=Count("id"))
        .order_by("service_name", "currency")
    )
    currency = rows[0]["currency"] if rows else profile.account.currency
    total = sum((r["amount"] for r in rows if r["currency"] == currency), start=0)
    return {"rows": rows, "total": total, "currency": currency}


# --- Scopes -------------------------------------------------------------------------------------


def enterprise_accounts_for_user(user) -> list[BillingAccount]:
    """Enrollments whose Usage summary the user may see (PO-4)."""
    return [a for a in accounts_for_user(user) if permissions.can_view_usage_summary(user, a)]


def get_enterprise_account_for_user(user, pk) -> BillingAccount:
    account = get_account_for_user(user, pk)
    if account.agreement_type != AgreementType.ENTERPRISE or not permissions.can_view_usage_summary(user, account):
        raise Http404
    return account


def enterprise_profile(account: BillingAccount) -> BillingProfile:
    profile = account.profiles.select_related("account").get(is_default=True)
    return profile


# --- History --------------------------------------------------------------------------------------


def number_changes_for_user(user, account: BillingAccount, *, field: str | None = None, profile=None) -> QuerySet:
    """PO and VAT changes of the account that the user may read: account-level roles
    read all of them; billing-profile roles those of their profiles and the account's
    VAT number. ``account`` must already be visible to the user."""
    grants = [g for g in permissions.grants(user) if g.account_id == account.pk]
    if not grants:
        raise Http404
    qs = NumberChange.objects.filter(account=account)
    if not any(g.profile_id is None for g in grants):
        profile_ids = {g.profile_id for g in grants}
        qs = qs.filter(Q(profile_id__in=profile_ids) | Q(profile__isnull=True))
    if field:
        qs = qs.filter(field=field)
    if profile is not None:
        qs = qs.filter(Q(profile=profile) | Q(profile__isnull=True)) if field is None else qs.filter(profile=profile)
    return qs.select_related("changed_by", "profile", "invoice").order_by("-changed_at", "-id")


# --- Amendment requests (PO-5) ------------------------------------------------------------------------


def amendment_requests_for_user(user) -> QuerySet[AmendmentRequest]:
    """Requests on the billing profiles the user can reach."""
    return (
        AmendmentRequest.objects.filter(profile__in=profiles_for_user(user).values("pk"))
        .select_related("account", "profile", "profile__account", "invoice", "requested_by", "revision")
        .order_by("-requested_at", "-id")
    )


def get_amendment_request_for_user(user, pk) -> AmendmentRequest:
    try:
        return amendment_requests_for_user(user).get(pk=int(pk))
    except (AmendmentRequest.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def may_request_amendments(user) -> bool:
    """PO-5: may the user ask support to amend an issued invoice on any billing scope?
    The predicate of ``amendment_request_create`` (``can_request_invoice_amendment``), so
    every link to a new amendment request is shown exactly to those it would not refuse."""
    return any(permissions.can_request_invoice_amendment(user, p) for p in profiles_for_user(user))


def amendable_invoices_for_user(user) -> list:
    """Issued, non-void invoices on which the user may ask for an amendment."""
    profiles = [p for p in profiles_for_user(user) if permissions.can_request_invoice_amendment(user, p)]
    if not profiles:
        return []
    return list(
        _invoices()
        .filter(profile__in=profiles)
        .exclude(status="void")
        .select_related("account", "profile", "profile__account")
        .order_by("-issue_date", "-number")
    )


def get_invoice_for_amendment(user, pk):
    """An invoice the user can see (else 404); the service checks the role."""
    try:
        invoice = _invoices().select_related("account", "profile", "profile__account").get(pk=int(pk))
    except (Invoice.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not permissions.can_view_invoices(user, invoice.profile):
        raise Http404
    return invoice


def support_queue(user, status: str | None = AmendmentStatus.OPEN) -> QuerySet[AmendmentRequest]:
    """Support staff only (PermissionDenied for everyone else)."""
    if not permissions.can_work_support_queue(user):
        raise PermissionDenied
    qs = AmendmentRequest.objects.select_related(
        "account", "profile", "profile__account", "invoice", "requested_by", "handled_by"
    )
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("requested_at", "id") if status == AmendmentStatus.OPEN else qs.order_by("-requested_at", "-id")


def get_support_request(user, pk) -> AmendmentRequest:
    qs = support_queue(user, status=None).select_related("invoice__current_revision", "revision")
    try:
        return qs.get(pk=int(pk))
    except (AmendmentRequest.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
