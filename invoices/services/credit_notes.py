"""Credit notes: an issued invoice credited in full or in part (docs/invoices.md,
"Credit notes and balances").

What a credit note credits, line by line, with VAT per line at the rate of the invoice's
current revision:

* nothing given: everything the invoice still has uncredited (a full credit);
* ``amount`` (gross, VAT included, to the cent): split over the lines pro rata to what
  each still has uncredited (largest remainder, so the cents add up); each line's part
  is split into net and VAT at the invoice's rate (net = gross / (1 + rate) rounded
  half-up, VAT = gross - net); a line credited to its end takes exactly its remaining
  net and VAT, so credits that add up to the invoice add up to every line;
* ``lines`` (``[{"position": 2, "amount": "10.00"}]``, net amounts): the VAT of each is
  ``tax.line_tax`` (half-up per line, as the billing run), or the line's remaining VAT
  when the line is credited to its end.

The credited net + VAT never exceeds what the invoice still has uncredited; more is
refused (``over_credit``) and nothing is written.
"""

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from accounts import permissions
from billing_portal import clock, queue
from billing_portal.card_numbers import refuse_card_number
from billing_portal.errors import Conflict, DomainError, InvalidInput, NotAllowed
from billing_portal.money import minor_unit, quantize

from .. import hooks, tax
from ..models import CreditNote, CreditNoteKind, CreditNoteLine, Invoice, InvoiceLine, InvoiceRevision, InvoiceStatus
from .credit_notices import queue_credit_note_notifications
from .invoice import settle_status
from .numbering import next_credit_note_number


class CreditNoteKeyReused(DomainError):
    """The request key (Idempotency-Key, form token) was used for another credit note."""

    status_code = 422
    default_code = "idempotency_key_reused"


@dataclass
class LineCredit:
    """What a credit note credits on one invoice line: net amount and VAT."""

    line: InvoiceLine
    amount: Decimal
    tax: Decimal


@dataclass
class Uncredited:
    line: InvoiceLine
    amount: Decimal
    tax: Decimal

    @property
    def gross(self) -> Decimal:
        return self.amount + self.tax


def uncredited_lines(invoice) -> list[Uncredited]:
    """Every line of the invoice with the net amount and VAT not credited yet (two queries)."""
    lines = list(InvoiceLine.objects.filter(invoice_id=invoice.pk).order_by("position"))
    credited = {
        row["invoice_line_id"]: (row["net"], row["vat"])
        for row in CreditNoteLine.objects.filter(invoice_line__invoice_id=invoice.pk)
        .order_by()
        .values("invoice_line_id")
        .annotate(net=Sum("amount"), vat=Sum("tax_amount"))
    }
    out = []
    for line in lines:
        net, vat = credited.get(line.pk, (Decimal(0), Decimal(0)))
        out.append(Uncredited(line, line.amount - net, line.tax_amount - vat))
    return out


def _money(value, currency: str, field: str) -> Decimal:
    """A positive amount in the currency's minor unit (no more decimals than it has)."""
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise InvalidInput(_("The amount is not a number."), fields={field: [_("Enter a number.")]}) from None
    if not amount.is_finite() or amount <= 0:
        raise InvalidInput(_("The amount must be more than zero."), fields={field: [_("Must be more than zero.")]})
    if quantize(amount, currency) != amount:
        raise InvalidInput(
            _("The amount has more decimals than %(currency)s has.") % {"currency": currency},
            fields={field: [_("Too many decimals.")]},
        )
    return quantize(amount, currency)


def _over_credit(asked: Decimal, left: Decimal, currency: str) -> InvalidInput:
    return InvalidInput(
        _("This would credit %(asked)s, but only %(left)s of this invoice is not credited yet.")
        % {"asked": f"{asked} {currency}", "left": f"{left} {currency}"},
        code="over_credit",
        fields={"amount": [_("More than the invoice still has uncredited.")]},
    )


def _full(remaining: list[Uncredited]) -> list[LineCredit]:
    return [LineCredit(u.line, u.amount, u.tax) for u in remaining if u.gross > 0]


