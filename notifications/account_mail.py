"""The accounts app's e-mails about a user's access (the password-reset link, "your
password was changed"), sent the way every notification is: recorded, then sent once
by the Celery task. Registered in ``NotificationsConfig.ready()``:

* ``queue_account_email`` provides ``accounts.hooks.account_email`` (accounts sits below
  this app and cannot call ``notification_queue`` itself);
* ``password_reset_link`` is a ``render_context`` receiver: the reset link is made when
  the e-mail is rendered (accounts.self_service), so it is never stored with the
  notification, whose context holds the user's id only.

The templates are the accounts app's (``accounts/templates/emails/<kind>/``).
"""

from accounts import self_service

from .services import notification_queue


def queue_account_email(*, kind: str, user, dedupe_key: str, context: dict | None = None):
    return notification_queue(
        kind=kind, recipient=user.email, language=user.language, dedupe_key=dedupe_key, context=context or {}
    )


def password_reset_link(*, notification) -> dict:
    if notification.kind != self_service.RESET_KIND:
        return {}
    return self_service.password_reset_email_context(notification.context)
