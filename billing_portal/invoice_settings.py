"""Invoice settings, read from the environment; billing_portal/settings.py imports them.

* The seller printed on invoices (``PORTAL_SELLER``): billing_portal/seller_settings.py.
* ``INVOICE_EMAIL_ATTACH_PDF`` (default on): the invoice-ready e-mail carries the
  invoice's PDF as an attachment besides the link to the invoice (docs/invoices.md).
* ``INVOICE_ZIP_MAX_INVOICES`` (default 500): the most invoices one ZIP download holds;
  a larger selection or list is refused with a message asking to narrow it.
"""

from django.core.exceptions import ImproperlyConfigured

from .env import env_bool, env_int

__all__ = ["INVOICE_EMAIL_ATTACH_PDF", "INVOICE_ZIP_MAX_INVOICES"]

INVOICE_EMAIL_ATTACH_PDF = env_bool("INVOICE_EMAIL_ATTACH_PDF", True)

INVOICE_ZIP_MAX_INVOICES = env_int("INVOICE_ZIP_MAX_INVOICES", 500)
if INVOICE_ZIP_MAX_INVOICES < 1:
    raise ImproperlyConfigured("INVOICE_ZIP_MAX_INVOICES must be at least 1")
