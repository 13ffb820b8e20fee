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
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"}),
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
