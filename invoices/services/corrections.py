"""Correcting an invoice that money has already moved on: credit it in full and issue a
corrected invoice with the new tax treatment (docs/invoices.md, "Correcting a paid
invoice"). What was paid is carried over to the corrected invoice, so nothing goes back
to the card and the corrected invoice shows what remains; all in one transaction."""

import datetime as dt
import functools
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from billing_portal import clock, queue
from billing_portal.errors import Conflict
from billing_portal.validators import clean_po_number, clean_vat_id

from .. import hooks, tax
from ..models import CreditNoteKind, Invoice, InvoiceLine, InvoiceRevision, InvoiceStatus, PaymentTerms
from .credit_notes import LineCredit, check_may_credit, clean_reason, uncredited_lines, write_credit_note
from .credit_notices import queue_correction_notifications
from .invoice import settle_status
from .numbering import next_invoice_number

PAYMENT_DAYS = 30


def _refuse(locked: Invoice) -> None:
    if locked.status == InvoiceStatus.VOID:
        raise Conflict(_("A void invoice cannot be corrected."), code="invoice_void")
    if locked.replaced_by.exists():
        raise Conflict(_("This invoice has been corrected already."), code="invoice_corrected")
    if hooks.money_in_flight.any(invoice_id=locked.pk):
        raise Conflict(
            _("A card payment or refund of this invoice is being processed. Wait a moment and try again."),
            code="payment_in_progress",
        )


def clean_new_vat_id(vat_id: str, country: str) -> str:
    new_vat = clean_vat_id(vat_id, country)
    if new_vat and country in tax.EU_VAT_RATES:
        new_vat = tax.with_country_prefix(new_vat, country)
    return new_vat


def _new_lines(remaining, rate: Decimal, currency: str) -> list[InvoiceLine]:
    """The lines of the corrected invoice: what each line has not credited yet before the
    correction (a partly credited line as one unit of its remaining amount), taxed
    with ``tax.line_tax`` at the new rate."""
    lines = []
    for left in remaining:
        if left.amount <= 0:
            continue
        line = left.line
        whole = left.amount == line.amount
        lines.append(
            InvoiceLine(
                subscription_id=line.subscription_id,
                position=len(lines) + 1,
                service_name=line.service_name,
                meter=line.meter,
                quantity=line.quantity if whole else Decimal(1),
                unit_price=line.unit_price if whole else left.amount,
                amount=left.amount,
                tax_amount=tax.line_tax(left.amount, rate, currency),
                is_marketplace=line.is_marketplace,
            )
        )
    if not lines:
        raise Conflict(_("Everything on this invoice has been credited already."), code="nothing_to_credit")
    return lines


def _reissue(locked: Invoice, current: InvoiceRevision, lines, treatment, *, vat_id, po_number, actor, reason):
    """The corrected invoice: same scope, period, parties and terms; a new number."""
    today, now = clock.today(), clock.now()
    number, reference = next_invoice_number(today.year)
    subtotal = sum((line.amount for line in lines), Decimal(0))
    vat = sum((line.tax_amount for line in lines), Decimal(0))
    bank = locked.payment_terms == PaymentTerms.BANK_TRANSFER
    corrected = Invoice.objects.create(
        number=number,
        account_id=locked.account_id,
        profile_id=locked.profile_id,
        period=locked.period,
        issue_date=today,
        due_date=today + dt.timedelta(days=PAYMENT_DAYS) if bank else today,
        currency=locked.currency,
        subtotal=subtotal,
        tax_amount=vat,
        total=subtotal + vat,
        payment_reference=reference,
        payment_terms=locked.payment_terms,
        replaces=locked,
        created_at=now,
    )
    revision = InvoiceRevision.objects.create(
        invoice=corrected,
        number=1,
        language=current.language,
        sold_to=current.sold_to,
        bill_to=current.bill_to,
        vat_id=vat_id,
        po_number=po_number,
        tax_rate=treatment.rate,
        reverse_charge=treatment.reverse_charge,
        tax_note_code=treatment.note,
        reason=reason,
        created_by=actor,
        created_at=now,
    )
    for line in lines:
        line.invoice = corrected
    InvoiceLine.objects.bulk_create(lines)
    corrected.current_revision = revision
    return corrected


def _after_correction(corrected_id: int, revision_id: int) -> None:
    """On commit (the credit note's PDF is published by ``write_credit_note``)."""
    queue.publish("invoices.tasks.render_invoice_pdf", revision_id)
    # A card-paying scope pays what remains like any newly issued invoice.
    hooks.after_issue(invoice_ids=[corrected_id])


@transaction.atomic
def invoice_correct(*, invoice, actor, reason: str, vat_id: str, po_number: str | None = None) -> Invoice:
    """Credit ``invoice`` in full (a ``correction`` credit note of everything not yet
    credited) and issue the corrected invoice that replaces it: a new INV number, the
    same lines (what is not credited yet), VAT per line with the treatment of the new
    ``vat_id`` (``tax.treatment_for`` with the account's country and business flag).

    What was paid on the credited invoice is carried over: ``min(amount_paid, new
    total)`` moves from the credited invoice's ``amount_paid`` to the corrected one's and
    is recorded on the credit note (``applied_to``, ``amount_applied``). Nothing is
    refunded; a surplus (the corrected total is lower than what was paid) stays on the
    credited invoice for support to refund. Statuses follow the balances: the credited
    invoice is void (nothing left paid on it) or paid (a surplus to refund); the corrected
    one is paid, or due with the rest (charged automatically on a card scope).

    ``actor``: support staff (``can_credit_invoices``) or None. Refused while a card
    payment or refund is pending, and on a void or already corrected invoice. The
    customer gets the ``invoice_corrected`` e-mail in their language."""
    reason = clean_reason(reason)
    if actor is not None:
        check_may_credit(actor)
    locked = Invoice.objects.select_for_update().select_related("account", "profile").get(pk=invoice.pk)
    _refuse(locked)
    current = InvoiceRevision.objects.get(pk=locked.current_revision_id)
    account = locked.account
    country = account.country.code if account.country else ""
    new_vat = clean_new_vat_id(vat_id, country)
    new_po = current.po_number if po_number is None else clean_po_number(po_number)
    treatment = tax.treatment_for(country=country, is_business=account.is_business, vat_id=new_vat)
    remaining = uncredited_lines(locked)
    credits = [LineCredit(r.line, r.amount, r.tax) for r in remaining if r.gross > 0]
    lines = _new_lines(remaining, treatment.rate, locked.currency)
    credit_note = write_credit_note(locked, credits, kind=CreditNoteKind.CORRECTION, reason=reason, created_by=actor)
    corrected = _reissue(
        locked, current, lines, treatment, vat_id=new_vat, po_number=new_po, actor=actor, reason=reason
    )
    carried = min(locked.amount_paid, corrected.total)
    if carried > 0:
        locked.amount_paid -= carried
        corrected.amount_paid = carried
    credit_note.applied_to, credit_note.amount_applied = corrected, carried
    credit_note.save(update_fields=["applied_to", "amount_applied"])
    locked.save(update_fields=["amount_credited", "amount_paid", *settle_status(locked)])
    corrected.save(update_fields=["current_revision", "amount_paid", *settle_status(corrected)])
    for name in ("amount_credited", "amount_paid", "status", "paid_at"):
        setattr(invoice, name, getattr(locked, name))
    queue_correction_notifications(credit_note, corrected)
    transaction.on_commit(functools.partial(_after_correction, corrected.pk, corrected.current_revision_id))
    return corrected
