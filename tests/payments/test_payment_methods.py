"""Payment methods along the help article's paths (PM-1..PM-7)."""

import pytest
from django.urls import reverse
from django.utils import translation

from accounts.models import BillingAccount, Subscription
from accounts.roles import Role
from accounts.services import role_assign
from payments.models import PaymentMethod, PaymentMethodEvent
from tests.factories import UserFactory, make_account, make_subscription

from .conftest import (
    APPROVED_MC,
    DECLINED,
    EXPIRED,
    add_card_web,
    enter_card,
    subscription_add_url,
    subscription_methods_url,
)

pytestmark = pytest.mark.django_db


def _card(subscription):
    subscription.refresh_from_db()
    return subscription.payment_method


def test_pm_1_add_card_through_gateway_page_keeps_only_summary(cards, client_for):
    admin = cards.users["wd_admin"]
    prod = cards.subscriptions["contoso_prod"]
    client = client_for(admin)
    response = add_card_web(client, subscription_add_url(prod), "378282246310005", cvc="1234", holder="Ava de Vries")
    assert response.status_code == 200
    method = PaymentMethod.objects.get(last4="0005")
    assert method.brand == "American Express" and method.holder_name == "Ava de Vries"
    assert method.token.startswith("tok_")
    assert "0005" in response.content.decode()


def test_pm_1_invalid_card_shows_errors_and_does_not_echo_number(cards, client_for):
    client = client_for(cards.users["wd_admin"])
    response = client.post(subscription_add_url(cards.subscriptions["contoso_prod"]), {"make_active": "on"})
    gateway_url = response["Location"]
    response = enter_card(client, gateway_url, "4242424242424241", follow=False)
    assert response.status_code == 400
    body = response.content.decode()
    assert "not valid" in body
    assert "4242424242424241" not in body


def test_pm_4_new_active_card_spreads_exactly_to_subscriptions_sharing_the_old_card(cards, client_for):
    admin = cards.users["wd_admin"]
    prod, staging, campaigns = (
        cards.subscriptions[k] for k in ("contoso_prod", "contoso_staging", "contoso_campaigns")
    )
    old = _card(prod)
    assert _card(staging) == old and _card(campaigns) != old
    cancelled = make_subscription(cards.accounts["contoso"], name="Old project", status="cancelled")
    Subscription.objects.filter(pk=cancelled.pk).update(payment_method=old)
    other_tenant = make_account(signed_up_by=UserFactory())
    other_sub = make_subscription(other_tenant)
    campaigns_card = _card(campaigns)

    add_card_web(client_for(admin), subscription_add_url(prod), APPROVED_MC, holder="Ava")
    new = PaymentMethod.objects.filter(profile=prod.profile).order_by("-pk").first()
    assert _card(prod) == new and _card(staging) == new
    assert _card(campaigns) == campaigns_card
    assert _card(cancelled) == old
    assert _card(other_sub) is None
    event = PaymentMethodEvent.objects.filter(action="activated", payment_method=new).get()
    assert {s["name"] for s in event.subscriptions} == {"Contoso Production", "Contoso Staging"}


def test_pm_4_without_the_box_the_new_card_is_not_active(cards, client_for):
    prod = cards.subscriptions["contoso_prod"]
    old = _card(prod)
    add_card_web(client_for(cards.users["wd_admin"]), subscription_add_url(prod), APPROVED_MC, make_active=False)
    assert _card(prod) == old
    assert PaymentMethod.objects.filter(profile=prod.profile, removed_at__isnull=True).count() == 3


def test_pm_4_make_active_an_existing_card(cards, client_for):
    prod, staging, campaigns = (
        cards.subscriptions[k] for k in ("contoso_prod", "contoso_staging", "contoso_campaigns")
    )
    target = _card(campaigns)
    response = client_for(cards.users["wd_admin"]).post(
        subscription_methods_url(staging), {"action": "activate", "method": target.pk}, follow=True
    )
    assert response.status_code == 200
    assert _card(staging) == target and _card(prod) == target and _card(campaigns) == target


