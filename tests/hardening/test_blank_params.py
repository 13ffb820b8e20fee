"""A card setup's country must be a country code (``{}`` is a 400); an API filter
given empty or as "null" is a 400 naming it, not silently no filter."""

import pytest

pytestmark = pytest.mark.django_db


def _assert_names(response, name):
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == {"code", "detail", "fields"}
    assert name in body["fields"], body


@pytest.mark.parametrize("country", [{}, [], 5, True, {"code": {}}, {"code": None}, ["NL"]])
def test_card_setup_country_not_a_code_is_400(demo, api_for, country):
    api = api_for(demo.users["wd_admin"])
    body = {"subscription_id": str(demo.subscriptions["contoso_prod"].subscription_id), "country": country}
    _assert_names(api.post("/api/v1/card-setups/", body, format="json"), "country")


@pytest.mark.parametrize("country", ["NL", {"code": "NL"}, ""])
def test_card_setup_country_code_still_accepted(demo, api_for, country):
    api = api_for(demo.users["wd_admin"])
    body = {"subscription_id": str(demo.subscriptions["contoso_prod"].subscription_id), "country": country}
    assert api.post("/api/v1/card-setups/", body, format="json").status_code == 201


def _filters(demo):
    wg = demo.accounts["woodgrove"].pk
    return [
        ("ca_owner", "/api/v1/invoices/", "status"),
        ("ca_owner", "/api/v1/invoices/", "period"),
        ("wd_admin", "/api/v1/payment-methods/", "subscription"),
        ("ca_owner", "/api/v1/payment-methods/", "profile"),
        ("wd_admin", "/api/v1/payment-methods/history/", "subscription"),
        ("ca_owner", "/api/v1/payment-methods/history/", "profile"),
        ("ca_owner", f"/api/v1/billing-accounts/{wg}/number-changes/", "field"),
        ("support", "/api/v1/support/amendment-requests/", "status"),
        ("support", "/api/v1/support/queue/", "kind"),
        ("support", "/api/v1/support/queue/", "status"),
        ("support", "/api/v1/support/queue/", "older_than_days"),
        ("support", "/api/v1/support/queue/", "country"),
        ("support", "/api/v1/support/queue/", "agreement_type"),
        ("ca_owner", "/api/v1/invoices/", "page_size"),
        ("ca_owner", "/api/v1/invoices/", "page"),
    ]


@pytest.mark.parametrize("value", ["", "null", " ", "None"])
def test_api_filter_blank_or_null_is_400_naming_it(demo, api_for, value):
    for user, path, name in _filters(demo):
        api = api_for(demo.users[user])
        assert api.get(path).status_code == 200, path
        _assert_names(api.get(path, {name: value}), name)
