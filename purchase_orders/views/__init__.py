"""Pages for PO and VAT numbers (``numbers``), enterprise billing periods (``periods``),
invoice amendment requests and the support queue (``amendments``)."""

from .amendments import amendment_detail, amendment_list, amendment_new, support_request
from .numbers import history, history_export, numbers, profile_po, vat_number, web_direct_po
from .periods import period_po, usage_summary

__all__ = [
    "amendment_detail",
    "amendment_list",
    "amendment_new",
    "history",
    "history_export",
    "numbers",
    "period_po",
    "profile_po",
    "support_request",
    "usage_summary",
    "vat_number",
    "web_direct_po",
]