def test_pm_5_update_holder_expiry_and_address(cards, client_for):
    prod = cards.subscriptions["contoso_prod"]
    method = _card(prod)
    client = client_for(cards.users["wd_admin"])
    url = reverse("payments:method_edit", args=[method.pk]) + f"?subscription={prod.subscription_id}"
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "holder_name": "A. de Vries",
            "exp_month": 3,
            "exp_year": 2033,
            "address_line1": "Dam 1",
            "postal_code": "1012",
            "city": "Amsterdam",
            "country": "NL",
        },
    )
    assert response.status_code == 302
    method.refresh_from_db()
    assert (method.holder_name, method.exp_month, method.exp_year, method.city) == ("A. de Vries", 3, 2033, "Amsterdam")
    event = PaymentMethodEvent.objects.get(action="updated", payment_method=method)
    assert event.changes["holder_name"] == ["Ava de Vries", "A. de Vries"]
    # An expiry in the past is refused and changes nothing.
    response = client.post(url, {"holder_name": "X", "exp_month": 1, "exp_year": 2001})
    assert response.status_code == 200
    method.refresh_from_db()
    assert method.holder_name == "A. de Vries"
    # The history is on the payment-methods page.
    page = client.get(subscription_methods_url(prod)).content.decode()
    assert "A. de Vries" not in page or "Updated" in page
    assert "Updated" in page and "Made active" in page and "Added" in page
    # Changed fields by their names, in the reader's language, never their code names.
    assert "cardholder name" in page and "holder_name" not in page and "exp_month" not in page
    client.post(reverse("set_language"), {"language": "nl", "next": "/"})
    page = client.get(subscription_methods_url(prod)).content.decode()
    assert "naam kaarthouder" in page.lower() and "holder_name" not in page


def test_pm_6_delete_refused_while_linked_to_active_subscriptions_and_lists_them(cards, client_for):
    prod, staging = cards.subscriptions["contoso_prod"], cards.subscriptions["contoso_staging"]
    method = _card(prod)
    client = client_for(cards.users["wd_admin"])
    # Tick + Delete goes to the confirmation step, which already shows the blockers.
    response = client.post(subscription_methods_url(prod), {"action": "delete", "method": method.pk})
    assert response.status_code == 302 and "/delete/" in response["Location"]
    confirm = client.get(response["Location"])
    assert confirm.status_code == 200
    body = confirm.content.decode()
    assert "Contoso Production" in body and "Contoso Staging" in body
    assert subscription_methods_url(staging) in body
    # Refused: the page offers the way back, not a "Yes, delete" that can only fail.
    assert "Yes, delete the card" not in body and 'id="back-to-methods"' in body
    response = client.post(
        reverse("payments:method_delete", args=[method.pk]), {"subscription": str(prod.subscription_id)}
    )
    assert response.status_code == 409
    assert "Contoso Staging" in response.content.decode()
    assert "Yes, delete the card" not in response.content.decode()
    method.refresh_from_db()
    assert method.removed_at is None


def test_pm_6_delete_allowed_once_detached_or_cancelled(cards, client_for):
    admin = cards.users["wd_admin"]
    prod, staging, campaigns = (
        cards.subscriptions[k] for k in ("contoso_prod", "contoso_staging", "contoso_campaigns")
    )
    shared = _card(prod)
    client = client_for(admin)
    # Production moves to the campaigns card (PM-4 moves Staging too) ...
    client.post(subscription_methods_url(prod), {"action": "activate", "method": _card(campaigns).pk})
    assert _card(staging) != shared
    assert "Yes, delete the card" in client.get(reverse("payments:method_delete", args=[shared.pk])).content.decode()
    response = client.post(reverse("payments:method_delete", args=[shared.pk]))
    assert response.status_code == 302
    shared.refresh_from_db()
    assert shared.removed_at is not None
    assert PaymentMethodEvent.objects.filter(action="removed", payment_method=shared).exists()
    # ... and a card whose only subscription is cancelled can be removed as well.
    card = _card(campaigns)
    Subscription.objects.filter(pk__in=[prod.pk, staging.pk]).update(status="cancelled")
    Subscription.objects.filter(pk=campaigns.pk).update(status="cancelled")
    response = client.post(reverse("payments:method_delete", args=[card.pk]))
    assert response.status_code == 302
    assert _card(campaigns) is None


def test_pm_2_customer_agreement_cards_belong_to_the_billing_profile(cards, client_for):
    owner = cards.users["ca_owner"]
    nl, de = cards.profiles["woodgrove_nl"], cards.profiles["woodgrove_de"]
    client = client_for(owner)
    response = client.post(reverse("payments:profile_add_card", args=[nl.pk]), {"make_active": "on"})
    enter_card(client, response["Location"], "378282246310005", cvc="9999")
    nl.refresh_from_db()
    de.refresh_from_db()
    assert nl.payment_method.last4 == "0005"
    assert de.payment_method.last4 == "4242"
    de_page = client.get(reverse("payments:profile_methods", args=[de.pk])).content.decode()
    assert "0005" not in de_page


