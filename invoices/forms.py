from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from billing_portal import clock

from .models import InvoiceStatus


class InvoiceFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All"))] + list(InvoiceStatus.choices)
    )
    period = forms.CharField(
        label=_("Billing period"),
        required=False,
        max_length=7,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": _("YYYY-MM")}),
        help_text=_("YYYY-MM"),
    )

    def clean_period(self):
        value = (self.cleaned_data.get("period") or "").strip()
        if not value:
            return None
        period = clock.parse_period(value)
        if period is None:
            raise forms.ValidationError(_("Use YYYY-MM, for example 2026-01."))
        return period

    def apply(self, queryset):
        if not self.is_valid():
            return queryset
        if self.cleaned_data.get("status"):
            queryset = queryset.filter(status=self.cleaned_data["status"])
        if self.cleaned_data.get("period"):
            queryset = queryset.filter(period=self.cleaned_data["period"])
        return queryset


class BillingRunStartForm(forms.Form):
    period = forms.CharField(label=_("Billing period"), max_length=7, help_text=_("YYYY-MM"))

    def clean_period(self):
        period = clock.parse_period(self.cleaned_data["period"])
        if period is None:
            raise forms.ValidationError(_("Use YYYY-MM, for example 2026-01."))
        return period


class CreditNoteForm(forms.Form):
    """Support staff credit an invoice (admin site): the whole uncredited remainder, or a
    gross amount split over the lines pro rata. The one-time token makes a repeated
    submission (double click, reload) find the first credit note."""

    amount = forms.DecimalField(
        label=_("Amount to credit (VAT included)"),
        required=False,
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
        help_text=_("Leave empty to credit everything the invoice still has uncredited."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    token = forms.CharField(widget=forms.HiddenInput)


class CorrectionForm(forms.Form):
    """Support staff correct the VAT of a paid invoice: credit it in full and issue a
    corrected invoice with the new VAT number (the amount paid carried over)."""

    vat_id = forms.CharField(label=_("New VAT number"), max_length=32, required=False)
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
