"""Writes of the purchase_orders app: PO and VAT numbers (``numbers``), invoice
amendment requests (``amendments``) and their history (``history``).

Each public service is one transaction and checks the actor's role itself
(accounts.permissions) before writing anything; the pages and the API only ask the
predicates to decide what to show.
"""

from .amendments import (
    amendment_request_approve,
    amendment_request_create,
    amendment_request_decline,
    amendment_request_notify_received,
)
from .history import record_vat_change
from .numbers import period_po_number_set, profile_po_number_set, profile_po_refusal, vat_number_set

__all__ = [
    "amendment_request_approve",
    "amendment_request_create",
    "amendment_request_decline",
    "amendment_request_notify_received",
    "period_po_number_set",
    "profile_po_number_set",
    "profile_po_refusal",
    "record_vat_change",
    "vat_number_set",
]
