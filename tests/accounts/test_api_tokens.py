"""API tokens (accounts.api_tokens): named, with an expiry, the key shown once and stored
as its SHA-256 only; the page, the API (/api/v1/tokens/), the token endpoint, token
authentication (one query, last used at most once a minute), revoking, the second
factor, and every door tried as anonymous, as another user and with two-factor pending."""

import hashlib
import re
from datetime import timedelta

import pytest
from django.contrib.admin.sites import site as admin_site
from django.db import connection
from django.http import Http404
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import api_tokens, permissions
from accounts.models import ApiToken, ApiTokenOrigin
from billing_portal.errors import InvalidInput, NotAllowed
from tests.factories import api_key_for, confirmed_totp_device, sign_in_with_verified_device, totp_code

from .test_api import assert_error

pytestmark = pytest.mark.django_db

PASSWORD = "secret-pass-123"
PAGE = reverse("accounts:api_tokens")
TOKEN_ENDPOINT = "/api/v1/auth/token/"
LIST = "/api/v1/tokens/"


def _revoke_url(token) -> str:
    return reverse("accounts:api_token_revoke", args=[token.pk])


def _make_on_page(client, name="Nightly export", days=90):
    return client.post(PAGE, {"name": name, "expires_in_days": days})


def _shown_key(response) -> str:
    return re.search(r'id="new-token-key">([^<]+)<', response.content.decode()).group(1)


def _api(key) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _sign_in_token(user, **extra):
    return APIClient().post(TOKEN_ENDPOINT, {"email": user.email, "password": PASSWORD, **extra}, format="json")


@pytest.fixture
def owner(world):
    return world.users["ca_owner"]


# --- The page -----------------------------------------------------------------------------------


def test_page_makes_a_named_token_and_shows_its_key_once(owner, client_for, clock):
    client = client_for(owner)
    response = _make_on_page(client, name="  Nightly   export ", days=30)
    assert response.status_code == 200
    key = _shown_key(response)
    assert len(key) == 43 and response["Cache-Control"] == "private, no-store"
    token = ApiToken.objects.get(user=owner)
    assert (token.name, token.origin, token.prefix) == ("Nightly export", ApiTokenOrigin.PAGE, key[:8])
    assert token.expires_at == clock.now() + timedelta(days=30)
    assert token.last_used_at is None and token.revoked_at is None
    # Shown once: the list afterwards names the token but never shows its key again.
    page = client.get(PAGE).content.decode()
    assert "Nightly export" in page and key[:8] in page and key not in page
    assert _api(key).get("/api/v1/me/").status_code == 200


def test_only_the_sha256_of_the_key_is_stored(owner, client_for):
    key = _shown_key(_make_on_page(client_for(owner)))
    token = ApiToken.objects.get(user=owner)
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apitoken")
        stored = " ".join(str(value) for row in cursor.fetchall() for value in row)
    assert key not in stored


@pytest.mark.parametrize("days", ["0", "1", "7", "3650", "", "never"])
def test_no_token_for_ever_only_30_90_or_365_days(owner, client_for, days):
    response = _make_on_page(client_for(owner), days=days)
    assert response.status_code == 200 and 'id="new-token-key"' not in response.content.decode()
    assert not ApiToken.objects.exists()
    with pytest.raises(InvalidInput):
        api_tokens.api_token_create(user=owner, name="x", days=3650, session_verified=True)


def test_a_name_is_required_and_never_a_card_number(owner, client_for):
    client = client_for(owner)
    assert "This field is required." in _make_on_page(client, name="").content.decode()
    refused = _make_on_page(client, name="card 4111 1111 1111 1111").content.decode()
    assert "This looks like a card number" in refused and "4111 1111 1111 1111" not in refused
    assert not ApiToken.objects.exists()


def test_page_in_dutch(world, client_for):
    dutch = world.users["ca_owner2"]
    dutch.language = "nl"
    dutch.save(update_fields=["language"])
    api_key_for(dutch, name="Export")
    html = client_for(dutch).get(PAGE).content.decode()
    for text in ("API-tokens", "Token maken", "Vervalt na", "90 dagen", "Intrekken", "Nog nooit"):
        assert text in html, text


def test_revoke_asks_for_a_confirmation_first(owner, client_for):
    client = client_for(owner)
    key = _shown_key(_make_on_page(client))
    token = ApiToken.objects.get(user=owner)
    confirm = client.get(_revoke_url(token))
    assert confirm.status_code == 200 and 'id="confirm-revoke"' in confirm.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is None  # looking is not revoking
    done = client.post(_revoke_url(token))
    assert done.status_code == 302 and done["Location"] == PAGE
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert 'id="tokens"' not in client.get(PAGE).content.decode()
    assert_error(_api(key).get("/api/v1/me/"), 401, "token_revoked")
    assert client.get(_revoke_url(token)).status_code == 404  # gone from the owner's view


