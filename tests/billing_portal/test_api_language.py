"""A refusal has one translated text whichever door it came through: the API answers a
token-authenticated Dutch user in Dutch, as the pages do."""

from django.utils import translation
from rest_framework.test import APIClient

from tests.factories import api_key_for

PO_1_REFUSAL = (
    "A PO number can only be added when the account pays by invoice (cheque or wire transfer). "
    "To pay by invoice, open a support request under Help + support."
)


def _token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_key_for(user)}")
    return client


def test_po_1_api_refusal_in_the_token_users_language(demo):
    user = demo.users["wd_individual"]  # Dutch, card-paying web direct
    assert user.language == "nl"
    profile = user.role_assignments.get().account.profiles.get()
    response = _token_client(user).put(
        f"/api/v1/billing-profiles/{profile.pk}/po-number/", {"po_number": "PO-1", "version": 1}, format="json"
    )
    assert response.status_code == 403 and response.json()["code"] == "pay_by_invoice_required"
    with translation.override("nl"):
        dutch = translation.gettext(PO_1_REFUSAL)
    assert dutch != PO_1_REFUSAL
    assert response.json()["detail"] == dutch
    assert response["Content-Language"] == "nl"


def test_english_token_user_gets_english(demo):
    user = demo.users["wd_admin"]
    profile = demo.profiles["contoso"]
    response = _token_client(user).put(
        f"/api/v1/billing-profiles/{profile.pk}/po-number/", {"po_number": "PO-1", "version": 1}, format="json"
    )
    assert response.status_code == 403 and response.json()["detail"] == PO_1_REFUSAL
