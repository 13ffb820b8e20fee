from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PurchaseOrdersConfig(AppConfig):
    name = "purchase_orders"
    verbose_name = _("Purchase orders")

    def ready(self):
        # Imports here, not at the top: Django loads models before ready() runs.
        from invoices import hooks as invoice_hooks

        from . import selectors

        invoice_hooks.po_numbers_in_force.register(selectors.po_numbers_in_force)
