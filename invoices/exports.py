"""Exports of invoices, one response each for the page and the API (docs/invoices.md):

* ``zip_response``: the PDFs of the selected invoices (``invoice=<id>``, repeated) or of
  every invoice the filter lists (invoices.filters), as one ZIP, streamed. At most
  ``settings.INVOICE_ZIP_MAX_INVOICES`` invoices; the PDFs as stored, a missing one
  rendered now as a download renders it (``services.invoice_revision_stored_pdf``).
* ``csv_response``: the invoices the filter lists, one row each, streamed.
* ``lines_csv_response``: one invoice's lines.

Every export reads the invoices the user may see (``can_view_invoices``, through the
selectors): a selected invoice of another tenant is a 404, as its page is. A constant
number of queries whatever the number of invoices, when their PDFs are stored. CSV files
are UTF-8 with a byte-order mark (Excel reads them as UTF-8), numbers with a decimal
point and no grouping, dates as YYYY-MM-DD, and a text cell that starts with ``=``,
``+``, ``-``, ``@`` (or a tab, carriage return or line feed) gets a leading ``'``, so that a
spreadsheet never reads it as a formula.
"""

import csv
import datetime as dt
import io
import zipfile
from decimal import Decimal

from django.conf import settings
from django.http import Http404, StreamingHttpResponse
from django.utils.translation import gettext as _

from billing_portal import clock
from billing_portal.errors import InvalidInput

from . import selectors, services
from .filters import InvoiceFilterForm
from .formatting import revision_file_name
from .models import InvoiceRevision, InvoiceStatus, amount_due

ZIP_COLUMNS = ("pk", "number", "current_revision__number", "current_revision__pdf")
CSV_COLUMNS = (
    "number",
    "issue_date",
    "due_date",
    "period",
    "status",
    "current_revision__po_number",
    "currency",
    "subtotal",
    "tax_amount",
    "total",
    "amount_credited",
    "amount_paid",
)
LINE_COLUMNS = (
    "position",
    "subscription__name",
    "subscription__subscription_id",
    "service_name",
    "meter",
    "quantity",
    "unit_price",
    "amount",
    "tax_amount",
    "is_marketplace",
)
# A cell starting with one of these is read as a formula by Excel / LibreOffice (CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
_CHUNK = 64 * 1024


def filter_form(user, params) -> InvoiceFilterForm:
    """The list's filter form for ``params``; the user's billing profiles and subscriptions
    (a query) are read only when a filter names one."""
    needs_scopes = any(params.get(name) for name in ("profile", "subscription"))
    return InvoiceFilterForm(params, scopes=selectors.invoice_filter_scopes(user) if needs_scopes else ())


def listed(user, params, columns):
    """The values of ``columns`` of the invoices the filter lists, in its order; a filter
    with errors is refused (``InvalidInput`` with the messages per field)."""
    form = filter_form(user, params)
    if not form.is_valid():
        raise InvalidInput(
            _("Correct the filter: %(errors)s") % {"errors": " ".join(m for ms in form.errors.values() for m in ms)},
            code="invalid_filter",
            fields={name: list(messages) for name, messages in form.errors.items()},
        )
    return form.apply(selectors.invoice_values_for_user(user, columns))


# --- ZIP of PDFs ---------------------------------------------------------------------------


def _selected_ids(params) -> list[int]:
    raw = params.getlist("invoice")
    if any(not (value.isascii() and value.isdigit() and len(value) < 19) for value in raw):
        raise InvalidInput(_("Select invoices by their id."), fields={"invoice": [_("Enter a whole number.")]})
    ids = list(dict.fromkeys(int(value) for value in raw))
    if not ids:
        raise InvalidInput(_("Select at least one invoice to download."), code="nothing_selected")
    return ids


def _too_many(limit: int) -> InvalidInput:
    return InvalidInput(
        _(
            "A ZIP holds the PDFs of at most %(limit)s invoices. Select fewer, or narrow the list "
            "(for example to a shorter billing period)."
        )
        % {"limit": limit},
        code="too_many_invoices",
    )


def zip_rows(user, params) -> list[tuple]:
    """(id, number, revision number, stored PDF name) of the invoices to put in the ZIP:
    the selection, or what the filter lists (newest first unless it sorts otherwise)."""
    limit = settings.INVOICE_ZIP_MAX_INVOICES
    if "invoice" in params or "selected" in params:
        ids = _selected_ids(params)
        if len(ids) > limit:
            raise _too_many(limit)
        visible = selectors.invoice_values_for_user(user, ZIP_COLUMNS)
        rows = list(visible.filter(pk__in=ids, current_revision__isnull=False))
        if len(rows) != len(ids):
            raise Http404  # another tenant's invoice, or none: as its page answers
        return rows
    rows = list(listed(user, params, ZIP_COLUMNS).filter(current_revision__isnull=False)[: limit + 1])
    if len(rows) > limit:
        raise _too_many(limit)
    if not rows:
        raise InvalidInput(_("No invoices match, so there is nothing to download."), code="nothing_to_download")
    return rows


