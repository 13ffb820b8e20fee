"""billing_portal.api.FieldsBuiltOnce: a ModelSerializer's fields built once per class give
the same output as DRF's own way, are not shared between serializers, and keep their
labels in each request's language."""

import pytest
from django.utils import translation
from rest_framework import serializers

from payments import demo as payments_demo
from payments import services
from payments.api.serializers import PaymentSerializer
from payments.models import Payment
from tests.payments.conftest import make_invoice

pytestmark = pytest.mark.django_db

FIELDS = ["id", "invoice", "kind", "source", "amount", "currency", "status", "created_at", "settled_at"]


class BuiltEachTime(serializers.ModelSerializer):
    class Meta:
        model = Payment
        fields = FIELDS


def test_fields_built_once_serialize_as_drf_does_and_are_copied_per_serializer(demo):
    payments_demo.seed(demo)
    cards = demo
    payment = services.invoice_pay(
        invoice=make_invoice(cards.profiles["contoso"]),
        payment_method=services.scope_active_card(cards.profiles["contoso"]),
        actor=cards.users["wd_admin"],
    )
    first, second = PaymentSerializer(payment), PaymentSerializer(payment)
    assert {name: first.data[name] for name in FIELDS} == BuiltEachTime(payment).data
    assert first.fields["amount"] is not second.fields["amount"]
    assert first.fields["amount"].parent is first and second.fields["amount"].parent is second


def test_fields_built_once_keep_their_labels_in_each_language():
    PaymentSerializer().fields  # built in English
    with translation.override("nl"):
        assert PaymentSerializer().fields["amount"].label == BuiltEachTime().fields["amount"].label == "Bedrag"
    assert PaymentSerializer().fields["amount"].label == "Amount"
