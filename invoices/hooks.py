"""What other apps add to the invoices app's work, without invoices importing them.

The invoices app sits below purchase_orders and payments (docs/architecture.md): it may
not import them. Where an invoice step needs their answer or their work, it calls a hook
defined here, and the app that knows registers its receiver in ``AppConfig.ready()``:

* ``after_issue`` — called on commit with the ids of newly issued invoices, after the
  invoices app has published its own work (PDF, invoice-ready e-mail). payments
  registers the automatic card charge.
* ``payment_activity`` — "is anything paid or pending on this invoice?", asked by an
  amendment that would change the tax treatment. payments registers its answer; the
  hook answers True as soon as one receiver does.
* ``money_in_flight`` — "is a card payment or a refund of this invoice still pending
  at the gateway?", asked before a credit note or a correction changes the invoice's
  balance (the pending money would land on a balance that moved). payments registers
  its answer.
* ``po_numbers_in_force`` — the PO number in force for each billing profile in a period
  (PO-6, PO-8), read by the billing run. purchase_orders provides it; there is exactly
  one provider.
* ``invoice_receipts`` — the receipts of an invoice's payments, listed on the invoice's
  page: each receiver returns a list of rows with ``number``, ``date``, ``method``,
  ``reference``, ``amount``, ``currency`` and ``url`` (the PDF). payments registers them.
"""

from billing_portal.hooks import Hook, Provider

after_issue = Hook("invoices.after_issue")
payment_activity = Hook("invoices.payment_activity")
money_in_flight = Hook("invoices.money_in_flight")
po_numbers_in_force = Provider("invoices.po_numbers_in_force")
invoice_receipts = Hook("invoices.invoice_receipts")
