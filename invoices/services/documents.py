"""Invoice documents: the PDF of each invoice revision and of each credit note, rendered
once (and again when the stored file is gone)."""

from django.core.files.base import ContentFile
from django.db import transaction

from billing_portal import clock, queue

from ..models import CreditNote, InvoiceRevision
from ..pdf import render_credit_note_pdf, render_revision_pdf


def store_pdf_once(model, pk: int, filename: str, content: bytes) -> bool:
    """Store a rendered PDF on a document row (an invoice revision, a credit note, a
    receipt: ``pdf`` and ``pdf_rendered_at``) under a row lock, unless a concurrent render
    stored one first. Returns True if this one was stored."""
    with transaction.atomic():
        locked = model.objects.select_for_update().get(pk=pk)
        if locked.pdf:
            return False
        locked.pdf.save(filename, ContentFile(content), save=False)
        locked.pdf_rendered_at = clock.now()
        locked.save(update_fields=["pdf", "pdf_rendered_at"])
    return True


def forget_missing_pdf(model, pk: int) -> bool:
    """Before rendering a document again: clear, under a row lock, the name of a stored PDF
    whose file is gone (storage lost, a database restored without its media). Returns True
    if the row exists and has no PDF now; False if its file is there or there is no row."""
    with transaction.atomic():
        locked = model.objects.select_for_update().filter(pk=pk).first()
        if locked is None:
            return False
        if locked.pdf:
            if locked.pdf.storage.exists(locked.pdf.name):
                return False
            locked.pdf = ""
            locked.pdf_rendered_at = None
            locked.save(update_fields=["pdf", "pdf_rendered_at"])
    return True


def invoice_revision_render_pdf(*, revision_id: int) -> bool:
    """Render and store the PDF of one invoice revision, once. Returns True if it was
    rendered now; False if it already had one (or does not exist).

    Rendering happens outside the transaction (it takes a while); storing happens under
    a row lock, and a concurrent render that finishes second is discarded."""
    revision = InvoiceRevision.objects.select_related("invoice").filter(pk=revision_id).first()
    if revision is None or revision.pdf:
        return False
    content = render_revision_pdf(revision)
    return store_pdf_once(InvoiceRevision, revision_id, f"{revision.invoice.number}-r{revision.number}.pdf", content)


def invoice_revisions_render_pdf(*, revision_ids: list[int]) -> int:
    """Render and store the PDFs of many revisions (a billing chunk's, a sweep's), each
    once as ``invoice_revision_render_pdf``; one that fails does not stop the others.
    Returns how many were rendered now."""
    return queue.each(invoice_revision_render_pdf, revision_ids, key="revision_id")


def invoice_revision_restore_pdf(*, revision_id: int) -> bool:
    """Render the PDF of a revision again when its stored file is gone (storage lost, a
    database restored without its media): the name of the missing file is cleared under
    a row lock and the revision rendered as if it never had one. Returns True if it was
    rendered now; False if the file is there (or the revision does not exist)."""
    return forget_missing_pdf(InvoiceRevision, revision_id) and invoice_revision_render_pdf(revision_id=revision_id)


def invoice_revision_stored_pdf(revision) -> bool:
    """Make sure a revision's PDF is in storage, as a download needs it: rendered now if the
    worker has not stored it yet, rendered again if its stored file is gone. Returns
    whether it is there; ``revision.pdf`` names it then."""
    if not revision.pdf:
        invoice_revision_render_pdf(revision_id=revision.pk)
        revision.refresh_from_db(fields=["pdf", "pdf_rendered_at"])
    if revision.pdf and not revision.pdf.storage.exists(revision.pdf.name):
        invoice_revision_restore_pdf(revision_id=revision.pk)
        revision.refresh_from_db(fields=["pdf", "pdf_rendered_at"])
    return bool(revision.pdf)


def credit_note_render_pdf(*, credit_note_id: int) -> bool:
    """Render and store the PDF of a credit note, once (as ``invoice_revision_render_pdf``)."""
    credit_note = CreditNote.objects.select_related("invoice", "revision").filter(pk=credit_note_id).first()
    if credit_note is None or credit_note.pdf:
        return False
    content = render_credit_note_pdf(credit_note)
    return store_pdf_once(CreditNote, credit_note_id, f"{credit_note.number}.pdf", content)


def credit_note_restore_pdf(*, credit_note_id: int) -> bool:
    """Render a credit note's PDF again when its stored file is gone."""
    return forget_missing_pdf(CreditNote, credit_note_id) and credit_note_render_pdf(credit_note_id=credit_note_id)