def _net_and_tax(part: Decimal, left: Uncredited, rate: Decimal, currency: str) -> LineCredit:
    """Split a gross part of one line into net and VAT at the invoice's rate."""
    if part == left.gross:
        return LineCredit(left.line, left.amount, left.tax)
    net = quantize(part / (1 + rate / 100), currency)
    vat = min(max(part - net, Decimal(0)), left.tax)
    net = part - vat
    if net > left.amount:
        net = left.amount
        vat = part - net
    return LineCredit(left.line, net, vat)


def _split_gross(remaining: list[Uncredited], gross: Decimal, rate: Decimal, currency: str) -> list[LineCredit]:
    """``gross`` over the lines pro rata to their uncredited gross, to the minor unit."""
    open_lines = [u for u in remaining if u.gross > 0]
    total_left = sum((u.gross for u in open_lines), Decimal(0))
    if gross > total_left:
        raise _over_credit(gross, total_left, currency)
    if gross == total_left:
        return _full(open_lines)
    unit = minor_unit(currency)
    units, left_units = int(gross / unit), total_left / unit
    shares = []
    for index, u in enumerate(open_lines):
        exact = units * (u.gross / unit) / left_units
        shares.append([int(exact), exact - int(exact), index])
    for share in sorted(shares, key=lambda s: (-s[1], s[2]))[: units - sum(s[0] for s in shares)]:
        share[0] += 1
    return [_net_and_tax(share[0] * unit, open_lines[share[2]], rate, currency) for share in shares if share[0] > 0]


def _by_lines(remaining: list[Uncredited], lines, rate: Decimal, currency: str) -> list[LineCredit]:
    by_position = {u.line.position: u for u in remaining}
    credits, seen = [], set()
    for index, item in enumerate(lines):
        field = f"lines.{index}"
        position = item.get("position") if isinstance(item, dict) else None
        left = by_position.get(position) if isinstance(position, int) else None
        if left is None:
            raise InvalidInput(_("The invoice has no line %(position)s.") % {"position": position}, fields={field: []})
        if position in seen:
            raise InvalidInput(_("Line %(position)s is given twice.") % {"position": position}, fields={field: []})
        seen.add(position)
        amount = _money(item.get("amount"), currency, field)
        if amount > left.amount:
            raise _over_credit(amount, left.amount, currency)
        vat = left.tax if amount == left.amount else min(tax.line_tax(amount, rate, currency), left.tax)
        credits.append(LineCredit(left.line, amount, vat))
    return credits


def credits_for(invoice, revision, *, amount=None, lines=None) -> list[LineCredit]:
    """What a credit note of ``invoice`` credits (full, a gross ``amount`` or ``lines``)."""
    remaining = uncredited_lines(invoice)
    if amount is not None and lines:
        raise InvalidInput(_("Give an amount or lines to credit, not both."), code="amount_or_lines")
    if amount is not None:
        credits = _split_gross(
            remaining, _money(amount, invoice.currency, "amount"), revision.tax_rate, invoice.currency
        )
    elif lines:
        credits = _by_lines(remaining, lines, revision.tax_rate, invoice.currency)
    else:
        credits = _full(remaining)
    total = sum((c.amount + c.tax for c in credits), Decimal(0))
    left = invoice.total - invoice.amount_credited
    if total > left:
        raise _over_credit(total, left, invoice.currency)
    if total <= 0:
        raise Conflict(_("Everything on this invoice has been credited already."), code="nothing_to_credit")
    return credits


def check_may_credit(actor) -> None:
    """Credit notes and corrections are support's (``can_credit_invoices``): the one
    refusal of every door (admin site, API, services)."""
    if not permissions.can_credit_invoices(actor):
        raise NotAllowed(_("Only support staff can issue credit notes."), code="credit_not_allowed")


def clean_reason(reason) -> str:
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise InvalidInput(_("Give a reason for the credit note."), fields={"reason": [_("This field is required.")]})
    if len(reason) > 2000:
        raise InvalidInput(_("The reason can have at most 2000 characters."), fields={"reason": [_("Too long.")]})
    refuse_card_number(reason, field="reason")
    return reason


