"""Pay now's steps (PAY-3, PM-4, PM-7): the amount on the button, a card added on the way
made the active card in the same step (or refused where a rule refuses it), and a decline
explained by its code in the page, the API and the payment-failed e-mail, keeping the
invoice's context with "try another card" opening the card form."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from accounts.models import SubscriptionStatus
from billing_portal.money import format_money
from notifications.models import Notification
from notifications.services import render_notification
from payments import declines, services
from payments.models import CardSetup, PaymentMethod, PaymentMethodEvent, SandboxCard

from .conftest import (
    APPROVED_MC,
    DECLINED,
    EXPIRED,
    INCORRECT_CVC,
    INSUFFICIENT,
    INTERNATIONAL,
    RECURRING,
    enter_card,
    give_card,
    make_invoice,
)

pytestmark = pytest.mark.django_db

GENERIC_ON_CHARGE = "4000000000000341"


def pay_url(invoice):
    return reverse("payments:pay", args=[invoice.pk])


def add_card_url(invoice):
    return reverse("payments:pay_add_card", args=[invoice.pk])


def _token(page: str) -> str:
    return page.split('name="token" value="', 1)[1].split('"', 1)[0]


def web_pay(client, invoice, method):
    token = _token(client.get(pay_url(invoice)).content.decode())
    return client.post(pay_url(invoice), {"method": method.pk, "token": token})


def _speaking(user, language):
    user.language = language
    user.save(update_fields=["language"])
    return user


# --- The amount on the button -------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "nl"])
def test_pay_3_the_button_carries_the_amount_in_the_readers_language(cards, client_for, language):
    admin = _speaking(cards.users["wd_individual"], language)
    invoice = make_invoice(cards.profiles["individual"], total="112.54")
    page = client_for(admin).get(pay_url(invoice)).content.decode()
    button = page.split('id="pay-now">', 1)[1].split("</button>", 1)[0]
    expected = {"en": "Pay €112.54", "nl": "€\xa0112,54 betalen"}[language]
    assert button == expected
    assert format_money(Decimal("112.54"), "EUR", language) in button


def test_pay_3_the_button_asks_what_is_still_due_after_a_partial_payment(cards, client_for):
    invoice = make_invoice(cards.profiles["contoso"], total="200.00")
    invoice.amount_paid = Decimal("50.00")
    invoice.save(update_fields=["amount_paid"])
    page = client_for(cards.users["wd_admin"]).get(pay_url(invoice)).content.decode()
    assert 'id="pay-now">Pay €150.00</button>' in page


# --- A card added during Pay now made active in the same step (PM-4) ---------------------------------


def _add_during_pay_now(client, invoice, number, data, *, cvc="123"):
    response = client.post(add_card_url(invoice), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    back = enter_card(client, response["Location"], number, cvc=cvc, follow=False)
    return client.get(back["Location"])


def test_pm_4_customer_agreement_card_added_in_pay_now_becomes_the_profiles_active_card(cards, client_for):
    owner = _speaking(cards.users["ca_owner"], "en")
    nl = cards.profiles["woodgrove_nl"]
    invoice = make_invoice(nl)
    client = client_for(owner)
    form = client.get(add_card_url(invoice)).content.decode()
    assert "Also use this card for automatic payments" in form and 'name="subscription_id"' not in form
    response = _add_during_pay_now(client, invoice, APPROVED_MC, {"make_active": "on"})
    new = PaymentMethod.objects.filter(profile=nl).latest("created_at")
    assert response["Location"] == f"{pay_url(invoice)}?method={new.pk}"
    nl.refresh_from_db()
    assert nl.payment_method_id == new.pk == services.scope_active_card(nl).pk
    assert PaymentMethodEvent.objects.filter(payment_method=new, action="activated", actor=owner).count() == 1
    page = client.get(response["Location"]).content.decode()
    assert "was added and is now the active payment method" in page
    assert f'value="{new.pk}" checked' in page


def test_pm_4_web_direct_card_replaces_the_chosen_subscriptions_card_everywhere_it_is_used(cards, client_for):
    """The new card becomes active for the chosen subscription and every subscription that
    used the same card (Contoso Production and Staging share the Visa); Campaigns keeps its own."""
    admin = cards.users["wd_admin"]
    contoso = cards.profiles["contoso"]
    prod, staging, campaigns = (
        cards.subscriptions[k] for k in ("contoso_prod", "contoso_staging", "contoso_campaigns")
    )
    campaigns.refresh_from_db()
    campaigns_card = campaigns.payment_method_id
    invoice = make_invoice(contoso)
    client = client_for(admin)
    form = client.get(add_card_url(invoice)).content.decode()
    # The subscription whose card pays automatically is offered first.
    options = form.split('name="subscription_id"', 1)[1].split("</select>", 1)[0]
    assert options.index("Contoso Production") < options.index("Contoso Campaigns")
    assert "Visa •••• 4242" in options
    _add_during_pay_now(
        client,
        invoice,
        "378282246310005",
        {"make_active": "on", "subscription_id": str(prod.subscription_id)},
        cvc="1234",
    )
    new = PaymentMethod.objects.get(profile=contoso, last4="0005")
    for subscription in (prod, staging, campaigns):
        subscription.refresh_from_db()
    assert prod.payment_method_id == staging.payment_method_id == new.pk
    assert campaigns.payment_method_id == campaigns_card
    assert services.scope_active_card(contoso).pk == new.pk


def test_pm_4_without_the_box_the_new_card_only_pays_and_nothing_else_changes(cards, client_for):
    owner = _speaking(cards.users["ca_owner"], "en")
    nl = cards.profiles["woodgrove_nl"]
    before = nl.payment_method_id
    invoice = make_invoice(nl)
    client = client_for(owner)
    response = _add_during_pay_now(client, invoice, "4242424242424242", {})
    nl.refresh_from_db()
    assert nl.payment_method_id == before
    assert "was added." in client.get(response["Location"]).content.decode()
    new = PaymentMethod.objects.filter(profile=nl).latest("created_at")
    assert not PaymentMethodEvent.objects.filter(payment_method=new, action="activated").exists()


def test_pbi_5_a_scope_paying_by_invoice_is_not_offered_the_box_and_a_sent_box_is_refused(cards, client_for):
    """Fabrikam pays by invoice: an earlier card invoice can still be paid with a new card,
    but the card never becomes its active payment method (PBI-5), whatever is posted."""
    admin = _speaking(cards.users["wd_invoice_admin"], "en")
    invoice = make_invoice(cards.profiles["fabrikam"])
    invoice.payment_terms = "card"
    invoice.save(update_fields=["payment_terms"])
    client = client_for(admin)
    form = client.get(add_card_url(invoice)).content.decode()
    assert 'name="make_active"' not in form and 'id="make-active-not-offered"' in form
    sub = cards.subscriptions["fabrikam_main"]
    response = client.post(add_card_url(invoice), {"make_active": "on", "subscription_id": str(sub.subscription_id)})
    assert response.status_code == 200
    assert "cannot be switched back to card" in response.content.decode()
    assert not CardSetup.objects.filter(profile=cards.profiles["fabrikam"]).exists()
    # Without the box the card is added to pay the invoice.
    assert client.post(add_card_url(invoice), {})["Location"].startswith("/sandbox-gateway/")


def test_pm_4_a_cancelled_subscription_is_not_offered_and_refused(cards, client_for):
    admin = cards.users["wd_admin"]
    staging = cards.subscriptions["contoso_staging"]
    staging.status = SubscriptionStatus.CANCELLED
    staging.save(update_fields=["status"])
    invoice = make_invoice(cards.profiles["contoso"])
    client = client_for(admin)
    before = CardSetup.objects.filter(profile=cards.profiles["contoso"], make_active=True).count()
    assert "Contoso Staging" not in client.get(add_card_url(invoice)).content.decode()
    response = client.post(
        add_card_url(invoice), {"make_active": "on", "subscription_id": str(staging.subscription_id)}
    )
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert CardSetup.objects.filter(profile=cards.profiles["contoso"], make_active=True).count() == before


def test_pm_4_web_direct_needs_the_subscription_the_card_replaces(cards, client_for):
    before = CardSetup.objects.filter(profile=cards.profiles["contoso"], make_active=True).count()
    invoice = make_invoice(cards.profiles["contoso"])
    response = client_for(cards.users["wd_admin"]).post(add_card_url(invoice), {"make_active": "on"})
    assert response.status_code == 200
    assert "Required when the card is made active." in response.content.decode()
    assert CardSetup.objects.filter(profile=cards.profiles["contoso"], make_active=True).count() == before


@pytest.mark.parametrize("persona", ["ca_invoice_manager", "ca_bp_contributor"])
def test_pm_3_only_the_signup_user_adds_a_card_during_pay_now(cards, client_for, persona):
    invoice = make_invoice(cards.profiles["woodgrove_nl"])
    client = client_for(_speaking(cards.users[persona], "en"))
    before = CardSetup.objects.count()
    page = client.get(pay_url(invoice)).content.decode()
    assert 'id="pay-add-card"' not in page and "Only the administrator who signed up can add cards." in page
    assert client.get(add_card_url(invoice)).status_code == 403
    assert client.post(add_card_url(invoice), {"make_active": "on"}).status_code == 403
    assert CardSetup.objects.count() == before


# --- Declines: guidance by code, in page, API and e-mail (PM-7) ------------------------------------

# (card, code, English phrase of the guidance, Dutch phrase, the first action of the page)
DECLINES = [
    (
        INSUFFICIENT,
        "insufficient_funds",
        "Use another card, or contact your bank",
        "Gebruik een andere kaart",
        "Try another card",
    ),
    (
        INCORRECT_CVC,
        "incorrect_cvc",
        "Enter the card again and check the security code",
        "Voer de kaart opnieuw in",
        "Enter the card again",
    ),
    (
        GENERIC_ON_CHARGE,
        "card_declined",
        "Contact your bank and check:",
        "Neem contact op met uw bank en controleer:",
        "Try another card",
    ),
    (
        INTERNATIONAL,
        "international_not_allowed",
        "allow international transactions",
        "internationale transacties",
        "Try another card",
    ),
    (RECURRING, "recurring_not_allowed", "allow recurring payments", "terugkerende betalingen", "Try another card"),
]


@pytest.mark.parametrize(("number", "code", "english", "dutch", "action"), DECLINES, ids=[d[1] for d in DECLINES])
def test_pm_7_decline_guidance_fits_the_code_in_page_api_and_email(
    cards, client_for, api_for, django_capture_on_commit_callbacks, number, code, english, dutch, action
):
    admin = cards.users["wd_admin"]
    contoso = cards.profiles["contoso"]
    card = give_card(cards, contoso, number, make_active=False)
    invoice = make_invoice(contoso)
    with django_capture_on_commit_callbacks(execute=True):
        response = web_pay(client_for(admin), invoice, card)
    assert response.status_code == 402
    page = response.content.decode()
    decline = page.split('id="decline"', 1)[1].split("</div>", 1)[0]
    assert f'data-code="{code}"' in page and english in decline
    assert ('class="checklist"' in decline) == (code == "card_declined")
    first = decline.split('class="button-primary"', 1)[1]
    assert first.split(">", 1)[1].startswith(action)
    # The payment-failed e-mail says the same, as text and HTML.
    subject, text, html = render_notification(Notification.objects.get(kind="payment_failed", invoice=invoice))
    assert english in text and english in html
    # The API's error body.
    other = make_invoice(contoso)
    body = (
        api_for(admin)
        .post(f"/api/v1/invoices/{other.pk}/pay/", {"payment_method": card.pk}, format="json", HTTP_IDEMPOTENCY_KEY="k")
        .json()
    )
    assert body["code"] == code and english in body["detail"] and declines.reason(code) in body["detail"]
    # And in Dutch.
    with translation.override("nl"):
        assert dutch in declines.guidance(code)
    _speaking(admin, "nl")
    third = make_invoice(contoso)
    with django_capture_on_commit_callbacks(execute=True):
        dutch_page = web_pay(client_for(admin), third, card).content.decode()
    assert dutch in dutch_page
    failed = Notification.objects.get(kind="payment_failed", invoice=third)
    assert dutch in render_notification(failed)[1]


def test_pm_7_generic_checklist_is_in_every_door(cards, client_for, django_capture_on_commit_callbacks):
    card = give_card(cards, cards.profiles["contoso"], GENERIC_ON_CHARGE, make_active=False)
    invoice = make_invoice(cards.profiles["contoso"])
    with django_capture_on_commit_callbacks(execute=True):
        page = web_pay(client_for(cards.users["wd_admin"]), invoice, card).content.decode()
    checklist = page.split('class="checklist">', 1)[1].split("</ul>", 1)[0]
    for item in declines.CHECKLIST:
        assert f"<li>{item}</li>" in checklist
    _subject, text, html = render_notification(Notification.objects.get(kind="payment_failed", invoice=invoice))
    for item in declines.CHECKLIST:
        assert f"- {item}" in text and f"<li>{item}</li>" in html


def test_pm_7_dutch_checklist_reads_as_things_to_check():
    """Formal "u", questions to ask the bank after an imperative: not statements of fact."""
    with translation.override("nl"):
        advice = declines.advice("card_declined")
    assert advice.text == "Neem contact op met uw bank en controleer:"
    assert advice.checklist == (
        "Zijn internationale transacties op uw kaart ingeschakeld?",
        "Staat er voldoende saldo op uw kaart?",
        "Zijn terugkerende betalingen op uw kaart ingeschakeld?",
    )
    assert advice.closing == "Probeer het daarna opnieuw of gebruik een andere kaart."
    for text in (advice.text, *advice.checklist, advice.closing):
        assert " je " not in f" {text} " and " jouw " not in f" {text} "


def test_pm_7_every_bank_decline_has_guidance_and_others_none():
    for code in declines.BANK_DECLINES:
        assert declines.guidance(code) and declines.advice(code).text
    for code in ("processor_timeout", "not_processed", "processing_error", "authentication_expired"):
        assert declines.guidance(code) == "" and declines.advice(code) is None


def test_pm_7_decline_keeps_the_invoice_context_and_another_card_opens_the_card_form(
    cards, client_for, django_capture_on_commit_callbacks
):
    admin = cards.users["wd_admin"]
    card = give_card(cards, cards.profiles["contoso"], INSUFFICIENT, make_active=False)
    invoice = make_invoice(cards.profiles["contoso"])
    client = client_for(admin)
    with django_capture_on_commit_callbacks(execute=True):
        page = web_pay(client, invoice, card).content.decode()
    breadcrumb = page.split('class="breadcrumbs">', 1)[1].split("</nav>", 1)[0]
    assert f'href="{reverse("invoices:detail", args=[invoice.pk])}">{invoice.number}</a>' in breadcrumb
    assert f'<a href="{reverse("invoices:list")}" aria-current="page">Invoices</a>' in page
    assert f'href="{add_card_url(invoice)}" id="decline-another-card"' in page
    # The card form, then a card that is approved: paid.
    response = _add_during_pay_now(client, invoice, "4242424242424242", {})
    new = PaymentMethod.objects.filter(profile=cards.profiles["contoso"]).latest("created_at")
    web_pay(client, invoice, new)
    invoice.refresh_from_db()
    assert invoice.status == "paid" and response["Location"].endswith(f"?method={new.pk}")


@pytest.mark.parametrize(("number", "code"), [(DECLINED, "card_declined"), (EXPIRED, "expired_card")])
def test_pm_7_a_card_declined_when_entered_during_pay_now_comes_back_to_the_invoice(cards, client_for, number, code):
    client = client_for(cards.users["wd_admin"])
    invoice = make_invoice(cards.profiles["contoso"])
    response = _add_during_pay_now(client, invoice, number, {})
    setup = CardSetup.objects.get(profile=cards.profiles["contoso"], status="declined")
    assert response.status_code == 302 and response["Location"] == f"{pay_url(invoice)}?card_setup={setup.pk}"
    page = client.get(response["Location"]).content.decode()
    assert f'data-code="{code}"' in page and declines.reason(code) in page
    assert declines.advice(code).text.replace("'", "&#x27;") in page
    assert f'href="{add_card_url(invoice)}" id="decline-another-card"' in page
    assert f'href="{reverse("invoices:detail", args=[invoice.pk])}">{invoice.number}</a>' in page
    # Nobody else's setup is shown: another user's id, or a setup of another scope, shows none.
    other = client_for(cards.users["ca_owner"])
    nl_invoice = make_invoice(cards.profiles["woodgrove_nl"])
    assert 'id="decline"' not in other.get(f"{pay_url(nl_invoice)}?card_setup={setup.pk}").content.decode()
    assert 'id="decline"' not in client.get(f"{pay_url(invoice)}?card_setup=nonsense").content.decode()


def test_pm_5_expired_card_declined_on_charge_offers_to_update_its_expiry_and_returns_to_pay_now(
    cards, client_for, django_capture_on_commit_callbacks
):
    admin = cards.users["wd_admin"]
    card = give_card(cards, cards.profiles["contoso"], "4242424242424242", make_active=False)
    SandboxCard.objects.filter(token=card.token).update(outcome="expired_card")  # the bank says so now
    invoice = make_invoice(cards.profiles["contoso"])
    client = client_for(admin)
    with django_capture_on_commit_callbacks(execute=True):
        page = web_pay(client, invoice, card).content.decode()
    assert 'data-code="expired_card"' in page and "update the expiry date" in page
    edit_url = f"{reverse('payments:method_edit', args=[card.pk])}?next={pay_url(invoice).replace('/', '%2F')}"
    assert f'href="{edit_url}" id="decline-update-expiry"' in page
    form = client.get(edit_url).content.decode()
    assert f'name="next" value="{pay_url(invoice)}"' in form
    saved = client.post(
        edit_url,
        {"holder_name": "Card Holder", "exp_month": "10", "exp_year": "2034", "next": pay_url(invoice)},
    )
    assert saved.status_code == 302 and saved["Location"] == pay_url(invoice)
    card.refresh_from_db()
    assert (card.exp_month, card.exp_year) == (10, 2034)
    # A next that leaves the portal is not followed.
    outside = client.post(
        reverse("payments:method_edit", args=[card.pk]),
        {"holder_name": "Card Holder", "exp_month": "10", "exp_year": "2034", "next": "//evil.example/"},
    )
    assert outside.status_code == 302 and outside["Location"].startswith("/subscriptions/")
    assert outside["Location"].endswith("/payment-methods/")


def test_pm_7_those_who_may_not_add_cards_are_pointed_to_the_scopes_cards(cards, client_for):
    nl = cards.profiles["woodgrove_nl"]
    card = give_card(cards, nl, INSUFFICIENT, make_active=False)
    invoice = make_invoice(nl)
    page = web_pay(client_for(cards.users["ca_invoice_manager"]), invoice, card).content.decode()
    assert 'href="#pay-methods" id="decline-another-card"' in page and 'id="pay-methods"' in page
    assert add_card_url(invoice) not in page