@pytest.mark.parametrize(
    "persona", ["ca_ba_contributor", "ca_ba_reader", "ca_bp_contributor", "ca_bp_reader", "ca_invoice_manager"]
)
def test_pm_3_only_the_signup_user_changes_customer_agreement_cards(cards, client_for, persona):
    nl = cards.profiles["woodgrove_nl"]
    nl.refresh_from_db()
    client = client_for(cards.users[persona])
    page = client.get(reverse("payments:profile_methods", args=[nl.pk]))
    assert page.status_code == 200  # they may read
    assert reverse("payments:profile_add_card", args=[nl.pk]) not in page.content.decode()
    assert client.get(reverse("payments:profile_add_card", args=[nl.pk])).status_code == 403
    assert (
        client.post(
            reverse("payments:profile_methods", args=[nl.pk]), {"action": "activate", "method": nl.payment_method_id}
        ).status_code
        == 403
    )
    assert client.get(reverse("payments:method_edit", args=[nl.payment_method_id])).status_code == 403
    assert client.post(reverse("payments:method_delete", args=[nl.payment_method_id])).status_code == 403


def test_pm_3_a_second_billing_account_owner_who_did_not_sign_up_may_not_change(cards, client_for):
    other_owner = UserFactory()
    role_assign(user=other_owner, role=Role.BA_OWNER, account=cards.accounts["woodgrove"])
    nl = cards.profiles["woodgrove_nl"]
    client = client_for(other_owner)
    assert client.get(reverse("payments:profile_methods", args=[nl.pk])).status_code == 200
    assert client.get(reverse("payments:profile_add_card", args=[nl.pk])).status_code == 403
    assert (
        client_for(cards.users["ca_owner"]).get(reverse("payments:profile_add_card", args=[nl.pk])).status_code == 200
    )


@pytest.mark.parametrize(("language", "phrase"), [("en", "Contact your bank"), ("nl", "Neem contact op met uw bank")])
def test_pm_7_decline_while_adding_explained_with_guidance(cards, client_for, language, phrase):
    admin = cards.users["wd_admin"]
    admin.language = language
    admin.save()
    response = add_card_web(client_for(admin), subscription_add_url(cards.subscriptions["contoso_prod"]), DECLINED)
    assert response.status_code == 402
    body = response.content.decode()
    assert phrase in body
    assert PaymentMethod.objects.filter(profile=cards.profiles["contoso"], removed_at__isnull=True).count() == 2


def test_pm_7_expired_card_declined_by_the_bank(cards, client_for):
    response = add_card_web(
        client_for(cards.users["wd_admin"]), subscription_add_url(cards.subscriptions["contoso_prod"]), EXPIRED
    )
    assert response.status_code == 402
    assert "expired" in response.content.decode()


def test_invoice_row_for_web_direct_account_paying_by_invoice(cards, client_for):
    sub = cards.subscriptions["fabrikam_main"]
    body = client_for(cards.users["wd_invoice_admin"]).get(subscription_methods_url(sub)).content.decode()
    assert 'id="invoice-row"' in body and "PO-FAB-2026-001" in body
    from django.urls import NoReverseMatch

    try:
        po_url = reverse("purchase_orders:web_direct_po", args=[str(sub.subscription_id)])
    except NoReverseMatch:  # the PO page is not there yet
        po_url = None
    if po_url:
        assert f'href="{po_url}"' in body.split('id="invoice-row"', 1)[1]
    assert 'id="po-note"' not in body
    card_body = (
        client_for(cards.users["wd_admin"])
        .get(subscription_methods_url(cards.subscriptions["contoso_prod"]))
        .content.decode()
    )
    assert 'id="invoice-row"' not in card_body and 'id="po-note"' in card_body


def test_index_lists_the_scopes_the_user_may_see(cards, client_for):
    body = client_for(cards.users["wd_admin"]).get(reverse("payments:index")).content.decode()
    assert "Contoso Production" in body and "Contoso Staging" in body and "Woodgrove" not in body
    body = client_for(cards.users["ca_bp_reader"]).get(reverse("payments:index")).content.decode()
    assert "Woodgrove Nederland" in body and "Woodgrove Deutschland" not in body
    body = client_for(cards.users["ea_admin"]).get(reverse("payments:index")).content.decode()
    assert "Northwind" not in body


def test_navigation_shows_payment_methods(cards, client_for):
    with translation.override("en"):
        body = client_for(cards.users["wd_admin"]).get(reverse("accounts:overview")).content.decode()
    assert reverse("payments:index") in body


def test_unused_account_names():
    assert BillingAccount  # imported for readability of fixtures
