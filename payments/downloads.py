"""The PDF download of a receipt, one response for the page and the API."""

from django.http import FileResponse, Http404

from . import receipt_selectors, services


def _open(receipt):
    """The stored PDF, rendered now if it has none yet and again if its file is gone."""
    if not receipt.pdf:
        services.receipt_render_pdf(receipt_id=receipt.pk)
        receipt.refresh_from_db(fields=["pdf", "pdf_rendered_at"])
    elif not receipt.pdf.storage.exists(receipt.pdf.name):
        services.receipt_restore_pdf(receipt_id=receipt.pk)
        receipt.refresh_from_db(fields=["pdf", "pdf_rendered_at"])
    if not receipt.pdf:
        raise Http404
    return receipt.pdf.open("rb")


def receipt_pdf_response(user, receipt_id) -> FileResponse:
    """The PDF of a receipt of an invoice the user may read (404 otherwise), as an
    attachment named after the receipt (``RC-2026-000042.pdf``)."""
    receipt = receipt_selectors.get_receipt_for_user(user, receipt_id)
    try:
        content = _open(receipt)
    except FileNotFoundError:  # the file went between the check and the read
        services.receipt_restore_pdf(receipt_id=receipt.pk)
        receipt.refresh_from_db(fields=["pdf", "pdf_rendered_at"])
        content = _open(receipt)
    return FileResponse(content, as_attachment=True, filename=f"{receipt.number}.pdf", content_type="application/pdf")
