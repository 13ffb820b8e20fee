"""Invoice settings, read from the environment; billing_portal/settings.py imports them.

* ``PORTAL_SELLER``: the seller printed on invoices, credit notes and receipts
  (``SELLER_NAME``, ``SELLER_ADDRESS``, ...).
* ``INVOICE_EMAIL_ATTACH_PDF`` (default on): the invoice-ready e-mail carries the
  invoice's PDF as an attachment besides the link to the invoice (docs/invoices.md).
* ``INVOICE_ZIP_MAX_INVOICES`` (default 500): the most invoices one ZIP download holds;
  a larger selection or list is refused with a message asking to narrow it.
"""

from django.core.exceptions import ImproperlyConfigured

from .env import env_bool, env_int, env_str

__all__ = ["INVOICE_EMAIL_ATTACH_PDF", "INVOICE_ZIP_MAX_INVOICES", "PORTAL_SELLER"]

PORTAL_SELLER = {
    "name": env_str("SELLER_NAME", "Portal Cloud Services B.V."),
    "address": env_str("SELLER_ADDRESS", "Stationsplein 1, 1012 AB Amsterdam"),
    "country": env_str("SELLER_COUNTRY", "NL"),
    "vat_id": env_str("SELLER_VAT_ID", "NL810433941B01"),
    "iban": env_str("SELLER_IBAN", "NL91ABNA0417164300"),
    "bic": env_str("SELLER_BIC", "ABNANL2A"),
    "bank": env_str("SELLER_BANK", "ABN AMRO Bank N.V."),
}

INVOICE_EMAIL_ATTACH_PDF = env_bool("INVOICE_EMAIL_ATTACH_PDF", True)

INVOICE_ZIP_MAX_INVOICES = env_int("INVOICE_ZIP_MAX_INVOICES", 500)
if INVOICE_ZIP_MAX_INVOICES < 1:
    raise ImproperlyConfigured("INVOICE_ZIP_MAX_INVOICES must be at least 1")
