"""Payment-method API: every operation, same rules as the pages."""

import pytest

from payments.models import PaymentMethod

from .conftest import APPROVED_MC, DECLINED, enter_card

pytestmark = pytest.mark.django_db


def _start(api, **body):
    response = api.post("/api/v1/card-setups/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_pm_1_api_add_card_through_gateway_and_complete(cards, api_for, client_for):
    admin = cards.users["wd_admin"]
    prod, staging = cards.subscriptions["contoso_prod"], cards.subscriptions["contoso_staging"]
    api = api_for(admin)
    setup = _start(api, subscription_id=str(prod.subscription_id), make_active=True)
    assert "/sandbox-gateway/" in setup["gateway_url"]
    # Completing before the card was entered is refused and changes nothing.
    early = api.post(f"/api/v1/card-setups/{setup['id']}/complete/")
    assert early.status_code == 400 and early.json()["code"] == "card_entry_unfinished"
    enter_card(client_for(admin), setup["gateway_url"].split("testserver", 1)[-1], APPROVED_MC, follow=False)
    done = api.post(f"/api/v1/card-setups/{setup['id']}/complete/")
    assert done.status_code == 201
    card = done.json()["payment_method"]
    assert card["last4"] == "4444"
    assert {s["name"] for s in card["active_for_subscriptions"]} == {"Contoso Production", "Contoso Staging"}
    assert api.get(f"/api/v1/card-setups/{setup['id']}/").json()["status"] == "completed"
    prod.refresh_from_db()
    staging.refresh_from_db()
    assert prod.payment_method_id == staging.payment_method_id == card["id"]


def test_pm_7_api_decline_has_code_and_guidance(cards, api_for, client_for):
    admin = cards.users["wd_admin"]
    api = api_for(admin)
    setup = _start(api, subscription_id=str(cards.subscriptions["contoso_prod"].subscription_id))
    enter_card(client_for(admin), setup["gateway_url"].split("testserver", 1)[-1], DECLINED, follow=False)
    response = api.post(f"/api/v1/card-setups/{setup['id']}/complete/")
    assert response.status_code == 402
    body = response.json()
    assert body["code"] == "card_declined"
    assert "Contact your bank" in body["detail"] and "international transactions" in body["detail"]
    assert set(body) == {"code", "detail", "fields"}


def test_pm_5_api_update_and_pm_6_delete(cards, api_for):
    admin = cards.users["wd_admin"]
    api = api_for(admin)
    prod = cards.subscriptions["contoso_prod"]
    prod.refresh_from_db()
    pk = prod.payment_method_id
    response = api.patch(f"/api/v1/payment-methods/{pk}/", {"holder_name": "New Name", "exp_year": 2034}, format="json")
    assert response.status_code == 200 and response.json()["holder_name"] == "New Name"
    bad = api.patch(f"/api/v1/payment-methods/{pk}/", {"exp_month": 1, "exp_year": 2001}, format="json")
    assert bad.status_code == 400
    refused = api.delete(f"/api/v1/payment-methods/{pk}/")
    assert refused.status_code == 409
    assert refused.json()["code"] == "payment_method_in_use"
    assert len(refused.json()["fields"]["subscriptions"]) == 2
    other = PaymentMethod.objects.filter(profile=prod.profile).exclude(pk=pk).get()
    moved = api.post(
        f"/api/v1/payment-methods/{other.pk}/activate/", {"subscription_id": str(prod.subscription_id)}, format="json"
    )
    assert moved.status_code == 200
    assert {s["name"] for s in moved.json()["subscriptions"]} == {"Contoso Production", "Contoso Staging"}
    assert api.delete(f"/api/v1/payment-methods/{pk}/").status_code == 204
    assert api.get(f"/api/v1/payment-methods/{pk}/").status_code == 404
    history = api.get("/api/v1/payment-methods/history/", {"subscription": str(prod.subscription_id)}).json()
    assert [e["action"] for e in history["results"]][:3] == ["removed", "activated", "updated"]


def test_pm_2_api_customer_agreement_activate_per_profile(cards, api_for):
    api = api_for(cards.users["ca_owner"])
    nl = cards.profiles["woodgrove_nl"]
    listing = api.get("/api/v1/payment-methods/", {"profile": nl.pk}).json()
    assert len(listing["results"]) == 1 and listing["results"][0]["is_profile_active"] is True


def test_pm_3_api_refuses_non_signup_roles(cards, api_for):
    nl = cards.profiles["woodgrove_nl"]
    nl.refresh_from_db()
    api = api_for(cards.users["ca_ba_contributor"])
    assert api.get(f"/api/v1/payment-methods/{nl.payment_method_id}/").status_code == 200
    assert (
        api.patch(f"/api/v1/payment-methods/{nl.payment_method_id}/", {"holder_name": "X"}, format="json").status_code
        == 403
    )
    assert api.delete(f"/api/v1/payment-methods/{nl.payment_method_id}/").status_code == 403
    assert api.post(f"/api/v1/payment-methods/{nl.payment_method_id}/activate/", {}, format="json").status_code == 403
    assert api.post("/api/v1/card-setups/", {"profile": nl.pk}, format="json").status_code == 403


def test_schema_lists_payment_method_endpoints(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    for path in (
        "/api/v1/payment-methods/",
        "/api/v1/payment-methods/{id}/activate/",
        "/api/v1/card-setups/",
        "/api/v1/card-setups/{id}/complete/",
        "/api/v1/payment-methods/history/",
        "/api/v1/invoices/{id}/pay/",
        "/api/v1/invoices/{id}/payments/",
        "/api/v1/payments/{id}/",
    ):
        assert path in schema
