"""Help + support pages: every page tried as anonymous, as another tenant (404) and as a
refused role (403); the request form keeps what was typed and shows the pre-checks; the
irreversible staff steps write nothing before they are confirmed."""

import datetime as dt

import pytest
from django.urls import reverse

from accounts.models import MarketplaceService
from support import services
from support.models import PayByInvoiceRequest, RequestStatus
from tests.purchase_orders.conftest import make_invoice

from .test_services import details

pytestmark = pytest.mark.django_db


@pytest.fixture
def contoso(demo):
    MarketplaceService.objects.filter(subscription__account=demo.accounts["contoso"]).delete()
    return demo.profiles["contoso"]


@pytest.fixture
def pbi(demo, contoso, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return services.pbi_request_create(
            profile=contoso,
            subscription=demo.subscriptions["contoso_prod"],
            actor=demo.users["wd_admin"],
            data=details(),
            confirmed=True,
        )


def scope_of(demo, key="contoso_prod"):
    return f"s{demo.subscriptions[key].pk}"


def test_anonymous_visitors_are_sent_to_sign_in(client, demo, pbi):
    for url in (
        reverse("support:help"),
        reverse("support:request_new"),
        reverse("support:my_requests"),
        reverse("support:request", args=[pbi.pk]),
        f"{reverse('support:pbi_new')}?scope={scope_of(demo)}",
        reverse("support:queue"),
        reverse("support:staff_request", args=[pbi.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and reverse("accounts:login") in response["Location"], url


def test_another_tenant_gets_404_on_a_request_and_a_scope(demo, pbi, client_for):
    for key in ("ca_owner", "wd_invoice_admin", "ea_admin"):
        c = client_for(demo.users[key])
        assert c.get(reverse("support:request", args=[pbi.pk])).status_code == 404
        assert (
            c.post(reverse("support:request", args=[pbi.pk]), {"action": "cancel", "confirmed": "yes"}).status_code
            == 404
        )
        assert c.get(f"{reverse('support:pbi_new')}?scope={scope_of(demo)}").status_code == 404
    pbi.refresh_from_db()
    assert pbi.status == RequestStatus.SUBMITTED


def test_customers_get_403_on_the_staff_pages(demo, pbi, client_for):
    for key in ("wd_admin", "ca_owner", "ea_admin"):
        c = client_for(demo.users[key])
        assert c.get(reverse("support:queue")).status_code == 403
        assert c.get(reverse("support:staff_request", args=[pbi.pk])).status_code == 403
        response = c.post(reverse("support:staff_request", args=[pbi.pk]), {"action": "approve", "confirmed": "yes"})
        assert response.status_code == 403
    pbi.refresh_from_db()
    assert pbi.status == RequestStatus.SUBMITTED


def test_pbi_1_new_support_request_offers_billing_pay_by_invoice_and_the_amendment(demo, client_for):
    c = client_for(demo.users["wd_admin"])
    page = c.get(reverse("support:request_new")).content.decode()
    assert "Pay by invoice" in page and "Change the PO or VAT number on an issued invoice" in page
    assert "Contoso Production" in page
    response = c.post(
        reverse("support:request_new"),
        {
            "issue_type": "billing",
            "scope": scope_of(demo),
            "support_plan": "standard",
            "problem_type": "pay_by_invoice",
        },
    )
    assert response.status_code == 302 and reverse("support:pbi_new") in response["Location"]
    response = c.post(
        reverse("support:request_new"),
        {
            "issue_type": "billing",
            "scope": scope_of(demo),
            "support_plan": "basic",
            "problem_type": "invoice_amendment",
        },
    )
    assert response["Location"] == reverse("purchase_orders:amendment_new")


def test_pbi_1_a_reader_cannot_open_a_pay_by_invoice_request(demo, client_for):
    page = client_for(demo.users["ca_bp_reader"]).get(reverse("support:request_new")).content.decode()
    assert 'id="no-scopes"' in page and 'name="scope"' not in page


def test_pbi_2_the_form_is_prefilled_and_keeps_what_was_typed(demo, contoso, client_for):
    c = client_for(demo.users["wd_admin"])
    url = f"{reverse('support:pbi_new')}?scope={scope_of(demo)}&plan=standard"
    page = c.get(url).content.decode()
    assert 'value="wd.admin@contoso.example"' in page and "NL853746333B01" in page and "Contoso B.V." in page
    response = c.post(url, {**details(), "website": "not a url", "justification": "Keep me", "confirm": "on"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Enter a valid web address." in page and "Keep me" in page
    assert not PayByInvoiceRequest.objects.exists()
    # Back on the form later (e.g. after the profile page): what was typed is still there.
    assert "Keep me" in c.get(url).content.decode()


def test_pbi_6_differences_with_the_profile_are_shown_side_by_side(demo, contoso, client_for):
    c = client_for(demo.users["wd_admin"])
    url = f"{reverse('support:pbi_new')}?scope={scope_of(demo)}&plan=standard"
    page = c.post(url, {**details(), "company_name": "Contoso Holding", "confirm": "on"}).content.decode()
    assert "Contoso Holding" in page and "Contoso B.V." in page
    assert reverse("accounts:profile", args=[demo.accounts["contoso"].pk]) in page
    assert not PayByInvoiceRequest.objects.exists()


def test_pbi_4_the_marketplace_blocker_links_to_removing_it(demo, client_for):
    c = client_for(demo.users["wd_admin"])
    url = f"{reverse('support:pbi_new')}?scope={scope_of(demo, 'contoso_campaigns')}&plan=standard"
    page = c.get(url).content.decode()
    service = MarketplaceService.objects.get(subscription=demo.subscriptions["contoso_campaigns"])
    remove = reverse(
        "accounts:marketplace_remove", args=[demo.subscriptions["contoso_campaigns"].subscription_id, service.pk]
    )
    assert "Bulk Mail Relay" in page and remove in page
    assert c.get(remove).status_code == 200 and MarketplaceService.objects.filter(pk=service.pk).exists()
    response = c.post(remove, {"next": url})
    assert response.status_code == 302 and response["Location"] == url
    assert not MarketplaceService.objects.filter(pk=service.pk).exists()


def test_pbi_3_an_individual_account_is_told_why(demo, client_for):
    c = client_for(demo.users["wd_individual"])
    page = c.get(f"{reverse('support:pbi_new')}?scope={scope_of(demo, 'individual')}&plan=basic").content.decode()
    assert "check-blocking" in page and 'data-code="business_account"' in page


def test_pbi_created_from_the_page_and_listed_in_my_requests(
    demo, contoso, client_for, django_capture_on_commit_callbacks
):
    c = client_for(demo.users["wd_admin"])
    url = f"{reverse('support:pbi_new')}?scope={scope_of(demo)}&plan=standard"
    with django_capture_on_commit_callbacks(execute=True):
        response = c.post(url, {**details(), "confirm": "on"})
    pbi = PayByInvoiceRequest.objects.get()
    assert response["Location"] == reverse("support:request", args=[pbi.pk])
    assert pbi.reference in c.get(reverse("support:my_requests")).content.decode()
    assert pbi.reference in c.get(reverse("support:request", args=[pbi.pk])).content.decode()


def test_staff_queue_holds_both_kinds_and_the_navigation_counts_them(demo, pbi, client_for):
    staff = client_for(demo.users["support"])
    page = staff.get(reverse("support:queue")).content.decode()
    assert pbi.reference in page
    assert '<span class="badge"' in page
    filtered = staff.get(reverse("support:queue"), {"kind": "invoice_amendment", "status": "open"}).content.decode()
    assert pbi.reference not in filtered


def test_irreversible_staff_steps_write_nothing_before_confirmation(demo, pbi, client_for):
    staff = client_for(demo.users["support"])
    url = reverse("support:staff_request", args=[pbi.pk])
    page = staff.post(url, {"action": "reject", "reason": "No credit."}).content.decode()
    assert "Reject the request?" in page and "No credit." in page
    page = staff.post(url, {"action": "send_credit_application"}).content.decode()
    assert "Send the credit application?" in page
    pbi.refresh_from_db()
    assert pbi.status == RequestStatus.SUBMITTED and not pbi.events.exclude(action="created").exists()
    response = staff.post(url, {"action": "reject", "reason": "No credit.", "confirmed": "yes"})
    assert response.status_code == 302
    pbi.refresh_from_db()
    assert pbi.status == RequestStatus.REJECTED and pbi.rejection_reason == "No credit."


def test_staff_sees_internal_notes_the_customer_does_not(demo, pbi, client_for):
    staff = client_for(demo.users["support"])
    staff.post(reverse("support:staff_request", args=[pbi.pk]), {"action": "note", "note": "Only for us"})
    assert "Only for us" in staff.get(reverse("support:staff_request", args=[pbi.pk])).content.decode()
    customer = client_for(demo.users["wd_admin"]).get(reverse("support:request", args=[pbi.pk])).content.decode()
    assert "Only for us" not in customer


def test_pages_in_dutch(demo, pbi, client_for):
    page = client_for(demo.users["wd_invoice_admin"]).get(reverse("support:help")).content.decode()
    assert "Nieuwe ondersteuningsaanvraag" in page or "Nieuwe supportaanvraag" in page


def test_pbi_3_the_invoice_page_sends_no_individual_to_pay_by_invoice(demo, client_for):
    individual = demo.subscriptions["individual"]
    page = (
        client_for(demo.users["wd_individual"])
        .get(reverse("purchase_orders:web_direct_po", args=[individual.subscription_id]))
        .content.decode()
    )
    assert 'id="individual-pays-by-card"' in page and reverse("support:request_new") not in page
    business = demo.subscriptions["contoso_prod"]
    page = (
        client_for(demo.users["wd_admin"])
        .get(reverse("purchase_orders:web_direct_po", args=[business.subscription_id]))
        .content.decode()
    )
    assert f"{reverse('support:request_new')}?scope=s{business.pk}" in page


def test_pbi_staff_page_links_each_recent_invoice_to_its_pdf(demo, pbi, client_for):
    invoice = make_invoice(demo.profiles["contoso"], dt.date(2026, 10, 1))
    html = client_for(demo.users["support"]).get(reverse("support:staff_request", args=[pbi.pk])).content.decode()
    assert reverse("invoices:support_pdf", args=[invoice.pk]) in html
