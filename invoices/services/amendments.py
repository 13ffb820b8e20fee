"""Amending an issued invoice: a new revision with a changed PO and/or VAT number (PO-5,
PO-7, PO-8). The decisions on tax are written in docs/invoices.md, "Amendments"."""

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from accounts import permissions
from billing_portal import clock, queue
from billing_portal.card_numbers import refuse_card_number
from billing_portal.errors import Conflict, InvalidInput, NotAllowed
from billing_portal.validators import clean_po_number

from .. import hooks, tax
from ..models import Invoice, InvoiceLine, InvoiceRevision, InvoiceStatus
from ..printed import RevisionReason, reason_text
from .corrections import clean_new_vat_id, invoice_correct
from .documents import invoice_revision_render_pdf


@dataclass
class _Treatment:
    """What the new revision prints: tax rate, reverse charge, the note, and the lines
    whose tax was recomputed (None when the amounts stay as issued)."""

    tax_rate: Decimal
    reverse_charge: bool
    tax_note: str
    new_lines: list | None = None


def _check_request(*, invoice: Invoice, actor, reason: str, reason_code: str, po_number, vat_id) -> str:
    reason = (reason or "").strip()
    if not reason and reason_code != RevisionReason.PO_WINDOW:  # the PO-7 reason says it all
        raise InvalidInput(_("Give a reason for the amendment."), fields={"reason": [_("This field is required.")]})
    refuse_card_number(reason, field="reason")
    if po_number is None and vat_id is None:
        raise InvalidInput(_("Give a new PO number or VAT number."), code="nothing_to_amend")
    if actor is not None and not permissions.can_amend_invoice(actor, invoice.profile, changes_vat=vat_id is not None):
        raise NotAllowed(_("Your role cannot amend this invoice."), code="amend_not_allowed")
    return reason


def _new_numbers(current: InvoiceRevision, country: str, po_number, vat_id) -> tuple[str, str]:
    new_po = current.po_number if po_number is None else clean_po_number(po_number)
    new_vat = current.vat_id if vat_id is None else clean_new_vat_id(vat_id, country)
    if new_po == current.po_number and new_vat == current.vat_id:
        raise InvalidInput(_("The invoice already has this PO number and VAT number."), code="nothing_to_amend")
    return new_po, new_vat


class _NeedsCorrection(Exception):
    """The new treatment changes amounts that money or a credit note already stands on."""


def _money_moved(invoice: Invoice) -> bool:
    """Something paid, being paid or credited on the invoice (payments answers through
    the hook)."""
    return (
        invoice.amount_paid != 0
        or invoice.amount_credited != 0
        or invoice.status == InvoiceStatus.PAID
        or hooks.payment_activity.any(invoice_id=invoice.pk)
    )


def _treatment(invoice: Invoice, current: InvoiceRevision, country: str, new_vat: str) -> _Treatment:
    """The tax treatment of the new revision; recomputed lines only when a VAT change
    changes the treatment and no money has moved (else ``_NeedsCorrection``)."""
    kept = _Treatment(current.tax_rate, current.reverse_charge, current.tax_note_code)
    if new_vat == current.vat_id:
        return kept
    treatment = tax.treatment_for(country=country, is_business=invoice.account.is_business, vat_id=new_vat)
    if tax.same_treatment(treatment, rate=current.tax_rate, reverse_charge=current.reverse_charge):
        return kept
    if hooks.money_in_flight.any(invoice_id=invoice.pk):
        raise Conflict(
            _(
                "The new VAT number changes the VAT on this invoice, but a card payment or refund of it is "
                "being processed. Wait until it is settled and try again."
            ),
            code="payment_in_progress",
        )
    if _money_moved(invoice):
        raise _NeedsCorrection
    lines = list(InvoiceLine.objects.filter(invoice_id=invoice.pk).order_by("position"))
    for line in lines:
        line.tax_amount = tax.line_tax(line.amount, treatment.rate, invoice.currency)
    if not current.pdf:
        # The earlier revision must keep the figures it was issued with.
        invoice_revision_render_pdf(revision_id=current.pk)
    return _Treatment(treatment.rate, treatment.reverse_charge, treatment.note, lines)


