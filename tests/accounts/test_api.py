"""The accounts API (/api/v1/): token and session authentication, the current user,
billing accounts, billing profiles and subscriptions; one JSON error shape; the
OpenAPI schema and docs served by the portal itself."""

import json
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.api_tokens import hash_key
from accounts.models import ApiToken, BillingAccount, User
from tests.factories import make_account, make_subscription

from .conftest import PERSONAS
from .test_permissions import PROFILE_EDITORS, VISIBLE_ACCOUNT, VISIBLE_PROFILE, VISIBLE_SUBSCRIPTION

pytestmark = pytest.mark.django_db

ERROR_KEYS = {"code", "detail", "fields"}


def assert_error(response, status, code=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == ERROR_KEYS, body
    assert isinstance(body["code"], str) and body["code"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["fields"], dict)
    if code:
        assert body["code"] == code, body
    return body


def _endpoints(world):
    return {
        "me": "/api/v1/me/",
        "accounts": "/api/v1/billing-accounts/",
        "account": f"/api/v1/billing-accounts/{world.accounts['ca'].pk}/",
        "profiles": "/api/v1/billing-profiles/",
        "profile": f"/api/v1/billing-profiles/{world.profiles['ca_p1'].pk}/",
        "subscriptions": "/api/v1/subscriptions/",
        "subscription": f"/api/v1/subscriptions/{world.subscriptions['ca_s1'].subscription_id}/",
    }


# --- Authentication -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["me", "accounts", "account", "profiles", "profile", "subscriptions", "subscription"])
def test_anonymous_gets_401_with_the_error_shape(world, name):
    response = APIClient().get(_endpoints(world)[name])
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"


def test_anonymous_patch_is_401_and_changes_nothing(world):
    account = world.accounts["ca"]
    response = APIClient().patch(f"/api/v1/billing-accounts/{account.pk}/", {"city": "X", "version": 1}, format="json")
    assert_error(response, 401)
    assert BillingAccount.objects.get(pk=account.pk).city == account.city


def test_token_obtained_with_email_and_password(world):
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/", {"email": "CA_OWNER@world.example", "password": "secret-pass-123"}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    # Each sign-in makes a new token (only its hash is kept, so the old key cannot be
    # given again); both work.
    again = client.post(
        "/api/v1/auth/token/", {"email": "ca_owner@world.example", "password": "secret-pass-123"}, format="json"
    )
    assert again.json()["token"] != token
    for key in (token, again.json()["token"]):
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        me = client.get("/api/v1/me/")
        assert me.status_code == 200 and me.json()["email"] == "ca_owner@world.example"
    # Token requests need no CSRF token (scripts), and a bad token is a 401.
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert_error(bad.get("/api/v1/me/"), 401, "authentication_failed")


@pytest.mark.parametrize(
    "body",
    [
        {"email": "ca_owner@world.example", "password": "wrong"},
        {"email": "nobody@world.example", "password": "secret-pass-123"},
        {"email": "inactive@world.example", "password": "secret-pass-123"},
    ],
)
def test_token_refused_with_the_error_shape(world, body):
    error = assert_error(APIClient().post("/api/v1/auth/token/", body, format="json"), 400, "invalid")
    assert "password" in error["detail"]


def test_token_request_validates_its_fields(world):
    error = assert_error(
        APIClient().post("/api/v1/auth/token/", {"email": "not-an-email"}, format="json"), 400, "invalid"
    )
    assert set(error["fields"]) == {"email", "password"}


def test_token_endpoint_locks_out_after_repeated_failures(world, settings):
    client = APIClient()
    body = {"email": "ca_owner@world.example", "password": "wrong"}
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/api/v1/auth/token/", body, format="json")
    locked = client.post("/api/v1/auth/token/", {**body, "password": "secret-pass-123"}, format="json")
    error = assert_error(locked, 429, "locked_out")
    assert "15 minutes" in error["detail"]
    # Another user from the same address still gets a token.
    other = client.post(
        "/api/v1/auth/token/", {"email": "ca_contrib@world.example", "password": "secret-pass-123"}, format="json"
    )
    assert other.status_code == 200 and other.json()["token"]


def test_token_endpoint_is_throttled_per_address_at_30_a_minute(world):
    # Invalid bodies: counted by the throttle (it runs first), never by the lock-out.
    client = APIClient()
    for _ in range(30):
        assert client.post("/api/v1/auth/token/", {}, format="json").status_code == 400
    assert_error(client.post("/api/v1/auth/token/", {}, format="json"), 429)
    other = APIClient(REMOTE_ADDR="203.0.113.9")
    assert other.post("/api/v1/auth/token/", {}, format="json").status_code == 400


def test_session_authentication_needs_csrf_for_writes(world):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.users["ca_owner"])
    assert client.get("/api/v1/me/").status_code == 200
    assert_error(client.patch("/api/v1/me/", {"language": "nl"}, format="json"), 403)
    assert User.objects.get(pk=world.users["ca_owner"].pk).language == "en"


