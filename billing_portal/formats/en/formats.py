"""English dates for an EU seller: day first, month by name, so "1 Dec 2026" can never
be read as 12 January. One format per kind: the short and the long date are the same,
and so are the two date-and-time formats, on pages, in e-mails and in PDFs."""

DATE_FORMAT = "j M Y"  # 1 Dec 2026
SHORT_DATE_FORMAT = DATE_FORMAT
DATETIME_FORMAT = "j M Y, H:i"  # 1 Dec 2026, 14:05
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
MONTH_DAY_FORMAT = "j F"
YEAR_MONTH_FORMAT = "F Y"
FIRST_DAY_OF_WEEK = 1  # Monday
