"""Reads of receipts. Who may read a receipt is who may read its invoice: every door (the
invoice page, the receipt PDF page, the API) asks ``invoices.selectors`` and
``accounts.permissions.can_view_invoices``, so another tenant's receipt is a 404 like
its invoice."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.http import Http404
from django.urls import reverse

from accounts import permissions
from billing_portal.db import PreparedRead
from invoices import selectors as invoice_selectors

from . import labels
from .models import Receipt


@dataclass(frozen=True)
class ReceiptLink:
    """A receipt as the invoice page lists it (``invoices.hooks.invoice_receipts``)."""

    number: str
    date: date
    method: str
    reference: str
    amount: Decimal
    currency: str
    url: str


def receipts_for_invoice(invoice):
    """The receipts of an invoice the caller has already been allowed to read, by number."""
    return _BY_NUMBER.filter(invoice_id=invoice.pk).select_related("invoice")


def receipt_links_for_invoice(*, invoice) -> list[ReceiptLink]:
    """``invoices.hooks.invoice_receipts``: the receipts of the invoice shown on its page
    (the page has checked that the user may read the invoice)."""
    return [
        ReceiptLink(
            number=receipt.number,
            date=receipt.paid_on,
            method=labels.receipt_method(receipt),
            reference=receipt.reference if not receipt.is_card else "",
            amount=receipt.amount,
            currency=receipt.currency,
            url=reverse("payments:receipt_pdf", args=[receipt.pk]),
        )
        # The links read nothing of the invoice: not joined (the page is costed per query).
        for receipt in _OF_INVOICE.rows(invoice.pk)
    ]


# Receipts by number, the order resolved once: the API's receipts of an invoice filter it
# (never read itself), and the invoice page's are read with it compiled once (0.6 ms of
# CPU through the ORM, 0.1 ms prepared).
_BY_NUMBER = Receipt.objects.order_by("number")
_OF_INVOICE = PreparedRead(_BY_NUMBER, "invoice_id")


def receipts_for_user(user, profile=None):
    """Every receipt of the invoices the user may read (``can_view_invoices``, as a
    filter), or of one billing profile already checked with ``history_scope``; newest first."""
    scope = {"profile_id": profile.pk} if profile is not None else {}
    return (
        Receipt.objects.filter(permissions.can_view_invoices_filter(user), **scope)
        .select_related("invoice")
        .order_by("-issue_date", "-number")
    )


def get_receipt_for_user(user, pk) -> Receipt:
    """A receipt of an invoice the user may read; otherwise (or unknown) Http404."""
    try:
        receipt = Receipt.objects.select_related("payment", "account").get(pk=pk)
    except (Receipt.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    receipt.invoice = invoice_selectors.get_invoice_for_user(user, receipt.invoice_id)
    return receipt
