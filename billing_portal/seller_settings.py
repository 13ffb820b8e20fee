"""The seller printed on invoices, credit notes and receipts, read from the environment;
billing_portal/settings.py imports it.

``SELLER_IBAN`` and ``SELLER_BIC`` are the account customers who pay by bank transfer pay
into: the invoice page, the PDF and the e-mail print them, and the EPC QR code of an
invoice (invoices/epc.py) carries them. A malformed IBAN or BIC stops the start-up rather
than printing an account nobody can pay into. ``SELLER_COC_NUMBER`` is the seller's
Chamber of Commerce (KvK) registration number, printed beside its VAT ID.
"""

import re

from django.core.exceptions import ImproperlyConfigured
from stdnum import iban
from stdnum.exceptions import ValidationError

from .env import env_str

__all__ = ["PORTAL_SELLER"]

_BIC = re.compile(r"[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?")


def _iban(raw: str) -> str:
    try:
        return iban.validate(raw)
    except ValidationError as exc:
        raise ImproperlyConfigured(f"SELLER_IBAN is not a valid IBAN: {raw!r}") from exc


def _bic(raw: str) -> str:
    value = raw.strip().upper()
    if value and not _BIC.fullmatch(value):
        raise ImproperlyConfigured(f"SELLER_BIC must be a BIC of 8 or 11 characters, got {raw!r}")
    return value


PORTAL_SELLER = {
    "name": env_str("SELLER_NAME", "Portal Cloud Services B.V."),
    "address": env_str("SELLER_ADDRESS", "Stationsplein 1, 1012 AB Amsterdam"),
    "country": env_str("SELLER_COUNTRY", "NL"),
    "vat_id": env_str("SELLER_VAT_ID", "NL810433941B01"),
    "coc_number": env_str("SELLER_COC_NUMBER", "81043394"),
    "iban": _iban(env_str("SELLER_IBAN", "NL91ABNA0417164300")),
    "bic": _bic(env_str("SELLER_BIC", "ABNANL2A")),
    "bank": env_str("SELLER_BANK", "ABN AMRO Bank N.V."),
}
