"""The password-reset e-mail's link, registered in ``NotificationsConfig.ready()`` as a
``render_context`` receiver: the link is made when the e-mail is rendered
(accounts.self_service), so it is never stored with the notification, whose context
holds the user's id only. The e-mail itself is queued like every accounts e-mail,
through ``accounts.hooks.send_email`` (``notification_queue``)."""

from accounts import self_service


def password_reset_link(*, notification) -> dict:
    if notification.kind != self_service.RESET_KIND:
        return {}
    return self_service.password_reset_email_context(notification.context)
