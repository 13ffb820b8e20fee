from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from billing_portal.forms import NoCardNumbersEchoedMixin, country_choices

from .models import BillingAccount
from .services import PROFILE_FIELDS


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("E-mail address"), widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )


class TwoFactorCodeForm(forms.Form):
    """The 6-digit code of an authenticator app (spaces allowed, as some apps show it)."""

    otp = forms.CharField(
        label=_("Code"),
        max_length=9,
        help_text=_("The 6-digit code that your authenticator app shows now."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True, "spellcheck": "false"}
        ),
    )

    def clean_otp(self):
        code = self.cleaned_data["otp"].replace(" ", "")
        if not (code.isascii() and code.isdigit() and len(code) == 6):
            raise forms.ValidationError(_("Enter the 6 digits of the code."))
        return code


class AccountProfileForm(NoCardNumbersEchoedMixin, forms.ModelForm):
    """Sold-to address, billing contact and VAT ID of a billing account."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    class Meta:
        model = BillingAccount
        fields = list(PROFILE_FIELDS)
        help_texts = {
            "company_name": _("As registered for VAT or with the government."),
            "vat_id": _("Checked for the account's country. A change applies to the next invoice."),
            "billing_contact_email": _("Procurement or finance department; needed before credit can be approved."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "country" in self.fields:
            self.fields["country"].choices = country_choices()
