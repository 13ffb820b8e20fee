from django_countries.serializer_fields import CountryField as _CountryField
from rest_framework import serializers

from billing_portal.api import FieldsBuiltOnce
from payments import declines
from payments.card_data import INVALID_CHOICE
from payments.models import CardSetup, Payment, PaymentMethod, PaymentMethodEvent


class CountryField(_CountryField):
    """A country code; an invalid value is refused without repeating it (DRF's default
    message quotes the input, which could be anything the client posted, a card number too)."""

    default_error_messages = {**_CountryField.default_error_messages, "invalid_choice": INVALID_CHOICE}

    def to_internal_value(self, data):
        # A code (or {"code": code}) as a string; {} or a list, number or a dict
        # without a string code would otherwise pass as "no country".
        code = data.get("code") if isinstance(data, dict) else data
        if not isinstance(code, str):
            self.fail("invalid_choice", input="")
        return super().to_internal_value(code)


class SubscriptionRefSerializer(serializers.Serializer):
    subscription_id = serializers.UUIDField()
    name = serializers.CharField()


class PaymentMethodSerializer(serializers.ModelSerializer):
    country = CountryField(required=False, allow_blank=True)
    expiry = serializers.CharField(read_only=True)
    active_for_subscriptions = serializers.SerializerMethodField()
    is_profile_active = serializers.SerializerMethodField()

    class Meta:
        model = PaymentMethod
        fields = [
            "id",
            "account",
            "profile",
            "brand",
            "last4",
            "exp_month",
            "exp_year",
            "expiry",
            "holder_name",
            "address_line1",
            "postal_code",
            "city",
            "country",
            "created_at",
            "updated_at",
            "active_for_subscriptions",
            "is_profile_active",
        ]
        read_only_fields = fields

    def get_active_for_subscriptions(self, obj) -> list[dict]:
        return SubscriptionRefSerializer(obj.active_for_subscriptions.all(), many=True).data

    def get_is_profile_active(self, obj) -> bool:
        return obj.profile.payment_method_id == obj.pk


class PaymentMethodUpdateSerializer(serializers.Serializer):
    holder_name = serializers.CharField(max_length=150, required=False)
    exp_month = serializers.IntegerField(min_value=1, max_value=12, required=False)
    exp_year = serializers.IntegerField(min_value=2000, max_value=2100, required=False)
    address_line1 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    postal_code = serializers.CharField(max_length=20, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100, required=False, allow_blank=True)
    country = CountryField(required=False, allow_blank=True)


class ActivateSerializer(serializers.Serializer):
    subscription_id = serializers.UUIDField(
        required=False, help_text="Web direct: the subscription whose card is replaced (PM-4)."
    )


class ActivateResultSerializer(serializers.Serializer):
    payment_method = PaymentMethodSerializer()
    subscriptions = SubscriptionRefSerializer(many=True)


class CardSetupCreateSerializer(serializers.Serializer):
    profile = serializers.IntegerField(required=False, help_text="Customer agreement: the billing profile.")
    subscription_id = serializers.UUIDField(required=False, help_text="Web direct: the subscription.")
    make_active = serializers.BooleanField(default=False)
    address_line1 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    postal_code = serializers.CharField(max_length=20, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100, required=False, allow_blank=True)
    country = CountryField(required=False, allow_blank=True)

    def validate(self, attrs):
        if not attrs.get("profile") and not attrs.get("subscription_id"):
            raise serializers.ValidationError("Give profile (customer agreement) or subscription_id (web direct).")
        return attrs


class CardSetupSerializer(serializers.ModelSerializer):
    gateway_url = serializers.SerializerMethodField()
    subscription_id = serializers.SerializerMethodField()
    payment_method = PaymentMethodSerializer(
        read_only=True, allow_null=True, help_text="The card, once the setup completed; null before."
    )

    class Meta:
        model = CardSetup
        fields = [
            "id",
            "profile",
            "subscription_id",
            "make_active",
            "status",
            "decline_code",
            "gateway_url",
            "payment_method",
            "created_at",
        ]
        read_only_fields = fields

    def get_gateway_url(self, obj) -> str:
        return self.context.get("gateway_url", "")

    def get_subscription_id(self, obj) -> str | None:
        return str(obj.subscription.subscription_id) if obj.subscription_id else None


class PaymentMethodEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.email", default=None, read_only=True)
    subscriptions = SubscriptionRefSerializer(many=True, read_only=True)

    class Meta:
        model = PaymentMethodEvent
        fields = ["id", "at", "actor", "action", "payment_method", "card", "subscriptions", "changes"]
        read_only_fields = fields


class PaymentSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    invoice_number = serializers.CharField(source="invoice.number", read_only=True)
    failure_detail = serializers.SerializerMethodField()
    action_url = serializers.SerializerMethodField(
        help_text="A pending card payment that waits for the customer's 3-D Secure check: the page where the "
        "customer confirms it with their bank (send them there); empty otherwise."
    )

    class Meta:
        model = Payment
        fields = [
            "id",
            "invoice",
            "invoice_number",
            "kind",
            "source",
            "amount",
            "currency",
            "payment_method",
            "card",
            "status",
            "gateway_reference",
            "failure_code",
            "failure_detail",
            "action_url",
            "reference",
            "received_on",
            "amount_refunded",
            "created_at",
            "settled_at",
        ]
        read_only_fields = fields

    def get_failure_detail(self, obj) -> str:
        return declines.explain(obj.failure_code) if obj.failure_code else ""

    def get_action_url(self, obj) -> str:
        return obj.action_url if obj.status == "pending" else ""


class PayRequestSerializer(serializers.Serializer):
    payment_method = serializers.IntegerField(help_text="Id of one of the scope's cards.")
