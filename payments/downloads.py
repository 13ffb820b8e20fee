"""The PDF download of a receipt, one response for the page and the API."""

from django.http import FileResponse

from invoices.downloads import document_response

from . import receipt_selectors, services


def receipt_pdf_response(user, receipt_id) -> FileResponse:
    """The PDF of a receipt of an invoice the user may read (404 otherwise), as an
    attachment named after the receipt (``RC-2026-000042.pdf``): rendered on first
    download and stored, rendered again if its file is gone (``document_response``)."""
    receipt = receipt_selectors.get_receipt_for_user(user, receipt_id)
    return document_response(
        receipt,
        render=lambda: services.receipt_render_pdf(receipt_id=receipt.pk),
        restore=lambda: services.receipt_restore_pdf(receipt_id=receipt.pk),
        filename=f"{receipt.number}.pdf",
    )
