import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing_portal.errors import InvalidInput
from billing_portal.validators import clean_po_number, clean_vat_id
from purchase_orders.csv_export import safe_cell


@pytest.mark.parametrize(
    "raw, country, expected",
    [
        ("NL004495445B01", "NL", "NL004495445B01"),
        ("004495445B01", "NL", "NL004495445B01"),
        ("be 0477.472.701", "BE", "BE0477472701"),
        ("094259216", "GR", "EL094259216"),
        ("", "DE", ""),
    ],
)
def test_vat_1_valid_numbers_are_compacted_with_the_country_prefix(raw, country, expected):
    assert clean_vat_id(raw, country) == expected


@pytest.mark.parametrize(
    "raw, country", [("NL004495445B01", "BE"), ("BE0403019262", "BE"), ("x", "NL"), ("DE123", "DE")]
)
def test_vat_1_invalid_numbers_are_refused(raw, country):
    with pytest.raises(InvalidInput) as exc:
        clean_vat_id(raw, country)
    assert exc.value.code == "vat_invalid" and "vat_id" in exc.value.fields


@given(st.text(max_size=80))
def test_po_input_cleaned_value_is_trimmed_printable_and_at_most_50(value):
    try:
        cleaned = clean_po_number(value)
    except InvalidInput:
        return
    assert cleaned == cleaned.strip() and len(cleaned) <= 50 and cleaned.isprintable()


@pytest.mark.parametrize("value", ["=1+1", "+31", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(value):
    assert safe_cell(value) == "'" + value


def test_csv_plain_cells_are_left_alone():
    assert safe_cell("PO-123") == "PO-123" and safe_cell(None) == ""
