from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from billing_portal import clock


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
