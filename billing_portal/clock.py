"""The portal's clock.

Every piece of code that needs "now" or "today" calls ``clock.now()`` /
``clock.today()`` (through the module, not ``from ... import now``) so that tests can
set the time with the ``clock`` fixture in ``tests/conftest.py``.
"""

import datetime as dt
import re
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext as _

from billing_portal.errors import InvalidInput


def now() -> dt.datetime:
    """The current time, timezone-aware, in UTC."""
    return timezone.now()


def today(tz: str | None = None) -> dt.date:
    """Today's date in the given time zone (an account's), or UTC."""
    current = now()
    if tz:
        current = current.astimezone(ZoneInfo(tz))
    return current.date()


def month_start(day: dt.date) -> dt.date:
    """First day of the calendar month holding ``day`` (billing periods are months)."""
    return day.replace(day=1)


def next_month(period: dt.date) -> dt.date:
    return (period.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def previous_month(period: dt.date) -> dt.date:
    return (period.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


_PERIOD = re.compile(r"(\d{4})-(\d{2})(?:-01)?")


def parse_period(value) -> dt.date | None:
    """The one parser of billing periods: ``"2026-10"`` (or ``"2026-10-01"``, or a date,
    taken to its month) to the period's first day; None when malformed."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return month_start(value)
    match = _PERIOD.fullmatch(str(value or "").strip())
    if not match:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), 1)
    except ValueError:
        return None


def require_period(value, *, field: str = "period") -> dt.date:
    """``parse_period`` for services: a malformed period is refused (``InvalidInput``)."""
    period = parse_period(value)
    if period is None:
        raise InvalidInput(
            _("Give the billing period as YYYY-MM."), code="invalid_period", fields={field: [_("Use YYYY-MM.")]}
        )
    return period
