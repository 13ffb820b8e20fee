"""Writes for PO and VAT numbers. Each function is one transaction and records the
change (who, when, old, new) in ``NumberChange``."""

from django.db import transaction

from accounts.models import BillingAccount
from billing_portal import clock

from .models import ChangedField, NumberChange
from .validators import clean_vat_id


@transaction.atomic
def vat_number_set(*, account: BillingAccount, vat_id: str, actor) -> BillingAccount:
    """VAT-1: validate for the account's country, save, record the change. The new
    number applies to the next invoice (PO-5); issued invoices keep their snapshot."""
    new_value = clean_vat_id(vat_id, account.country.code if account.country else "")
    locked = BillingAccount.objects.select_for_update().get(pk=account.pk)
    old_value = locked.vat_id
    if new_value == old_value:
        return locked
    locked.vat_id = new_value
    locked.version += 1
    locked.save(update_fields=["vat_id", "version"])
    NumberChange.objects.create(
        account=locked,
        field=ChangedField.VAT_ID,
        old_value=old_value,
        new_value=new_value,
        changed_by=actor,
        changed_at=clock.now(),
    )
    account.vat_id, account.version = locked.vat_id, locked.version
    return locked
