"""The API's serializer pieces (billing_portal.api): the DecimalField's short way gives
exactly what DRF's DecimalField gives, and ``represent_values`` represents rows of
values exactly as the serializer represents the model instances."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from billing_portal.api import DecimalField


def _both(field_kwargs, value):
    out = []
    for cls in (DecimalField, serializers.DecimalField):
        try:
            out.append(cls(**field_kwargs).to_representation(value))
        except Exception as exc:  # the same refusal counts as the same answer
            out.append(type(exc))
    return out


@settings(max_examples=500, deadline=None)
@given(
    value=st.one_of(
        st.decimals(allow_nan=True, allow_infinity=True),
        st.decimals(min_value=Decimal("-1e15"), max_value=Decimal("1e15"), places=2),
        st.decimals(min_value=Decimal("-1e15"), max_value=Decimal("1e15"), places=6),
        st.integers(min_value=-(10**16), max_value=10**16),
    ),
    places=st.sampled_from([0, 2, 6]),
    digits=st.sampled_from([5, 14, 20]),
    coerce=st.sampled_from([None, True, False]),
)
def test_decimal_field_matches_drf(value, places, digits, coerce):
    kwargs = {"max_digits": digits, "decimal_places": places}
    if coerce is not None:
        kwargs["coerce_to_string"] = coerce
    ours, drf = _both(kwargs, value)
    assert repr(ours) == repr(drf)  # repr: NaN is not equal to itself


@pytest.mark.parametrize("value", ["0.00", "-0.00", "121.00", "-5.10", "999999999999.99", "1234567890123.45", "1.5"])
def test_decimal_field_examples_match_drf(value):
    for kwargs in ({"max_digits": 14, "decimal_places": 2}, {"max_digits": 14, "decimal_places": 2, "localize": True}):
        ours, drf = _both(kwargs, Decimal(value))
        assert repr(ours) == repr(drf)


def test_model_serializer_fields_built_once_label_in_the_active_language():
    """The labels stay lazy: fields built once per class still speak the reader's language."""
    from django.utils import translation

    from invoices.api.serializers import InvoiceSerializer

    with translation.override("nl"):
        dutch = str(InvoiceSerializer().fields["issue_date"].label)
    with translation.override("en"):
        english = str(InvoiceSerializer().fields["issue_date"].label)
        assert InvoiceSerializer().fields["issue_date"] is not InvoiceSerializer().fields["issue_date"]
    assert (english, dutch) == ("Invoice date", "Factuurdatum")
