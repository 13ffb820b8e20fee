import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_overview_lists_accounts_with_role(demo, client_for):
    response = client_for(demo.users["ca_owner"]).get(reverse("accounts:overview"))
    assert response.status_code == 200
    assert "Woodgrove Bank" in response.content.decode()
    assert "Contoso" not in response.content.decode()


def test_anonymous_redirected_to_sign_in(client):
    response = client.get(reverse("accounts:overview"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]
