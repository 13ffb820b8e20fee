"""PBI-5 through every door: once a scope pays by invoice, nothing makes a card its
active payment method again — not the card pages, not the API, not the automatic charge
or the dunning retry, not the admin site."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import permissions
from accounts.models import BillingAccount, PaymentMode
from billing_portal.errors import Conflict
from payments import services as payment_services
from payments.demo import add_card
from payments.models import PaymentMethod
from tests.factories import sign_in_with_verified_device

pytestmark = pytest.mark.django_db


@pytest.fixture
def fabrikam(demo):
    """The demo's web-direct account that pays by invoice."""
    profile = demo.profiles["fabrikam"]
    assert permissions.pays_by_invoice(profile)
    return profile


def test_pbi_5_a_card_setup_cannot_make_a_card_active(demo, fabrikam):
    with pytest.raises(Conflict) as refused:
        payment_services.card_setup_start(
            actor=demo.users["wd_invoice_admin"],
            profile=fabrikam,
            subscription=demo.subscriptions["fabrikam_main"],
            make_active=True,
        )
    assert refused.value.code == "pays_by_invoice_for_good"


def test_pbi_5_a_card_may_be_added_but_not_made_active(demo, fabrikam):
    setup = add_card(
        actor=demo.users["wd_invoice_admin"],
        profile=fabrikam,
        number="4242424242424242",
        holder="Bram Jansen",
        subscription=demo.subscriptions["fabrikam_main"],
        make_active=False,
    )
    method = setup.payment_method
    assert method is not None
    with pytest.raises(Conflict):
        payment_services.payment_method_activate(
            payment_method=method,
            actor=demo.users["wd_invoice_admin"],
            subscription=demo.subscriptions["fabrikam_main"],
        )
    demo.subscriptions["fabrikam_main"].refresh_from_db()
    assert demo.subscriptions["fabrikam_main"].payment_method_id != method.pk
    # The automatic charge and the dunning retry find no card for the scope.
    assert payment_services.scope_active_card(fabrikam) is None


def test_pbi_5_the_api_refuses_make_active(demo, fabrikam):
    client = APIClient()
    client.force_authenticate(demo.users["wd_invoice_admin"])
    response = client.post(
        "/api/v1/card-setups/",
        {"subscription_id": str(demo.subscriptions["fabrikam_main"].subscription_id), "make_active": True},
        format="json",
    )
    assert response.status_code == 409 and response.json()["code"] == "pays_by_invoice_for_good"


def test_pbi_5_the_pages_offer_no_make_active_and_show_the_invoice_row(demo, fabrikam, client_for):
    c = client_for(demo.users["wd_invoice_admin"])
    subscription = demo.subscriptions["fabrikam_main"]
    page = c.get(reverse("payments:subscription_methods", args=[subscription.subscription_id])).content.decode()
    assert 'id="invoice-row"' in page and 'id="bank-transfer-instructions"' in page
    assert 'value="activate"' not in page
    add = c.get(reverse("payments:subscription_add_card", args=[subscription.subscription_id])).content.decode()
    assert 'name="make_active"' not in add


def test_pbi_5_the_admin_site_cannot_switch_the_payment_mode_back(demo, fabrikam, client):
    admin = demo.users["support"]
    admin.is_superuser = True
    admin.save(update_fields=["is_superuser"])
    sign_in_with_verified_device(client, admin)
    account = fabrikam.account
    url = reverse("admin:accounts_billingaccount_change", args=[account.pk])
    page = client.get(url).content.decode()
    assert 'name="payment_mode"' not in page
    client.post(url, {"name": account.name, "payment_mode": PaymentMode.CARD})
    assert BillingAccount.objects.get(pk=account.pk).payment_mode == PaymentMode.INVOICE
    assert PaymentMethod.objects.filter(profile=fabrikam, active_for_subscriptions__isnull=False).count() == 0
