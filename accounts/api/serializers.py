from django.conf import settings
from django.contrib.auth import authenticate
from django.utils.translation import gettext_lazy as _
from django_countries.serializer_fields import CountryField
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, serializers

from accounts.models import BillingAccount, BillingProfile, MarketplaceService, RoleAssignment, Subscription, User
from accounts.services import PROFILE_FIELDS


@extend_schema_field({"anyOf": [{"type": "string", "format": "email"}, {"type": "string", "maxLength": 0}]})
class OptionalEmailField(serializers.EmailField):
    """An e-mail address, or empty when none is set."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_blank", True)
        super().__init__(**kwargs)


class TokenRequestSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(write_only=True, trim_whitespace=False, max_length=256)
    otp = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=16,
        write_only=True,
        help_text="The 6-digit code of the user's authenticator app: required when the user has two-factor "
        "sign-in (always for support staff and administrators). Without it the answer is 400 otp_required, "
        "a wrong code 400 otp_invalid, too many wrong codes 429 otp_throttled; a user who must have two-factor "
        "sign-in but has not set it up yet gets 403 two_factor_setup_required.",
    )

    def validate(self, attrs):
        request = self.context["request"]
        user = authenticate(request, username=attrs["email"], password=attrs["password"])
        if getattr(request, "axes_locked_out", False):
            # django-axes refused the attempt (repeated failures): say so, in the error shape.
            raise exceptions.Throttled(
                detail=_("Too many failed sign-in attempts. Try again in 15 minutes."), code="locked_out"
            )
        if user is None or not user.is_active:
            raise serializers.ValidationError(_("The e-mail address or password is not correct."), code="authorization")
        attrs["user"] = user
        return attrs


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="The key, shown this once: send it as Authorization: Token <key>.")
    expires_at = serializers.DateTimeField(help_text="When the token stops working.")


class RoleAssignmentSerializer(serializers.ModelSerializer):
    role_label = serializers.CharField(source="get_role_display", read_only=True)
    account_name = serializers.CharField(source="account.name", read_only=True)
    agreement_type = serializers.CharField(source="account.agreement_type", read_only=True)

    class Meta:
        model = RoleAssignment
        fields = ["role", "role_label", "account", "account_name", "agreement_type", "profile"]


class MeSerializer(serializers.ModelSerializer):
    role_assignments = RoleAssignmentSerializer(many=True, read_only=True)
    language = serializers.ChoiceField(choices=settings.LANGUAGES)

    class Meta:
        model = User
        fields = ["id", "email", "full_name", "language", "is_support_staff", "role_assignments"]
        read_only_fields = ["id", "email", "is_support_staff", "role_assignments"]


class BillingAccountSerializer(serializers.ModelSerializer):
    country = CountryField()
    channel = serializers.ChoiceField(
        choices=BillingAccount._meta.get_field("channel").choices,
        allow_blank=True,
        read_only=True,
        help_text="Enterprise enrollments only; empty for other agreement types.",
    )
    version = serializers.IntegerField(read_only=True)

    class Meta:
        model = BillingAccount
        fields = [
            "id",
            "name",
            "agreement_type",
            "kind",
            "enrollment_number",
            "channel",
            "partner_name",
            *PROFILE_FIELDS,
            "currency",
            "payment_mode",
            "language",
            "time_zone",
            "version",
        ]
        read_only_fields = fields


class BillingAccountProfileUpdateSerializer(serializers.ModelSerializer):
    """Fields of the profile page; ``version`` is the version the caller read."""

    country = CountryField(required=False)
    version = serializers.IntegerField(min_value=1)

    class Meta:
        model = BillingAccount
        fields = [*PROFILE_FIELDS, "version"]
        extra_kwargs = {name: {"required": False} for name in fields if name != "version"}


class BillingProfileSerializer(serializers.ModelSerializer):
    account_name = serializers.CharField(source="account.name", read_only=True)
    invoice_email = OptionalEmailField(read_only=True, help_text="Empty: invoices go to the billing contact.")

    class Meta:
        model = BillingProfile
        fields = ["id", "account", "account_name", "name", "is_default", "invoice_email", "po_number"]
        read_only_fields = fields


class MarketplaceServiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = MarketplaceService
        fields = ["name", "publisher"]


class SubscriptionSerializer(serializers.ModelSerializer):
    marketplace_services = MarketplaceServiceSerializer(many=True, read_only=True)

    class Meta:
        model = Subscription
        fields = [
            "subscription_id",
            "name",
            "offer",
            "status",
            "account",
            "profile",
            "payment_method",
            "marketplace_services",
        ]
        read_only_fields = fields
