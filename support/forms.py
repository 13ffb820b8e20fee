"""Forms of Help + support. They only collect input; validation of the request's
details is the service's (support.details), so the page and the API refuse alike."""

from django import forms
from django.utils.translation import gettext_lazy as _

from billing_portal.forms import EMPTY_CHOICE, country_choices

from .models import ContactMethod, CreditDecision, CustomerType, RevenueBand, SupportPlan

PROBLEM_TYPES = [
    ("pay_by_invoice", _("Pay by invoice")),
    ("invoice_amendment", _("Change the PO or VAT number on an issued invoice")),
]


class NewRequestForm(forms.Form):
    """New support request, first step (PBI-1): issue type, the subscription (customer
    agreement: the billing profile), a support plan and the problem type."""

    issue_type = forms.ChoiceField(label=_("Issue type"), choices=[("billing", _("Billing"))])
    scope = forms.ChoiceField(label=_("Subscription"))
    support_plan = forms.ChoiceField(label=_("Support plan"), choices=SupportPlan.choices)
    problem_type = forms.ChoiceField(label=_("Problem type"), choices=PROBLEM_TYPES)

    def __init__(self, *args, scopes=(), may_amend=True, **kwargs):
        """``scopes``: (value, label) pairs; a value is ``s<subscription pk>`` for a
        web-direct subscription or ``p<profile pk>`` for a billing profile. ``may_amend``:
        whether the user may ask for an invoice amendment (PO-5), else that problem is not offered."""
        super().__init__(*args, **kwargs)
        if not may_amend:
            self.fields["problem_type"].choices = [c for c in PROBLEM_TYPES if c[0] != "invoice_amendment"]
        self.fields["scope"].choices = list(scopes)
        if any(value.startswith("p") for value, _label in scopes) and not any(v.startswith("s") for v, _l in scopes):
            self.fields["scope"].label = _("Billing profile")


class PayByInvoiceForm(forms.Form):
    """PBI-2: every field of the request, prefilled where the portal knows the answer."""

    customer_type = forms.ChoiceField(label=_("New or existing customer"), choices=CustomerType.choices)
    current_payment_method = forms.CharField(label=_("Current payment method"), required=False, max_length=100)
    order_id = forms.CharField(label=_("Order ID"), required=False, max_length=100)
    admin_sign_in = forms.CharField(
        label=_("Account admin's sign-in ID"),
        max_length=254,
        help_text=_("The e-mail address the account admin signs in with; it should be on the company's domain."),
    )
    commerce_account_id = forms.CharField(label=_("Commerce account ID"), max_length=100)
    company_name = forms.CharField(
        label=_("Company name"), max_length=200, help_text=_("As registered for VAT or with the government.")
    )
    company_address = forms.CharField(
        label=_("Company address"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )
    website = forms.CharField(label=_("Company website"), max_length=300)
    country = forms.ChoiceField(label=_("Country"), choices=country_choices())
    vat_id = forms.CharField(label=_("Tax ID / VAT ID"), max_length=40)
    year_established = forms.CharField(label=_("Year the company was established"), max_length=4)
    prior_business = forms.CharField(
        label=_("Prior business with us"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    justification = forms.CharField(
        label=_("Why do you prefer to pay by invoice instead of by card?"), widget=forms.Textarea(attrs={"rows": 4})
    )
    existing_cores = forms.CharField(label=_("Existing cores"), required=False, max_length=10)
    requested_cores = forms.CharField(label=_("Requested cores"), required=False, max_length=10)
    quota_region = forms.CharField(label=_("Region"), required=False, max_length=64)
    quota_series = forms.CharField(label=_("Series"), required=False, max_length=64)
    contact_name = forms.CharField(label=_("Contact name"), max_length=150)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=40)
    contact_email = forms.CharField(label=_("Contact e-mail"), max_length=254)
    preferred_contact = forms.ChoiceField(
        label=_("Preferred contact method"), choices=ContactMethod.choices, widget=forms.RadioSelect
    )
    confirm = forms.BooleanField(
        label=_("I understand that once the account pays by invoice, it cannot switch back to card (PBI-5)."),
        required=False,
    )

    DETAIL_FIELDS = (
        "customer_type", "current_payment_method", "order_id", "admin_sign_in", "commerce_account_id",
        "company_name", "company_address", "website", "country", "vat_id", "year_established", "prior_business",
        "justification",
    )  # fmt: skip
    QUOTA_FIELDS = ("existing_cores", "requested_cores", "quota_region", "quota_series")
    CONTACT_FIELDS = ("contact_name", "contact_phone", "contact_email", "preferred_contact")

    def group(self, names):
        return [self[name] for name in names]

    def details_fields(self):
        return self.group(self.DETAIL_FIELDS)

    def quota_fields(self):
        return self.group(self.QUOTA_FIELDS)

    def contact_fields(self):
        return self.group(self.CONTACT_FIELDS)


class MessageForm(forms.Form):
    message = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Internal note"), widget=forms.Textarea(attrs={"rows": 2}), max_length=4000)


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (the customer reads it)"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000
    )


class CreditDecisionForm(forms.Form):
    decision = forms.ChoiceField(label=_("Credit decision"), choices=CreditDecision.choices)
    credit_limit = forms.CharField(label=_("Credit limit"), required=False, max_length=20)


class CreditApplicationForm(forms.Form):
    """PBI-8: the credit application the customer fills in."""

    requested_limit = forms.CharField(label=_("Requested credit limit"), max_length=20)
    annual_revenue = forms.ChoiceField(label=_("Annual revenue"), choices=[("", EMPTY_CHOICE), *RevenueBand.choices])
    bank_name = forms.CharField(label=_("Bank"), max_length=200)
    trade_references = forms.CharField(
        label=_("Trade references"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        help_text=_("Two or more suppliers who give you credit, with a contact for each."),
    )


class QueueFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), required=False, choices=[("", _("All types")), *PROBLEM_TYPES])
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("open", _("Open")), ("waiting", _("Waiting for support")), ("closed", _("Closed")), ("", _("All"))],
    )
    older_than_days = forms.IntegerField(label=_("Older than (days)"), required=False, min_value=0, max_value=3650)
    country = forms.ChoiceField(label=_("Country"), required=False, choices=country_choices(_("All countries")))
    agreement_type = forms.ChoiceField(label=_("Agreement type"), required=False)

    def __init__(self, *args, agreement_types=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agreement_type"].choices = [("", _("All agreement types")), *agreement_types]
