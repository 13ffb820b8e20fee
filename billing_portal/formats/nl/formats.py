"""Dutch dates, the same kinds as the English ones (billing_portal/formats/en): "1 dec
2026" and "1 dec 2026 14:05"; the short and long forms are the same."""

DATE_FORMAT = "j b Y"  # 1 dec 2026 (month in lower case, as Dutch writes it)
SHORT_DATE_FORMAT = DATE_FORMAT
DATETIME_FORMAT = "j b Y H:i"  # 1 dec 2026 14:05
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
MONTH_DAY_FORMAT = "j F"
YEAR_MONTH_FORMAT = "F Y"
FIRST_DAY_OF_WEEK = 1  # maandag
