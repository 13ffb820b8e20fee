"""What other apps add to the accounts app's work, without accounts importing them.

The accounts app sits below every other app (docs/architecture.md): it may not import
them. Where a change to an account concerns an app above, accounts calls a hook
defined here, and the app that cares registers its receiver in ``AppConfig.ready()``:

* ``vat_number_changed`` — called inside the transaction that saved a new VAT ID, with
  keyword arguments ``account``, ``old``, ``new`` and ``actor``, whichever door changed
  it (profile page, VAT page, API). purchase_orders registers the VAT-1 history record;
  an error in a receiver rolls the change back.
* ``send_email`` — a provider: records an e-mail to send once and sends it after the
  transaction commits, with the keyword arguments of
  ``notifications.services.notification_queue`` (``kind``, ``recipient``,
  ``dedupe_key``, ``language``, ``context``, ``account``), which notifications
  registers. Every e-mail of accounts goes through it (members: invitation, roles
  changed, removed; access: the password-reset link, "your password was changed"); the
  templates stay in ``accounts/templates/emails/<kind>/``, and a context never holds a
  secret (the reset link is made when the e-mail is rendered, notifications.account_mail).
"""

from billing_portal.hooks import Hook, Provider

vat_number_changed = Hook("accounts.vat_number_changed")
send_email = Provider("accounts.send_email")
