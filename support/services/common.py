"""What every step of a pay-by-invoice request does: lock the request, check its status,
record the step (who, when, what), and e-mail whom it concerns (once, in their language)."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils.translation import gettext as _

from billing_portal import clock
from billing_portal.card_numbers import refuse_card_number
from billing_portal.errors import Conflict, InvalidInput
from notifications.services import notification_queue, unique_recipients

from ..models import OPEN_STATUSES, PayByInvoiceRequest, RequestEvent, RequestMessage

MESSAGE_MAX_LENGTH = 4000


def locked(request: PayByInvoiceRequest, *allowed_statuses) -> PayByInvoiceRequest:
    """The request, locked for this transaction, in one of ``allowed_statuses`` (else
    ``Conflict``: someone else moved it on, or it is closed)."""
    row = PayByInvoiceRequest.objects.select_for_update().select_related("account", "profile").get(pk=request.pk)
    if row.status not in (allowed_statuses or OPEN_STATUSES):
        raise Conflict(
            _("This request is %(status)s: that step is not possible now.") % {"status": row.get_status_display()},
            code="request_status",
        )
    return row


def clean_message(value: str, *, field: str = "message", required=True) -> str:
    value = "" if value is None else str(value).strip()
    if required and not value:
        raise InvalidInput(_("Write a message."), code="required", fields={field: [_("This field is required.")]})
    if len(value) > MESSAGE_MAX_LENGTH:
        msg = _("At most %(max)d characters.") % {"max": MESSAGE_MAX_LENGTH}
        raise InvalidInput(msg, code="too_long", fields={field: [msg]})
    refuse_card_number(value, field=field)
    return value


def record(request: PayByInvoiceRequest, *, action: str, actor, status: str | None = None, detail="") -> RequestEvent:
    """Move the request to ``status`` (if given) and record the step."""
    now = clock.now()
    fields = ["updated_at"]
    request.updated_at = now
    if status is not None and status != request.status:
        request.status = status
        fields.append("status")
        if status not in OPEN_STATUSES:
            request.closed_at = now
            fields.append("closed_at")
    request.save(update_fields=fields)
    return RequestEvent.objects.create(
        request=request, action=action, actor=actor, status=request.status, detail=detail, created_at=now
    )


def add_message(request, *, author, body: str, from_support: bool, internal=False) -> RequestMessage:
    return RequestMessage.objects.create(
        request=request, author=author, body=body, from_support=from_support, internal=internal, created_at=clock.now()
    )


def _context(request: PayByInvoiceRequest, extra: dict) -> dict:
    return {
        "reference": request.reference,
        "account_name": request.account.name,
        "status": request.status,
        "url": settings.PORTAL_BASE_URL + reverse("support:request", args=[request.pk]),
        "staff_url": settings.PORTAL_BASE_URL + reverse("support:staff_request", args=[request.pk]),
        **extra,
    }


def notify_customer(request: PayByInvoiceRequest, kind: str, event: RequestEvent, **extra) -> None:
    """E-mail the customer who asked (and the contact they named), once per step."""
    creator = request.created_by
    language = creator.language if creator is not None else request.account.language
    candidates = [(creator.email, language)] if creator is not None and creator.is_active else []
    candidates.append((request.contact_email, language))
    context = _context(request, extra)
    for email, lang in unique_recipients(candidates):
        notification_queue(
            kind=kind,
            recipient=email,
            dedupe_key=f"{kind}:{event.pk}:{email}",
            language=lang,
            context=context,
            account=request.account,
        )


def notify_staff(request: PayByInvoiceRequest, kind: str, event: RequestEvent, **extra) -> None:
    """E-mail every active support-staff user, once per step, in their language."""
    context = _context(request, extra)
    staff = get_user_model().objects.filter(is_support_staff=True, is_active=True).order_by("pk")
    for user in staff:
        notification_queue(
            kind=kind,
            recipient=user.email,
            dedupe_key=f"{kind}:{event.pk}:{user.email.lower()}",
            language=user.language,
            context=context,
            account=request.account,
        )
