"""The invoice e-mails: invoice ready (for an enterprise enrollment, the automated-invoice
notification that opens the PO-7 window) and invoice past due, to everyone who receives
the invoice, once each, in their language (notifications.services)."""

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from accounts.models import AgreementType, RoleAssignment
from accounts.roles import Role
from notifications.services import notification_queue, unique_recipients

from ..formatting import revision_file_name
from ..models import Invoice, InvoiceStatus
from .documents import invoice_revision_stored_pdf

INVOICE_READY = "invoice_ready"
INVOICE_PAST_DUE = "invoice_past_due"
# A corrected invoice's e-mail (services/credit_notices.py): it stands for its
# invoice-ready e-mail.
INVOICE_CORRECTED = "invoice_corrected"

# Roles that receive invoices by e-mail (besides the account's billing contact and the
# billing profile's invoice address). Read-only roles see invoices in the portal only.
RECEIVING_ROLES = (
    Role.ACCOUNT_ADMIN,
    Role.EA_ADMIN,
    Role.PARTNER_ADMIN,
    Role.BA_OWNER,
    Role.BP_OWNER,
    Role.INVOICE_MANAGER,
)


def _recipients_for(invoices) -> dict[int, list[tuple[str, str]]]:
    """(e-mail, language) of everyone who receives each invoice; one query for all.

    ``invoices`` must have ``account`` and ``profile`` loaded."""
    invoices = list(invoices)
    account_ids = {invoice.account_id for invoice in invoices}
    assignments = list(
        RoleAssignment.objects.filter(account_id__in=account_ids, role__in=RECEIVING_ROLES, user__is_active=True)
        .values_list("account_id", "profile_id", "user__email", "user__language")
        .order_by("pk")
    )
    result = {}
    for invoice in invoices:
        account = invoice.account
        candidates = [
            (account.billing_contact_email, account.language),
            (invoice.profile.invoice_email, account.language),
        ]
        candidates += [
            (email, language)
            for account_id, profile_id, email, language in assignments
            if account_id == invoice.account_id and profile_id in (None, invoice.profile_id)
        ]
        result[invoice.pk] = unique_recipients(candidates)
    return result


def _invoice_context(invoice) -> dict:
    """JSON-safe facts for the invoice e-mails."""
    revision = invoice.current_revision
    return {
        "invoice_id": invoice.pk,
        "number": invoice.number,
        "account_name": invoice.account.name,
        "period": f"{invoice.period:%Y-%m}",
        "issue_date": invoice.issue_date.isoformat(),
        "due_date": invoice.due_date.isoformat(),
        "total": str(invoice.total),
        "amount_due": str(invoice.amount_due),
        "currency": invoice.currency,
        "po_number": revision.po_number if revision else "",
        "bank_transfer": invoice.pays_by_bank_transfer,
        "payment_reference": invoice.payment_reference,
        "is_enterprise": invoice.account.agreement_type == AgreementType.ENTERPRISE,
        "url": settings.PORTAL_BASE_URL + reverse("invoices:detail", args=[invoice.pk]),
        "seller": dict(settings.PORTAL_SELLER),
    }


def queue_invoice_notifications(invoices, kind: str) -> int:
    invoices = list(invoices)
    recipients = _recipients_for(invoices)
    queued = 0
    for invoice in invoices:
        context = _invoice_context(invoice)
        for email, language in recipients[invoice.pk]:
            if notification_queue(
                kind=kind,
                recipient=email,
                dedupe_key=f"{kind}:{invoice.pk}:{email}",
                language=language,
                context=context,
                account=invoice.account,
                invoice=invoice,
            ):
                queued += 1
    return queued


def invoice_date_notified(*, notification) -> None:
    """``notifications.hooks.sent``: the first invoice-ready (or invoice-corrected) e-mail
    that actually went out dates the invoice (for an enterprise enrollment it opens the PO-7 window)."""
    if notification.kind in (INVOICE_READY, INVOICE_CORRECTED) and notification.invoice_id:
        Invoice.objects.filter(pk=notification.invoice_id, notified_at__isnull=True).update(
            notified_at=notification.sent_at
        )


def invoice_ready_attachments(*, notification) -> list[tuple[str, bytes, str]]:
    """``notifications.hooks.attachments``: the invoice-ready e-mail carries the PDF of the
    invoice's current revision besides the link (unless ``INVOICE_EMAIL_ATTACH_PDF`` is
    off), the stored one, rendered now if the worker has not stored it yet."""
    if notification.kind != INVOICE_READY or not notification.invoice_id or not settings.INVOICE_EMAIL_ATTACH_PDF:
        return []
    invoice = Invoice.objects.select_related("current_revision").filter(pk=notification.invoice_id).first()
    revision = invoice.current_revision if invoice else None
    if revision is None:
        return []
    revision.invoice = invoice
    if not invoice_revision_stored_pdf(revision):
        return []
    with revision.pdf.open("rb") as pdf:
        content = pdf.read()
    return [(revision_file_name(invoice.number, revision.number), content, "application/pdf")]


def invoice_ready_context(*, notification) -> dict:
    """``notifications.hooks.render_context``: the invoice-ready e-mail says whether its PDF
    is attached (``INVOICE_EMAIL_ATTACH_PDF`` as it is when the e-mail is sent)."""
    if notification.kind != INVOICE_READY:
        return {}
    return {"pdf_attached": settings.INVOICE_EMAIL_ATTACH_PDF}


@transaction.atomic
def invoices_notify_ready(*, invoice_ids: list[int]) -> int:
    """Queue the invoice-ready e-mail of each invoice to every recipient (once each; one
    query for all recipients). For an enterprise enrollment this is the automated-invoice
    notification that opens the PO-7 window; ``Invoice.notified_at`` is set when the
    first one is actually sent. Returns how many e-mails were queued now."""
    invoices = (
        Invoice.objects.select_related("account", "profile", "current_revision")
        .filter(pk__in=invoice_ids, status__in=[InvoiceStatus.DUE, InvoiceStatus.PAST_DUE, InvoiceStatus.PAID])
        .order_by("pk")
    )
    return queue_invoice_notifications(invoices, INVOICE_READY)
