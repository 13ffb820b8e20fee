"""Forms of the members pages. They parse; the services (accounts.members) decide."""

from django import forms
from django.contrib.auth.password_validation import password_validators_help_texts
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from billing_portal.card_numbers import CARD_NUMBER_REFUSED, CARD_NUMBER_REFUSED_CODE, contains_card_number
from billing_portal.forms import NoCardNumbersEchoedMixin

from . import permissions
from .roles import Role


def refuse_card_number(value) -> None:
    """A field validator: a card number is refused (and the field shown again empty)."""
    if contains_card_number(value):
        raise ValidationError(CARD_NUMBER_REFUSED, code=CARD_NUMBER_REFUSED_CODE)


def role_choices(scope) -> list[tuple[str, str]]:
    """The roles of the scope, in the page's language."""
    roles = permissions.scope_roles(scope)
    return [(value, label) for value, label in Role.choices if value in roles]


class RolesForm(forms.Form):
    """A member's roles on the scope (change roles)."""

    roles = forms.MultipleChoiceField(
        label=_("Roles"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one role.")},
    )

    def __init__(self, *args, scope, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["roles"].choices = role_choices(scope)


class InviteForm(NoCardNumbersEchoedMixin, RolesForm):
    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        validators=[refuse_card_number],
        help_text=_("We send a link to this address. It can be used once, within 7 days."),
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    field_order = ["email", "roles"]


class SignUpForm(NoCardNumbersEchoedMixin, forms.Form):
    """Accepting an invitation without an account: a name and a password."""

    full_name = forms.CharField(
        label=_("Your name"),
        max_length=150,
        validators=[refuse_card_number],
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        label=_("Password again"),
        strip=False,
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password"].help_text = " ".join(password_validators_help_texts())

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password") and cleaned.get("password_again") != cleaned["password"]:
            self.add_error("password_again", _("The two passwords are not the same."))
        return cleaned
