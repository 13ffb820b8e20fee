"""The customer's side of a pay-by-invoice request (PBI-1, PBI-2, PBI-8): create it,
answer support's questions, fill in the credit application, write, cancel."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts import permissions
from accounts.models import BillingProfile, Subscription
from billing_portal import clock
from billing_portal.errors import Conflict, InvalidInput, NotAllowed
from purchase_orders.selectors import may_request_amendments

from .. import details, prechecks
from ..models import (
    CreditApplication,
    PayByInvoiceRequest,
    RequestStatus,
    RevenueBand,
)
from . import common


def check_may_request(actor, profile: BillingProfile) -> None:
    """PBI-1: who may ask for (and follow) a scope's pay-by-invoice request."""
    if not permissions.can_request_pay_by_invoice(actor, profile):
        raise NotAllowed(
            _("Your role cannot ask to pay by invoice for this billing scope."), code="pbi_role_not_allowed"
        )


def _subscription_of(profile: BillingProfile, subscription) -> Subscription | None:
    """Web direct asks for a subscription of the account; a customer agreement for the
    billing profile (every subscription of it)."""
    if profile.account.is_customer_agreement:
        return None
    if subscription is None or subscription.profile_id != profile.pk:
        raise InvalidInput(
            _("Select one of your subscriptions."),
            code="invalid",
            fields={"subscription": [_("Select one of the available choices.")]},
        )
    return subscription


@transaction.atomic
def pbi_request_create(
    *, profile: BillingProfile, actor, data: dict, subscription=None, confirmed: bool = False
) -> PayByInvoiceRequest:
    """PBI-1: file a pay-by-invoice request. The details are validated (PBI-2); the
    pre-checks are run and stored with it, and a blocking one refuses it (PBI-3, PBI-4,
    PBI-6, an open request, a scope that already pays by invoice); ``confirmed`` says
    the customer read that the switch cannot be undone (PBI-5). Nothing is written
    when anything is refused."""
    check_may_request(actor, profile)
    values = details.clean_details(data)
    subscription = _subscription_of(profile, subscription)
    BillingProfile.objects.select_for_update().get(pk=profile.pk)  # one request at a time per scope
    checks = prechecks.run_prechecks(profile=profile, subscription=subscription, data=values)
    blocking = prechecks.blockers(checks)
    if blocking:
        raise Conflict(
            _("This request cannot be created yet: %(checks)s.")
            % {"checks": "; ".join(str(prechecks.describe(c)["fix"]) for c in blocking)},
            code="pbi_precheck_failed",
            fields={c["code"]: [str(prechecks.describe(c)["fix"])] for c in blocking},
        )
    if not confirmed:
        raise InvalidInput(
            _("Confirm that you understand the switch to pay by invoice cannot be undone."),
            code="confirmation_required",
            fields={"confirm": [_("This field is required.")]},
        )
    try:
        with transaction.atomic():
            request = PayByInvoiceRequest.objects.create(
                account=profile.account,
                profile=profile,
                subscription=subscription,
                prechecks=checks,
                created_by=actor,
                created_at=clock.now(),
                updated_at=clock.now(),
                **values,
            )
    except IntegrityError:
        raise Conflict(_("A pay-by-invoice request for this billing scope is already open."), code="pbi_open_request")
    event = common.record(request, action="created", actor=actor, status=RequestStatus.SUBMITTED)
    common.notify_customer(request, "pbi_received", event)
    common.notify_staff(request, "pbi_waiting", event)
    return request


@transaction.atomic
def pbi_request_answer(*, request: PayByInvoiceRequest, actor, message: str) -> PayByInvoiceRequest:
    """The customer answers support's question; the request goes back to support."""
    check_may_request(actor, request.profile)
    body = common.clean_message(message)
    row = common.locked(request, RequestStatus.NEEDS_INFORMATION)
    common.add_message(row, author=actor, body=body, from_support=False)
    event = common.record(row, action="answered", actor=actor, status=row.resume_status or RequestStatus.SUBMITTED)
    common.notify_staff(row, "pbi_waiting", event)
    return row


@transaction.atomic
def pbi_request_message(*, request: PayByInvoiceRequest, actor, message: str) -> PayByInvoiceRequest:
    """A message from the customer on an open request, whatever its step. While support
    waits for an answer, a message is that answer (the request goes back to support)."""
    check_may_request(actor, request.profile)
    body = common.clean_message(message)
    row = common.locked(request)
    if row.status == RequestStatus.NEEDS_INFORMATION:
        return pbi_request_answer(request=row, actor=actor, message=body)
    common.add_message(row, author=actor, body=body, from_support=False)
    common.record(row, action="customer_message", actor=actor)
    return row


@transaction.atomic
def pbi_request_cancel(*, request: PayByInvoiceRequest, actor) -> PayByInvoiceRequest:
    """The customer withdraws an open request."""
    check_may_request(actor, request.profile)
    row = common.locked(request)
    common.record(row, action="cancelled", actor=actor, status=RequestStatus.CANCELLED)
    return row


def _clean_application(data: dict) -> dict:
    errors = {}
    try:
        limit = details.credit_limit(data.get("requested_limit"), field="requested_limit")
    except InvalidInput as exc:
        limit = None
        errors.update(exc.fields)
    band = str(data.get("annual_revenue") or "")
    if band not in dict(RevenueBand.choices):
        errors["annual_revenue"] = [_("Select one of the available choices.")]
    values = {"requested_limit": limit, "annual_revenue": band}
    for field, max_length in (("bank_name", 200), ("trade_references", common.MESSAGE_MAX_LENGTH)):
        try:
            values[field] = common.clean_message(data.get(field), field=field)
        except InvalidInput as exc:
            errors.update(exc.fields)
            continue
        if len(values[field]) > max_length:
            errors[field] = [_("At most %(max)d characters.") % {"max": max_length}]
    if errors:
        raise InvalidInput(_("Check the highlighted fields."), code=details.error_code(errors), fields=errors)
    return values


@transaction.atomic
def credit_application_submit(*, request: PayByInvoiceRequest, actor, data: dict) -> CreditApplication:
    """PBI-8: the customer returns the credit application; the decision is expected 5
    to 7 days later, and the request goes back to support."""
    check_may_request(actor, request.profile)
    values = _clean_application(data)
    row = common.locked(request, RequestStatus.CREDIT_APPLICATION_SENT)
    application = CreditApplication.objects.select_for_update().get(request=row)
    for field, value in values.items():
        setattr(application, field, value)
    application.submitted_by, application.submitted_at = actor, clock.now()
    application.save()
    first, last = details.expected_decision(clock.today())
    event = common.record(
        row,
        action="credit_application_returned",
        actor=actor,
        status=RequestStatus.CREDIT_REVIEW,
        detail=f"{first.isoformat()}..{last.isoformat()}",
    )
    common.notify_staff(row, "pbi_waiting", event)
    return application


def request_types(user=None) -> list[dict]:
    """The problem types of New support request › Billing, with what each asks for. The
    invoice amendment is offered to ``user`` only when they may ask for one (PO-5)."""
    types = [{"code": "pay_by_invoice", "label": str(_("Pay by invoice"))}]
    if user is None or may_request_amendments(user):
        types.append({"code": "invoice_amendment", "label": str(_("Change the PO or VAT number on an issued invoice"))})
    return types
