"""Support requests to amend the PO or VAT number printed on an issued invoice (PO-5):
the customer's request, support staff approving or declining it, and the e-mails.

Each public function is one transaction and checks the actor's role
(accounts.permissions) and the request's state before writing anything.
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts import permissions
from accounts.models import AgreementType
from billing_portal import clock
from billing_portal.card_numbers import refuse_card_number
from billing_portal.errors import Conflict, InvalidInput, NotAllowed
from billing_portal.validators import clean_po_number, clean_vat_id
from invoices.printed import RevisionReason
from invoices.services import invoice_amend
from notifications.services import notification_queue

from ..models import AmendmentRequest, AmendmentStatus, ChangedField, ChangeSource, PeriodPONumber
from ..windows import edit_window
from .history import record
from .numbers import po_1_refusal

MESSAGE_MAX_LENGTH = 2000
AMENDMENT_RECEIVED = "po_amendment_received"
AMENDMENT_WAITING = "po_amendment_waiting"


def _clean_message(value: str, *, field: str, required_message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(required_message, code="required", fields={field: [required_message]})
    if len(value) > MESSAGE_MAX_LENGTH:
        msg = _("At most %(max)d characters.") % {"max": MESSAGE_MAX_LENGTH}
        raise InvalidInput(msg, code="too_long", fields={field: [msg]})
    refuse_card_number(value, field=field)
    return value


def _country_code(account) -> str:
    return account.country.code if account.country else ""


def _refuse_void(invoice) -> None:
    if invoice.status == "void":
        raise InvalidInput(_("This invoice is void and cannot be amended."), code="invoice_void")


@dataclass
class _Change:
    """The numbers a request asks for: a value, or None to leave a number as printed."""

    po_number: str | None
    vat_id: str | None


def _requested_po_number(actor, profile, po_number: str | None, printed: str) -> str | None:
    if po_number is None:
        return None
    if not permissions.can_edit_po(actor, profile):
        raise NotAllowed(_("Your role may not change the PO number."), code="po_role_not_allowed")
    refusal = po_1_refusal(profile)
    if refusal is not None:
        raise refusal
    po_number = clean_po_number(po_number)
    return None if po_number == printed else po_number


def _requested_vat_id(actor, account, vat_id: str | None, printed: str) -> str | None:
    if vat_id is None:
        return None
    if not permissions.can_edit_vat(actor, account):
        raise NotAllowed(_("Your role may not change the VAT number."), code="vat_role_not_allowed")
    vat_id = clean_vat_id(vat_id, _country_code(account))
    return None if vat_id == printed else vat_id


def _requested_change(invoice, actor, *, po_number, vat_id, printed_po, printed_vat) -> _Change:
    """The numbers that differ from what the invoice prints; refuses a request that
    changes nothing, a void invoice and a PO the enrollment's admin can still change."""
    profile = invoice.profile
    account = profile.account
    change = _Change(
        po_number=_requested_po_number(actor, profile, po_number, printed_po),
        vat_id=_requested_vat_id(actor, account, vat_id, printed_vat),
    )
    if change.po_number is None and change.vat_id is None:
        msg = _("Enter a PO number or VAT number that differs from the one on the invoice.")
        raise InvalidInput(msg, code="nothing_to_change", fields={"po_number": [msg]})
    _refuse_void(invoice)
    if change.po_number is not None and account.agreement_type == AgreementType.ENTERPRISE:
        if edit_window(invoice=invoice, time_zone=account.time_zone).is_open:
            raise InvalidInput(
                _("You can still change this PO number yourself on the Usage summary; no support request is needed."),
                code="po_window_open",
            )
    return change


