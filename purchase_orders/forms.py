"""Forms of the PO and VAT pages. They only carry input: the services clean and
validate it (trim, length, printable characters, VAT for the country) so that the web
pages and the API give the same messages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from billing_portal.validators import PO_MAX_LENGTH


class VersionedForm(forms.Form):
    # The version the editor read; a save against a newer version is refused (Conflict).
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


def _number_field(*, label, help_text, max_length: int) -> forms.CharField:
    # Input only: the service trims and checks it. The browser limit is generous on
    # purpose, so that the service gives the clear message.
    return forms.CharField(
        label=label,
        required=False,
        strip=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "maxlength": max_length}),
        help_text=help_text,
    )


class PONumberForm(VersionedForm):
    po_number = _number_field(
        label=_("PO number"),
        help_text=_("At most 50 characters. Leave empty to remove the PO number."),
        max_length=PO_MAX_LENGTH * 4,
    )


class PeriodPONumberForm(VersionedForm):
    po_number = _number_field(
        label=_("PO number"),
        help_text=_("At most 50 characters. Leave empty to use the default PO number, the enrollment number."),
        max_length=PO_MAX_LENGTH * 4,
    )


class VATNumberForm(VersionedForm):
    vat_id = _number_field(
        label=_("VAT / tax ID"),
        help_text=_("Checked for the account's country. A change applies to the next invoice."),
        max_length=64,
    )


class UsageSummaryForm(forms.Form):
    """Choose the enrollment and the billing period (GET)."""

    account = forms.TypedChoiceField(label=_("Enrollment"), coerce=int, required=False)
    period = forms.ChoiceField(label=_("Billing period"), required=False)

    def __init__(self, *args, accounts=(), periods=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = [(a.pk, f"{a.name} ({a.enrollment_number})") for a in accounts]
        self.fields["period"].choices = periods


class AmendmentRequestForm(forms.Form):
    invoice = forms.TypedChoiceField(label=_("Invoice"), coerce=int)
    change_po_number = forms.BooleanField(label=_("Change the PO number"), required=False)
    po_number = forms.CharField(
        label=_("New PO number"), required=False, strip=False, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    change_vat_id = forms.BooleanField(label=_("Change the VAT number"), required=False)
    vat_id = forms.CharField(
        label=_("New VAT number"), required=False, strip=False, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    message = forms.CharField(
        label=_("Why must the invoice change?"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        help_text=_("Support staff read this when they decide. At most 2000 characters."),
    )

    def __init__(self, *args, invoices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invoice"].choices = [
            (
                inv.pk,
                f"{inv.number} · {inv.period:%Y-%m} · {inv.profile}",
            )
            for inv in invoices
        ]

    def clean(self):
        data = super().clean()
        if not data.get("change_po_number") and not data.get("change_vat_id"):
            raise forms.ValidationError(_("Tick what must change: the PO number, the VAT number or both."))
        return data


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for declining (sent to the customer)"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
    )


class HistoryFilterForm(forms.Form):
    field = forms.ChoiceField(
        label=_("Number"),
        required=False,
        choices=[("", _("PO and VAT numbers")), ("po_number", _("PO number")), ("vat_id", _("VAT number"))],
    )
