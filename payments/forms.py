from django import forms
from django.utils.translation import gettext_lazy as _

from billing_portal import clock
from billing_portal.forms import country_choices

from .card_data import CARD_NUMBER_REFUSED, INVALID_CHOICE, contains_card_number


def _country_field():
    # The invalid-choice message does not repeat the posted value.
    return forms.ChoiceField(
        label=_("Country"),
        choices=country_choices(),
        required=False,
        error_messages={"invalid_choice": INVALID_CHOICE},
    )


class NoCardNumbersForm(forms.Form):
    """Text fields refuse a card number and do not show it again in the re-rendered form."""

    text_fields = ("holder_name", "address_line1", "postal_code", "city")

    def clean(self):
        data = super().clean()
        refused = [n for n in self.text_fields if n in self.fields and contains_card_number(self.data.get(n))]
        if refused:
            self.data = self.data.copy()
            for name in refused:
                self.data[name] = ""
                self.add_error(name, CARD_NUMBER_REFUSED)
        return data


class AddCardForm(NoCardNumbersForm):
    """The portal's side of "+" (PM-4): the choices made before the gateway's card page."""

    make_active = forms.BooleanField(label=_("Use this card as my active payment method"), required=False)
    address_line1 = forms.CharField(label=_("Billing address"), max_length=200, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=20, required=False)
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    country = _country_field()


class PayAddCardForm(AddCardForm):
    """Pay now's "+ Add a new card": the card form of the payment-methods page, where the
    box makes the new card the active one for automatic payments in the same step (PM-4).
    Web direct asks for which subscription: the card becomes active for it and for every
    subscription that uses the same card. ``offer_make_active=False`` (PBI-5, or no
    subscription to make it active for) hides the box; a box sent all the same goes to
    the card service, which refuses it."""

    def __init__(self, *args, subscriptions=(), offer_make_active=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.subscriptions = {str(s.subscription_id): s for s in subscriptions}
        make_active = self.fields["make_active"]
        make_active.label = _("Also use this card for automatic payments")
        if not offer_make_active:
            make_active.widget = forms.HiddenInput()
        if self.subscriptions:
            self.fields["subscription_id"] = forms.ChoiceField(
                label=_("Subscription"),
                choices=[(key, _subscription_label(s)) for key, s in self.subscriptions.items()],
                required=False,
                help_text=_(
                    "The new card becomes the active payment method for this subscription and for every "
                    "subscription that uses the same card."
                ),
            )
            self.order_fields(["make_active", "subscription_id"])

    def chosen_subscription(self):
        """The subscription chosen for the new card (web direct), or None."""
        return self.subscriptions.get(self.cleaned_data.get("subscription_id") or "")


def _subscription_label(subscription) -> str:
    card = subscription.payment_method
    using = str(card) if card is not None and card.removed_at is None else _("no card")
    return f"{subscription.name} · {using}"


class UpdateCardForm(NoCardNumbersForm):
    """PM-5: holder name, expiry and billing address. The number cannot change."""

    holder_name = forms.CharField(label=_("Name on the card"), max_length=150)
    exp_month = forms.IntegerField(label=_("Expiry month"), min_value=1, max_value=12)
    exp_year = forms.IntegerField(label=_("Expiry year"), min_value=2000, max_value=2100)
    address_line1 = forms.CharField(label=_("Billing address"), max_length=200, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=20, required=False)
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    country = _country_field()

    def clean(self):
        data = super().clean()
        month, year = data.get("exp_month"), data.get("exp_year")
        if month and year:
            today = clock.today()
            if (year, month) < (today.year, today.month):
                self.add_error("exp_month", _("This expiry date is in the past."))
        return data
