"""The first start of a deployment (docs/operations.md, "Deployment"): the first operator is
made with ``createsuperuser`` (here without prompts, as a script would) and must set up an
authenticator app at the first sign-in before the admin site opens."""

import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from tests.factories import totp_code_for_secret

EMAIL = "ops@portal.example"
PASSWORD = "first-operator-2026"


@pytest.mark.django_db
def test_first_operator_from_createsuperuser_sets_up_an_app_before_the_admin_site(client, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", EMAIL)
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    call_command("createsuperuser", interactive=False, verbosity=0)
    operator = User.objects.get(email=EMAIL)
    assert operator.is_superuser and operator.is_staff
    assert not TOTPDevice.objects.filter(user=operator).exists()

    signed_in = client.post("/admin/login/?next=/admin/", {"username": EMAIL, "password": PASSWORD, "next": "/admin/"})
    assert signed_in.status_code == 302
    set_up = reverse("accounts:two_factor_setup")
    assert client.get("/admin/")["Location"].startswith(set_up)
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)</code>', client.get(set_up).content.decode()).group(1)
    confirmed = client.post(set_up, {"otp": totp_code_for_secret(secret), "next": "/admin/"})
    assert confirmed["Location"] == "/admin/"
    assert TOTPDevice.objects.get(user=operator).confirmed
    assert client.get("/admin/").status_code == 200
