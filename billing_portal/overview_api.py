"""``GET /api/v1/overview/``: what each billing scope the caller may see owes, read by
the overview page's selector (``billing_portal.overview.scopes_for_user``). A fact the
caller's roles do not reach is null, a link they may not follow is null."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from . import overview

_MONEY = {"max_digits": 14, "decimal_places": 2}


class InvoiceToPaySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.CharField()
    due_date = serializers.DateField()
    amount_due = serializers.DecimalField(**_MONEY)
    pays_by_bank_transfer = serializers.BooleanField()
    payment_reference = serializers.CharField(help_text="To quote on a bank transfer; empty for a card invoice.")
    url = serializers.CharField(help_text="The invoice's page.")
    pay_url = serializers.CharField(
        allow_null=True, help_text="Pay now (a card invoice, for a caller who may pay it, PAY-1); else null."
    )


class LastPaymentSerializer(serializers.Serializer):
    paid_at = serializers.DateTimeField()
    amount = serializers.DecimalField(**_MONEY)
    currency = serializers.CharField()
    method = serializers.CharField(help_text='The card ("Visa •••• 4242 (12/2030)") or "Bank transfer".')


class CardSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    brand = serializers.CharField()
    last4 = serializers.CharField()
    exp_month = serializers.IntegerField()
    exp_year = serializers.IntegerField()
    expiry = serializers.CharField(help_text="MM/YY")
    is_expired = serializers.BooleanField()


class PurchaseOrderSerializer(serializers.Serializer):
    po_number = serializers.CharField()
    is_default = serializers.BooleanField(help_text="The enrollment number, no PO number having been set (PO-6).")
    period = serializers.DateField(help_text="The billing period (its first day) the PO number is in force for.")
    invoice_number = serializers.CharField(allow_null=True, help_text="That period's invoice, once generated.")
    window_state = serializers.ChoiceField(
        choices=["not_generated", "awaiting_notification", "open", "closed"],
        help_text="PO-7: not_generated (open until the invoice is generated), awaiting_notification (open; the "
        "seven days start with the invoice e-mail), open (until open_until) or closed (a support request only).",
    )
    is_open = serializers.BooleanField()
    open_until = serializers.DateField(allow_null=True, help_text="The last day of the seven days, once they run.")
    url = serializers.CharField(allow_null=True, help_text="The period's View/Edit PO numbers page (PO-4).")
    can_edit = serializers.BooleanField(help_text="The caller may change it now (PO-2, PO-7).")
    amendment_url = serializers.CharField(
        allow_null=True, help_text="Once closed: ask support to amend the invoice (PO-5), for who may ask."
    )


class ScopeSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The billing profile (a web-direct account's or an enrollment's own).")
    kind = serializers.ChoiceField(choices=sorted(set(overview.KINDS.values())))
    name = serializers.CharField()
    agreement_type = serializers.CharField()
    enrollment_number = serializers.CharField()
    currency = serializers.CharField()
    invoice_count = serializers.IntegerField()
    balance_due = serializers.DecimalField(help_text="What the open invoices still ask.", **_MONEY)
    next_due_date = serializers.DateField(allow_null=True, help_text="The earliest due date not yet passed.")
    past_due_amount = serializers.DecimalField(**_MONEY)
    past_due_count = serializers.IntegerField()
    invoice_to_pay = InvoiceToPaySerializer(allow_null=True, help_text="The open invoice due first.")
    last_payment = LastPaymentSerializer(allow_null=True)
    pays_by_invoice = serializers.BooleanField()
    shows_payment_method = serializers.BooleanField(help_text="The caller may see the scope's cards.")
    payment_method = CardSerializer(allow_null=True, help_text="The active card, when there is one to show.")
    purchase_order = PurchaseOrderSerializer(allow_null=True, help_text="Enrollments only.")
    add_card_url = serializers.CharField(allow_null=True, help_text="No active card: where the caller adds one.")


class OverviewSerializer(serializers.Serializer):
    scopes = ScopeSerializer(many=True)


class OverviewView(APIView):
    """What do I owe? Per billing scope the caller may see (customer-agreement billing
    profile, web-direct account, enterprise enrollment): balance due, next due date,
    past-due amount, the invoice to pay first, the last payment, the active card or
    "pays by invoice", and for an enrollment the PO number in force with its PO-7 window.
    The same number of queries for one scope or many."""

    @extend_schema(responses=OverviewSerializer)
    def get(self, request):
        return Response(OverviewSerializer({"scopes": overview.scopes_for_user(request.user)}).data)
