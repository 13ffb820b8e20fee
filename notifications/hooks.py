"""Hooks of the notifications app (billing_portal.hooks; docs/architecture.md).

* ``sent`` — called inside the sending transaction with the notification that has just
  gone out. invoices registers "the first invoice-ready e-mail dates the invoice" (for
  an enterprise enrollment it opens the PO-7 window).
"""

from billing_portal.hooks import Hook

sent = Hook("notifications.sent")
