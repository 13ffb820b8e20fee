from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        # Registers the app's Celery tasks by name in every process (billing_portal.queue).
        from . import tasks  # noqa: F401
