"""What an invoice revision prints that the portal writes itself, kept as a code and put
into words in the reader's language: on a page the viewer's, in a PDF or an e-mail the
document's (docs/invoices.md, "Languages").

* ``TaxNote``: the legal note under the totals (reverse charge, outside the EU);
  ``InvoiceRevision.tax_note_code``.
* ``RevisionReason``: why the portal made a revision (``InvoiceRevision.reason_code``):
  a PO number changed inside the PO-7 window, or a support request approved (PO-5; its
  number in ``reason_ref``, the customer's message in ``reason``). A reason typed by
  support staff (a correction on the admin site) has no code and is shown as typed.
* ``usage_name``: the names of the portal's own services and meters (the usage feed
  sends them in English, as the catalogue names them) in the reader's language; a
  name the catalogue does not know (a third party's product) is shown as it came.
"""

from django.db import models
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _


class TaxNote(models.TextChoices):
    REVERSE_CHARGE = (
        "reverse_charge",
        _("VAT reverse charge: the customer accounts for the VAT (Article 196 of Council Directive 2006/112/EC)."),
    )
    OUTSIDE_EU = "outside_eu", _("No EU VAT charged: the place of supply is outside the European Union.")


class RevisionReason(models.TextChoices):
    PO_WINDOW = "po_window", _("PO number changed within seven days of the invoice notification")
    SUPPORT_REQUEST = "support_request", _("Support request approved")


_REASON_TEXTS = {
    RevisionReason.PO_WINDOW: _(
        "PO number changed by the enrollment's administrator within seven days of the invoice notification."
    ),
    RevisionReason.SUPPORT_REQUEST: _("Support request #%(id)s: %(message)s"),
}


def tax_note_text(code: str) -> str:
    """The tax note of ``code`` in the active language ("" for none)."""
    return str(TaxNote(code).label) if code else ""


def reason_text(revision) -> str:
    """Why ``revision`` was made, in the active language ("" for the first revision)."""
    code = revision.reason_code
    if not code:
        return revision.reason
    return str(_REASON_TEXTS[code]) % {"id": revision.reason_ref, "message": revision.reason}


# The portal's own services and meters, as the usage feed names them (invoices/demo.py).
USAGE_NAMES = frozenset(
    {
        gettext_noop("Virtual Machines"),
        gettext_noop("Storage"),
        gettext_noop("Bandwidth"),
        gettext_noop("D2s v5 (hours)"),
        gettext_noop("LRS data stored (GB-month)"),
        gettext_noop("Data transfer out (GB)"),
        gettext_noop("Messages (1,000)"),
    }
)


def usage_name(name: str) -> str:
    """A service or meter name in the active language (as it came when the catalogue has none)."""
    return gettext(name) if name in USAGE_NAMES else name
