"""The PDF downloads of an invoice revision and of a credit note, one response each for
the page and the API."""

from django.http import FileResponse, Http404

from accounts import permissions

from . import selectors, services
from .formatting import revision_file_name


def pdf_file_name(revision) -> str:
    """``INV-2026-000123.pdf`` for the invoice as issued, ``INV-2026-000123-r2.pdf`` for a
    later revision (PO-5: earlier revisions stay readable under their own name)."""
    return revision_file_name(revision.invoice.number, revision.number)


def revision_pdf_response(user, invoice_id: int, revision_number: int | None = None) -> FileResponse:
    """The stored PDF of the current (or a given) revision the user may see (404
    otherwise). Rendered once: if the worker has not stored it yet, it is rendered and
    stored now. A stored PDF whose file is gone (storage lost, a database restored
    without its media) is rendered again."""
    return _revision_pdf(selectors.get_revision_for_user(user, invoice_id, revision_number))


def support_revision_pdf_response(user, invoice_id: int, revision_number: int | None = None) -> FileResponse:
    """The same PDF for support staff reviewing a request about the invoice
    (``permissions.can_read_invoices_for_support``; 404 for everyone else)."""
    if not permissions.can_read_invoices_for_support(user):
        raise Http404
    return _revision_pdf(selectors.get_revision(invoice_id, revision_number))


def _revision_pdf(revision) -> FileResponse:
    if not services.invoice_revision_stored_pdf(revision):
        raise Http404
    content = revision.pdf.open("rb")
    return FileResponse(content, as_attachment=True, filename=pdf_file_name(revision), content_type="application/pdf")


def credit_note_pdf_response(user, credit_note_id: int) -> FileResponse:
    """The stored PDF of a credit note of an invoice the user may see (404 otherwise),
    rendered now if the worker has not yet, rendered again if its file is gone."""
    credit_note = selectors.get_credit_note_for_user(user, credit_note_id)
    if not credit_note.pdf:
        services.credit_note_render_pdf(credit_note_id=credit_note.pk)
        credit_note.refresh_from_db(fields=["pdf", "pdf_rendered_at"])
    elif not credit_note.pdf.storage.exists(credit_note.pdf.name):
        services.credit_note_restore_pdf(credit_note_id=credit_note.pk)
        credit_note.refresh_from_db(fields=["pdf", "pdf_rendered_at"])
    if not credit_note.pdf:
        raise Http404
    return FileResponse(
        credit_note.pdf.open("rb"),
        as_attachment=True,
        filename=f"{credit_note.number}.pdf",
        content_type="application/pdf",
    )
