"""The overview (the page after sign-in) and GET /api/v1/overview/: what each billing
scope owes, per persona and role, refused roles and other tenants, empty states, and a
constant number of queries whatever the number of scopes and invoices."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import BillingProfile, PaymentMode, User
from accounts.services import role_assign
from billing_portal import clock as portal_clock
from billing_portal.overview import scopes_for_user
from invoices.models import Invoice, InvoiceRevision
from payments import demo as payments_demo
from payments import selectors as payment_selectors
from payments import services as payment_services
from payments.models import PaymentMethod, PaymentSource
from tests.factories import UserFactory, make_account, make_subscription
from tests.payments.conftest import give_card, make_invoice

pytestmark = pytest.mark.django_db

OVERVIEW = "/api/v1/overview/"


@pytest.fixture
def owing(demo):
    """The demo with its cards and, per scope, invoices that say what it owes: Contoso a
    past-due and a due card invoice and a paid one; Woodgrove Nederland a due invoice,
    Deutschland none; Northwind (enrollment) a due invoice e-mailed today; Fabrikam (pays
    by invoice) a past-due bank-transfer invoice; Jan Smit a due invoice."""
    payments_demo.seed(demo)
    today = portal_clock.today()
    demo.invoice = {
        "contoso_past_due": make_invoice(
            demo.profiles["contoso"],
            total="242.00",
            status="past_due",
            issue_date=today - dt.timedelta(days=45),
            due_date=today - dt.timedelta(days=15),
        ),
        "contoso_due": make_invoice(demo.profiles["contoso"], total="99.95", due_date=today + dt.timedelta(days=20)),
        "contoso_paid": make_invoice(demo.profiles["contoso"], total="10.00", status="paid"),
        "woodgrove_nl": make_invoice(demo.profiles["woodgrove_nl"], total="130.63"),
        "northwind": make_invoice(demo.profiles["northwind"], total="154.97"),
        "fabrikam": make_invoice(
            demo.profiles["fabrikam"], total="96.19", status="past_due", due_date=today - dt.timedelta(days=3)
        ),
        "individual": make_invoice(demo.profiles["individual"], total="112.54"),
    }
    Invoice.objects.filter(pk=demo.invoice["northwind"].pk).update(notified_at=portal_clock.now())
    # The PO number the billing run prints on an enrollment's invoice (PO-6: the enrollment number).
    InvoiceRevision.objects.filter(invoice=demo.invoice["northwind"]).update(po_number="87654321")
    for user in demo.users.values():
        user.language = "en"
        user.save(update_fields=["language"])
    return demo


def _scopes(api_for, user) -> dict:
    response = api_for(user).get(OVERVIEW)
    assert response.status_code == 200
    return {scope["name"]: scope for scope in response.json()["scopes"]}


def _page(client_for, user) -> str:
    response = client_for(user).get(reverse("accounts:overview"))
    assert response.status_code == 200
    return response.content.decode()


def _card(profile) -> PaymentMethod:
    return payment_services.scope_active_card(BillingProfile.objects.select_related("account").get(pk=profile.pk))


# --- Per persona and role ------------------------------------------------------------------------


def test_pay_2_web_direct_admin_sees_what_the_account_owes_with_pay_now(owing, api_for, client_for):
    admin = owing.users["wd_admin"]
    scopes = _scopes(api_for, admin)
    assert list(scopes) == ["Contoso Web Shop"]
    contoso = scopes["Contoso Web Shop"]
    past_due, due = owing.invoice["contoso_past_due"], owing.invoice["contoso_due"]
    assert (contoso["kind"], contoso["currency"], contoso["invoice_count"]) == ("web_direct_account", "EUR", 3)
    assert (contoso["balance_due"], contoso["past_due_amount"], contoso["past_due_count"]) == ("341.95", "242.00", 1)
    assert contoso["next_due_date"] == due.due_date.isoformat()
    to_pay = contoso["invoice_to_pay"]
    assert (to_pay["number"], to_pay["status"], to_pay["amount_due"]) == (past_due.number, "past_due", "242.00")
    assert to_pay["pay_url"] == reverse("payments:pay", args=[past_due.pk])
    card = _card(owing.profiles["contoso"])
    assert contoso["payment_method"]["last4"] == card.last4 == "4242"
    assert contoso["payment_method"]["expiry"] == card.expiry and contoso["payment_method"]["is_expired"] is False
    assert (contoso["pays_by_invoice"], contoso["purchase_order"], contoso["add_card_url"]) == (False, None, None)
    page = _page(client_for, admin)
    scope = page.split(f'id="scope-{owing.profiles["contoso"].pk}"', 1)[1].split("</article>", 1)[0]
    assert f'href="{reverse("payments:pay", args=[past_due.pk])}" id="pay-now-{owing.profiles["contoso"].pk}"' in scope
    assert "€341.95" in scope and "€242.00" in scope and "Visa •••• 4242" in scope
    assert f'href="{reverse("invoices:list")}?status=past_due">1 invoice</a>' in scope


def test_customer_agreement_owner_sees_each_billing_profile(owing, api_for, client_for):
    owner = owing.users["ca_owner"]
    scopes = _scopes(api_for, owner)
    assert list(scopes) == ["Woodgrove Bank / Woodgrove Deutschland", "Woodgrove Bank / Woodgrove Nederland"]
    de, nl = scopes.values()
    assert (de["invoice_count"], de["balance_due"], de["invoice_to_pay"]) == (0, "0.00", None)
    assert nl["invoice_to_pay"]["pay_url"] == reverse("payments:pay", args=[owing.invoice["woodgrove_nl"].pk])
    assert nl["payment_method"]["id"] == _card(owing.profiles["woodgrove_nl"]).pk
    assert de["payment_method"]["last4"] == "4242" and nl["kind"] == "billing_profile"
    page = _page(client_for, owner)
    assert "No invoices yet." in page.split(f'id="scope-{owing.profiles["woodgrove_de"].pk}"', 1)[1]


@pytest.mark.parametrize(
    ("persona", "names", "may_pay"),
    [
        ("ca_ba_reader", ["Woodgrove Bank / Woodgrove Deutschland", "Woodgrove Bank / Woodgrove Nederland"], False),
        (
            "ca_ba_contributor",
            ["Woodgrove Bank / Woodgrove Deutschland", "Woodgrove Bank / Woodgrove Nederland"],
            False,
        ),
        ("ca_bp_reader", ["Woodgrove Bank / Woodgrove Nederland"], False),
        ("ca_bp_contributor", ["Woodgrove Bank / Woodgrove Nederland"], True),
        ("ca_invoice_manager", ["Woodgrove Bank / Woodgrove Nederland"], True),
        ("ca_bp_owner", ["Woodgrove Bank / Woodgrove Deutschland"], True),
    ],
)
def test_pay_1_each_role_sees_its_profiles_and_pay_now_only_where_it_may_pay(
    owing, api_for, client_for, persona, names, may_pay
):
    user = owing.users[persona]
    scopes = _scopes(api_for, user)
    assert list(scopes) == names
    nl = scopes.get("Woodgrove Bank / Woodgrove Nederland")
    if nl is not None:
        assert (nl["invoice_to_pay"]["pay_url"] is not None) == may_pay
        assert nl["balance_due"] == "130.63"
    for scope in scopes.values():
        # Cards are read by every role of a billing profile; only the sign-up user adds one (PM-3).
        assert scope["shows_payment_method"] and scope["payment_method"] is not None
        assert scope["add_card_url"] is None
    owe = _page(client_for, user).split('id="owe"', 1)[1].split('id="accounts-heading"', 1)[0]
    assert ('id="pay-now-' in owe) == (may_pay and nl is not None)
    assert ("Woodgrove Nederland" in owe) == (nl is not None)


def test_po_7_enrollment_shows_the_po_number_in_force_and_its_window(owing, api_for, client_for):
    northwind = _scopes(api_for, owing.users["ea_admin"])["Northwind Traders"]
    invoice = owing.invoice["northwind"]
    assert (northwind["kind"], northwind["enrollment_number"], northwind["pays_by_invoice"]) == (
        "enrollment",
        "87654321",
        True,
    )
    assert (northwind["shows_payment_method"], northwind["payment_method"]) == (False, None)
    assert northwind["invoice_to_pay"]["pays_by_bank_transfer"] is True
    assert northwind["invoice_to_pay"]["payment_reference"] == invoice.payment_reference
    assert northwind["invoice_to_pay"]["pay_url"] is None
    po = northwind["purchase_order"]
    last_day = portal_clock.now().astimezone(dt.UTC).date() + dt.timedelta(days=7)
    assert (po["po_number"], po["is_default"], po["invoice_number"]) == ("87654321", True, invoice.number)
    assert (po["window_state"], po["is_open"], po["open_until"]) == ("open", True, last_day.isoformat())
    assert po["can_edit"] is True and po["amendment_url"] is None
    assert po["url"] == reverse(
        "purchase_orders:period_po", args=[owing.accounts["northwind"].pk, f"{invoice.period:%Y-%m}"]
    )
    page = _page(client_for, owing.users["ea_admin"])
    assert "Pays by invoice (bank transfer)" in page and "Change the PO number" in page
    assert 'data-state="open"' in page and invoice.payment_reference in page
    # The read-only admin reads it, and may not change it.
    readonly = _scopes(api_for, owing.users["ea_readonly"])
    assert set(readonly) == {"Northwind Traders", "Tailspin Toys"}
    assert readonly["Northwind Traders"]["purchase_order"]["can_edit"] is False
    assert "View/Edit PO numbers" in _page(client_for, owing.users["ea_readonly"])
    # Tailspin has no invoice yet: the current period, open until its invoice is generated.
    tailspin = _scopes(api_for, owing.users["partner_admin"])["Tailspin Toys"]["purchase_order"]
    assert (tailspin["window_state"], tailspin["can_edit"], tailspin["invoice_number"]) == ("not_generated", True, None)
    assert tailspin["period"] == portal_clock.month_start(portal_clock.today()).isoformat()


def test_po_7_a_closed_window_points_to_a_support_request(owing, api_for, client_for, clock):
    clock.advance(days=9)
    po = _scopes(api_for, owing.users["ea_admin"])["Northwind Traders"]["purchase_order"]
    assert (po["window_state"], po["is_open"], po["open_until"], po["can_edit"]) == ("closed", False, None, False)
    invoice = owing.invoice["northwind"]
    assert po["amendment_url"] == f"{reverse('purchase_orders:amendment_new')}?invoice={invoice.pk}"
    assert "only a support request can change it" in _page(client_for, owing.users["ea_admin"])
    readonly = _scopes(api_for, owing.users["ea_readonly"])["Northwind Traders"]["purchase_order"]
    assert readonly["amendment_url"] is None  # PO-5: who may not change it does not ask either


def test_pbi_5_a_scope_paying_by_invoice_shows_bank_transfer_and_no_card(owing, api_for, client_for):
    fabrikam = _scopes(api_for, owing.users["wd_invoice_admin"])["Fabrikam"]
    assert fabrikam["pays_by_invoice"] is True and fabrikam["payment_method"] is None
    assert fabrikam["add_card_url"] is None
    assert (fabrikam["past_due_amount"], fabrikam["invoice_to_pay"]["pays_by_bank_transfer"]) == ("96.19", True)
    assert fabrikam["invoice_to_pay"]["pay_url"] is None
    page = _page(client_for, owing.users["wd_invoice_admin"])
    assert "Pay it by bank transfer, quoting the payment reference" in page and 'id="pay-now-' not in page


def test_last_payment_by_card_and_by_bank_transfer(owing, api_for):
    contoso = owing.profiles["contoso"]
    payment_services.invoice_pay(
        invoice=owing.invoice["contoso_due"], payment_method=_card(contoso), source=PaymentSource.AUTOMATIC
    )
    scope = _scopes(api_for, owing.users["wd_admin"])["Contoso Web Shop"]
    assert (scope["last_payment"]["amount"], scope["last_payment"]["method"]) == ("99.95", str(_card(contoso)))
    assert scope["balance_due"] == "242.00" and scope["next_due_date"] is None
    payment_services.payment_record_bank_transfer(
        invoice=owing.invoice["fabrikam"],
        amount=Decimal("40.00"),
        received_on=portal_clock.today(),
        reference="FAB-1",
        actor=owing.users["support"],
    )
    fabrikam = _scopes(api_for, owing.users["wd_invoice_admin"])["Fabrikam"]
    assert (fabrikam["last_payment"]["amount"], fabrikam["last_payment"]["method"]) == ("40.00", "Bank transfer")
    assert fabrikam["balance_due"] == fabrikam["past_due_amount"] == "56.19"


# --- Empty states -------------------------------------------------------------------------------


def test_empty_states_say_what_to_do(demo, api_for, client_for):
    """No invoices yet; no card: the sign-up user is given the card form (web direct: of
    its first subscription, PM-4), every other role is told who can add one."""
    owner = UserFactory(language="en")
    account = make_account(agreement_type="customer_agreement", signed_up_by=owner, profile_name="Main")
    role_assign(user=owner, role="ba_owner", account=account)
    reader = UserFactory(language="en")
    role_assign(user=reader, role="ba_reader", account=account)
    profile = account.profiles.get()
    scope = _scopes(api_for, owner)[str(profile)]
    assert (scope["invoice_count"], scope["payment_method"]) == (0, None)
    assert scope["add_card_url"] == reverse("payments:profile_add_card", args=[profile.pk])
    page = _page(client_for, owner)
    assert "No invoices yet." in page and "No active card." in page
    assert f'href="{reverse("payments:profile_add_card", args=[profile.pk])}" id="add-card-{profile.pk}"' in page
    assert "Only the administrator who signed up can add one." in _page(client_for, reader)
    assert _scopes(api_for, reader)[str(profile)]["add_card_url"] is None

    web_admin = UserFactory(language="en")
    shop = make_account(signed_up_by=web_admin)
    role_assign(user=web_admin, role="account_admin", account=shop)
    subscription = make_subscription(shop, name="B shop")
    make_subscription(shop, name="A cancelled", status="cancelled")
    shop_scope = _scopes(api_for, web_admin)[shop.name]
    assert shop_scope["add_card_url"] == reverse(
        "payments:subscription_add_card", args=[str(subscription.subscription_id)]
    )


def test_support_staff_and_users_without_a_role(demo, api_for, client_for):
    assert api_for(demo.users["support"]).get(OVERVIEW).json() == {"scopes": []}
    page = client_for(demo.users["support"]).get(reverse("accounts:overview")).content.decode()
    assert "You are signed in as support staff." in page and 'id="owe"' not in page
    nobody = UserFactory(language="en")
    assert api_for(nobody).get(OVERVIEW).json() == {"scopes": []}
    assert "You do not have a role on any billing account yet." in _page(client_for, nobody)


def test_anonymous_and_another_tenant(owing, client, api_for, client_for):
    response = client.get(reverse("accounts:overview"))
    assert response.status_code == 302 and "/sign-in/" in response["Location"]
    assert api_for(None).get(OVERVIEW).status_code == 401
    stranger = UserFactory(language="en")
    role_assign(user=stranger, role="account_admin", account=make_account(name="Stranger Ltd", signed_up_by=stranger))
    assert list(_scopes(api_for, stranger)) == ["Stranger Ltd"]
    page = _page(client_for, stranger)
    for invoice in owing.invoice.values():
        assert invoice.number not in page
    assert "Contoso" not in page and "Woodgrove" not in page


def test_api_overview_is_in_the_schema(client):
    schema = client.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/overview/"]["get"]
    assert set(operation["responses"]) >= {"200", "401", "403"}


# --- One answer for the automatic charge's card, constant queries ---------------------------------


def test_active_cards_agree_with_the_card_that_pays_automatically(owing):
    """payments.selectors.active_cards (all scopes at once) answers as
    services.scope_active_card (one scope), also after a card is removed or a scope
    switched to pay by invoice."""
    contoso = owing.profiles["contoso"]
    nl = BillingProfile.objects.get(pk=owing.profiles["woodgrove_nl"].pk)
    give_card(owing, contoso, "4000000000003410", subscription=owing.subscriptions["contoso_campaigns"])
    BillingProfile.objects.filter(pk=owing.profiles["woodgrove_de"].pk).update(payment_mode=PaymentMode.INVOICE)
    assert nl.payment_method_id is not None
    PaymentMethod.objects.filter(pk=nl.payment_method_id).update(removed_at=portal_clock.now())
    profiles = list(BillingProfile.objects.select_related("account", "payment_method"))
    found = payment_selectors.active_cards(profiles)
    assert found == {p.pk: payment_services.scope_active_card(p) for p in profiles}
    assert found[nl.pk] is None and found[owing.profiles["woodgrove_de"].pk] is None


def _owner_of_many(scopes: int, invoices: int):
    """A user who owns a customer agreement with ``scopes`` billing profiles (each with
    ``invoices`` invoices, a card and a payment), a web-direct account and an enrollment."""
    user = UserFactory()
    account = make_account(agreement_type="customer_agreement", signed_up_by=user, profile_name="P0")
    role_assign(user=user, role="ba_owner", account=account)
    for n in range(1, scopes):
        BillingProfile.objects.create(account=account, name=f"P{n}")
    for profile in BillingProfile.objects.filter(account=account).select_related("account"):
        card = give_card(None, profile, "4242424242424242")
        for i in range(invoices):
            status = "past_due" if i % 3 == 0 else "due"
            make_invoice(profile, total=f"{10 + i}.00", status=status)
        payment_services.invoice_pay(
            invoice=make_invoice(profile, total="5.00"), payment_method=card, source=PaymentSource.AUTOMATIC
        )
    shop = make_account(signed_up_by=user)
    role_assign(user=user, role="account_admin", account=shop)
    make_subscription(shop)
    enrollment = make_account(agreement_type="enterprise")
    role_assign(user=user, role="ea_admin", account=enrollment)
    for i in range(invoices):
        make_invoice(enrollment.profiles.get(), total="20.00")
    return user


def test_the_overview_costs_the_same_queries_for_one_scope_or_many(
    demo, client_for, api_for, django_assert_max_num_queries
):
    small = _owner_of_many(scopes=1, invoices=1)
    large = _owner_of_many(scopes=15, invoices=8)

    def api_get(user):
        # A fresh user object, as each request reads it (the roles are cached on it).
        return api_for(User.objects.get(pk=user.pk)).get(OVERVIEW)

    for get in (lambda user: client_for(user).get(reverse("accounts:overview")), api_get):
        get(small)
        with CaptureQueriesContext(connection) as baseline:
            assert get(small).status_code == 200
        with django_assert_max_num_queries(len(baseline.captured_queries)):
            assert get(large).status_code == 200
    assert len(scopes_for_user(large)) == 17
    with django_assert_max_num_queries(10):
        scopes_for_user(large)
