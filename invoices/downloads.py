"""The PDF downloads of an invoice revision and of a credit note, one response each for
the page and the API."""

from django.http import FileResponse, Http404

from accounts import permissions
from billing_portal.storage import open_document

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
    return document_response(
        revision,
        render=lambda: services.invoice_revision_render_pdf(revision_id=revision.pk),
        restore=lambda: services.invoice_revision_restore_pdf(revision_id=revision.pk),
        filename=pdf_file_name(revision),
    )


def credit_note_pdf_response(user, credit_note_id: int) -> FileResponse:
    """The stored PDF of a credit note of an invoice the user may see (404 otherwise),
    rendered now if the worker has not yet, rendered again if its file is gone."""
    credit_note = selectors.get_credit_note_for_user(user, credit_note_id)
    return credit_note_document(credit_note)


def credit_note_document(credit_note) -> FileResponse:
    """A credit note's PDF (for a caller that checked who may read it: the page, the API,
    the admin site)."""
    return document_response(
        credit_note,
        render=lambda: services.credit_note_render_pdf(credit_note_id=credit_note.pk),
        restore=lambda: services.credit_note_restore_pdf(credit_note_id=credit_note.pk),
        filename=f"{credit_note.number}.pdf",
    )


def document_response(document, *, render, restore, filename: str) -> FileResponse:
    """The stored PDF of a document row (an invoice revision, a credit note, a receipt:
    ``pdf``, ``pdf_rendered_at``), streamed from the storage as an attachment.

    Rendered once: a document without a PDF yet (the worker has not got to it) is
    rendered and stored now (``render``). A stored PDF whose file is gone (storage lost, a
    database restored without its media) is rendered again (``restore``): the storage's
    "no such file" to the read says so, so a present file costs one request. A storage
    that cannot be reached raises ``StorageUnavailable`` (503, billing_portal.middleware)
    and nothing is rendered or written."""
    if not document.pdf:
        render()
        document.refresh_from_db(fields=["pdf", "pdf_rendered_at"])
    if not document.pdf:
        raise Http404
    try:
        content = open_document(document.pdf)
    except FileNotFoundError:
        restore()
        document.refresh_from_db(fields=["pdf", "pdf_rendered_at"])
        if not document.pdf:
            raise Http404
        content = open_document(document.pdf)
    response = FileResponse(content, as_attachment=True, filename=filename, content_type="application/pdf")
    if "Content-Length" not in response and getattr(content, "size", None) is not None:
        response["Content-Length"] = str(content.size)  # a streamed object: its size from the storage's answer
    return response
