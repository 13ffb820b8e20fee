"""Writes for PO and VAT numbers and invoice amendment requests.

Each function is one transaction, checks the actor's role (accounts.permissions) and
the state before writing anything, and records every change (who, when, scope, old
value, new value, the invoice it was applied to) as a ``NumberChange`` row.

Concurrency: the scope row is locked (``select_for_update``) and the caller passes the
``version`` it read; if someone saved in between, ``Conflict`` (code ``stale_version``)
is raised and nothing is written, so a stale form never overwrites an unseen edit.
"""

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts import permissions
from accounts.models import AgreementType, BillingAccount, BillingProfile, PaymentMode
from billing_portal import clock
from billing_portal.errors import Conflict, InvalidInput, NotAllowed
from billing_portal.validators import clean_po_number, clean_vat_id
from notifications.services import notification_queue

from . import selectors
from .models import AmendmentRequest, AmendmentStatus, ChangedField, ChangeSource, NumberChange, PeriodPONumber
from .windows import edit_window

MESSAGE_MAX_LENGTH = 2000


def _stale(current_value: str, changed_by=None, changed_at=None) -> Conflict:
    detail = _(
        "Someone else changed this number to “%(value)s” while you were editing it. "
        "Review the current value and save again if you still want your change."
    ) % {"value": current_value or "—"}
    return Conflict(detail, code="stale_version", fields={"current_value": [current_value]})


def _check_version(expected: int | None, actual: int, current_value: str) -> None:
    if expected is not None and int(expected) != actual:
        raise _stale(current_value)


def _record(
    *,
    account,
    field,
    old,
    new,
    actor,
    profile=None,
    period=None,
    invoice=None,
    source=ChangeSource.EDIT,
    amendment_request=None,
) -> NumberChange:
    return NumberChange.objects.create(
        account=account,
        profile=profile,
        period=period,
        field=field,
        old_value=old or "",
        new_value=new or "",
        changed_by=actor,
        changed_at=clock.now(),
        invoice=invoice,
        source=source,
        amendment_request=amendment_request,
    )


def _invoice_amend(**kwargs):
    # Imported at call time: the invoices app owns amendments (new revision + new PDF).
    from invoices.services import invoice_amend

    return invoice_amend(**kwargs)


# --- Web direct and customer agreement: the PO for the next invoice ------------------------------


@transaction.atomic
def profile_po_number_set(
    *, profile: BillingProfile, po_number: str, actor, version: int | None = None
) -> BillingProfile:
    """Set the PO number printed on the profile's next invoice (PO-1, PO-2, PO-3, PO-5).

    Web direct: only when the account pays by invoice (PO-1), by the account admin.
    Customer agreement: billing account/profile owner or contributor. Issued invoices
    keep the number they were generated with (PO-8); changing one needs a support
    request. Enterprise PO numbers are per billing period: see ``period_po_number_set``.
    """
    account = profile.account
    if account.agreement_type == AgreementType.ENTERPRISE:
        raise InvalidInput(
            _("An enrollment has a PO number per billing period: change it on the Usage summary."),
            code="po_per_period",
        )
    if not permissions.can_edit_po(actor, profile):
        raise NotAllowed(_("Your role can see this PO number but not change it."), code="po_role_not_allowed")
    if account.agreement_type == AgreementType.WEB_DIRECT and account.payment_mode != PaymentMode.INVOICE:
        raise NotAllowed(
            _(
                "A PO number can only be added when the account pays by invoice (cheque or wire transfer). "
                "To pay by invoice, open a support request under Help + support."
            ),
            code="pay_by_invoice_required",
        )
    new_value = clean_po_number(po_number)
    locked = BillingProfile.objects.select_for_update().get(pk=profile.pk)
    _check_version(version, locked.version, locked.po_number)
    old_value = locked.po_number
    if new_value != old_value:
        locked.po_number = new_value
        locked.version += 1
        locked.save(update_fields=["po_number", "version"])
        _record(
            account=account, profile=locked, field=ChangedField.PO_NUMBER, old=old_value, new=new_value, actor=actor
        )
    profile.po_number, profile.version = locked.po_number, locked.version
    return locked


# --- Enterprise: the PO of a billing period (PO-4, PO-6, PO-7) -------------------------------------


def _validate_period(account: BillingAccount, period) -> dt.date:
    if not isinstance(period, dt.date) or period.day != 1:
        raise InvalidInput(_("A billing period is a calendar month."), code="invalid_period")
    if period > selectors.current_period(account):
        raise InvalidInput(
            _("You can set the PO number of the current billing period or of an earlier one."),
            code="period_in_future",
            fields={"period": [_("This billing period has not started yet.")]},
        )
    return period


