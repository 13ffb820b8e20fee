"""Reads of the support app: a customer's requests (404 for anyone else's), and the
support queue, which holds both kinds of request, oldest first."""

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from accounts import permissions
from accounts.selectors import profiles_for_user
from billing_portal import clock
from purchase_orders.models import AmendmentRequest, AmendmentStatus

from .models import OPEN_STATUSES, WAITING_FOR_SUPPORT, PayByInvoiceRequest

KIND_PAY_BY_INVOICE = "pay_by_invoice"
KIND_AMENDMENT = "invoice_amendment"


def requestable_profiles(user) -> list:
    """The billing scopes the user may ask to pay by invoice for (PBI-1)."""
    return [p for p in profiles_for_user(user) if permissions.can_request_pay_by_invoice(user, p)]


def requests_for_user(user) -> QuerySet[PayByInvoiceRequest]:
    """Pay-by-invoice requests of the scopes the user may ask for, newest first."""
    profile_ids = [p.pk for p in requestable_profiles(user)]
    return (
        PayByInvoiceRequest.objects.filter(profile_id__in=profile_ids)
        .select_related("account", "profile", "subscription")
        .order_by("-created_at", "-pk")
    )


def get_request_for_user(user, pk) -> PayByInvoiceRequest:
    try:
        return requests_for_user(user).get(pk=int(pk))
    except (PayByInvoiceRequest.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def get_request_for_staff(user, pk) -> PayByInvoiceRequest:
    """A request for support staff; a customer is refused (403), as on the queue."""
    if not permissions.can_work_support_queue(user):
        raise PermissionDenied
    try:
        return PayByInvoiceRequest.objects.select_related("account", "profile", "subscription", "created_by").get(
            pk=int(pk)
        )
    except (PayByInvoiceRequest.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


@dataclass(frozen=True)
class QueueRow:
    kind: str
    pk: int
    reference: str
    account: object
    status: str
    status_label: str
    waiting_for_support: bool
    created_at: dt.datetime


@dataclass(frozen=True)
class QueueFilter:
    kind: str = ""
    status: str = "open"  # "open", "waiting", "closed", "" (all)
    older_than_days: int | None = None
    country: str = ""
    agreement_type: str = ""


def _pbi_rows(f: QueueFilter) -> list[QueueRow]:
    rows = PayByInvoiceRequest.objects.select_related("account")
    if f.status == "open":
        rows = rows.filter(status__in=OPEN_STATUSES)
    elif f.status == "waiting":
        rows = rows.filter(status__in=WAITING_FOR_SUPPORT)
    elif f.status == "closed":
        rows = rows.exclude(status__in=OPEN_STATUSES)
    return [
        QueueRow(
            KIND_PAY_BY_INVOICE,
            r.pk,
            r.reference,
            r.account,
            r.status,
            r.get_status_display(),
            r.waits_for_support,
            r.created_at,
        )
        for r in _common_filters(rows, f, "created_at")
    ]


def _amendment_rows(f: QueueFilter) -> list[QueueRow]:
    rows = AmendmentRequest.objects.select_related("account")
    if f.status in ("open", "waiting"):
        rows = rows.filter(status=AmendmentStatus.OPEN)
    elif f.status == "closed":
        rows = rows.exclude(status=AmendmentStatus.OPEN)
    return [
        QueueRow(
            KIND_AMENDMENT,
            r.pk,
            f"PO-5-{r.pk:06d}",
            r.account,
            r.status,
            r.get_status_display(),
            r.status == AmendmentStatus.OPEN,
            r.requested_at,
        )
        for r in _common_filters(rows, f, "requested_at")
    ]


def _common_filters(rows, f: QueueFilter, created_field: str):
    if f.older_than_days:
        rows = rows.filter(**{f"{created_field}__lte": clock.now() - dt.timedelta(days=f.older_than_days)})
    if f.country:
        rows = rows.filter(account__country=f.country)
    if f.agreement_type:
        rows = rows.filter(account__agreement_type=f.agreement_type)
    return rows.order_by(created_field, "pk")


def support_queue(user, f: QueueFilter = QueueFilter()) -> list[QueueRow]:
    """Both kinds of request, oldest first (support staff only; 403 for anyone else)."""
    if not permissions.can_work_support_queue(user):
        raise PermissionDenied
    rows = []
    if f.kind in ("", KIND_PAY_BY_INVOICE):
        rows += _pbi_rows(f)
    if f.kind in ("", KIND_AMENDMENT):
        rows += _amendment_rows(f)
    return sorted(rows, key=lambda row: (row.created_at, row.kind, row.pk))


def waiting_count() -> int:
    """Requests of both kinds waiting for support staff (the number in their navigation)."""
    return (
        PayByInvoiceRequest.objects.filter(status__in=WAITING_FOR_SUPPORT).count()
        + AmendmentRequest.objects.filter(status=AmendmentStatus.OPEN).count()
    )
