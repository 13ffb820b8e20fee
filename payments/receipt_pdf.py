"""Receipt PDFs, with the invoice PDFs' rendering (``invoices.pdf.html_to_pdf``: the
shipped fonts and stylesheet) and their base template (``invoices/pdf/base.html``), in
the language kept on the receipt (the account's when it was issued)."""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from invoices.pdf import html_to_pdf

from . import labels


def receipt_html(receipt) -> str:
    invoice = receipt.invoice
    language = receipt.language or "en"
    with translation.override(language):
        context = {
            "receipt": receipt,
            "invoice": invoice,
            "revision": invoice.current_revision,
            "method": labels.receipt_method(receipt),
            "seller": settings.PORTAL_SELLER,
            "language": language,
        }
        return render_to_string("payments/pdf/receipt.html", context)


def render_receipt_pdf(receipt) -> bytes:
    return html_to_pdf(receipt_html(receipt))