# --- The current user --------------------------------------------------------------------------


def test_me_lists_role_assignments(world, api_for, django_assert_max_num_queries):
    user = User.objects.get(pk=world.users["bp1_invmgr"].pk)
    with django_assert_max_num_queries(3):
        body = api_for(user).get("/api/v1/me/").json()
    assert body["email"] == "bp1_invmgr@world.example"
    assert body["role_assignments"] == [
        {
            "role": "invoice_manager",
            "role_label": "Invoice manager",
            "account": world.accounts["ca"].pk,
            "account_name": "CA",
            "agreement_type": "customer_agreement",
            "profile": world.profiles["ca_p1"].pk,
        }
    ]


def test_me_patch_changes_only_the_language(world, api_for):
    user = world.users["ca_reader"]
    response = api_for(user).patch("/api/v1/me/", {"language": "nl", "email": "x@evil.example"}, format="json")
    assert response.status_code == 200 and response.json()["language"] == "nl"
    user.refresh_from_db()
    assert (user.language, user.email) == ("nl", "ca_reader@world.example")
    assert_error(api_for(user).patch("/api/v1/me/", {"language": "fr"}, format="json"), 400, "invalid")


# --- Visibility: lists and details -------------------------------------------------------------


def _all_pages(client, url):
    items, page = [], client.get(url).json()
    items += page["results"]
    while page["next"]:
        page = client.get(page["next"]).json()
        items += page["results"]
    return items


@pytest.mark.parametrize("persona", [p for p in PERSONAS if p not in ("anonymous", "inactive")])
def test_lists_and_details_show_only_what_the_user_may_see(world, api_for, persona):
    client = api_for(world.users[persona])
    accounts = {a["id"] for a in _all_pages(client, "/api/v1/billing-accounts/")}
    profiles = {p["id"] for p in _all_pages(client, "/api/v1/billing-profiles/")}
    subscriptions = {s["subscription_id"] for s in _all_pages(client, "/api/v1/subscriptions/")}
    for key, account in world.accounts.items():
        visible = persona in VISIBLE_ACCOUNT.get(key, set()) or (key == "other" and persona == "outsider")
        assert (account.pk in accounts) is visible, (persona, key)
        response = client.get(f"/api/v1/billing-accounts/{account.pk}/")
        if visible:
            assert response.status_code == 200 and response.json()["name"] == account.name
        else:
            assert_error(response, 404, "not_found")
    for key, profile in world.profiles.items():
        visible = persona in VISIBLE_PROFILE.get(key, set()) or (key == "other_p" and persona == "outsider")
        assert (profile.pk in profiles) is visible, (persona, key)
        response = client.get(f"/api/v1/billing-profiles/{profile.pk}/")
        assert response.status_code == (200 if visible else 404)
    for key, subscription in world.subscriptions.items():
        visible = persona in VISIBLE_SUBSCRIPTION.get(key, set()) or (key == "other_s" and persona == "outsider")
        assert (str(subscription.subscription_id) in subscriptions) is visible, (persona, key)
        response = client.get(f"/api/v1/subscriptions/{subscription.subscription_id}/")
        if visible:
            assert response.json()["marketplace_services"] == (
                [{"name": "Mail relay", "publisher": "Third party"}] if key == "ca_s1" else []
            )
        else:
            assert_error(response, 404, "not_found")