@transaction.atomic
def invoice_amend(
    *,
    invoice: Invoice,
    actor,
    reason: str = "",
    reason_code: str = "",
    reason_ref: int | None = None,
    po_number: str | None = None,
    vat_id: str | None = None,
) -> InvoiceRevision:
    """A new revision of an issued invoice with a changed PO and/or VAT number (PO-5,
    PO-7). The earlier revision and its PDF stay readable; the new PDF is rendered
    after commit. The caller records the PO/VAT history.

    ``actor``: support staff (any change), someone who may edit the scope's PO number
    (a PO change; the PO service checks the PO-7 window), or None for the portal itself.

    Tax treatment:

    * A PO-only amendment, or a VAT number change that leaves the tax treatment as
      printed (same rate, same reverse-charge flag), copies the tax treatment, the
      note and every amount unchanged.
    * A VAT number change that changes the tax treatment (``tax.treatment_for`` with
      the account's country and business flag and the *new* VAT number) is applied
      in place only while nothing has been paid or credited on the invoice:
      ``amount_paid == 0``, ``amount_credited == 0``, status not paid, and no card
      payment pending or succeeded (``hooks.payment_activity``).
      Then each line's tax is recomputed with ``tax.line_tax`` (half-up per line,
      exactly as the billing run does), ``tax_amount`` is their sum and
      ``total = subtotal + tax_amount``. The earlier revision's PDF is rendered first
      if it was not yet, so it keeps showing the figures it was issued with.
    * Otherwise (something paid or credited on it) the invoice is corrected:
      ``invoice_correct`` credits it in full and issues a corrected invoice with the
      new VAT number, the money paid carried over; the corrected invoice's first
      revision is returned (``revision.invoice.replaces`` is the credited invoice).
      While a card payment or refund is pending it is refused (409,
      ``payment_in_progress``) and nothing is written.

    ``reason`` is the reason as typed; ``reason_code`` (``printed.RevisionReason``) a reason
    the portal words itself in the reader's language, with the support request's number in
    ``reason_ref`` and its message in ``reason``.

    The invoice row is locked (``select_for_update``) before the payments are checked;
    the pay service takes the same lock, so a payment cannot start in between."""
    reason = _check_request(
        invoice=invoice, actor=actor, reason=reason, reason_code=reason_code, po_number=po_number, vat_id=vat_id
    )
    locked = Invoice.objects.select_for_update().select_related("account").get(pk=invoice.pk)
    if locked.status == InvoiceStatus.VOID:
        raise Conflict(_("A void invoice cannot be amended."), code="invoice_void")
    current = InvoiceRevision.objects.get(pk=locked.current_revision_id)
    country = locked.account.country.code if locked.account.country else ""
    new_po, new_vat = _new_numbers(current, country, po_number, vat_id)
    try:
        treatment = _treatment(locked, current, country, new_vat)
    except _NeedsCorrection:
        # The credit note and the corrected invoice print the reason in the invoice's language.
        with translation.override(current.language or "en"):
            printed_reason = reason_text(InvoiceRevision(reason=reason, reason_code=reason_code, reason_ref=reason_ref))
        corrected = invoice_correct(
            invoice=locked, actor=actor, reason=printed_reason, vat_id=new_vat, po_number=new_po
        )
        for name in ("amount_credited", "amount_paid", "status", "paid_at"):
            setattr(invoice, name, getattr(locked, name))
        return corrected.current_revision
    revision = InvoiceRevision.objects.create(
        invoice=locked,
        number=current.number + 1,
        language=current.language,
        sold_to=current.sold_to,
        bill_to=current.bill_to,
        vat_id=new_vat,
        po_number=new_po,
        tax_rate=treatment.tax_rate,
        reverse_charge=treatment.reverse_charge,
        tax_note_code=treatment.tax_note,
        reason=reason,
        reason_code=reason_code,
        reason_ref=reason_ref,
        created_by=actor,
        created_at=clock.now(),
    )
    locked.current_revision = revision
    fields = ["current_revision"]
    if treatment.new_lines is not None:
        InvoiceLine.objects.bulk_update(treatment.new_lines, ["tax_amount"])
        locked.tax_amount = sum((line.tax_amount for line in treatment.new_lines), Decimal(0))
        locked.total = locked.subtotal + locked.tax_amount
        fields += ["tax_amount", "total"]
    locked.save(update_fields=fields)
    invoice.current_revision = revision
    for name in ("tax_amount", "total"):
        setattr(invoice, name, getattr(locked, name))
    queue.publish_on_commit("invoices.tasks.render_invoice_pdf", revision.pk)
    return revision
