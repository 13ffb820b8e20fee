"""Invoice PDFs with WeasyPrint.

The fonts shipped in ``invoices/fonts`` (DejaVu Sans: Latin text and the euro sign)
are declared with ``@font-face`` so that a PDF looks the same on every machine. The
font configuration and the stylesheet are built once per process and reused, which
keeps a warm worker's render time low.

Invoice revisions, credit notes and receipts share this stylesheet and the layout of
``invoices/pdf/base.html``. It avoids the layouts WeasyPrint spends most of its time on
(``benchmarks/pdf.py``, docs/benchmarks.md): no flex boxes (the heading is a float
beside the seller's block, the parties a fixed table of two equal columns), and the
line tables of invoices and credit notes have a fixed layout with set column widths.
An automatic table layout measures every cell of the rows still to come again on each
page, so a long invoice took time quadratic in its pages; a fixed one lays each row out
once, and its columns keep their widths from page to page. Their header row repeats on
every page.
"""

import atexit
import gc
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from . import epc
from .formatting import by_subscription

FONT_DIR = Path(__file__).resolve().parent / "fonts"

STYLESHEET = """
@font-face { font-family: "Portal Sans"; src: url("%(regular)s"); font-weight: normal; }
@font-face { font-family: "Portal Sans"; src: url("%(bold)s"); font-weight: bold; }
@page { size: A4; margin: 18mm 16mm 20mm 16mm;
        @bottom-center { content: counter(page) " / " counter(pages); font-size: 8pt; color: #666; } }
body { font-family: "Portal Sans", "DejaVu Sans", sans-serif; font-size: 9.5pt; color: #111; }
h1 { font-size: 18pt; margin: 0 0 4mm; }
.head { overflow: hidden; }
.title { float: left; }
.seller { text-align: right; font-size: 8.5pt; }
.parties { display: table; table-layout: fixed; width: 100%%; margin: 6mm 0; }
.parties > div { display: table-cell; vertical-align: top; padding-left: 5mm; }
.parties > div:first-child { padding: 0 5mm 0 0; }
.label { font-weight: bold; font-size: 8pt; text-transform: uppercase; color: #444; }
table { width: 100%%; border-collapse: collapse; margin-top: 4mm; }
table.lines { table-layout: fixed; }
.lines th { box-sizing: border-box; }
th, td { padding: 1.5mm 2mm; border-bottom: 0.3mm solid #ccc; text-align: left; vertical-align: top; }
th { background: #eef1f5; font-size: 8.5pt; }
.num { text-align: right; white-space: nowrap; }
.totals { width: 45%%; margin-left: 55%%; }
.totals .grand td { font-weight: bold; border-top: 0.5mm solid #111; }
.note { margin-top: 5mm; padding: 3mm; border: 0.3mm solid #ccc; }
.invoice-lines .service { width: 25%%; } .invoice-lines .meter { width: 27%%; }
.invoice-lines .quantity { width: 15%%; } .invoice-lines .unit-price { width: 17%%; } .invoice-lines .amount { width: 16%%; }
.credit-lines .service { width: 32%%; } .credit-lines .meter { width: 30%%; }
.credit-lines .amount { width: 23%%; } .credit-lines .vat { width: 15%%; }
.facts td { border: none; padding: 0.5mm 2mm 0.5mm 0; }
.lines .line-group td { background: #f6f7f9; font-weight: bold; padding-top: 2.5mm; }
.line-group .subscription-id { font-weight: normal; font-size: 8pt; color: #444; }
.epc-qr { float: right; width: 30mm; height: 30mm; margin: 0 0 2mm 4mm; image-rendering: pixelated; }
.epc-caption { clear: both; font-size: 8pt; color: #444; }
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
            "line_groups": by_subscription(invoice.lines.select_related("subscription"), key=_subscription),
            "seller": settings.PORTAL_SELLER,
            "language": language,
            "epc_qr": epc.qr_data_uri(invoice),
        }
        return render_to_string("invoices/pdf/invoice.html", context)


def _subscription(line):
    return line.subscription


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


@contextmanager
def _cyclic_collector_paused():
    """Python's cyclic garbage collector paused while a document is laid out and written.

    WeasyPrint keeps the boxes of every page alive until the PDF is written (some 235,000
    objects for an 800-line invoice), and each full collection during the render walks
    them all again, so the collector's share grew with the pages: 17 % of an 800-line
    render, 1 % of a one-page one. Reference counting still frees what it frees; the
    render that paused the collector switches it back on when it ends, also on an error."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def render_document(html: str):
    """The laid-out document (``weasyprint.Document``: its pages and their boxes)."""
    from weasyprint import HTML

    font_config, css = _weasy()
    with _cyclic_collector_paused():
        return HTML(string=html, base_url=str(FONT_DIR)).render(stylesheets=[css], font_config=font_config)


def html_to_pdf(html: str) -> bytes:
    with _cyclic_collector_paused():
        return render_document(html).write_pdf()


def render_revision_pdf(revision) -> bytes:
    return html_to_pdf(invoice_html(revision))


def render_credit_note_pdf(credit_note) -> bytes:
    return html_to_pdf(credit_note_html(credit_note))