@transaction.atomic
def period_po_number_set(
    *, profile: BillingProfile, period: dt.date, po_number: str, actor, version: int | None = None
) -> PeriodPONumber:
    """Set the PO number of an enrollment's billing period.

    Empty restores the default, the enrollment number (PO-6). Before the period's
    invoice is generated the number simply goes on that invoice. Once it is generated
    the number can still change until the end of day 7 after the automated-invoice
    notification (account time zone, see ``windows``); such a change amends the issued
    invoice (a new revision with a new PDF, PO-7) and the history links it to that
    invoice. After the window only a support request can change it (PO-5).
    """
    account = profile.account
    if account.agreement_type != AgreementType.ENTERPRISE:
        raise InvalidInput(_("Only an enrollment has a PO number per billing period."), code="not_enterprise")
    if not permissions.can_edit_po(actor, profile):
        raise NotAllowed(_("Your role can see this PO number but not change it."), code="po_role_not_allowed")
    period = _validate_period(account, period)
    new_value = clean_po_number(po_number)
    # Every period PO edit of the enrollment is serialised on its profile row, which
    # also makes creating the period's row race-free.
    BillingProfile.objects.select_for_update().get(pk=profile.pk)
    row = PeriodPONumber.objects.filter(profile=profile, period=period).first()
    default = selectors.default_period_po_number(profile)
    old_in_force = (row.po_number if row else "") or default
    _check_version(version, row.version if row else 0, old_in_force)
    invoice = selectors.invoice_for_period(profile, period)
    window = edit_window(invoice=invoice, time_zone=account.time_zone)
    if not window.is_open:
        raise NotAllowed(
            _(
                "The PO number of this billing period can no longer be changed here: the seven days after the "
                "invoice notification ended on %(day)s. Open a support request to change it on the invoice."
            )
            % {"day": window.last_day.isoformat()},
            code="po_window_closed",
        )
    new_in_force = new_value or default
    if row is not None and row.po_number == new_value:
        return row
    if row is None and not new_value:
        # Nothing set and asked for the default: already in force.
        return PeriodPONumber(profile=profile, period=period, po_number="", version=0)
    if row is None:
        row = PeriodPONumber.objects.create(
            profile=profile, period=period, po_number=new_value, set_by=actor, set_at=clock.now(), version=1
        )
    else:
        row.po_number, row.set_by, row.set_at = new_value, actor, clock.now()
        row.version += 1
        row.save(update_fields=["po_number", "set_by", "set_at", "version"])
    amended = None
    if window.amends_invoice:
        printed = invoice.current_revision.po_number if invoice.current_revision_id else old_in_force
        old_in_force = printed
        if printed != new_in_force:
            _invoice_amend(
                invoice=invoice,
                actor=actor,
                reason=_(
                    "PO number changed by the enrollment's administrator within seven days of the invoice notification."
                ),
                po_number=new_in_force,
            )
            amended = invoice
    if old_in_force != new_in_force or amended is not None:
        _record(
            account=account,
            profile=profile,
            period=period,
            field=ChangedField.PO_NUMBER,
            old=old_in_force,
            new=new_in_force,
            actor=actor,
            invoice=amended,
            source=ChangeSource.WINDOW_AMENDMENT if amended is not None else ChangeSource.EDIT,
        )
    return row


# --- VAT number (VAT-1) ---------------------------------------------------------------------


@transaction.atomic
def vat_number_set(*, account: BillingAccount, vat_id: str, actor, version: int | None = None) -> BillingAccount:
    """VAT-1: validate for the account's country, save, record the change. The new
    number applies to the next invoice (PO-5); issued invoices keep their snapshot.
    ``version`` (optional) is the account version the editor read."""
    new_value = clean_vat_id(vat_id, account.country.code if account.country else "")
    locked = BillingAccount.objects.select_for_update().get(pk=account.pk)
    _check_version(version, locked.version, locked.vat_id)
    old_value = locked.vat_id
    if new_value == old_value:
        return locked
    if not permissions.can_edit_vat(actor, locked):
        raise NotAllowed(_("Your role can see this VAT number but not change it."), code="vat_role_not_allowed")
    locked.vat_id = new_value
    locked.version += 1
    locked.save(update_fields=["vat_id", "version"])
    _record(account=locked, field=ChangedField.VAT_ID, old=old_value, new=new_value, actor=actor)
    account.vat_id, account.version = locked.vat_id, locked.version
    return locked


# --- Support requests to amend an issued invoice (PO-5) ------------------------------------------


