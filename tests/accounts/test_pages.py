"""The foundation's web pages: sign-in, overview, subscriptions, subscription detail,
billing-account profile (view and edit), help, language switch. Every page as an
anonymous visitor, another tenant's user (404) and each refused role (403)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import BillingAccount, User
from billing_portal import navigation
from billing_portal.validators import clean_vat_id
from tests.factories import make_subscription

from .conftest import PERSONAS
from .test_permissions import PROFILE_EDITORS, VISIBLE_ACCOUNT, VISIBLE_SUBSCRIPTION

pytestmark = pytest.mark.django_db

SIGNED_IN_PERSONAS = [p for p in PERSONAS if p != "anonymous"]


def _pages(world):
    return {
        "overview": reverse("accounts:overview"),
        "subscriptions": reverse("accounts:subscriptions"),
        "subscription": reverse("accounts:subscription", args=[world.subscriptions["ca_s1"].subscription_id]),
        "profile": reverse("accounts:profile", args=[world.accounts["ca"].pk]),
        "help": reverse("support:help"),
    }


def _profile_post(account, **changes):
    data = {
        "company_name": account.company_name,
        "address_line1": account.address_line1,
        "address_line2": account.address_line2,
        "postal_code": account.postal_code,
        "city": account.city,
        "region": account.region,
        "country": account.country.code,
        "vat_id": account.vat_id,
        "billing_contact_name": account.billing_contact_name,
        "billing_contact_email": account.billing_contact_email,
        "billing_contact_phone": account.billing_contact_phone,
        "version": account.version,
    }
    data.update(changes)
    return data


def _snapshot(account):
    account = BillingAccount.objects.get(pk=account.pk)
    return {f.name: getattr(account, f.name) for f in BillingAccount._meta.concrete_fields}


# --- Anonymous -------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["overview", "subscriptions", "subscription", "profile", "help"])
def test_anonymous_is_sent_to_sign_in(world, client, page):
    url = _pages(world)[page]
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={url}"


def test_anonymous_post_to_profile_changes_nothing(world, client):
    account = world.accounts["ca"]
    before = _snapshot(account)
    response = client.post(reverse("accounts:profile", args=[account.pk]), _profile_post(account, city="Elsewhere"))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]
    assert _snapshot(account) == before


def test_sign_in_page_is_public_and_has_csrf(client):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    assert 'name="csrfmiddlewaretoken"' in response.content.decode()


# --- Other tenants and roles that may not see -------------------------------------------


@pytest.mark.parametrize("persona", SIGNED_IN_PERSONAS)
def test_subscription_detail_404_unless_visible(world, client_for, persona):
    client = client_for(world.users[persona]) if persona != "inactive" else client_for(None)
    for key, subscription in world.subscriptions.items():
        if key == "other_s":
            continue
        url = reverse("accounts:subscription", args=[subscription.subscription_id])
        response = client.get(url)
        if persona == "inactive":
            assert response.status_code == 302  # an inactive user cannot hold a session
        elif persona in VISIBLE_SUBSCRIPTION[key]:
            assert response.status_code == 200, (persona, key)
            assert subscription.name in response.content.decode()
        else:
            assert response.status_code == 404, (persona, key)


@pytest.mark.parametrize("persona", ["outsider", "support", "bp2_owner"])
def test_profile_of_another_tenant_is_404_on_get_and_post(world, client_for, persona):
    client = client_for(world.users[persona])
    for key in ("wd", "ead", "eai", "ca"):
        account = world.accounts[key]
        if persona in VISIBLE_ACCOUNT[key]:
            continue
        url = reverse("accounts:profile", args=[account.pk])
        before = _snapshot(account)
        assert client.get(url).status_code == 404
        assert client.post(url, _profile_post(account, city="Hacked")).status_code == 404
        assert _snapshot(account) == before


def test_unknown_pages_and_ids_are_404(world, client_for):
    client = client_for(world.users["ca_owner"])
    assert client.get("/subscriptions/not-a-uuid/").status_code == 404
    assert client.get("/billing-accounts/999999/profile/").status_code == 404
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Not found" in response.content.decode()


@pytest.mark.parametrize("persona", SIGNED_IN_PERSONAS)
def test_lists_show_only_what_the_user_may_see(world, client_for, persona):
    if persona == "inactive":
        return
    client = client_for(world.users[persona])
    overview = client.get(reverse("accounts:overview")).content.decode()
    subscriptions = client.get(reverse("accounts:subscriptions")).content.decode()
    for key, account in world.accounts.items():
        visible = persona in VISIBLE_ACCOUNT.get(key, set()) or (key == "other" and persona == "outsider")
        assert (f">{account.name}<" in overview or f">{account.name}<br>" in overview) is visible, (persona, key)
    for key, subscription in world.subscriptions.items():
        visible = persona in VISIBLE_SUBSCRIPTION.get(key, set()) or (key == "other_s" and persona == "outsider")
        assert (str(subscription.subscription_id) in subscriptions) is visible, (persona, key)


def test_support_staff_overview_points_to_the_queue_and_admin(world, client_for):
    page = client_for(world.users["support"]).get(reverse("accounts:overview")).content.decode()
    assert "support staff" in page
    assert reverse("admin:index") in page


# --- The billing-account profile page ----------------------------------------------------


@pytest.mark.parametrize("account_key", ["ead", "eai", "ca"])  # web direct has only its admins
def test_profile_edit_refused_to_roles_that_may_only_read(world, client_for, account_key):
    account = world.accounts[account_key]
    url = reverse("accounts:profile", args=[account.pk])
    readers = VISIBLE_ACCOUNT[account_key] - PROFILE_EDITORS[account_key]
    assert readers, "every account type has a read-only role to try"
    for persona in sorted(readers):
        client = client_for(world.users[persona])
        page = client.get(url)
        assert page.status_code == 200
        assert '<form method="post" novalidate>' not in page.content.decode()
        assert "can see this profile but not change it" in page.content.decode()
        before = _snapshot(account)
        assert client.post(url, _profile_post(account, city="Elsewhere")).status_code == 403, persona
        assert _snapshot(account) == before


@pytest.mark.parametrize("account_key", ["wd", "ead", "eai", "ca"])
def test_profile_editors_can_save_sold_to_and_contact(world, client_for, account_key):
    account = world.accounts[account_key]
    url = reverse("accounts:profile", args=[account.pk])
    for persona in sorted(PROFILE_EDITORS[account_key]):
        account.refresh_from_db()
        client = client_for(world.users[persona])
        page = client.get(url)
        assert 'name="version"' in page.content.decode()
        response = client.post(url, _profile_post(account, city=f"City of {persona}", billing_contact_name="Finance"))
        assert response.status_code == 302, response.content.decode()[:2000]
        saved = BillingAccount.objects.get(pk=account.pk)
        assert saved.city == f"City of {persona}"
        assert saved.billing_contact_name == "Finance"
        assert saved.version == account.version + 1
        assert "The profile was saved" in client.get(response["Location"]).content.decode()


def test_vat_1_valid_vat_id_saved_in_compact_form(world, client_for):
    account = world.accounts["wd"]
    client = client_for(world.users["wd_admin"])
    url = reverse("accounts:profile", args=[account.pk])
    response = client.post(url, _profile_post(account, vat_id="NL 8537.46.333.B01"))
    assert response.status_code == 302
    saved = BillingAccount.objects.get(pk=account.pk).vat_id
    assert saved == clean_vat_id("NL853746333B01", "NL")  # compact, validated form
    assert saved.endswith("853746333B01") and " " not in saved and "." not in saved


@pytest.mark.parametrize("vat_id", ["NL123456789B01", "DE136695976", "12345", "NL853746333B0X"])
def test_vat_1_invalid_vat_id_refused_and_nothing_changed(world, client_for, vat_id):
    account = world.accounts["wd"]  # NL
    before = _snapshot(account)
    client = client_for(world.users["wd_admin"])
    response = client.post(
        reverse("accounts:profile", args=[account.pk]), _profile_post(account, vat_id=vat_id, city="Changed too")
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "vat_id" in form.errors
    page = response.content.decode()
    assert 'class="error"' in page
    assert _snapshot(account) == before


def test_vat_1_vat_checked_for_the_new_country(world, client_for):
    account = world.accounts["wd"]  # NL; a Belgian number is only valid once the country is BE
    client = client_for(world.users["wd_admin"])
    url = reverse("accounts:profile", args=[account.pk])
    response = client.post(url, _profile_post(account, country="BE", vat_id="BE0403019261"))
    assert response.status_code == 302
    saved = BillingAccount.objects.get(pk=account.pk)
    assert (saved.country.code, saved.vat_id) == ("BE", clean_vat_id("BE0403019261", "BE"))


def test_profile_required_fields_and_email_checked(world, client_for):
    account = world.accounts["ca"]
    before = _snapshot(account)
    client = client_for(world.users["ca_owner"])
    response = client.post(
        reverse("accounts:profile", args=[account.pk]),
        _profile_post(account, address_line1="", billing_contact_email="not-an-email", city="X" * 101),
    )
    assert response.status_code == 200
    assert {"address_line1", "billing_contact_email", "city"} <= set(response.context["form"].errors)
    assert _snapshot(account) == before


def test_profile_stale_version_shows_conflict_and_keeps_the_other_edit(world, client_for):
    account = world.accounts["ca"]
    owner, contributor = client_for(world.users["ca_owner"]), client_for(world.users["ca_contrib"])
    url = reverse("accounts:profile", args=[account.pk])
    stale = _profile_post(account, city="Owner city")
    assert contributor.post(url, _profile_post(account, city="Contributor city")).status_code == 302
    response = owner.post(url, stale)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Someone else changed this profile" in page
    saved = BillingAccount.objects.get(pk=account.pk)
    assert saved.city == "Contributor city"
    # The form now shows the current values and version, so saving again works.
    assert response.context["form"].initial["version"] == saved.version
    assert 'value="Contributor city"' in page


def test_profile_other_methods_not_allowed(world, client_for):
    client = client_for(world.users["ca_owner"])
    assert client.put(reverse("accounts:profile", args=[world.accounts["ca"].pk])).status_code == 405


def test_profile_form_has_csrf_protection(world):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["ca_owner"])
    account = world.accounts["ca"]
    before = _snapshot(account)
    response = client.post(reverse("accounts:profile", args=[account.pk]), _profile_post(account, city="No token"))
    assert response.status_code == 403
    assert _snapshot(account) == before


# --- Subscriptions ---------------------------------------------------------------------------


def test_subscription_detail_shows_marketplace_services_and_profile(world, client_for):
    page = client_for(world.users["ca_owner"]).get(
        reverse("accounts:subscription", args=[world.subscriptions["ca_s1"].subscription_id])
    )
    text = page.content.decode()
    assert "Mail relay" in text
    assert "P1" in text  # the billing profile of a customer agreement is named


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("url_name", ["accounts:subscriptions", "accounts:overview", "support:help"])
def test_list_pages_run_a_constant_number_of_queries(world, client_for, django_assert_max_num_queries, url_name):
    client = client_for(world.users["ca_owner"])
    url = reverse(url_name)
    small = _count_queries(client, url)
    for i in range(20):
        profile = world.profiles["ca_p1" if i % 2 else "ca_p2"]
        make_subscription(world.accounts["ca"], profile, name=f"Extra {i}", marketplace=i % 3 == 0)
    big_account_owner = world.users["ca_owner"]
    from tests.factories import make_account

    for i in range(5):
        from accounts import services
        from accounts.roles import Role

        extra = make_account(name=f"Extra account {i}", agreement_type="web_direct")
        services.role_assign(user=big_account_owner, role=Role.ACCOUNT_ADMIN, account=extra)
    with django_assert_max_num_queries(small):
        response = client.get(url)
    assert response.status_code == 200
    if url_name == "accounts:subscriptions":
        assert response.content.decode().count("Extra ") >= 20


# --- Navigation ------------------------------------------------------------------------------


def _entries_for(user):
    return {str(label) for label, _url, visible in navigation.ENTRIES if visible(user)}


def test_navigation_follows_the_agreement_types(world):
    always = {"Overview", "Help + support", "Security"}  # Security: two-factor sign-in
    billing = {"Invoices", "Payment history"}
    assert _entries_for(world.users["wd_admin"]) == always | {"Subscriptions", "Payment methods"} | billing
    assert _entries_for(world.users["bp1_reader"]) == always | {"Subscriptions", "Payment methods"} | billing
    assert _entries_for(world.users["ead_ro"]) == always | {"Subscriptions", "Usage summary"} | billing
    assert _entries_for(world.users["support"]) == always | {"Support queue"}


def test_navigation_bar_rendered_with_existing_urls(world, client_for):
    page = client_for(world.users["wd_admin"]).get(reverse("accounts:overview")).content.decode()
    assert 'aria-label="Main navigation"' in page
    assert f'href="{reverse("accounts:subscriptions")}"' in page
    assert f'href="{reverse("support:help")}"' in page
    assert 'aria-current="page"' in page


# --- Sign in, sign out, lock-out --------------------------------------------------------------


def test_sign_in_with_email_and_password_then_sign_out(world, client):
    user = world.users["ca_owner"]
    response = client.post(reverse("accounts:login"), {"username": user.email.upper(), "password": "secret-pass-123"})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:overview")
    assert client.get(reverse("accounts:overview")).status_code == 200
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302 and response["Location"] == reverse("accounts:login")
    assert client.get(reverse("accounts:overview")).status_code == 302


def test_wrong_password_shows_an_error(world, client):
    response = client.post(reverse("accounts:login"), {"username": "ca_owner@world.example", "password": "wrong"})
    assert response.status_code == 200
    assert response.context["form"].errors


def test_inactive_user_cannot_sign_in(world, client):
    response = client.post(
        reverse("accounts:login"), {"username": "inactive@world.example", "password": "secret-pass-123"}
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_lock_out_after_repeated_failures(world, client, settings):
    email = world.users["ca_owner"].email
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post(reverse("accounts:login"), {"username": email, "password": "wrong"}).status_code == 200
    locked = client.post(reverse("accounts:login"), {"username": email, "password": "wrong"})
    assert locked.status_code == 429
    assert "Too many sign-in attempts" in locked.content.decode()
    # Even the right password is refused while locked out.
    again = client.post(reverse("accounts:login"), {"username": email, "password": "secret-pass-123"})
    assert again.status_code == 429
    assert "_auth_user_id" not in client.session
    # Another user from the same address is not locked out.
    other = client.post(
        reverse("accounts:login"), {"username": "ca_contrib@world.example", "password": "secret-pass-123"}
    )
    assert other.status_code == 302


# --- Language ---------------------------------------------------------------------------------


def test_language_switch_is_remembered_on_the_user(world, client_for):
    user = world.users["ca_reader"]
    client = client_for(user)
    response = client.post(reverse("set_language"), {"language": "nl", "next": reverse("accounts:subscriptions")})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:subscriptions")
    assert User.objects.get(pk=user.pk).language == "nl"
    # A new session without the cookie (another browser) still gets Dutch.
    fresh = client_for(User.objects.get(pk=user.pk))
    page = fresh.get(reverse("accounts:overview"))
    assert page["Content-Language"] == "nl"
    text = page.content.decode()
    assert '<html lang="nl">' in text
    for dutch in ("Kostenbeheer + facturering", "Abonnementen", "Help + ondersteuning", "Afmelden", "Overzicht"):
        assert dutch in text
    # The user's choice beats the browser's language.
    assert "Abonnementen" in fresh.get(reverse("accounts:overview"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert User.objects.get(pk=user.pk).language == "en"
    assert "Subscriptions" in fresh.get(reverse("accounts:overview")).content.decode()


def test_language_cookie_for_anonymous_visitors(client):
    response = client.post(reverse("set_language"), {"language": "nl", "next": reverse("accounts:login")})
    assert response.status_code == 302
    assert response.cookies["portal_language"].value == "nl"
    page = client.get(reverse("accounts:login")).content.decode()
    assert "Aanmelden" in page and '<html lang="nl">' in page


def test_language_switch_refuses_unknown_languages_and_foreign_redirects(world, client_for):
    user = world.users["ca_reader"]
    client = client_for(user)
    response = client.post(reverse("set_language"), {"language": "xx", "next": "/"})
    assert response.status_code == 302
    assert User.objects.get(pk=user.pk).language == "en"
    assert response.cookies["portal_language"].value == "en"  # still the user's own choice
    response = client.post(reverse("set_language"), {"language": "nl", "next": "https://evil.example/"})
    assert response["Location"] == "/"
    assert client.get(reverse("set_language")).status_code == 405


def test_browser_language_used_when_nothing_chosen(client):
    page = client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="nl-NL,nl;q=0.9")
    assert "Aanmelden" in page.content.decode()


def test_every_page_has_the_language_switch(world, client_for, client):
    for url in _pages(world).values():
        page = client_for(world.users["ca_owner"]).get(url).content.decode()
        assert f'action="{reverse("set_language")}"' in page, url
    assert f'action="{reverse("set_language")}"' in client.get(reverse("accounts:login")).content.decode()


def test_sign_in_page_after_sign_out_keeps_the_users_language(world, client):
    User.objects.filter(pk=world.users["ca_owner"].pk).update(language="nl")
    client.post(reverse("accounts:login"), {"username": "ca_owner@world.example", "password": "secret-pass-123"})
    assert "Overzicht" in client.get(reverse("accounts:overview")).content.decode()
    assert client.cookies["portal_language"].value == "nl"
    client.post(reverse("accounts:logout"))
    assert "Aanmelden" in client.get(reverse("accounts:login")).content.decode()


def test_subscription_list_is_paginated(world, client_for, monkeypatch):
    from accounts import views

    monkeypatch.setattr(views, "SUBSCRIPTIONS_PER_PAGE", 2)
    client = client_for(world.users["ca_owner"])  # sees ca_s1 and ca_s2, plus three more
    for i in range(3):
        make_subscription(world.accounts["ca"], world.profiles["ca_p1"], name=f"More {i}")
    first = client.get(reverse("accounts:subscriptions"))
    assert len(first.context["subscriptions"]) == 2
    assert "Page 1 of 3" in first.content.decode() and 'rel="next"' in first.content.decode()
    last = client.get(reverse("accounts:subscriptions") + "?page=3")
    assert len(last.context["subscriptions"]) == 1
    assert client.get(reverse("accounts:subscriptions") + "?page=abc").status_code == 200


def test_profile_page_links_to_po_and_vat_history(demo, client_for):
    account = demo.accounts["northwind"]
    html = client_for(demo.users["ea_readonly"]).get(reverse("accounts:profile", args=[account.pk])).content.decode()
    assert reverse("purchase_orders:numbers", args=[account.pk]) in html


def test_profile_stale_version_keeps_what_the_user_typed_and_shows_the_saved_value(world, client_for):
    account = world.accounts["ca"]
    owner, contributor = client_for(world.users["ca_owner"]), client_for(world.users["ca_contrib"])
    url = reverse("accounts:profile", args=[account.pk])
    stale = _profile_post(account, city="Owner city", billing_contact_name="Owner contact")
    assert contributor.post(url, _profile_post(account, city="Contributor city")).status_code == 302
    response = owner.post(url, stale)
    assert response.status_code == 200
    form = response.context["form"]
    saved = BillingAccount.objects.get(pk=account.pk)
    # The input is kept, now against the current version ...
    assert form.data["city"] == "Owner city" and form.data["billing_contact_name"] == "Owner contact"
    assert form["version"].value() == str(saved.version)
    page = response.content.decode()
    assert 'value="Owner city"' in page and 'value="Contributor city"' in page
    # ... and the values saved in the meantime are shown next to it.
    assert [row["value"] for row in response.context["saved_values"]] == [
        "Contributor city",
        saved.billing_contact_name,
    ]
    # Saving again is a deliberate overwrite.
    again = {**stale, "version": saved.version}
    assert owner.post(url, again).status_code == 302
    assert BillingAccount.objects.get(pk=account.pk).city == "Owner city"
