from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = _("Payments")

    def ready(self):
        # Imports here, not at the top: Django loads models before ready() runs.
        from invoices import hooks as invoice_hooks

        # sandbox and stripe_gateway register their gateways, tasks the Celery tasks.
        from . import receipt_selectors, sandbox, services, stripe_gateway, tasks  # noqa: F401

        invoice_hooks.invoice_receipts.register(receipt_selectors.receipt_links_for_invoice)
        invoice_hooks.after_issue.register(services.charge_issued_invoices)
        invoice_hooks.payment_activity.register(services.invoice_has_payment_activity)
        invoice_hooks.money_in_flight.register(services.invoice_money_in_flight)
