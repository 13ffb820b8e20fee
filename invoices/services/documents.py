"""Invoice documents: the PDF of each invoice revision and of each credit note, rendered
once (and again when the stored file is gone)."""

from django.core.files.base import ContentFile
from django.db import transaction

from billing_portal import clock

from ..models import CreditNote, InvoiceRevision
from ..pdf import render_credit_note_pdf, render_revision_pdf


def invoice_revision_render_pdf(*, revision_id: int) -> bool:
    """Render and store the PDF of one invoice revision, once. Returns True if it was
    rendered now; False if it already had one (or does not exist).

    Rendering happens outside the transaction (it takes a while); storing happens under
    a row lock, and a concurrent render that finishes second is discarded."""
    revision = InvoiceRevision.objects.select_related("invoice").filter(pk=revision_id).first()
    if revision is None or revision.pdf:
        return False
    content = render_revision_pdf(revision)
    with transaction.atomic():
        locked = InvoiceRevision.objects.select_for_update().get(pk=revision_id)
        if locked.pdf:
            return False
        name = f"{revision.invoice.number}-r{revision.number}.pdf"
        locked.pdf.save(name, ContentFile(content), save=False)
        locked.pdf_rendered_at = clock.now()
        locked.save(update_fields=["pdf", "pdf_rendered_at"])
    return True


def invoice_revision_restore_pdf(*, revision_id: int) -> bool:
    """Render the PDF of a revision again when its stored file is gone (storage lost, a
    database restored without its media): the name of the missing file is cleared under
    a row lock and the revision rendered as if it never had one. Returns True if it was
    rendered now; False if the file is there (or the revision does not exist)."""
    with transaction.atomic():
        locked = InvoiceRevision.objects.select_for_update().filter(pk=revision_id).first()
        if locked is None:
            return False
        if locked.pdf:
            if locked.pdf.storage.exists(locked.pdf.name):
                return False
            locked.pdf = ""
            locked.pdf_rendered_at = None
            locked.save(update_fields=["pdf", "pdf_rendered_at"])
    return invoice_revision_render_pdf(revision_id=revision_id)


def credit_note_render_pdf(*, credit_note_id: int) -> bool:
    """Render and store the PDF of a credit note, once (as ``invoice_revision_render_pdf``)."""
    credit_note = CreditNote.objects.select_related("invoice", "revision").filter(pk=credit_note_id).first()
    if credit_note is None or credit_note.pdf:
        return False
    content = render_credit_note_pdf(credit_note)
    with transaction.atomic():
        locked = CreditNote.objects.select_for_update().get(pk=credit_note_id)
        if locked.pdf:
            return False
        locked.pdf.save(f"{credit_note.number}.pdf", ContentFile(content), save=False)
        locked.pdf_rendered_at = clock.now()
        locked.save(update_fields=["pdf", "pdf_rendered_at"])
    return True


def credit_note_restore_pdf(*, credit_note_id: int) -> bool:
    """Render a credit note's PDF again when its stored file is gone."""
    with transaction.atomic():
        locked = CreditNote.objects.select_for_update().filter(pk=credit_note_id).first()
        if locked is None:
            return False
        if locked.pdf:
            if locked.pdf.storage.exists(locked.pdf.name):
                return False
            locked.pdf = ""
            locked.pdf_rendered_at = None
            locked.save(update_fields=["pdf", "pdf_rendered_at"])
    return credit_note_render_pdf(credit_note_id=credit_note_id)
