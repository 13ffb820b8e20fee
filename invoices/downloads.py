"""The PDF download of an invoice revision, one response for the page and the API."""

from django.http import FileResponse, Http404

from . import selectors, services


def pdf_file_name(revision) -> str:
    """``INV-2026-000123.pdf`` for the invoice as issued, ``INV-2026-000123-r2.pdf`` for a
    later revision (PO-5: earlier revisions stay readable under their own name)."""
    suffix = f"-r{revision.number}" if revision.number > 1 else ""
    return f"{revision.invoice.number}{suffix}.pdf"


def revision_pdf_response(user, invoice_id: int, revision_number: int | None = None) -> FileResponse:
    """The stored PDF of the current (or a given) revision the user may see (404
    otherwise). Rendered once: if the worker has not stored it yet, it is rendered and
    stored now. A stored PDF whose file is gone (storage lost, a database restored
    without its media) is rendered again."""
    revision = selectors.get_revision_for_user(user, invoice_id, revision_number)
    if not revision.pdf:
        services.invoice_revision_render_pdf(revision_id=revision.pk)
        revision.refresh_from_db(fields=["pdf", "pdf_rendered_at"])
    if not revision.pdf:
        raise Http404
    if not revision.pdf.storage.exists(revision.pdf.name):
        services.invoice_revision_restore_pdf(revision_id=revision.pk)
        revision.refresh_from_db(fields=["pdf", "pdf_rendered_at"])
        if not revision.pdf:
            raise Http404
    content = revision.pdf.open("rb")
    return FileResponse(content, as_attachment=True, filename=pdf_file_name(revision), content_type="application/pdf")
