"""seed_demo: personas for every role across the three agreement types; idempotent."""

import io

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.core.management import call_command

from accounts import permissions
from accounts.demo import DEMO_PASSWORD, PERSONAS
from accounts.models import BillingAccount, Subscription, User
from accounts.roles import Role

pytestmark = pytest.mark.django_db


def _counts():
    models = [
        m
        for app in ("accounts", "payments", "invoices", "purchase_orders")
        for m in apps.get_app_config(app).get_models()
    ]
    counts = {m._meta.label: m.objects.count() for m in models}
    counts["auth.Group"] = Group.objects.count()
    return counts


def test_seed_demo_is_idempotent_and_prints_the_personas():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    first = _counts()
    call_command("seed_demo", stdout=io.StringIO())
    assert _counts() == first
    text = out.getvalue()
    for email, _name, _language in PERSONAS.values():
        assert email in text
    assert DEMO_PASSWORD in text
    assert first["accounts.User"] == len(PERSONAS)


def test_demo_covers_every_role_and_agreement_type(demo):
    roles = {ra.role for u in demo.users.values() for ra in u.role_assignments.all()}
    assert roles == set(Role.values)
    types = set(BillingAccount.objects.values_list("agreement_type", flat=True))
    assert types == {"web_direct", "enterprise", "customer_agreement"}
    # Web direct by card (two active subscriptions + one with a marketplace service), by
    # invoice, and an individual account.
    contoso = demo.accounts["contoso"]
    assert (contoso.kind, contoso.payment_mode) == ("business", "card")
    contoso_subs = Subscription.objects.filter(account=contoso, status="active")
    assert contoso_subs.count() == 3
    assert contoso_subs.filter(marketplace_services__isnull=False).count() == 1
    assert demo.accounts["fabrikam"].payment_mode == "invoice"
    assert demo.accounts["individual"].kind == "individual"
    # A direct and an indirect enrollment.
    assert (demo.accounts["northwind"].channel, demo.accounts["tailspin"].channel) == ("direct", "indirect")
    # A customer agreement with two billing profiles, signed up by its owner.
    woodgrove = demo.accounts["woodgrove"]
    assert woodgrove.profiles.count() == 2
    assert woodgrove.signed_up_by == demo.users["ca_owner"]
    # Support staff, and both languages.
    assert permissions.can_work_support_queue(demo.users["support"])
    assert set(User.objects.values_list("language", flat=True)) == {"en", "nl"}


def test_demo_personas_sign_in_with_the_demo_password(demo, client):
    for key, (email, _name, _language) in PERSONAS.items():
        response = client.post("/sign-in/", {"username": email, "password": DEMO_PASSWORD})
        assert response.status_code == 302, key
        assert client.get("/").status_code == 200
        client.post("/sign-out/")
