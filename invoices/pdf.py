"""Invoice PDFs with WeasyPrint.

The fonts shipped in ``invoices/fonts`` (DejaVu Sans: Latin text and the euro sign)
are declared with ``@font-face`` so that a PDF looks the same on every machine. The
font configuration and the stylesheet are built once per process and reused, which
keeps a warm worker's render time low.
"""

import atexit
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

FONT_DIR = Path(__file__).resolve().parent / "fonts"

STYLESHEET = """
@font-face { font-family: "Portal Sans"; src: url("%(regular)s"); font-weight: normal; }
@font-face { font-family: "Portal Sans"; src: url("%(bold)s"); font-weight: bold; }
@page { size: A4; margin: 18mm 16mm 20mm 16mm;
        @bottom-center { content: counter(page) " / " counter(pages); font-size: 8pt; color: #666; } }
body { font-family: "Portal Sans", "DejaVu Sans", sans-serif; font-size: 9.5pt; color: #111; }
h1 { font-size: 18pt; margin: 0 0 4mm; }
.head { display: flex; justify-content: space-between; }
.seller { text-align: right; font-size: 8.5pt; }
.parties { display: flex; gap: 10mm; margin: 6mm 0; }
.parties div { flex: 1; }
.label { font-weight: bold; font-size: 8pt; text-transform: uppercase; color: #444; }
table { width: 100%%; border-collapse: collapse; margin-top: 4mm; }
th, td { padding: 1.5mm 2mm; border-bottom: 0.3mm solid #ccc; text-align: left; vertical-align: top; }
th { background: #eef1f5; font-size: 8.5pt; }
.num { text-align: right; white-space: nowrap; }
.totals { width: 45%%; margin-left: 55%%; }
.totals .grand td { font-weight: bold; border-top: 0.5mm solid #111; }
.note { margin-top: 5mm; padding: 3mm; border: 0.3mm solid #ccc; }
.facts td { border: none; padding: 0.5mm 2mm 0.5mm 0; }
"""


@lru_cache(maxsize=1)
def _weasy():
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    font_config = FontConfiguration()
    css = CSS(
        string=STYLESHEET
        % {
            "regular": (FONT_DIR / "DejaVuSans.ttf").as_uri(),
            "bold": (FONT_DIR / "DejaVuSans-Bold.ttf").as_uri(),
        },
        font_config=font_config,
    )
    return font_config, css


# Drop the cached font configuration while the interpreter is still intact.
atexit.register(_weasy.cache_clear)


def invoice_html(revision) -> str:
    """The invoice revision as HTML, in the revision's language."""
    invoice = revision.invoice
    language = revision.language or "en"
    with translation.override(language):
        context = {
            "invoice": invoice,
            "revision": revision,
            "lines": list(invoice.lines.all()),
            "seller": settings.PORTAL_SELLER,
            "language": language,
        }
        return render_to_string("invoices/pdf/invoice.html", context)


def credit_note_html(credit_note) -> str:
    """The credit note as HTML, in its language, referencing the invoice it credits."""
    language = credit_note.language or "en"
    with translation.override(language):
        context = {
            "credit_note": credit_note,
            "invoice": credit_note.invoice,
            "revision": credit_note.revision,
            "lines": list(credit_note.lines.all()),
            "applied_to": credit_note.applied_to,
            "seller": settings.PORTAL_SELLER,
            "language": language,
        }
        return render_to_string("invoices/pdf/credit_note.html", context)


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML

    font_config, css = _weasy()
    return HTML(string=html, base_url=str(FONT_DIR)).write_pdf(stylesheets=[css], font_config=font_config)


def render_revision_pdf(revision) -> bytes:
    return html_to_pdf(invoice_html(revision))


def render_credit_note_pdf(credit_note) -> bytes:
    return html_to_pdf(credit_note_html(credit_note))
