"""The portal's clock.

Every piece of code that needs "now" or "today" calls ``clock.now()`` /
``clock.today()`` (through the module, not ``from ... import now``) so that tests can
set the time with the ``clock`` fixture in ``tests/conftest.py``.
"""

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone


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
