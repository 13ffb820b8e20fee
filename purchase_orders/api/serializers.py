from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing_portal.validators import PO_MAX_LENGTH
from purchase_orders.models import AmendmentRequest, AmendmentStatus, ChangedField, NumberChange


class ProfilePONumberSerializer(serializers.Serializer):
    """The PO number for a billing profile's next invoice (web direct, customer agreement)."""

    profile = serializers.IntegerField(source="profile.pk")
    account = serializers.IntegerField(source="profile.account_id")
    agreement_type = serializers.CharField(source="profile.account.agreement_type")
    po_number = serializers.CharField(source="profile.po_number")
    version = serializers.IntegerField(source="profile.version")
    can_edit = serializers.BooleanField(
        help_text="The caller's role may change it (PO-2) and the state allows it (PO-1)."
    )
    refusal_code = serializers.CharField(
        allow_null=True,
        help_text="Why it cannot be changed: po_role_not_allowed, pay_by_invoice_required, po_per_period.",
    )


class PONumberUpdateSerializer(serializers.Serializer):
    # Length and characters are checked by the service (clean_po_number) for one message.
    po_number = serializers.CharField(allow_blank=True, trim_whitespace=False, max_length=PO_MAX_LENGTH * 4)
    version = serializers.IntegerField(min_value=0, help_text="The version you read; a stale version answers 409.")


class VATNumberSerializer(serializers.Serializer):
    account = serializers.IntegerField(source="account.pk")
    country = serializers.CharField(source="account.country.code")
    vat_id = serializers.CharField(source="account.vat_id")
    version = serializers.IntegerField(source="account.version")
    can_edit = serializers.BooleanField()


class VATNumberUpdateSerializer(serializers.Serializer):
    vat_id = serializers.CharField(allow_blank=True, trim_whitespace=False, max_length=64)
    version = serializers.IntegerField(min_value=0)


class WindowSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=["not_generated", "awaiting_notification", "open", "closed"])
    is_open = serializers.BooleanField()
    amends_invoice = serializers.BooleanField(help_text="A change now adds a new revision to the issued invoice.")
    last_day = serializers.DateField(allow_null=True, help_text="Last calendar day (account time zone) it can change.")
    closes_at = serializers.DateTimeField(allow_null=True)


class PeriodInvoiceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    notified_at = serializers.DateTimeField(allow_null=True)
    printed_po_number = serializers.CharField(source="current_revision.po_number", allow_null=True, default=None)


class PeriodPONumberSerializer(serializers.Serializer):
    """An enrollment's billing period: its PO number (PO-6 default) and edit window (PO-7)."""

    period = serializers.CharField(source="key", help_text="YYYY-MM")
    po_number = serializers.CharField()
    is_default = serializers.BooleanField()
    default_po_number = serializers.CharField(source="default")
    version = serializers.IntegerField()
    invoice = PeriodInvoiceSerializer(allow_null=True)
    window = WindowSerializer()
    can_edit = serializers.SerializerMethodField()

    def get_can_edit(self, state) -> bool:
        return bool(self.context.get("can_edit")) and state.window.is_open


@extend_schema_field({"type": "string", "pattern": r"^\d{4}-\d{2}$", "example": "2026-05"})
class MonthField(serializers.DateField):
    """A billing period as YYYY-MM."""

    def __init__(self, **kwargs):
        kwargs.setdefault("format", "%Y-%m")
        super().__init__(**kwargs)


class NumberChangeSerializer(serializers.ModelSerializer):
    changed_by = serializers.EmailField(source="changed_by.email", allow_null=True, default=None)
    profile_name = serializers.CharField(source="profile.name", allow_null=True, default=None)
    period = MonthField(allow_null=True, help_text="YYYY-MM; null for a change that is not of one period.")
    invoice_number = serializers.CharField(source="invoice.number", allow_null=True, default=None)
    field = serializers.ChoiceField(choices=ChangedField.choices)

    class Meta:
        model = NumberChange
        fields = [
            "id",
            "field",
            "old_value",
            "new_value",
            "changed_by",
            "changed_at",
            "profile",
            "profile_name",
            "period",
            "invoice",
            "invoice_number",
            "source",
            "amendment_request",
        ]
        read_only_fields = fields


class AmendmentRequestSerializer(serializers.ModelSerializer):
    invoice_number = serializers.CharField(source="invoice.number", read_only=True)
    requested_by = serializers.EmailField(source="requested_by.email", allow_null=True, default=None)
    revision_number = serializers.IntegerField(source="revision.number", allow_null=True, default=None)
    status = serializers.ChoiceField(choices=AmendmentStatus.choices)

    class Meta:
        model = AmendmentRequest
        fields = [
            "id",
            "account",
            "profile",
            "invoice",
            "invoice_number",
            "status",
            "change_po_number",
            "po_number",
            "current_po_number",
            "change_vat_id",
            "vat_id",
            "current_vat_id",
            "message",
            "requested_by",
            "requested_at",
            "handled_at",
            "decline_reason",
            "revision_number",
        ]
        read_only_fields = fields


class AmendmentRequestCreateSerializer(serializers.Serializer):
    invoice = serializers.IntegerField(help_text="Id of an issued invoice you can see.")
    po_number = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        trim_whitespace=False,
        max_length=PO_MAX_LENGTH * 4,
        help_text="New PO number; omit or null to leave it.",
    )
    vat_id = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        trim_whitespace=False,
        max_length=64,
        help_text="New VAT number; omit or null to leave it.",
    )
    message = serializers.CharField(max_length=2000, help_text="Why the invoice must change.")


class DeclineSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)