def test_another_users_token_is_a_404_everywhere(world, owner, client_for):
    token, key = api_tokens.api_token_create(user=owner, name="Mine", days=90, session_verified=True)
    for persona in ("ca_owner2", "bp1_reader", "outsider", "support"):
        other = world.users[persona]
        page = client_for(other)
        assert page.get(_revoke_url(token)).status_code == 404, persona
        assert page.post(_revoke_url(token)).status_code == 404, persona
        assert "Mine" not in page.get(PAGE).content.decode()
        api = _api(api_key_for(other))
        assert_error(api.get(f"{LIST}{token.pk}/"), 404, "not_found")
        assert_error(api.delete(f"{LIST}{token.pk}/"), 404, "not_found")
        assert [t["name"] for t in api.get(LIST).json()["results"]] == ["Test script"]
        with pytest.raises(Http404):
            api_tokens.api_token_revoke(token=token, actor=other)
    token.refresh_from_db()
    assert token.revoked_at is None and _api(key).get("/api/v1/me/").status_code == 200


def test_new_pages_as_anonymous(world, owner, client):
    token, _key = api_tokens.api_token_create(user=owner, name="Mine", days=90, session_verified=True)
    for url in (PAGE, _revoke_url(token)):
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login")), url
    assert_error(APIClient().get(LIST), 401, "not_authenticated")
    assert_error(APIClient().delete(f"{LIST}{token.pk}/"), 401, "not_authenticated")
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


def test_pages_and_api_wait_for_a_pending_two_factor_step(owner, client):
    token, _key = api_tokens.api_token_create(user=owner, name="Mine", days=90, session_verified=True)
    confirmed_totp_device(owner)
    client.post(reverse("accounts:login"), {"username": owner.email, "password": PASSWORD})
    for url in (PAGE, _revoke_url(token)):
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code == 302, url
            assert response["Location"].startswith(reverse("accounts:two_factor_verify")), url
    assert_error(client.get(LIST), 403, "two_factor_required")
    assert_error(client.delete(f"{LIST}{token.pk}/"), 403, "two_factor_required")
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
    assert ApiToken.objects.filter(user=owner).count() == 1


def test_page_makes_a_token_only_after_the_second_factor(owner, client):
    # A browser signed in before two-factor sign-in was turned on: no code step passed.
    client.force_login(owner)
    confirmed_totp_device(owner)
    refused = _make_on_page(client)
    assert refused.status_code == 403 and "two-factor sign-in" in refused.content.decode()
    assert not ApiToken.objects.exists()
    verified = Client()
    sign_in_with_verified_device(verified, owner)
    assert _make_on_page(verified).status_code == 200
    assert ApiToken.objects.filter(user=owner).count() == 1


def test_support_staff_make_tokens_in_their_verified_session(world, client_for):
    support = world.users["support"]
    response = _make_on_page(client_for(support))
    assert response.status_code == 200 and _api(_shown_key(response)).get("/api/v1/me/").json()["is_support_staff"]


def test_working_page_tokens_are_capped(owner, client_for, monkeypatch):
    monkeypatch.setattr(api_tokens, "MAX_PAGE_TOKENS", 2)
    client = client_for(owner)
    _make_on_page(client, name="a")
    _make_on_page(client, name="b")
    refused = _make_on_page(client, name="c")
    assert refused.status_code == 403 and "Revoke one you no longer use first" in refused.content.decode()
    assert ApiToken.objects.filter(user=owner).count() == 2


# --- Token authentication ---------------------------------------------------------------------------


def _queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return [q["sql"] for q in captured.captured_queries]


def test_token_authentication_is_one_query_and_writes_last_used_once_a_minute(owner, api_for, clock):
    key = api_key_for(owner)
    token_client = _api(key)
    baseline = _queries(api_for(owner), "/api/v1/me/")  # the same view without a token
    first = _queries(token_client, "/api/v1/me/")
    assert len([q for q in first if q.startswith("UPDATE")]) == 1  # first use: last_used_at
    again = _queries(token_client, "/api/v1/me/")
    assert len(again) == len(baseline) + 1  # the token and its user in one query
    assert not [q for q in again if q.startswith(("UPDATE", "INSERT", "DELETE"))]
    clock.advance(seconds=59)
    assert len(_queries(token_client, "/api/v1/me/")) == len(baseline) + 1
    first_use = ApiToken.objects.get(user=owner).last_used_at
    clock.advance(seconds=2)
    later = _queries(token_client, "/api/v1/me/")
    assert len([q for q in later if q.startswith("UPDATE")]) == 1
    assert ApiToken.objects.get(user=owner).last_used_at == clock.now() > first_use


