from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PurchaseOrdersConfig(AppConfig):
    name = "purchase_orders"
    verbose_name = _("Purchase orders")

    def ready(self):
        # Imports here, not at the top: Django loads models before ready() runs.
        from accounts import hooks as account_hooks
        from invoices import hooks as invoice_hooks

        from . import selectors, services

        invoice_hooks.po_numbers_in_force.register(selectors.po_numbers_in_force)
        account_hooks.vat_number_changed.register(services.record_vat_change)
