"""Hooks of the notifications app (billing_portal.hooks; docs/architecture.md).

* ``sent`` — called inside the sending transaction with the notification that has just
  gone out. invoices registers "the first invoice-ready e-mail dates the invoice" (for
  an enterprise enrollment it opens the PO-7 window).
* ``render_context`` — called each time a notification is rendered, with the
  notification; each receiver returns a dict added to the template context. For what
  must be made when the e-mail is sent and never stored with it: the password-reset
  link (notifications.account_mail), a one-time secret.
* ``attachments`` — called each time a notification is sent, with the notification; each
  receiver returns a list of ``(filename, content, mimetype)`` attached to the e-mail.
  invoices attaches the invoice's PDF to the invoice-ready e-mail.
"""

from billing_portal.hooks import Hook

sent = Hook("notifications.sent")
render_context = Hook("notifications.render_context")
attachments = Hook("notifications.attachments")
