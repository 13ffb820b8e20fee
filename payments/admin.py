"""Admin site: support staff can look at cards, their history and the sandbox gateway's
records (read-only: cards change only through the customer's own services)."""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts import permissions
from billing_portal import clock
from billing_portal.admin import ReadOnlyAdmin
from billing_portal.errors import DomainError
from billing_portal.forms import add_domain_error
from invoices.models import Invoice

from . import services
from .models import CardSetup, Payment, PaymentMethod, PaymentMethodEvent, Receipt, SandboxCharge, WebhookEvent
from .refund_admin import refund_selected


@admin.register(PaymentMethod)
class PaymentMethodAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "holder_name", "profile", "created_at", "removed_at")
    list_filter = ("brand", "removed_at")
    search_fields = ("holder_name", "last4", "account__name")
    list_select_related = ("profile", "profile__account")
    exclude = ("token",)


@admin.register(PaymentMethodEvent)
class PaymentMethodEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "action", "card", "actor", "profile")
    list_filter = ("action",)
    list_select_related = ("actor", "profile", "profile__account")


@admin.register(CardSetup)
class CardSetupAdmin(ReadOnlyAdmin):
    list_display = ("pk", "profile", "status", "decline_code", "created_by", "created_at")
    list_filter = ("status",)
    exclude = ("gateway_session_id",)


@admin.register(SandboxCharge)
class SandboxChargeAdmin(ReadOnlyAdmin):
    list_display = ("reference", "amount", "currency", "status", "failure_code", "created_at")
    list_filter = ("status",)


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "event_id", "type", "processed_at", "attempts", "last_error")
    list_filter = ("type", ("processed_at", admin.EmptyFieldListFilter))
    search_fields = ("event_id",)


# --- Payments and bank transfers -------------------------------------------------------------


class BankTransferForm(forms.Form):
    invoice_number = forms.CharField(label=_("Invoice number"), max_length=32)
    amount = forms.DecimalField(label=_("Amount received"), max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    received_on = forms.DateField(label=_("Received on"), widget=forms.DateInput(attrs={"type": "date"}))
    reference = forms.CharField(label=_("Reference"), max_length=64)

    def clean_invoice_number(self):
        number = self.cleaned_data["invoice_number"].strip()
        invoice = Invoice.objects.filter(number=number).first()
        if invoice is None:
            raise forms.ValidationError(_("No invoice has this number."))
        self.invoice = invoice
        return number


@admin.register(Receipt)
class ReceiptAdmin(ReadOnlyAdmin):
    """Receipts are issued with every succeeded payment; support staff look them up here."""

    list_display = ("number", "issue_date", "invoice", "method", "amount", "currency", "paid_on")
    list_filter = ("method", "issue_date")
    search_fields = ("number", "invoice__number", "reference")
    list_select_related = ("invoice",)


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    """Payments are read-only here; "Add" records a received bank transfer."""

    list_display = (
        "created_at",
        "invoice",
        "kind",
        "source",
        "amount",
        "currency",
        "status",
        "failure_code",
        "needs_refund",
        "amount_refunded",
        "disputed_at",
    )
    list_filter = ("status", "kind", "source", "needs_refund", ("disputed_at", admin.EmptyFieldListFilter))
    actions = [refund_selected]
    search_fields = ("invoice__number", "reference", "gateway_reference")
    list_select_related = ("invoice",)
    exclude = ("gateway_key", "request_key")

    def has_add_permission(self, request):
        user = request.user
        return user.is_staff and permissions.is_support_or_superuser(user)

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = BankTransferForm(request.POST or None, initial={"received_on": clock.today()})
        if request.method == "POST" and form.is_valid():
            try:
                payment = services.payment_record_bank_transfer(
                    invoice=form.invoice,
                    amount=form.cleaned_data["amount"],
                    received_on=form.cleaned_data["received_on"],
                    reference=form.cleaned_data["reference"],
                    actor=request.user,
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                payment.invoice.refresh_from_db()
                messages.success(
                    request,
                    _("Bank transfer recorded on %(number)s: %(amount)s %(currency)s. Status: %(status)s.")
                    % {
                        "number": payment.invoice.number,
                        "amount": payment.amount,
                        "currency": payment.currency,
                        "status": payment.invoice.get_status_display(),
                    },
                )
                return redirect(reverse("admin:payments_payment_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "title": _("Record a received bank transfer"),
        }
        return render(request, "admin/payments/record_bank_transfer.html", context)