def _clean_message(value: str, *, field: str, required_message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(required_message, code="required", fields={field: [required_message]})
    if len(value) > MESSAGE_MAX_LENGTH:
        msg = _("At most %(max)d characters.") % {"max": MESSAGE_MAX_LENGTH}
        raise InvalidInput(msg, code="too_long", fields={field: [msg]})
    return value


@transaction.atomic
def amendment_request_create(
    *, invoice, actor, message: str, po_number: str | None = None, vat_id: str | None = None
) -> AmendmentRequest:
    """A customer asks support to change the PO and/or VAT number printed on an issued
    invoice (PO-5). ``None`` leaves a number as it is; a PO change needs a role that
    may edit the PO number, a VAT change one that may edit the VAT number (PO-2)."""
    profile = invoice.profile
    account = profile.account
    if not permissions.can_request_invoice_amendment(actor, profile):
        raise NotAllowed(_("Your role may not ask to amend this invoice."), code="amendment_not_allowed")
    revision = invoice.current_revision
    printed_po = revision.po_number if revision else ""
    printed_vat = revision.vat_id if revision else ""
    fields = {}
    change_po = po_number is not None
    change_vat = vat_id is not None
    if change_po:
        if not permissions.can_edit_po(actor, profile):
            raise NotAllowed(_("Your role may not change the PO number."), code="po_role_not_allowed")
        po_number = clean_po_number(po_number)
        if po_number == printed_po:
            change_po = False
    if change_vat:
        if not permissions.can_edit_vat(actor, account):
            raise NotAllowed(_("Your role may not change the VAT number."), code="vat_role_not_allowed")
        vat_id = clean_vat_id(vat_id, account.country.code if account.country else "")
        if vat_id == printed_vat:
            change_vat = False
    if not change_po and not change_vat:
        msg = _("Enter a PO number or VAT number that differs from the one on the invoice.")
        fields = {"po_number": [msg]}
        raise InvalidInput(msg, code="nothing_to_change", fields=fields)
    if invoice.status == "void":
        raise InvalidInput(_("This invoice is void and cannot be amended."), code="invoice_void")
    if change_po and account.agreement_type == AgreementType.ENTERPRISE:
        window = edit_window(invoice=invoice, time_zone=account.time_zone)
        if window.is_open:
            raise InvalidInput(
                _("You can still change this PO number yourself on the Usage summary; no support request is needed."),
                code="po_window_open",
            )
    message = _clean_message(message, field="message", required_message=_("Tell support why the invoice must change."))
    if AmendmentRequest.objects.select_for_update().filter(invoice=invoice, status=AmendmentStatus.OPEN).exists():
        raise Conflict(
            _("There is already an open request to amend invoice %(number)s.") % {"number": invoice.number},
            code="amendment_already_open",
        )
    amendment = AmendmentRequest.objects.create(
        account=account,
        profile=profile,
        invoice=invoice,
        change_po_number=change_po,
        po_number=po_number if change_po else "",
        change_vat_id=change_vat,
        vat_id=vat_id if change_vat else "",
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


AMENDMENT_RECEIVED = "po_amendment_received"
AMENDMENT_WAITING = "po_amendment_waiting"


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


@transaction.atomic
def amendment_request_approve(*, request: AmendmentRequest, actor) -> AmendmentRequest:
    """Support staff approve: the invoice gets a new revision with the requested numbers
    and a new PDF (the earlier revision stays readable), the change is recorded in the
    history and the customer is notified (PO-5)."""
    locked = _lock_open_request(request, actor)
    account, invoice = locked.account, locked.invoice
    country = account.country.code if account.country else ""
    po_number = clean_po_number(locked.po_number) if locked.change_po_number else None
    vat_id = clean_vat_id(locked.vat_id, country) if locked.change_vat_id else None
    if invoice.status == "void":
        raise InvalidInput(_("This invoice is void and cannot be amended."), code="invoice_void")
    invoice.refresh_from_db()
    before = invoice.current_revision
    revision = _invoice_amend(
        invoice=invoice,
        actor=actor,
        reason=_("Support request #%(id)s: %(message)s") % {"id": locked.pk, "message": locked.message},
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
        _record(
            field=ChangedField.PO_NUMBER,
            old=before.po_number if before else "",
            new=po_number,
            period=invoice.period if account.is_enterprise else None,
            **common,
        )
        if account.is_enterprise:
            # Keep the period's PO in line with what the invoice now prints.
            row, created = PeriodPONumber.objects.select_for_update().get_or_create(
                profile=locked.profile,
                period=invoice.period,
                defaults={"po_number": po_number, "set_by": actor, "set_at": clock.now()},
            )
            if not created and row.po_number != po_number:
                row.po_number, row.set_by, row.set_at = po_number, actor, clock.now()
                row.version += 1
                row.save(update_fields=["po_number", "set_by", "set_at", "version"])
    if vat_id is not None:
        _record(field=ChangedField.VAT_ID, old=before.vat_id if before else "", new=vat_id, **common)
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
