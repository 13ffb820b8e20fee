from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        # Registers the app's Celery tasks by name in every process (billing_portal.queue).
        from accounts import hooks as accounts_hooks

        from . import services, tasks  # noqa: F401

        # The e-mails of the accounts app, below this one (docs/architecture.md, hooks).
        accounts_hooks.send_email.register(services.notification_queue)
