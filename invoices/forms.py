import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

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
        try:
            return dt.datetime.strptime(value, "%Y-%m").date()
        except ValueError:
            raise forms.ValidationError(_("Use YYYY-MM, for example 2026-01."))

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
        try:
            return dt.datetime.strptime(self.cleaned_data["period"].strip(), "%Y-%m").date()
        except ValueError:
            raise forms.ValidationError(_("Use YYYY-MM, for example 2026-01."))
