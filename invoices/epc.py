"""The EPC QR code of an invoice paid by bank transfer ("SEPA credit transfer", EPC069-12,
version 002): a banking app scans it and fills in the transfer (beneficiary, IBAN, BIC,
amount, the invoice's structured payment reference).

One predicate, ``shows_epc_qr``, decides for every door (the invoice page and the PDF):
an invoice in euros, with bank-transfer payment terms, still due or past due (not paid,
not void) and with an amount due above zero. ``epc_payload`` builds the text the code
carries; ``qr_svg`` draws it as inline SVG for the page (no script or style attribute, so
the Content-Security-Policy needs nothing more) and ``qr_data_uri`` as an SVG image for
WeasyPrint. The seller's name, IBAN and BIC come from ``settings.PORTAL_SELLER``
(billing_portal/seller_settings.py, which refuses a malformed IBAN or BIC at start-up).
"""

from decimal import Decimal

import segno
from django.conf import settings
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from .models import InvoiceStatus, PaymentTerms

# EPC069-12: the fields, in their order, and their limits.
SERVICE_TAG = "BCD"
VERSION = "002"
CHARACTER_SET_UTF8 = "1"
IDENTIFICATION = "SCT"
NAME_MAX = 70
AMOUNT_MAX = Decimal("999999999.99")
REFERENCE_MAX = 35
PAYLOAD_MAX_BYTES = 331


def shows_epc_qr(invoice) -> bool:
    """Does ``invoice`` carry an EPC QR code? Euros only (a SEPA credit transfer is in
    euros), bank-transfer payment terms, due or past due and something left to pay."""
    return (
        invoice.currency == "EUR"
        and invoice.payment_terms == PaymentTerms.BANK_TRANSFER
        and invoice.status in (InvoiceStatus.DUE, InvoiceStatus.PAST_DUE)
        and Decimal(0) < invoice.amount_due <= AMOUNT_MAX
        and bool(invoice.payment_reference)
        and bool(settings.PORTAL_SELLER.get("iban"))
    )


def epc_payload(invoice, seller=None) -> str:
    """The EPC069-12 text for ``invoice``'s amount due: one field per line (LF), the
    unstructured remittance and the note to the payer left out after the structured
    reference, as the standard allows for trailing empty fields."""
    seller = seller or settings.PORTAL_SELLER
    amount = invoice.amount_due.quantize(Decimal("0.01"))
    fields = [
        SERVICE_TAG,
        VERSION,
        CHARACTER_SET_UTF8,
        IDENTIFICATION,
        (seller.get("bic") or "").replace(" ", "").upper(),
        seller["name"].strip()[:NAME_MAX],
        seller["iban"].replace(" ", "").upper(),
        f"EUR{amount}",
        "",  # purpose code: none
        invoice.payment_reference[:REFERENCE_MAX],
    ]
    payload = "\n".join(fields)
    if len(payload.encode("utf-8")) > PAYLOAD_MAX_BYTES:  # cannot happen within the limits above
        raise ValueError("EPC payload over 331 bytes")
    return payload


def _qr(invoice):
    # Error correction level M, as EPC069-12 requires; no boost, so the level stays M.
    return segno.make(epc_payload(invoice), error="m", encoding="utf-8", micro=False, boost_error=False)


def _title() -> str:
    return _("QR code for your banking app: pay this invoice by bank transfer")


def qr_svg(invoice) -> str:
    """The code as inline SVG for the invoice page, or "" when the invoice has none."""
    if not shows_epc_qr(invoice):
        return ""
    svg = _qr(invoice).svg_inline(
        scale=4, border=4, dark="#000", light="#fff", svgclass="qr-code", lineclass=None, omitsize=True, title=_title()
    )
    return mark_safe(svg.replace("<svg ", '<svg role="img" ', 1))  # segno escapes the title


def qr_data_uri(invoice) -> str:
    """The code as a ``data:image/png`` address for the PDF, or "" when it has none: one
    pixel a module, which the PDF scales up without smoothing (``image-rendering:
    pixelated`` in invoices.pdf), so the modules stay sharp at any zoom. A PNG rather
    than SVG: WeasyPrint draws an SVG path of a thousand modules in about 25 ms, the PNG
    in about 1 ms (docs/benchmarks.md)."""
    if not shows_epc_qr(invoice):
        return ""
    return _qr(invoice).png_data_uri(scale=1, border=4, dark="#000", light="#fff")