def _stored(rows) -> list[tuple[str, str]]:
    """(file name in the ZIP, name in storage) per row; a PDF not stored yet, or whose file
    is gone, is rendered now (queries for that invoice only)."""
    storage = InvoiceRevision._meta.get_field("pdf").storage
    files = []
    for pk, number, revision_number, name in rows:
        if not name or not storage.exists(name):
            revision = selectors.get_revision(pk, revision_number)
            if not services.invoice_revision_stored_pdf(revision):
                raise Http404
            name = revision.pdf.name
        files.append((revision_file_name(number, revision_number), name))
    return files


class _Sink(io.RawIOBase):
    """What ``zipfile`` writes, handed on in pieces (the archive is never held whole)."""

    def __init__(self):
        self.parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out = b"".join(self.parts)
        self.parts.clear()
        return out


def zip_chunks(files, storage):
    """The ZIP of ``files`` ((name in the ZIP, name in storage)), piece by piece."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for arcname, name in files:
            with storage.open(name, "rb") as source, archive.open(arcname, "w") as target:
                while chunk := source.read(_CHUNK):
                    target.write(chunk)
                    yield sink.take()
        yield sink.take()
    yield sink.take()


def zip_response(user, params) -> StreamingHttpResponse:
    files = _stored(zip_rows(user, params))
    storage = InvoiceRevision._meta.get_field("pdf").storage
    response = StreamingHttpResponse(zip_chunks(files, storage), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="invoices-{clock.today():%Y-%m-%d}.zip"'
    return response


# --- CSV -----------------------------------------------------------------------------------


def safe_cell(value) -> str:
    """A text cell safe to open in a spreadsheet: a leading apostrophe when it would be
    read as a formula (every CSV export of the portal)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def cell(value) -> str:
    """One CSV cell: numbers with a decimal point, dates as YYYY-MM-DD, text made safe
    from formula injection."""
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return safe_cell(value)


class _Echo:
    def write(self, value):
        return value


def _csv_stream(header, rows, to_cells):
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(header)
    for row in rows:
        yield writer.writerow([cell(value) for value in to_cells(row)])


def _csv_response(chunks, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def csv_header() -> list[str]:
    """The invoice CSV's column names, in the active language."""
    return [
        _("Invoice number"),
        _("Invoice date"),
        _("Due date"),
        _("Billing period"),
        _("Status"),
        _("PO number"),
        _("Currency"),
        _("Subtotal"),
        _("VAT"),
        _("Total"),
        _("Amount due"),
    ]


def csv_response(user, params) -> StreamingHttpResponse:
    """The invoices the filter lists, as CSV (read in chunks as it streams)."""
    rows = listed(user, params, CSV_COLUMNS)
    statuses = {value: str(label) for value, label in InvoiceStatus.choices}  # in the request's language

    def to_cells(row):
        number, issued, due, period, status, po, currency, subtotal, tax, total, credited, paid = row
        due_now = amount_due(total - credited - paid)
        label = statuses.get(status, status)
        return [number, issued, due, f"{period:%Y-%m}", label, po, currency, subtotal, tax, total, due_now]

    chunks = _csv_stream(csv_header(), rows.iterator(chunk_size=2000), to_cells)
    return _csv_response(chunks, f"invoices-{clock.today():%Y-%m-%d}.csv")


def lines_csv_response(user, invoice_id) -> StreamingHttpResponse:
    """The lines of one invoice the user may see (404 otherwise), as CSV."""
    invoice = selectors.get_invoice_for_user(user, invoice_id)
    lines = list(invoice.lines.order_by("position").values_list(*LINE_COLUMNS))
    header = [
        _("Position"),
        _("Subscription"),
        _("Subscription ID"),
        _("Service"),
        _("Meter"),
        _("Quantity"),
        _("Unit price"),
        _("Amount"),
        _("VAT"),
        _("Currency"),
        _("Marketplace"),
    ]
    yes, no = _("yes"), _("no")

    def to_cells(row):
        position, subscription, subscription_id, service, meter, quantity, price, amount, tax, marketplace = row
        quantity, price = quantity.normalize(), price.normalize()
        flag = yes if marketplace else no
        return [
            position,
            subscription,
            subscription_id,
            service,
            meter,
            quantity,
            price,
            amount,
            tax,
            invoice.currency,
            flag,
        ]

    return _csv_response(_csv_stream(header, lines, to_cells), f"{invoice.number}-lines.csv")
