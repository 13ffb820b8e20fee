"""The password rules are Django's validators (AUTH_PASSWORD_VALIDATORS); this one only
words its refusal in the portal's catalogue, because Django 5.2's Dutch catalogue lacks
the message of the minimum length (it shows in English otherwise)."""

from django.contrib.auth import password_validation
from django.utils.translation import ngettext


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    def get_error_message(self):
        return ngettext(
            "This password is too short. It must contain at least %(min_length)d character.",
            "This password is too short. It must contain at least %(min_length)d characters.",
            self.min_length,
        ) % {"min_length": self.min_length}
