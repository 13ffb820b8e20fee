"""Writes of the payments app, by concern:

* ``cards``: add a card through the gateway's page, make it active, update, remove (PM-1..PM-6);
* ``pending``, ``charges``: pay an invoice by card (the pending payment, the charge, the
  settlement), reconcile, the automatic charge (PAY-1..PAY-4);
* ``collection``: dunning of declined automatic charges, bank transfers recorded by support;
* ``idempotency``: the pay API's Idempotency-Key records;
* ``receipts``: the receipt and payment-failed e-mails;
* ``receipt_documents``: receipt numbers (issued with every succeeded payment) and PDFs;
* ``refunds``, ``refund_notices``: refunds of card payments by support, their e-mail;
* ``receivers``: the answers to the invoices app's hooks;
* ``authentication``: card payments that wait for the customer's 3-D Secure check;
* ``card_sync``: card changes the gateway reports (new expiry, detached card);
* ``webhooks``: Stripe's webhook events, stored and processed once.

The public services are re-exported here: ``from payments import services``.
"""

from .authentication import AUTHENTICATION_EXPIRED, AUTHENTICATION_WINDOW, payment_await_action
from .card_fields import ADDRESS_FIELDS, UPDATABLE_FIELDS, safe_next_path
from .card_sync import payment_method_expiry_from_gateway, payment_method_removed_at_gateway
from .cards import (
    PaymentMethodInUse,
    card_setup_complete,
    card_setup_start,
    payment_method_activate,
    payment_method_blockers,
    payment_method_remove,
    payment_method_update,
)
from .charges import (
    AUTO_CHARGE_WINDOW_DAYS,
    NOT_PROCESSED,
    RECONCILE_AFTER,
    RECONCILE_GIVE_UP,
    invoice_charge_automatically,
    invoice_pay,
    payment_reconcile,
    payment_refresh,
    payment_settle,
    payment_start,
    payments_reconcile_pending,
    scope_active_card,
)
from .collection import (
    RETRY_SCHEDULE_DAYS,
    invoices_charge_automatically,
    payment_record_bank_transfer,
    payments_charge_missed,
    payments_retry_declined,
)
from .idempotency import (
    IDEMPOTENCY_LEASE,
    Answer,
    IdempotencyInProgress,
    IdempotencyKeyReused,
    answer_once,
    api_request_key,
    clean_key,
    request_fingerprint,
)
from .receipt_documents import (
    receipt_issue,
    receipt_number,
    receipt_render_pdf,
    receipt_restore_pdf,
    take_receipt_number,
)
from .receivers import charge_issued_invoices, invoice_has_payment_activity, invoice_money_in_flight
from .refund_notices import REFUND_ISSUED
from .refunds import (
    RefundKeyReused,
    check_may_refund,
    payment_refund,
    refund_reconcile,
    refund_settle,
    refund_start,
    refundable,
    refunds_reconcile_pending,
)
from .webhooks import (
    payment_dispute_record,
    payment_refunded_at_gateway,
    webhook_event_process,
    webhook_event_store,
    webhook_events_process_pending,
)

__all__ = [
    "ADDRESS_FIELDS",
    "AUTHENTICATION_EXPIRED",
    "AUTHENTICATION_WINDOW",
    "AUTO_CHARGE_WINDOW_DAYS",
    "IDEMPOTENCY_LEASE",
    "NOT_PROCESSED",
    "RECONCILE_AFTER",
    "RECONCILE_GIVE_UP",
    "RETRY_SCHEDULE_DAYS",
    "UPDATABLE_FIELDS",
    "Answer",
    "IdempotencyInProgress",
    "IdempotencyKeyReused",
    "PaymentMethodInUse",
    "REFUND_ISSUED",
    "RefundKeyReused",
    "answer_once",
    "api_request_key",
    "card_setup_complete",
    "card_setup_start",
    "charge_issued_invoices",
    "check_may_refund",
    "clean_key",
    "invoice_charge_automatically",
    "invoice_has_payment_activity",
    "invoice_money_in_flight",
    "invoice_pay",
    "invoices_charge_automatically",
    "payment_await_action",
    "payment_dispute_record",
    "payment_method_activate",
    "payment_method_blockers",
    "payment_method_expiry_from_gateway",
    "payment_method_remove",
    "payment_method_removed_at_gateway",
    "payment_method_update",
    "payment_reconcile",
    "payment_refresh",
    "payment_refund",
    "payment_refunded_at_gateway",
    "payment_record_bank_transfer",
    "payment_settle",
    "payment_start",
    "payments_reconcile_pending",
    "payments_charge_missed",
    "payments_retry_declined",
    "receipt_issue",
    "receipt_number",
    "receipt_render_pdf",
    "receipt_restore_pdf",
    "refund_reconcile",
    "refund_settle",
    "refund_start",
    "refundable",
    "refunds_reconcile_pending",
    "request_fingerprint",
    "safe_next_path",
    "scope_active_card",
    "take_receipt_number",
    "webhook_event_process",
    "webhook_event_store",
    "webhook_events_process_pending",
]
