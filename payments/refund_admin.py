"""Admin site: support staff refund a card payment (the refund form, reached from the
payments list's action) and read refunds. Every action asks
``accounts.permissions.can_refund_payments`` and goes through ``services.payment_refund``."""

import uuid
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import permissions
from billing_portal.admin import ReadOnlyAdmin
from billing_portal.errors import DomainError
from billing_portal.forms import add_domain_error

from . import services
from .models import Payment, PaymentStatus, Refund, SandboxRefund


class RefundForm(forms.Form):
    amount = forms.DecimalField(
        label=gettext_lazy("Amount to refund"), max_digits=14, decimal_places=2, min_value=Decimal("0.01")
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    token = forms.CharField(widget=forms.HiddenInput)


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "invoice", "payment", "amount", "currency", "status", "failure_code", "credit_note")
    list_filter = ("status",)
    search_fields = ("invoice__number", "gateway_reference")
    list_select_related = ("invoice", "payment", "credit_note")
    exclude = ("gateway_key", "request_key")

    def get_urls(self):
        view = self.admin_site.admin_view(self.refund_view)
        return [path("new/<int:payment_id>/", view, name="payments_refund_new"), *super().get_urls()]

    def refund_view(self, request, payment_id):
        if not permissions.can_refund_payments(request.user):
            raise PermissionDenied
        payment = get_object_or_404(Payment.objects.select_related("invoice"), pk=payment_id)
        left = payment.amount - payment.amount_refunded
        form = RefundForm(request.POST or None, initial={"token": uuid.uuid4().hex, "amount": left})
        if request.method == "POST" and form.is_valid():
            try:
                refund = services.payment_refund(
                    payment=payment,
                    amount=form.cleaned_data["amount"],
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                    request_key=f"admin:{form.cleaned_data['token']}",
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                level = messages.ERROR if refund.status == PaymentStatus.FAILED else messages.SUCCESS
                messages.add_message(
                    request,
                    level,
                    _("Refund of %(amount)s %(currency)s on %(number)s: %(status)s.")
                    % {
                        "amount": refund.amount,
                        "currency": refund.currency,
                        "number": payment.invoice.number,
                        "status": refund.get_status_display(),
                    },
                )
                return redirect(reverse("admin:payments_refund_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "payment_opts": Payment._meta,
            "payment": payment,
            "form": form,
            "title": _("Refund a payment of %(number)s") % {"number": payment.invoice.number},
        }
        return render(request, "admin/payments/refund_payment.html", context)


@admin.register(SandboxRefund)
class SandboxRefundAdmin(ReadOnlyAdmin):
    list_display = ("reference", "charge", "amount", "currency", "status", "failure_code", "created_at")
    list_filter = ("status",)


@admin.action(description=gettext_lazy("Refund the selected card payment"))
def refund_selected(modeladmin, request, queryset):
    """Opens the refund form of the one selected payment."""
    if not permissions.can_refund_payments(request.user):
        raise PermissionDenied
    payments = list(queryset[:2])
    if len(payments) != 1:
        modeladmin.message_user(request, _("Select one payment to refund."), messages.WARNING)
        return None
    return redirect(reverse("admin:payments_refund_new", args=[payments[0].pk]))