@transaction.atomic
def amendment_request_create(
    *, invoice, actor, message: str, po_number: str | None = None, vat_id: str | None = None
) -> AmendmentRequest:
    """A customer asks support to change the PO and/or VAT number printed on an issued
    invoice (PO-5). ``None`` leaves a number as it is; a PO change needs a role that
    may edit the PO number, a VAT change one that may edit the VAT number (PO-2)."""
    profile = invoice.profile
    if not permissions.can_request_invoice_amendment(actor, profile):
        raise NotAllowed(_("Your role may not ask to amend this invoice."), code="amendment_not_allowed")
    revision = invoice.current_revision
    printed_po = revision.po_number if revision else ""
    printed_vat = revision.vat_id if revision else ""
    change = _requested_change(
        invoice, actor, po_number=po_number, vat_id=vat_id, printed_po=printed_po, printed_vat=printed_vat
    )
    message = _clean_message(message, field="message", required_message=_("Tell support why the invoice must change."))
    if AmendmentRequest.objects.select_for_update().filter(invoice=invoice, status=AmendmentStatus.OPEN).exists():
        raise Conflict(
            _("There is already an open request to amend invoice %(number)s.") % {"number": invoice.number},
            code="amendment_already_open",
        )
    amendment = AmendmentRequest.objects.create(
        account=profile.account,
        profile=profile,
        invoice=invoice,
        change_po_number=change.po_number is not None,
        po_number=change.po_number or "",
        change_vat_id=change.vat_id is not None,
        vat_id=change.vat_id or "",
        current_po_number=printed_po,
        current_vat_id=printed_vat,
        message=message,
        requested_by=actor,
        requested_at=clock.now(),
    )
    amendment_request_notify_received(request=amendment)
    return amendment


def _lock_open_request(request: AmendmentRequest, actor) -> AmendmentRequest:
    if not permissions.can_work_support_queue(actor):
        raise NotAllowed(_("Only support staff can handle amendment requests."), code="support_only")
    locked = (
        AmendmentRequest.objects.select_for_update(of=("self",))
        .select_related("account", "profile", "invoice", "requested_by")
        .get(pk=request.pk)
    )
    if not locked.is_open:
        raise Conflict(
            _("This request was already %(status)s.") % {"status": locked.get_status_display().lower()},
            code="amendment_already_handled",
        )
    return locked


def _request_context(request: AmendmentRequest, **extra) -> dict:
    """What the e-mails about a request show (JSON-safe); links are paths that the
    templates put after ``portal_base_url``."""
    return {
        "request_id": request.pk,
        "account_name": request.account.name,
        "invoice_number": request.invoice.number,
        "change_po_number": request.change_po_number,
        "current_po_number": request.current_po_number,
        "po_number": request.po_number,
        "change_vat_id": request.change_vat_id,
        "current_vat_id": request.current_vat_id,
        "vat_id": request.vat_id,
        "request_path": reverse("purchase_orders:amendment_detail", args=[request.pk]),
        **extra,
    }


def _notify_user(request: AmendmentRequest, kind: str, user, *, dedupe_key: str, context: dict) -> None:

    if user is not None and user.is_active:
        notification_queue(
            kind=kind,
            recipient=user.email,
            dedupe_key=dedupe_key,
            language=user.language,
            context=context,
            account=request.account,
            invoice=request.invoice,
        )


def _notify(request: AmendmentRequest, kind: str, extra: dict) -> None:
    """Tell the customer who asked how their request was handled."""
    user = request.requested_by
    if user is not None:
        _notify_user(
            request,
            kind,
            user,
            dedupe_key=f"{kind}:{request.pk}:{user.email}",
            context=_request_context(request, **extra),
        )


@transaction.atomic
def amendment_request_notify_received(*, request: AmendmentRequest) -> None:
    """A new request (PO-5): the customer gets a receipt and every active support-staff
    user word that it waits in the queue, each in their own language. Queued once per
    request and recipient (dedupe keys), so running this again sends nothing new."""
    _notify_user(
        request,
        AMENDMENT_RECEIVED,
        request.requested_by,
        dedupe_key=f"{AMENDMENT_RECEIVED}:{request.pk}",
        context=_request_context(request),
    )
    staff = get_user_model().objects.filter(is_support_staff=True, is_active=True).order_by("pk")
    context = _request_context(
        request,
        message=request.message,
        support_path=reverse("purchase_orders:support_request", args=[request.pk]),
    )
    for user in staff:
        if permissions.can_work_support_queue(user):
            _notify_user(
                request,
                AMENDMENT_WAITING,
                user,
                dedupe_key=f"{AMENDMENT_WAITING}:{request.pk}:{user.pk}",
                context=context,
            )


