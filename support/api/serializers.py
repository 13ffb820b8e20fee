"""Shapes of the support API. Input serializers only parse shapes: the values are passed
through to the services as typed, and support/details.py (and the services) check them,
so the page and the API give the same errors on the same fields."""

from rest_framework import serializers

from accounts.models import AgreementType
from support.models import (
    ContactMethod,
    CreditDecision,
    CustomerType,
    RequestStatus,
    RevenueBand,
    SupportPlan,
)
from support.selectors import KIND_AMENDMENT, KIND_PAY_BY_INVOICE

QUEUE_KINDS = (KIND_PAY_BY_INVOICE, KIND_AMENDMENT)
QUEUE_STATUSES = ("open", "waiting", "closed", "all")


def _enum(choices) -> dict:
    return {"type": "string", "enum": [value for value, _label in choices]}


class Raw(serializers.Field):
    """A scalar passed through as typed, as text (a number becomes its text, as in a
    form); the service validates it. ``schema`` documents what the service accepts."""

    default_error_messages = {"invalid": "Enter text or a number."}

    def __init__(self, *, schema=None, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)
        self._spectacular_annotation = {"field": schema or {"type": "string"}}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (str, int, float)):
            self.fail("invalid")
        return str(data)

    def to_representation(self, value):
        return value


class Choice(serializers.CharField):
    """A read-only choice value, documented with its values."""

    def __init__(self, *, choices, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)
        self._spectacular_annotation = {"field": _enum(choices)}


def one_of(choices, **kwargs) -> serializers.CharField:
    """A read-only choice value whose field name other apps use for other choices
    ("status", "agreement_type"): its values are listed in the description."""
    values = ", ".join(value for value, _label in choices)
    return serializers.CharField(read_only=True, help_text=f"One of: {values}.", **kwargs)


# --- Reads of the customer's side ---------------------------------------------------------


class SupportRequestTypeSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()


class SupportScopeSerializer(serializers.Serializer):
    value = serializers.CharField(help_text="s<subscription id> (web direct) or p<profile id> (customer agreement).")
    label = serializers.CharField()
    profile = serializers.IntegerField(source="profile.pk")
    subscription = serializers.IntegerField(source="subscription.pk", allow_null=True, default=None)
    account = serializers.IntegerField(source="profile.account_id")
    agreement_type = one_of(AgreementType.choices, source="profile.account.agreement_type")


class PrecheckItemSerializer(serializers.Serializer):
    label = serializers.CharField()
    detail = serializers.CharField()
    url = serializers.CharField(help_text="Where to fix it (PBI-6: the value on the account's profile).")


class PrecheckSerializer(serializers.Serializer):
    rule = serializers.CharField(help_text="PBI-1, PBI-3, PBI-4, PBI-5, PBI-6, PBI-7 or PAY.")
    code = serializers.CharField()
    ok = serializers.BooleanField()
    blocking = serializers.BooleanField(help_text="It fails and stops the request (or its approval).")
    title = serializers.CharField()
    fix = serializers.CharField(help_text="What to do when it fails; empty when it passes.")
    items = PrecheckItemSerializer(many=True)


class PrecheckResultSerializer(serializers.Serializer):
    scope = serializers.CharField()
    blocked = serializers.BooleanField(help_text="A blocking check fails: a request would be refused.")
    checks = PrecheckSerializer(many=True)


class PbiEventSerializer(serializers.Serializer):
    action = serializers.CharField()
    status = one_of(RequestStatus.choices)
    status_label = serializers.CharField(source="get_status_display")
    actor_name = serializers.CharField(source="actor.get_full_name", allow_null=True, default=None)
    detail = serializers.CharField()
    created_at = serializers.DateTimeField()


class PbiMessageSerializer(serializers.Serializer):
    """A message as the customer sees it: support writes as "Support"."""

    id = serializers.IntegerField()
    from_support = serializers.BooleanField()
    author_name = serializers.SerializerMethodField()
    body = serializers.CharField()
    created_at = serializers.DateTimeField()

    def get_author_name(self, message) -> str | None:
        if message.from_support or message.author is None:
            return None
        return message.author.get_full_name()


