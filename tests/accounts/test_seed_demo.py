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
from support import demo as support_demo
from support import selectors as support_selectors
from support.models import CreditApplication, PayByInvoiceRequest, RequestEvent, RequestMessage

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


def _support_counts():
    counts = {m._meta.label: m.objects.count() for m in apps.get_app_config("support").get_models()}
    counts["notifications"] = sum(m.objects.count() for m in apps.get_app_config("notifications").get_models())
    return counts


def test_seed_demo_is_idempotent_and_prints_the_personas():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    first = _counts()
    support_first = _support_counts()
    call_command("seed_demo", stdout=io.StringIO())
    assert _counts() == first
    assert _support_counts() == support_first
    assert support_first["support.PayByInvoiceRequest"] == len(support_demo.PERSONAS)
    text = out.getvalue()
    for email, _name, _language in [*PERSONAS.values(), *support_demo.PERSONAS.values()]:
        assert email in text
    assert DEMO_PASSWORD in text
    assert first["accounts.User"] == len(PERSONAS) + len(support_demo.PERSONAS)


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
    """The customers are in after the password; the demo support user has no
    authenticator app seeded and is sent to set one up on the first sign-in."""
    for key, (email, _name, _language) in PERSONAS.items():
        response = client.post("/sign-in/", {"username": email, "password": DEMO_PASSWORD})
        assert response.status_code == 302, key
        if key == "support":
            assert response["Location"].startswith("/security/two-factor/set-up/")
            assert client.get("/")["Location"].startswith("/security/two-factor/set-up/")
        else:
            assert client.get("/").status_code == 200
        client.post("/sign-out/")


def test_support_demo_requests_wait_for_support_in_the_states_worth_seeing(demo, client_for):
    support_demo.seed(demo)
    support_demo.seed(demo)  # idempotent on its own too
    statuses = {
        key: PayByInvoiceRequest.objects.get(account=demo.accounts[key]).status for key in support_demo.PERSONAS
    }
    assert statuses == {
        "wd_pbi_new": "submitted",
        "wd_pbi_question": "needs_information",
        "wd_pbi_credit": "credit_review",
    }
    for key in support_demo.PERSONAS:
        account = demo.accounts[key]
        assert (account.agreement_type, account.kind, account.payment_mode) == ("web_direct", "business", "card")
        assert account.billing_contact_name and account.billing_contact_email
        assert permissions.can_request_pay_by_invoice(demo.users[key], demo.profiles[key])
        assert account.signed_up_by == demo.users[key]
    question = PayByInvoiceRequest.objects.get(account=demo.accounts["wd_pbi_question"])
    assert list(question.messages.values_list("from_support", "internal")) == [(True, False)]
    assert question.resume_status == "submitted"
    credit = PayByInvoiceRequest.objects.get(account=demo.accounts["wd_pbi_credit"])
    assert credit.credit_application.submitted_at is not None
    assert CreditApplication.objects.count() == 1
    assert RequestMessage.objects.count() == 1
    assert RequestEvent.objects.filter(action="created").count() == 3
    # Every step was taken by the customer or the demo support user, and each request
    # kept the pre-checks it was filed with (all passed: nothing blocked it).
    actors = set(RequestEvent.objects.values_list("actor__email", flat=True))
    assert actors == {demo.users[k].email for k in [*support_demo.PERSONAS, "support"]}
    for pbi in PayByInvoiceRequest.objects.all():
        assert pbi.prechecks and not [c for c in pbi.prechecks if c["blocking"]]

    # The support queue: all three, two of them waiting for support.
    support = demo.users["support"]
    rows = support_selectors.support_queue(support)
    assert {row.account.name for row in rows} == {"Litware", "Proseware", "Wide World Importers"}
    assert support_selectors.waiting_count() == 2
    page = client_for(support).get(f"/support-queue/pay-by-invoice/{credit.pk}/").content.decode()
    assert "Credit check in progress" in page and 'id="decision-dates"' in page
    customer_page = client_for(demo.users["wd_pbi_credit"]).get(f"/help/requests/{credit.pk}/").content.decode()
    assert 'id="decision-dates"' in customer_page
    customer_page = client_for(demo.users["wd_pbi_question"]).get(f"/help/requests/{question.pk}/").content.decode()
    assert "Support needs more information" in customer_page and support_demo.QUESTION in customer_page


def test_support_demo_leaves_contoso_to_ask_and_the_individual_sees_why_it_cannot(demo, client_for):
    support_demo.seed(demo)
    # Contoso pays by card, has no request, and keeps the marketplace service (PBI-4).
    assert not PayByInvoiceRequest.objects.filter(account=demo.accounts["contoso"]).exists()
    campaigns = demo.subscriptions["contoso_campaigns"]
    assert campaigns.marketplace_services.filter(name="Bulk Mail Relay").exists()
    page = client_for(demo.users["wd_admin"]).get(
        f"/help/requests/new/pay-by-invoice/?scope=s{campaigns.pk}&plan=standard"
    )
    assert page.status_code == 200
    assert 'data-code="marketplace_services"' in page.content.decode()
    assert "Bulk Mail Relay" in page.content.decode()
    # PBI-3: the individual account's form says why it cannot pay by invoice.
    individual = demo.subscriptions["individual"]
    page = client_for(demo.users["wd_individual"]).get(
        f"/help/requests/new/pay-by-invoice/?scope=s{individual.pk}&plan=basic"
    )
    assert page.status_code == 200
    from django.utils import translation

    with translation.override(demo.users["wd_individual"].language):
        why = translation.gettext(
            "Only business accounts can pay by invoice. This is an individual account: it pays by card."
        )
    assert why in page.content.decode()


@pytest.mark.django_db(transaction=True)  # the e-mails go out as the seeding commits
def test_seed_demo_writes_its_mails_to_files_instead_of_printing_them(settings, tmp_path, capsys):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    out = io.StringIO()
    call_command("seed_demo", "--mail-dir", str(tmp_path / "mail"), stdout=out)
    printed = capsys.readouterr().out
    assert "Subject:" not in printed and "Content-Type:" not in printed
    text = out.getvalue()
    assert f"written to {tmp_path / 'mail'}/" in text
    written = list((tmp_path / "mail").iterdir())
    assert written and any("Subject:" in f.read_text() for f in written)
    assert text.index("written to") < text.index("Sign in at /sign-in/")