@pytest.mark.parametrize("persona", ["ca_owner", "bp1_owner", "support"])
def test_token_check_reads_the_users_role_assignments_in_its_one_query(world, persona, django_assert_num_queries):
    """The token, its user and every role assignment (account- and profile-level, or none)
    in one query; the permission predicates then ask no more."""
    user = world.users[persona]
    expected = set(permissions.grants(type(user).objects.get(pk=user.pk)))
    key = api_key_for(user)
    with django_assert_num_queries(1):
        token = api_tokens.token_for_key(key)
        assert set(permissions.grants(token.user)) == expected
        assert token.user.pk == user.pk and token.user.email == user.email and token.user_id == user.pk
    assert token._state.db == "default" and not token._state.adding
    assert api_tokens.token_for_key(key + "x") is None


def test_expired_token_is_refused_with_401_in_the_users_language(world, clock):
    user = world.users["bp1_owner"]
    user.language = "nl"
    user.save(update_fields=["language"])
    key = api_key_for(user, days=30)
    clock.advance(days=30)
    body = assert_error(_api(key).get("/api/v1/me/"), 401, "token_expired")
    assert body["detail"].startswith("Deze token is verlopen op ")
    assert _api(key).get("/api/v1/me/")["WWW-Authenticate"] == "Token"


def test_unknown_key_and_inactive_user_are_401(world):
    assert_error(_api("no-such-key").get("/api/v1/me/"), 401, "authentication_failed")
    key = api_key_for(world.users["ca_owner2"])
    world.users["ca_owner2"].is_active = False
    world.users["ca_owner2"].save(update_fields=["is_active"])
    assert_error(_api(key).get("/api/v1/me/"), 401, "authentication_failed")


# --- The API ------------------------------------------------------------------------------------------


def test_api_lists_the_callers_tokens_without_keys_and_marks_the_current_one(owner, clock):
    other_key = api_key_for(owner, name="Other", days=30)
    key = api_key_for(owner, name="This script", days=365)
    body = _api(key).get(LIST).json()
    assert [t["name"] for t in body["results"]] == ["This script", "Other"]
    current, other = body["results"]
    assert set(current) == {
        "id",
        "name",
        "prefix",
        "origin",
        "created_at",
        "expires_at",
        "last_used_at",
        "state",
        "current",
    }
    assert (current["current"], other["current"]) == (True, False)
    assert (current["state"], current["prefix"], current["origin"]) == ("active", key[:8], "page")
    assert key not in str(body) and other_key not in str(body)
    clock.advance(days=31)
    listed = _api(key).get(LIST).json()["results"]
    assert [(t["name"], t["state"]) for t in listed] == [("This script", "active"), ("Other", "expired")]


def test_api_revokes_a_token_with_delete(owner):
    key = api_key_for(owner, name="Old")
    keeper = api_key_for(owner, name="Keeper")
    old = ApiToken.objects.get(name="Old")
    assert _api(keeper).get(f"{LIST}{old.pk}/").json()["name"] == "Old"
    assert _api(keeper).delete(f"{LIST}{old.pk}/").status_code == 204
    assert_error(_api(key).get("/api/v1/me/"), 401, "token_revoked")
    assert_error(_api(keeper).get(f"{LIST}{old.pk}/"), 404, "not_found")
    assert [t["name"] for t in _api(keeper).get(LIST).json()["results"]] == ["Keeper"]
    # A token may revoke itself; the next call with it is refused.
    me = ApiToken.objects.get(name="Keeper")
    assert _api(keeper).delete(f"{LIST}{me.pk}/").status_code == 204
    assert_error(_api(keeper).get(LIST), 401, "token_revoked")


