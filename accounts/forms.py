from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from billing_portal.forms import NoCardNumbersEchoedMixin

from .models import BillingAccount
from .services import PROFILE_FIELDS


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("E-mail address"), widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )


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
