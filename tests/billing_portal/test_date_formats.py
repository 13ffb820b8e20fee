"""Dates are day first in both languages, one format per kind (date; date and time), the
same on pages, in e-mails and in PDFs (they all use the active language's formats)."""

import datetime as dt

import pytest
from django.utils import formats, translation

DAY = dt.date(2026, 12, 1)
MOMENT = dt.datetime(2026, 3, 1, 14, 5)


@pytest.mark.parametrize(
    ("language", "date", "moment"),
    [("en", "1 Dec 2026", "1 Mar 2026, 14:05"), ("nl", "1 dec 2026", "1 mrt 2026 14:05")],
)
def test_dates_are_day_first_with_one_format_per_kind(language, date, moment):
    with translation.override(language):
        assert formats.date_format(DAY, "DATE_FORMAT") == formats.date_format(DAY, "SHORT_DATE_FORMAT") == date
        assert formats.date_format(MOMENT, "DATETIME_FORMAT") == moment
        assert formats.date_format(MOMENT, "SHORT_DATETIME_FORMAT") == moment
        assert formats.get_format("FIRST_DAY_OF_WEEK") == 1