class PbiStaffMessageSerializer(PbiMessageSerializer):
    internal = serializers.BooleanField(help_text="An internal note: never shown to the customer.")

    def get_author_name(self, message) -> str | None:
        return message.author.get_full_name() if message.author is not None else None


class PbiCreditApplicationSerializer(serializers.Serializer):
    sent_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    requested_limit = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    annual_revenue = serializers.CharField(help_text=f"One of {', '.join(RevenueBand.values)} (empty until sent).")
    bank_name = serializers.CharField()
    trade_references = serializers.CharField()


_SUMMARY_FIELDS = (
    "id",
    "reference",
    "status",
    "status_label",
    "account",
    "account_name",
    "profile",
    "profile_name",
    "subscription",
    "subscription_name",
    "support_plan",
    "created_at",
    "updated_at",
    "closed_at",
)
_DETAIL_FIELDS = (
    "customer_type",
    "current_payment_method",
    "order_id",
    "admin_sign_in",
    "commerce_account_id",
    "company_name",
    "company_address",
    "website",
    "country",
    "vat_id",
    "year_established",
    "prior_business",
    "contact_name",
    "contact_phone",
    "contact_email",
    "justification",
    "existing_cores",
    "requested_cores",
    "quota_region",
    "quota_series",
    "preferred_contact",
    "created_by",
    "credit_decision",
    "credit_limit",
    "currency",
    "rejection_reason",
)


class PayByInvoiceRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    status = one_of(RequestStatus.choices)
    status_label = serializers.CharField(source="get_status_display")
    account = serializers.IntegerField(source="account_id")
    account_name = serializers.CharField(source="account.name")
    profile = serializers.IntegerField(source="profile_id")
    profile_name = serializers.CharField(source="profile.name")
    subscription = serializers.IntegerField(source="subscription_id", allow_null=True)
    subscription_name = serializers.CharField(source="subscription.name", allow_null=True, default=None)
    support_plan = Choice(choices=SupportPlan.choices)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)


class PbiDecisionDatesSerializer(serializers.Serializer):
    earliest = serializers.DateField()
    latest = serializers.DateField()


class PayByInvoiceRequestDetailSerializer(PayByInvoiceRequestSerializer):
    """A request as the customer sees it (no internal notes)."""

    customer_type = Choice(choices=CustomerType.choices)
    current_payment_method = serializers.CharField()
    order_id = serializers.CharField()
    admin_sign_in = serializers.CharField()
    commerce_account_id = serializers.CharField()
    company_name = serializers.CharField()
    company_address = serializers.CharField()
    website = serializers.CharField()
    country = serializers.CharField(source="country.code")
    vat_id = serializers.CharField()
    year_established = serializers.IntegerField()
    prior_business = serializers.CharField()
    contact_name = serializers.CharField()
    contact_phone = serializers.CharField()
    contact_email = serializers.CharField()
    justification = serializers.CharField()
    existing_cores = serializers.IntegerField(allow_null=True)
    requested_cores = serializers.IntegerField(allow_null=True)
    quota_region = serializers.CharField()
    quota_series = serializers.CharField()
    preferred_contact = Choice(choices=ContactMethod.choices)
    created_by = serializers.EmailField(source="created_by.email", allow_null=True, default=None)
    credit_decision = serializers.CharField(help_text=f"{', '.join(CreditDecision.values)} or empty.")
    credit_limit = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    currency = serializers.CharField(source="account.currency")
    rejection_reason = serializers.CharField()
    events = PbiEventSerializer(many=True)
    messages = PbiMessageSerializer(many=True)
    credit_application = PbiCreditApplicationSerializer(allow_null=True)
    decision_expected = PbiDecisionDatesSerializer(
        allow_null=True, help_text="PBI-8: 5 to 7 days after the credit application came back."
    )