def _align_period_po_number(profile, period, po_number: str, actor) -> None:
    """Keep the enterprise period's PO in line with what the amended invoice prints."""
    row, created = PeriodPONumber.objects.select_for_update().get_or_create(
        profile=profile, period=period, defaults={"po_number": po_number, "set_by": actor, "set_at": clock.now()}
    )
    if not created and row.po_number != po_number:
        row.po_number, row.set_by, row.set_at = po_number, actor, clock.now()
        row.version += 1
        row.save(update_fields=["po_number", "set_by", "set_at", "version"])


@transaction.atomic
def amendment_request_approve(*, request: AmendmentRequest, actor) -> AmendmentRequest:
    """Support staff approve: the invoice gets a new revision with the requested numbers
    and a new PDF (the earlier revision stays readable), the change is recorded in the
    history and the customer is notified (PO-5)."""
    locked = _lock_open_request(request, actor)
    account, invoice = locked.account, locked.invoice
    po_number = clean_po_number(locked.po_number) if locked.change_po_number else None
    vat_id = clean_vat_id(locked.vat_id, _country_code(account)) if locked.change_vat_id else None
    _refuse_void(invoice)
    if po_number is not None and (refusal := po_1_refusal(locked.profile)) is not None:
        raise refusal  # PO-1 holds at approval too: a request filed by a card-paying account
    invoice.refresh_from_db()
    before = invoice.current_revision
    revision = invoice_amend(
        invoice=invoice,
        actor=actor,
        reason=locked.message,
        reason_code=RevisionReason.SUPPORT_REQUEST,
        reason_ref=locked.pk,
        po_number=po_number,
        vat_id=vat_id,
    )
    common = {
        "account": account,
        "profile": locked.profile,
        "actor": actor,
        "invoice": invoice,
        "source": ChangeSource.SUPPORT_AMENDMENT,
        "amendment_request": locked,
    }
    if po_number is not None:
        record(
            field=ChangedField.PO_NUMBER,
            old=before.po_number if before else "",
            new=po_number,
            period=invoice.period if account.is_enterprise else None,
            **common,
        )
        if account.is_enterprise:
            _align_period_po_number(locked.profile, invoice.period, po_number, actor)
    if vat_id is not None:
        record(field=ChangedField.VAT_ID, old=before.vat_id if before else "", new=vat_id, **common)
    locked.status = AmendmentStatus.APPROVED
    locked.handled_by, locked.handled_at = actor, clock.now()
    locked.revision = revision
    locked.save(update_fields=["status", "handled_by", "handled_at", "revision"])
    _notify(locked, "po_amendment_approved", {"revision_number": getattr(revision, "number", None)})
    return locked


@transaction.atomic
def amendment_request_decline(*, request: AmendmentRequest, actor, reason: str) -> AmendmentRequest:
    """Support staff decline with a reason; the customer is notified; the invoice stays."""
    if not permissions.can_work_support_queue(actor):
        raise NotAllowed(_("Only support staff can handle amendment requests."), code="support_only")
    reason = _clean_message(reason, field="reason", required_message=_("Give the customer a reason."))
    locked = _lock_open_request(request, actor)
    locked.status = AmendmentStatus.DECLINED
    locked.handled_by, locked.handled_at = actor, clock.now()
    locked.decline_reason = reason
    locked.save(update_fields=["status", "handled_by", "handled_at", "decline_reason"])
    _notify(locked, "po_amendment_declined", {"decline_reason": reason})
    return locked