def test_inactive_users_token_no_longer_works(world):
    ApiToken.objects.create(
        user=world.users["inactive"],
        name="Old script",
        key_hash=hash_key("inactive-key"),
        origin="page",
        expires_at=timezone.now() + timedelta(days=30),
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token inactive-key")
    assert_error(client.get("/api/v1/me/"), 401)


# --- Changing the account profile ----------------------------------------------------------------


@pytest.mark.parametrize("account_key", ["wd", "ead", "eai", "ca"])
def test_profile_patch_by_role(world, api_for, account_key):
    account = world.accounts[account_key]
    url = f"/api/v1/billing-accounts/{account.pk}/"
    for persona in [p for p in PERSONAS if p not in ("anonymous", "inactive")]:
        current = BillingAccount.objects.get(pk=account.pk)
        response = api_for(world.users[persona]).patch(
            url, {"city": f"By {persona}", "version": current.version}, format="json"
        )
        if persona in PROFILE_EDITORS[account_key]:
            assert response.status_code == 200, (persona, response.content)
            assert response.json()["city"] == f"By {persona}"
            assert response.json()["version"] == current.version + 1
        elif persona in VISIBLE_ACCOUNT[account_key]:
            assert_error(response, 403, "not_allowed")
            assert BillingAccount.objects.get(pk=account.pk).city == current.city
        else:
            assert_error(response, 404, "not_found")
            assert BillingAccount.objects.get(pk=account.pk).city == current.city


def test_profile_patch_invalid_vat_changes_nothing(world, api_for):
    account = world.accounts["ca"]
    before = BillingAccount.objects.get(pk=account.pk)
    response = api_for(world.users["ca_owner"]).patch(
        f"/api/v1/billing-accounts/{account.pk}/",
        {"city": "Changed", "vat_id": "NL000000000B00", "version": account.version},
        format="json",
    )
    error = assert_error(response, 400, "vat_invalid")
    assert "vat_id" in error["fields"]
    after = BillingAccount.objects.get(pk=account.pk)
    assert (after.city, after.vat_id, after.version) == (before.city, before.vat_id, before.version)


def test_profile_patch_stale_version_is_a_conflict(world, api_for):
    account = world.accounts["ca"]
    client = api_for(world.users["ca_owner"])
    url = f"/api/v1/billing-accounts/{account.pk}/"
    assert client.patch(url, {"city": "First", "version": account.version}, format="json").status_code == 200
    assert_error(client.patch(url, {"city": "Second", "version": account.version}, format="json"), 409, "stale_version")
    assert BillingAccount.objects.get(pk=account.pk).city == "First"


def test_profile_patch_field_errors(world, api_for):
    account = world.accounts["ca"]
    response = api_for(world.users["ca_owner"]).patch(
        f"/api/v1/billing-accounts/{account.pk}/",
        {"billing_contact_email": "nope", "country": "XX", "city": "C" * 500},
        format="json",
    )
    error = assert_error(response, 400, "invalid")
    assert {"billing_contact_email", "country", "city", "version"} <= set(error["fields"])


# --- One error shape -------------------------------------------------------------------------------


def test_error_shape_for_404_400_401_403_405(world, api_for):
    client = api_for(world.users["ca_reader"])
    assert_error(client.get("/api/v1/no-such-endpoint/"), 404, "not_found")
    assert_error(APIClient().get("/api/v1/no-such-endpoint/"), 404, "not_found")
    assert_error(client.get("/api/v1/subscriptions/not-a-uuid/"), 404, "not_found")
    assert_error(client.get("/api/v1/billing-accounts/999999/"), 404, "not_found")
    assert_error(
        client.generic("PATCH", "/api/v1/me/", "{not json", content_type="application/json"), 400, "parse_error"
    )
    assert_error(
        client.generic("PATCH", "/api/v1/me/", "language=nl", content_type="application/x-www-form-urlencoded"),
        415,
        "unsupported_media_type",
    )
    assert_error(APIClient().get("/api/v1/me/"), 401, "not_authenticated")
    assert_error(
        client.patch(f"/api/v1/billing-accounts/{world.accounts['ca'].pk}/", {"version": 1}, format="json"),
        403,
        "not_allowed",
    )
    assert_error(client.delete("/api/v1/me/"), 405, "method_not_allowed")
    assert_error(client.post("/api/v1/subscriptions/", {}, format="json"), 405, "method_not_allowed")


def test_oversized_body_refused(world, api_for, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = api_for(world.users["ca_owner"]).generic(
        "PATCH", "/api/v1/me/", json.dumps({"language": "nl", "x": "y" * 5000}), content_type="application/json"
    )
    assert_error(response, 413, "too_large")
    assert User.objects.get(pk=world.users["ca_owner"].pk).language == "en"


# --- Lists: pagination and constant queries ------------------------------------------------------


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("url", ["/api/v1/billing-accounts/", "/api/v1/billing-profiles/", "/api/v1/subscriptions/"])
def test_list_endpoints_constant_queries_and_paginated(world, api_for, django_assert_max_num_queries, url):
    from accounts import services
    from accounts.roles import Role

    user = User.objects.get(pk=world.users["ca_owner"].pk)
    client = api_for(user)
    small = _queries(client, url)
    for i in range(30):
        extra = make_account(name=f"Extra {i}", agreement_type="web_direct")
        services.role_assign(user=user, role=Role.ACCOUNT_ADMIN, account=extra)
        make_subscription(extra, marketplace=i % 2 == 0)
    with django_assert_max_num_queries(small):
        body = client.get(url).json()
    assert len(body["results"]) == 25 and body["next"]
    assert len(client.get(f"{url}?page_size=200").json()["results"]) > 30


# --- OpenAPI schema and docs ------------------------------------------------------------------


def test_openapi_schema_lists_the_accounts_endpoints(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for path in [
        "/api/v1/auth/token/",
        "/api/v1/me/",
        "/api/v1/billing-accounts/",
        "/api/v1/billing-accounts/{id}/",
        "/api/v1/billing-profiles/",
        "/api/v1/billing-profiles/{id}/",
        "/api/v1/subscriptions/",
        "/api/v1/subscriptions/{subscription_id}/",
    ]:
        assert path in schema["paths"], path
    assert {"tokenAuth", "cookieAuth"} <= set(schema["components"]["securitySchemes"])
    assert "patch" in schema["paths"]["/api/v1/billing-accounts/{id}/"]


def test_api_docs_need_no_external_address(client, settings):
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    external = re.findall(r"https?://[^\s\"'<>)]+", page)
    assert external == []
    assets = re.findall(r'<(?:script|link)[^>]* (?:src|href)="([^"]+)"', page)  # not the link back to the portal
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    # The start script is served by the docs view itself (no inline script: CSP), the rest from /static/.
    start = [a for a in assets if a.startswith("/api/docs/?")]
    assert len(start) == 1 and all(a.startswith("/static/") for a in assets if a not in start), assets
    script = client.get(start[0].replace("&amp;", "&")).content.decode()
    assert '"validatorUrl": null' in script and re.findall(r"https?://[^\s\"'<>)]+", script) == []
    assets = [a for a in assets if a not in start]
    from django.test import Client

    fresh = Client()  # a new handler, so that whitenoise picks up the settings above
    for asset in assets:
        got = fresh.get(asset)
        assert got.status_code == 200, asset
        b"".join(got.streaming_content) if got.streaming else got.content


def test_api_docs_link_back_to_the_portal_and_carry_the_favicon(client):
    page = client.get("/api/docs/").content.decode()
    assert 'id="back-to-portal"' in page and f'href="{reverse("accounts:overview")}"' in page
    assert 'rel="icon" href="/static/favicon.svg"' in page
    assert "Terug naar de factureringsportal" in client.get("/api/docs/", HTTP_ACCEPT_LANGUAGE="nl").content.decode()


def test_every_page_carries_the_favicon_and_favicon_ico_redirects_to_it(world, client_for, client):
    page = client_for(world.users["ca_owner"]).get(reverse("accounts:overview")).content.decode()
    assert 'rel="icon" href="/static/favicon.svg"' in page
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == "/static/favicon.svg"


def test_footer_links_to_the_api_docs(world, client_for):
    assert 'href="/api/docs/"' in client_for(world.users["ca_owner"]).get(reverse("accounts:overview")).content.decode()


@pytest.mark.parametrize("persona", ["ca_reader", "bp1_owner"])
def test_profile_update_service_refuses_who_may_not_edit_in_their_language(world, persona):
    from django.utils import translation

    from accounts import services
    from billing_portal.errors import NotAllowed

    account = world.accounts["ca"]
    messages = {}
    for language in ("en", "nl"):
        with translation.override(language), pytest.raises(NotAllowed) as exc:
            services.billing_account_update_profile(
                account=account, actor=world.users[persona], version=account.version, data={"city": "Elsewhere"}
            )
        messages[language] = str(exc.value.message)
    assert messages["en"] == "You may see this billing account but not change its profile."
    assert messages["nl"] and messages["nl"] != messages["en"]
    assert BillingAccount.objects.get(pk=account.pk).city == account.city
