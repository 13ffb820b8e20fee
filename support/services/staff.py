"""Support staff's side of a pay-by-invoice request (PBI-7, PBI-8, PBI-9): ask for more
information, send the credit application, record the credit decision, approve (the
scope switches to pay by invoice for good, PBI-5), reject, keep internal notes.

Every step checks ``can_work_support_queue`` itself, locks the request, checks its
status and is recorded; the customer hears of each step that concerns them.
"""

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from accounts import permissions
from accounts.services import billing_scope_switch_to_invoice
from billing_portal import clock
from billing_portal.errors import Conflict, InvalidInput, NotAllowed

from .. import details, prechecks
from ..models import CreditApplication, CreditDecision, PayByInvoiceRequest, RequestStatus
from . import common


def is_staff(user) -> bool:
    return permissions.can_work_support_queue(user)


def check_staff(actor) -> None:
    if not is_staff(actor):
        raise NotAllowed(_("Only support staff can do this."), code="not_support_staff")


@transaction.atomic
def pbi_ask_information(*, request: PayByInvoiceRequest, actor, message: str) -> PayByInvoiceRequest:
    """Ask the customer a question; the request waits for their answer."""
    check_staff(actor)
    body = common.clean_message(message)
    row = common.locked(request, RequestStatus.SUBMITTED, RequestStatus.CREDIT_REVIEW)
    row.resume_status = row.status
    row.save(update_fields=["resume_status"])
    common.add_message(row, author=actor, body=body, from_support=True)
    event = common.record(row, action="asked_information", actor=actor, status=RequestStatus.NEEDS_INFORMATION)
    common.notify_customer(row, "pbi_needs_information", event, message=body)
    return row


@transaction.atomic
def pbi_add_note(*, request: PayByInvoiceRequest, actor, note: str) -> PayByInvoiceRequest:
    """An internal note: support staff only, never shown to the customer."""
    check_staff(actor)
    body = common.clean_message(note, field="note")
    row = common.locked(request, *RequestStatus.values)
    common.add_message(row, author=actor, body=body, from_support=True, internal=True)
    common.record(row, action="note", actor=actor)
    return row


@transaction.atomic
def pbi_send_credit_application(*, request: PayByInvoiceRequest, actor) -> CreditApplication:
    """PBI-8: a credit check is needed for the credit asked; the customer fills in the
    credit application in the portal."""
    check_staff(actor)
    row = common.locked(request, RequestStatus.SUBMITTED)
    application, _created = CreditApplication.objects.update_or_create(
        request=row, defaults={"sent_by": actor, "sent_at": clock.now(), "submitted_at": None, "submitted_by": None}
    )
    event = common.record(
        row, action="credit_application_sent", actor=actor, status=RequestStatus.CREDIT_APPLICATION_SENT
    )
    common.notify_customer(row, "pbi_credit_application", event)
    return application


@transaction.atomic
def pbi_record_credit_decision(
    *, request: PayByInvoiceRequest, actor, decision: str, credit_limit=None
) -> PayByInvoiceRequest:
    """The outcome of the credit check: approved with a credit limit, or declined."""
    check_staff(actor)
    if decision not in dict(CreditDecision.choices):
        raise InvalidInput(
            _("Select one of the available choices."),
            code="invalid",
            fields={"decision": [_("Select one of the available choices.")]},
        )
    limit = details.credit_limit(credit_limit) if decision == CreditDecision.APPROVED else None
    row = common.locked(request, RequestStatus.SUBMITTED, RequestStatus.CREDIT_REVIEW)
    if decision == CreditDecision.APPROVED:
        contact = prechecks.run_prechecks(profile=row.profile, for_approval=True, request_id=row.pk)
        if any(c["code"] == "billing_contact" and not c["ok"] for c in contact):
            raise Conflict(
                str(prechecks.describe({"code": "billing_contact", "ok": False})["fix"]), code="billing_contact_missing"
            )
    row.credit_decision, row.credit_limit = decision, limit
    row.save(update_fields=["credit_decision", "credit_limit"])
    common.record(row, action="credit_decision", actor=actor, detail=f"{decision} {limit or ''}".strip())
    return row


def _approval_blockers(row: PayByInvoiceRequest) -> list[dict]:
    checks = prechecks.run_prechecks(
        profile=row.profile, subscription=row.subscription, for_approval=True, request_id=row.pk
    )
    return prechecks.blockers(checks)


@transaction.atomic
def pbi_approve(*, request: PayByInvoiceRequest, actor) -> PayByInvoiceRequest:
    """PBI-9: approve. In this one transaction the scope switches to pay by invoice
    (``billing_scope_switch_to_invoice``; PBI-5: for good) and the customer is e-mailed
    the instructions for paying by bank transfer. Refused while a blocker holds (PBI-3,
    PBI-4, PBI-7) or without an approved credit decision."""
    check_staff(actor)
    row = common.locked(request, RequestStatus.SUBMITTED, RequestStatus.CREDIT_REVIEW)
    if row.credit_decision != CreditDecision.APPROVED:
        raise Conflict(_("Record an approved credit decision with a credit limit first."), code="credit_not_approved")
    blocking = _approval_blockers(row)
    if blocking:
        raise Conflict(
            _("The request cannot be approved while a check fails: %(checks)s.")
            % {"checks": "; ".join(str(prechecks.describe(c)["title"]) for c in blocking)},
            code="pbi_precheck_failed",
        )
    billing_scope_switch_to_invoice(profile=row.profile, actor=actor)
    event = common.record(row, action="approved", actor=actor, status=RequestStatus.APPROVED)
    seller = settings.PORTAL_SELLER
    common.notify_customer(
        row,
        "pbi_approved",
        event,
        seller={key: seller[key] for key in ("name", "bank", "iban", "bic")},
        credit_limit=str(row.credit_limit),
    )
    return row


@transaction.atomic
def pbi_reject(*, request: PayByInvoiceRequest, actor, reason: str) -> PayByInvoiceRequest:
    """Reject with a reason the customer reads; the scope keeps paying by card."""
    check_staff(actor)
    body = common.clean_message(reason, field="reason")
    row = common.locked(request)
    row.rejection_reason = body
    row.save(update_fields=["rejection_reason"])
    event = common.record(row, action="rejected", actor=actor, status=RequestStatus.REJECTED, detail=body)
    common.notify_customer(row, "pbi_rejected", event, reason=body)
    return row