def request_fingerprint(**parts) -> str:
    """Tells a repeat of a credit-note request from a different one with the same key."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def write_credit_note(
    locked: Invoice, credits: list[LineCredit], *, kind: str, reason: str, created_by, request_key=None, fingerprint=""
) -> CreditNote:
    """Insert the credit note and its lines with the next CN number and add it to the
    invoice's ``amount_credited`` (the caller holds the invoice's row lock and sets the
    status). Its PDF is rendered after commit."""
    revision = InvoiceRevision.objects.get(pk=locked.current_revision_id)
    subtotal = sum((c.amount for c in credits), Decimal(0))
    vat = sum((c.tax for c in credits), Decimal(0))
    today = clock.today()
    try:
        with transaction.atomic():
            credit_note = CreditNote.objects.create(
                number=next_credit_note_number(today.year),
                invoice=locked,
                revision=revision,
                account_id=locked.account_id,
                profile_id=locked.profile_id,
                kind=kind,
                issue_date=today,
                language=revision.language,
                currency=locked.currency,
                subtotal=subtotal,
                tax_amount=vat,
                total=subtotal + vat,
                reason=reason,
                request_key=request_key or None,
                request_fingerprint=fingerprint,
                created_by=created_by,
                created_at=clock.now(),
            )
    except IntegrityError:
        raise CreditNoteKeyReused(_("This key was used for another credit note.")) from None
    CreditNoteLine.objects.bulk_create(
        [
            CreditNoteLine(
                credit_note=credit_note,
                invoice_line=c.line,
                position=position,
                service_name=c.line.service_name,
                meter=c.line.meter,
                amount=c.amount,
                tax_amount=c.tax,
            )
            for position, c in enumerate(credits, 1)
        ]
    )
    locked.amount_credited += credit_note.total
    queue.publish_on_commit("invoices.tasks.render_credit_note_pdf", credit_note.pk)
    return credit_note


def _refuse_state(locked: Invoice, kind: str) -> None:
    if locked.status == InvoiceStatus.VOID:
        raise Conflict(_("A void invoice cannot be credited."), code="invoice_void")
    if kind == CreditNoteKind.CREDIT and hooks.money_in_flight.any(invoice_id=locked.pk):
        # The pending money would land on a balance that moved; a refund's own credit
        # note is issued when its refund settles (the payments app reserves for it).
        raise Conflict(
            _("A card payment or refund of this invoice is being processed. Wait a moment and try again."),
            code="payment_in_progress",
        )


@transaction.atomic
def credit_note_issue(
    *,
    invoice,
    actor,
    reason: str,
    amount=None,
    lines=None,
    kind: str = CreditNoteKind.CREDIT,
    request_key: str | None = None,
    created_by=None,
) -> CreditNote:
    """Credit an issued invoice in full (no ``amount`` nor ``lines``) or in part, with a
    reason. ``actor``: support staff (``can_credit_invoices``) or None for the portal
    itself (a refund settling: ``kind=REFUND``, ``created_by`` the one who refunded).

    In one transaction, under the invoice's row lock: the credit note (next number of
    the year's CN series) and its lines; the invoice's ``amount_credited`` and status
    (void when credited in full with nothing paid, paid when credits and payments cover
    the total). A repeat with the same ``request_key`` returns the first credit note; the
    same key for another request is refused (422). The PDF and, for a plain credit, the
    customer's e-mail follow on commit."""
    reason = clean_reason(reason)
    if actor is not None:
        check_may_credit(actor)
    fingerprint = request_fingerprint(
        invoice=invoice.pk, amount=None if amount is None else str(amount), lines=lines, reason=reason, kind=kind
    )
    locked = Invoice.objects.select_for_update().select_related("account", "profile").get(pk=invoice.pk)
    if request_key:
        existing = CreditNote.objects.filter(request_key=request_key).first()
        if existing is not None:
            if existing.request_fingerprint != fingerprint:
                raise CreditNoteKeyReused(_("This key was used for another credit note."))
            return existing
    _refuse_state(locked, kind)
    revision = InvoiceRevision.objects.get(pk=locked.current_revision_id)
    credits = credits_for(locked, revision, amount=amount, lines=lines)
    credit_note = write_credit_note(
        locked,
        credits,
        kind=kind,
        reason=reason,
        created_by=created_by or actor,
        request_key=request_key,
        fingerprint=fingerprint,
    )
    locked.save(update_fields=["amount_credited", *settle_status(locked)])
    for name in ("amount_credited", "status", "paid_at"):
        setattr(invoice, name, getattr(locked, name))
    if kind == CreditNoteKind.CREDIT:
        queue_credit_note_notifications(credit_note)
    return credit_note
