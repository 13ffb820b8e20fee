"""The history of PO and VAT numbers: every change is one ``NumberChange`` row (who,
when, scope, old value, new value, the invoice it was applied to)."""

from billing_portal import clock

from ..models import ChangedField, ChangeSource, NumberChange


def record(
    *,
    account,
    field,
    old,
    new,
    actor,
    profile=None,
    period=None,
    invoice=None,
    source=ChangeSource.EDIT,
    amendment_request=None,
) -> NumberChange:
    return NumberChange.objects.create(
        account=account,
        profile=profile,
        period=period,
        field=field,
        old_value=old or "",
        new_value=new or "",
        changed_by=actor,
        changed_at=clock.now(),
        invoice=invoice,
        source=source,
        amendment_request=amendment_request,
    )


def record_vat_change(*, account, old: str, new: str, actor) -> NumberChange:
    """VAT-1: receiver of ``accounts.hooks.vat_number_changed``, whichever door changed
    the account's VAT ID (profile page, VAT page, API)."""
    return record(account=account, field=ChangedField.VAT_ID, old=old, new=new, actor=actor)
