"""PO-7: when an enterprise PO number can still change, in one place.

For an enrollment's billing period the PO number can be changed

* at any time **before the invoice for the period is generated** (no invoice yet);
* after generation, while the automated-invoice notification e-mail has not gone out
  yet (the seven days have not started);
* and for **seven days after the notification e-mail**, counted in calendar days in the
  account's time zone: the day the e-mail is sent is day 0, the window stays open
  through the whole of day 7 and closes at 00:00 on day 8 (local time). An edit in
  those seven days is applied to the issued invoice (a new revision with a new PDF).

After that only a support request can change the PO number on the invoice (PO-5).
Web direct and customer agreement have no window: a change applies to the next invoice.
"""

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from billing_portal import clock

WINDOW_DAYS = 7


class WindowState:
    NOT_GENERATED = "not_generated"  # no invoice yet: the PO goes on the coming invoice
    AWAITING_NOTIFICATION = "awaiting_notification"  # invoice issued, e-mail not sent yet
    OPEN = "open"  # inside the seven days: an edit amends the issued invoice
    CLOSED = "closed"  # only a support request can change it


@dataclass(frozen=True)
class EditWindow:
    state: str
    # Last local calendar day on which the PO can change (None while open-ended).
    last_day: dt.date | None = None
    # The instant the window closes (00:00 local time on day 8), UTC-aware.
    closes_at: dt.datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.state != WindowState.CLOSED

    @property
    def amends_invoice(self) -> bool:
        """An edit now is applied to the issued invoice as a new revision."""
        return self.state in (WindowState.AWAITING_NOTIFICATION, WindowState.OPEN)


def _zone(time_zone: str) -> ZoneInfo:
    try:
        return ZoneInfo(time_zone or "UTC")
    except (ValueError, KeyError):  # unknown zone name: fall back to UTC
        return ZoneInfo("UTC")


def edit_window(*, invoice, time_zone: str, now: dt.datetime | None = None) -> EditWindow:
    """The PO-7 window of an enterprise period whose invoice is ``invoice`` (or None)."""
    if invoice is None:
        return EditWindow(WindowState.NOT_GENERATED)
    if invoice.notified_at is None:
        return EditWindow(WindowState.AWAITING_NOTIFICATION)
    zone = _zone(time_zone)
    notified_day = invoice.notified_at.astimezone(zone).date()
    last_day = notified_day + dt.timedelta(days=WINDOW_DAYS)
    closes_at = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time.min, tzinfo=zone).astimezone(dt.UTC)
    now = now or clock.now()
    state = WindowState.OPEN if now < closes_at else WindowState.CLOSED
    return EditWindow(state, last_day=last_day, closes_at=closes_at)
