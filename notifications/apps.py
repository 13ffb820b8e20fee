from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        from accounts import hooks as account_hooks

        # Registers the app's Celery tasks by name in every process (billing_portal.queue).
        from . import account_mail, hooks, services, tasks  # noqa: F401

        # The e-mails of the accounts app, below this one (docs/architecture.md, hooks).
        account_hooks.send_email.register(services.notification_queue)
        hooks.render_context.register(account_mail.password_reset_link)
