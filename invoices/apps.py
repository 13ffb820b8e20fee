from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InvoicesConfig(AppConfig):
    name = "invoices"
    verbose_name = _("Invoices")

    def ready(self):
        # Imports here, not at the top: Django loads models before ready() runs.
        from notifications import hooks as notification_hooks

        from . import services, tasks  # noqa: F401 - tasks registers the Celery tasks by name

        notification_hooks.sent.register(services.invoice_date_notified)
        notification_hooks.attachments.register(services.invoice_ready_attachments)
        notification_hooks.render_context.register(services.invoice_ready_context)
