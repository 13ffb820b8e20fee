"""Step 1 of a card payment (``charges``): lock the invoice, check that it can be paid
with the card, insert the pending payment. One transaction; the gateway is called after
it commits.

The usual case, nothing in the way, is tried first without looking for other payments
of the invoice: the unique constraints (one pending or succeeded card payment per
invoice, one payment per request key) refuse the insert if there is one. Then, or on any
refusal (a repeat of a request whose payment paid the invoice meanwhile must get that
payment back), it is done again, looking first.
"""

import uuid

from django.db import IntegrityError, transaction
from django.db.models import FilteredRelation, Q
from django.http import Http404
from django.utils.translation import gettext as _

from accounts import permissions
from billing_portal import clock
from billing_portal.db import PreparedRead
from billing_portal.errors import Conflict, DomainError, InvalidInput, NotAllowed
from invoices.models import Invoice, InvoiceStatus

from ..models import Payment, PaymentKind, PaymentMethod, PaymentSource, PaymentStatus

# Sources where a person asked for the payment (their right to pay is checked).
_BY_A_PERSON = (PaymentSource.PAY_NOW, PaymentSource.API)


def _require_payer(actor, source: str, invoice: Invoice) -> None:
    """PAY-1, for a person paying (page, API): an invoice they may not see is not found
    (as everywhere), one they may see but not pay is refused."""
    if actor is None or source not in _BY_A_PERSON:
        return
    if not permissions.can_view_invoices(actor, invoice.profile):
        raise Http404
    if not permissions.can_pay_invoices(actor, invoice.profile):
        raise NotAllowed(_("Your role may see this invoice but not pay it."))


def _earlier_payment(invoice: Invoice, request_key: str | None) -> Payment | None:
    """The payment a repeat of the same request (form token, API key, retry step) made."""
    if not request_key:
        return None
    existing = Payment.objects.filter(request_key=request_key).first()
    if existing is not None and existing.invoice_id != invoice.pk:
        raise Conflict(_("This form was used for another invoice."), code="request_key_reused")
    return existing


def _locked_invoice(invoice, payment_method) -> Invoice:
    """The invoice, locked until the transaction ends, with its account and profile and
    the card to charge as it is now (``chosen_card``: None unless it is one of the
    profile's cards), in one query."""
    try:
        locked = _LOCKED.one(invoice.pk, getattr(payment_method, "pk", None))
    except Invoice.DoesNotExist:
        raise Http404 from None
    if locked.profile.account_id == locked.account_id:
        locked.profile.account = locked.account  # the same row: not read twice
    return locked


# Compiled once (billing_portal.db.PreparedRead): through the ORM this read cost 1.3 ms of
# CPU of every payment, 0.2 ms prepared (docs/benchmarks.md). The card is the read's
# further value: a card id that is none of the profile's, None or out of any id's range
# joins no card, and the card is refused as not one of the scope's.
_LOCKED = PreparedRead(
    Invoice.objects.select_for_update(of=("self",))
    .annotate(
        chosen_card=FilteredRelation(
            "profile__payment_methods", condition=Q(profile__payment_methods__pk=PreparedRead.slot(1))
        )
    )
    .select_related("account", "profile", "chosen_card")
    .order_by(),
    "pk",
)


def _card_of_invoice_scope(invoice: Invoice) -> PaymentMethod:
    """The card to charge: one of the scope's cards that is not removed."""
    method = getattr(invoice, "chosen_card", None)  # not set when the join found no card
    if method is None or method.removed_at is not None:
        raise InvalidInput(
            _("Choose one of the cards of this billing account."),
            code="invalid_payment_method",
            fields={"payment_method": [_("Choose one of the cards of this billing account.")]},
        )
    return method


def _refuse_in_progress() -> None:
    raise Conflict(
        _("A payment of this invoice is already being processed. Wait a moment and look at the invoice again."),
        code="payment_in_progress",
    )


def _refuse_unpayable(invoice: Invoice, *, look_at_payments: bool) -> None:
    if invoice.status == InvoiceStatus.PAID:
        raise Conflict(_("This invoice has already been paid."), code="invoice_paid")
    if invoice.status == InvoiceStatus.VOID:
        raise Conflict(_("This invoice is void and cannot be paid."), code="invoice_void")
    if not invoice.is_payable or invoice.amount_due <= 0:
        raise Conflict(_("Nothing is due on this invoice."), code="nothing_due")
    if invoice.pays_by_bank_transfer:
        raise Conflict(
            _("This invoice is paid by bank transfer. Quote the payment reference %(reference)s.")
            % {"reference": invoice.payment_reference},
            code="pays_by_bank_transfer",
        )
    if not look_at_payments:
        return
    open_payment = Payment.objects.filter(
        invoice=invoice, kind=PaymentKind.CARD, status__in=[PaymentStatus.PENDING, PaymentStatus.SUCCEEDED]
    ).first()
    if open_payment is not None and open_payment.status == PaymentStatus.PENDING:
        _refuse_in_progress()
    if open_payment is not None:
        raise Conflict(_("This invoice has already been paid."), code="invoice_paid")


def _refuse_expired(method: PaymentMethod) -> None:
    if method.is_expired:
        raise InvalidInput(
            _("This card has expired. Update its expiry date or add another card."),
            code="expired_card",
            fields={"payment_method": [_("This card has expired.")]},
        )


def _insert_pending(*, invoice: Invoice, method: PaymentMethod, actor, source: str, request_key) -> Payment:
    return Payment.objects.create(
        invoice=invoice,
        account=invoice.account,
        profile=invoice.profile,
        kind=PaymentKind.CARD,
        source=source,
        amount=invoice.amount_due,
        currency=invoice.currency,
        payment_method=method,
        card=str(method)[:80],
        gateway=method.gateway,
        gateway_key=f"pay_{uuid.uuid4().hex}",
        request_key=request_key or None,
        initiated_by=actor,
        created_at=clock.now(),
    )


@transaction.atomic
def _start(*, invoice, payment_method, actor, source: str, request_key, look_first: bool) -> tuple[Payment, bool]:
    locked = _locked_invoice(invoice, payment_method)
    _require_payer(actor, source, locked)
    existing = _earlier_payment(locked, request_key) if look_first else None
    if existing is not None:
        return existing, False
    method = _card_of_invoice_scope(locked)
    _refuse_unpayable(locked, look_at_payments=look_first)
    _refuse_expired(method)
    payment = _insert_pending(invoice=locked, method=method, actor=actor, source=source, request_key=request_key)
    return payment, True


def payment_start(
    *, invoice, payment_method: PaymentMethod, actor=None, source: str, request_key: str | None = None
) -> tuple[Payment, bool]:
    """Step 1: lock the invoice and record a pending card payment of the amount due.
    Returns (payment, created); a repeated ``request_key`` returns the first payment.
    Of ``invoice`` and ``payment_method`` only the ids are used: both are read again,
    in the invoice's locked read; a card that is not one of the scope's (``None``
    included) is refused; a person who may not see the invoice gets Http404.
    Tried first without looking for other payments (see the module's docstring)."""
    kwargs = {"invoice": invoice, "payment_method": payment_method, "actor": actor, "source": source}
    try:
        return _start(**kwargs, request_key=request_key, look_first=False)
    except (IntegrityError, DomainError):
        pass
    try:
        return _start(**kwargs, request_key=request_key, look_first=True)
    except IntegrityError:
        # Another attempt got in first (the constraint holds even without the lock).
        _refuse_in_progress()