class PayByInvoiceStaffDetailSerializer(PayByInvoiceRequestDetailSerializer):
    """Everything support staff need to decide a request."""

    messages = PbiStaffMessageSerializer(many=True, help_text="Every message, internal notes included.")
    prechecks_submitted = PrecheckSerializer(many=True, help_text="The pre-checks as they stood at submission.")
    prechecks_now = PrecheckSerializer(many=True, help_text="The pre-checks for approval, as they stand now.")
    blocked = serializers.BooleanField(help_text="A check blocks approval now.")
    account_country = serializers.CharField(source="account.country.code")
    agreement_type = one_of(AgreementType.choices, source="account.agreement_type")


class SupportQueueRowSerializer(serializers.Serializer):
    kind = Choice(choices=[(k, k) for k in QUEUE_KINDS])
    id = serializers.IntegerField(source="pk")
    reference = serializers.CharField()
    account = serializers.IntegerField(source="account.pk")
    account_name = serializers.CharField(source="account.name")
    status = serializers.CharField(help_text="The request's status (of its kind).")
    status_label = serializers.CharField()
    waiting_for_support = serializers.BooleanField()
    created_at = serializers.DateTimeField()


# --- Inputs ---------------------------------------------------------------------------------

_TEXT = {"type": "string"}
_INTEGER = {"oneOf": [{"type": "integer"}, {"type": "string"}]}
_AMOUNT = {"oneOf": [{"type": "string", "format": "decimal"}, {"type": "number"}]}


class PayByInvoiceRequestCreateSerializer(serializers.Serializer):
    """PBI-1, PBI-2: the scope, the support plan and the details. Every detail is checked
    by the service (all errors at once, each on its field)."""

    scope = serializers.CharField(max_length=32, help_text="A value of GET support/scopes/.")
    support_plan = Raw(schema=_enum(SupportPlan.choices))
    customer_type = Raw(schema=_enum(CustomerType.choices))
    current_payment_method = Raw()
    order_id = Raw()
    admin_sign_in = Raw(schema={"type": "string", "format": "email"})
    commerce_account_id = Raw()
    company_name = Raw(help_text="As on the account's profile (PBI-6).")
    company_address = Raw(help_text="As on the account's profile (PBI-6), one line per part.")
    website = Raw()
    country = Raw(help_text="ISO 3166 code, e.g. NL.")
    vat_id = Raw()
    year_established = Raw(schema=_INTEGER)
    prior_business = Raw()
    contact_name = Raw()
    contact_phone = Raw()
    contact_email = Raw(schema={"type": "string", "format": "email"})
    justification = Raw(help_text="Why invoice instead of card.")
    existing_cores = Raw(schema=_INTEGER)
    requested_cores = Raw(schema=_INTEGER)
    quota_region = Raw()
    quota_series = Raw()
    preferred_contact = Raw(schema=_enum(ContactMethod.choices))
    confirm = serializers.BooleanField(
        default=False, help_text="PBI-5: you understand the switch to pay by invoice cannot be undone."
    )

    def details(self) -> dict:
        """The details as typed, for ``services.pbi_request_create``."""
        data = dict(self.validated_data)
        data.pop("scope"), data.pop("confirm")
        return {key: ("" if value is None else value) for key, value in data.items()}


class PbiMessageInputSerializer(serializers.Serializer):
    message = Raw(schema=_TEXT)


class PbiNoteInputSerializer(serializers.Serializer):
    note = Raw(schema=_TEXT)


class PbiRejectInputSerializer(serializers.Serializer):
    reason = Raw(schema=_TEXT, help_text="The customer reads it.")


class PbiCreditApplicationInputSerializer(serializers.Serializer):
    requested_limit = Raw(schema=_AMOUNT)
    annual_revenue = Raw(schema=_enum(RevenueBand.choices))
    bank_name = Raw()
    trade_references = Raw()


class PbiCreditDecisionInputSerializer(serializers.Serializer):
    decision = Raw(schema=_enum(CreditDecision.choices))
    credit_limit = Raw(schema=_AMOUNT, help_text="Required when the decision is approved.")
