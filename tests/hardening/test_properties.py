"""Property-based tests: whatever the input, the parsers of money, VAT and PO numbers,
billing periods, usage-import rows and card numbers answer with a value or their own
validation error (billing_portal.errors.InvalidInput / DomainError), never another
exception."""

import datetime as dt
import decimal
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing_portal import clock
from billing_portal.errors import DomainError, InvalidInput
from billing_portal.money import CURRENCIES, format_money, minor_unit, quantize
from billing_portal.validators import PO_MAX_LENGTH, clean_po_number, clean_vat_id
from invoices import services, tax
from payments.card_data import contains_card_number

# Derandomized: CI runs the same examples every time (a failure is reproducible, not a
# chance); run with --hypothesis-seed=random locally to explore further.
PROPERTY = settings(
    max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

currencies = st.sampled_from(sorted(CURRENCIES))
countries = st.one_of(
    st.sampled_from(["NL", "BE", "DE", "GR", "EL", "FR", "US", "GB", "CH", "NO", "JP", "nl", ""]),
    st.text(max_size=4),
)
texts = st.one_of(st.text(max_size=80), st.from_regex(r"[A-Z]{2}[0-9A-Z .\-]{0,16}", fullmatch=True))
# Amounts that fit DecimalField(14, 2) and its products with a unit price.
amounts = st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), allow_nan=False, allow_infinity=False)
anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    texts,
    st.dates(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@PROPERTY
@given(amount=amounts, currency=currencies, language=st.sampled_from(["en", "nl", "de", ""]))
def test_money_quantize_and_format_any_amount(amount, currency, language):
    rounded = quantize(amount, currency)
    assert rounded.as_tuple().exponent == -CURRENCIES[currency]
    assert abs(rounded - amount) <= minor_unit(currency) / 2
    assert isinstance(format_money(rounded, currency, language), str)


@PROPERTY
@given(raw=st.text(max_size=40), currency=currencies)
def test_money_quantize_any_text_is_a_decimal_or_decimals_own_error(raw, currency):
    try:
        assert isinstance(quantize(raw, currency), Decimal)
    except decimal.InvalidOperation:
        pass


@PROPERTY
@given(value=texts, country=countries)
def test_clean_vat_id_returns_text_or_refuses(value, country):
    try:
        cleaned = clean_vat_id(value, country)
    except InvalidInput:
        return
    assert isinstance(cleaned, str)
    assert cleaned == "" or value.strip()


@PROPERTY
@given(value=texts, country=countries, is_business=st.booleans())
def test_tax_treatment_of_any_vat_id_and_country(value, country, is_business):
    assert isinstance(tax.valid_eu_vat_id(value, country), bool)
    assert isinstance(tax.with_country_prefix(value, country), str)
    treatment = tax.treatment_for(country=country, is_business=is_business, vat_id=value)
    assert treatment.rate >= 0


@PROPERTY
@given(value=st.one_of(st.none(), st.text(max_size=PO_MAX_LENGTH + 20)))
def test_clean_po_number_returns_printable_text_or_refuses(value):
    try:
        cleaned = clean_po_number(value)
    except InvalidInput:
        return
    assert len(cleaned) <= PO_MAX_LENGTH and cleaned.isprintable()


@PROPERTY
@given(value=st.one_of(anything, st.from_regex(r"\s*-?\d{1,6}-\d{1,3}(-\d{1,3})?\s*", fullmatch=True)))
def test_parse_period_gives_a_first_of_month_or_none(value):
    period = clock.parse_period(value)
    assert period is None or (isinstance(period, dt.date) and period.day == 1)
    try:
        assert clock.require_period(value) == period
    except InvalidInput as exc:
        assert period is None and "period" in exc.fields


@PROPERTY
@given(value=anything)
def test_contains_card_number_is_a_bool(value):
    assert isinstance(contains_card_number(value), bool)


def _with_luhn_check_digit(body: str) -> str:
    """``body`` plus the digit that makes it pass the Luhn check, as card numbers do."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:  # doubled, as the check digit will sit to its right
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


@PROPERTY
@given(body=st.from_regex(r"\d{12,18}", fullmatch=True), sep=st.sampled_from(["", " ", "-"]))
def test_contains_card_number_finds_any_card_like_run(body, sep):
    digits = _with_luhn_check_digit(body)
    grouped = sep.join(digits[i : i + 4] for i in range(0, len(digits), 4))
    assert contains_card_number(f"Name {grouped} here")


usage_values = st.one_of(
    st.none(),
    st.integers(),
    st.floats(),
    st.text(max_size=30),
    st.sampled_from(["2026-01", "9999-12", "0000-00", "1e999", "-1", "NaN", "Infinity", "0.0000001", "EUR", "1e11"]),
    st.lists(st.integers(), max_size=2),
)
usage_rows = st.lists(
    st.fixed_dictionaries(
        {name: usage_values for name in services.USAGE_FIELDS},
        optional={"record_id": usage_values, "is_marketplace": usage_values},
    ),
    max_size=4,
)


@pytest.mark.slow
@pytest.mark.django_db
@settings(
    max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=usage_rows)
def test_usage_import_of_any_rows_reports_or_refuses(rows):
    try:
        report = services.charge_import(rows=rows, actor=None, source="test")
    except DomainError:
        return
    assert report.accepted + report.duplicates + len(report.rejected) == len(rows)