def test_api_list_constant_queries(owner, api_for, django_assert_max_num_queries):
    for n in range(3):
        api_key_for(owner, name=f"t{n}")
    with CaptureQueriesContext(connection) as few:
        api_for(owner).get(LIST)
    for n in range(30):
        api_key_for(owner, name=f"u{n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(api_for(owner).get(LIST).json()["results"]) == 25


def test_schema_documents_the_token_endpoints():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert set(schema["paths"][LIST]) == {"get"}
    assert set(schema["paths"][f"{LIST}{{id}}/"]) == {"get", "delete"}
    delete = schema["paths"][f"{LIST}{{id}}/"]["delete"]["responses"]
    assert {"204", "401", "404"} <= set(delete)
    assert delete["404"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    token = schema["components"]["schemas"]["Token"]
    assert set(token["properties"]) == {"token", "expires_at"}
    state = schema["components"]["schemas"]["ApiToken"]["properties"]["state"]
    assert "key" not in schema["components"]["schemas"]["ApiToken"]["properties"] and state


# --- The token endpoint -------------------------------------------------------------------------------


def test_token_endpoint_makes_a_sign_in_token_with_the_default_expiry(world, clock):
    user = world.users["bp1_owner"]
    user.language = "nl"
    user.save(update_fields=["language"])
    response = _sign_in_token(user)
    assert response.status_code == 200 and set(response.json()) == {"token", "expires_at"}
    token = ApiToken.objects.get(user=user)
    assert (token.name, token.origin) == ("API (aanmelding)", ApiTokenOrigin.SIGN_IN)
    assert token.expires_at == clock.now() + timedelta(days=api_tokens.DEFAULT_EXPIRY_DAYS)
    assert token.key_hash == api_tokens.hash_key(response.json()["token"])


def test_token_endpoint_keeps_its_newest_tokens_only(owner, monkeypatch, clock):
    monkeypatch.setattr(api_tokens, "SIGN_IN_TOKENS_KEPT", 3)
    page_key = api_key_for(owner, name="Page token")
    keys = []
    for _ in range(5):
        clock.advance(seconds=1)
        keys.append(_sign_in_token(owner).json()["token"])
    assert ApiToken.objects.filter(user=owner, origin=ApiTokenOrigin.SIGN_IN).count() == 3
    assert_error(_api(keys[0]).get("/api/v1/me/"), 401, "authentication_failed")
    assert _api(keys[-1]).get("/api/v1/me/").status_code == 200
    assert _api(page_key).get("/api/v1/me/").status_code == 200  # never removed that way


def test_token_endpoint_still_asks_staff_for_the_code(world):
    support = world.users["support"]
    assert_error(_sign_in_token(support), 403, "two_factor_setup_required")
    device = confirmed_totp_device(support)
    assert_error(_sign_in_token(support), 400, "otp_required")
    assert not ApiToken.objects.filter(user=support).exists()
    wrong = _sign_in_token(support, otp="000000" if totp_code(device) != "000000" else "111111")
    assert_error(wrong, 400, "otp_invalid")
    device.refresh_from_db()
    assert device.throttling_failure_count == 1  # the wrong code stays counted
    device.throttling_failure_timestamp = None
    device.save(update_fields=["throttling_failure_timestamp"])
    assert _sign_in_token(support, otp=totp_code(device)).status_code == 200


def test_old_tokens_are_deleted_when_the_owner_next_makes_one(owner, clock):
    expired = api_key_for(owner, name="Expired long ago", days=30)
    api_key_for(owner, name="Revoked")
    api_tokens.api_token_revoke(token=ApiToken.objects.get(name="Revoked"), actor=owner)
    clock.advance(days=61)
    assert ApiToken.objects.filter(user=owner).count() == 2
    api_key_for(owner, name="New")
    assert list(ApiToken.objects.filter(user=owner).values_list("name", flat=True)) == ["New"]
    assert_error(_api(expired).get("/api/v1/me/"), 401, "authentication_failed")


# --- The admin site -----------------------------------------------------------------------------------


def test_operator_revokes_tokens_in_the_admin_and_sees_no_key(world, owner, client):
    support = world.users["support"]
    support.is_superuser = True
    support.save(update_fields=["is_superuser"])
    key = api_key_for(owner, name="Lost laptop")
    token = ApiToken.objects.get(user=owner)
    sign_in_with_verified_device(client, support)
    change = client.get(reverse("admin:accounts_apitoken_change", args=[token.pk]))
    assert change.status_code == 200 and key not in change.content.decode()
    assert token.key_hash not in change.content.decode()
    response = client.post(
        reverse("admin:accounts_apitoken_changelist"), {"action": "revoke", "_selected_action": [token.pk]}
    )
    assert response.status_code == 302
    assert_error(_api(key).get("/api/v1/me/"), 401, "token_revoked")
    with pytest.raises(NotAllowed):
        api_tokens.api_tokens_revoke_by_operator(tokens=ApiToken.objects.all(), actor=owner)
    assert ApiToken in admin_site._registry
