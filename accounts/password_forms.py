"""Forms of the self-service access pages: the profile, the password pages (Django's
password forms, with the validators of AUTH_PASSWORD_VALIDATORS) and the API tokens."""

from django import forms
from django.conf import settings
from django.contrib.auth import authenticate, password_validation
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.core.exceptions import ValidationError
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from billing_portal.forms import NoCardNumbersEchoedMixin

from . import api_tokens


def posted_data(request):
    """The submitted data to bind a form to, or None for a GET (an empty POST is bound)."""
    return request.POST if request.method == "POST" else None


def _rules_text() -> str:
    """The password rules as one plain sentence each (Django gives them as HTML list)."""
    return " ".join(str(text) for text in password_validation.password_validators_help_texts())


RULES_TEXT = lazy(_rules_text, str)()


class _PlainRulesMixin:
    """The rules under the new password as text, as every help text of the portal is."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].help_text = RULES_TEXT


class PasswordResetRequestForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )


class PortalSetPasswordForm(_PlainRulesMixin, SetPasswordForm):
    """The new password after a reset link (Django's form; the service saves it)."""


class PortalPasswordChangeForm(_PlainRulesMixin, PasswordChangeForm):
    """Current password, then the new one twice. The current password is checked through
    ``authenticate`` with the request, so that wrong ones count towards the sign-in
    lock-out (django-axes) like failed sign-ins."""

    def __init__(self, user, *args, request=None, **kwargs):
        self.request = request
        super().__init__(user, *args, **kwargs)
        self.fields["old_password"].label = _("Current password")

    def clean_old_password(self):
        current = self.cleaned_data["old_password"]
        found = authenticate(self.request, username=self.user.email, password=current)
        if found is None or found.pk != self.user.pk:
            raise ValidationError(_("This is not your current password."), code="password_incorrect")
        return current


class UserProfileForm(NoCardNumbersEchoedMixin, forms.Form):
    full_name = forms.CharField(
        label=_("Name"),
        max_length=150,
        required=False,
        help_text=_("As shown in the portal and in e-mails to you."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    language = forms.ChoiceField(
        label=_("Preferred language"),
        choices=settings.LANGUAGES,
        help_text=_("For the portal's pages, your e-mails and the answers of the API."),
    )


def _expiry_choices():
    """Read when the form is shown, in the language of the request."""
    return [(days, ngettext("%(days)d day", "%(days)d days", days) % {"days": days}) for days in api_tokens.EXPIRY_DAYS]


class ApiTokenForm(NoCardNumbersEchoedMixin, forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=api_tokens.NAME_MAX_LENGTH,
        help_text=_("What the token is for, e.g. the script or machine that uses it."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    expires_in_days = forms.TypedChoiceField(
        label=_("Expires after"),
        coerce=int,
        choices=_expiry_choices,
        initial=api_tokens.DEFAULT_EXPIRY_DAYS,
        help_text=_("Every token expires; make a new one before then."),
    )
