"""Reads of PO numbers and their history."""

import datetime as dt

from accounts.models import BillingProfile

from .models import PeriodPONumber


def default_period_po_number(profile: BillingProfile) -> str:
    """PO-6: an enterprise period without a PO set by the EA admin uses the enrollment number."""
    return profile.account.enrollment_number


def po_numbers_in_force(profiles: list[BillingProfile], period: dt.date) -> dict[int, str]:
    """The PO number to print on each profile's invoice for ``period`` (PO-8 snapshot).

    Web direct and customer agreement: the profile's current PO number. Enterprise: the
    PO set for that period, else the default (PO-6). One query whatever the number of
    profiles (``profiles`` must have ``account`` loaded).
    """
    enterprise_ids = [p.pk for p in profiles if p.account.agreement_type == "enterprise"]
    period_pos = dict(
        PeriodPONumber.objects.filter(profile_id__in=enterprise_ids, period=period).values_list("profile_id", "po_number")
    ) if enterprise_ids else {}
    result = {}
    for profile in profiles:
        if profile.account.agreement_type == "enterprise":
            result[profile.pk] = period_pos.get(profile.pk) or default_period_po_number(profile)
        else:
            result[profile.pk] = profile.po_number
    return result
