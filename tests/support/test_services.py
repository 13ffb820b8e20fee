"""Pay by invoice through the services (PBI-1..PBI-9): each check blocks or warns as its
rule says, every step is recorded and e-mailed once, and the switch holds for good."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail

from accounts import permissions
from accounts import services as account_services
from accounts.models import BillingProfile, MarketplaceService
from billing_portal.errors import Conflict, InvalidInput, NotAllowed
from invoices import services as invoice_services
from invoices.models import Charge, Invoice, PaymentTerms
from notifications.models import Notification
from support import prechecks, services
from support.models import PayByInvoiceRequest, RequestStatus

pytestmark = pytest.mark.django_db

CARD = "4111 1111 1111 1111"


def details(**overrides):
    data = {
        "support_plan": "standard",
        "customer_type": "existing",
        "current_payment_method": "Visa ending 4242",
        "order_id": "ORD-1",
        "admin_sign_in": "wd.admin@contoso.example",
        "commerce_account_id": "BA-000001",
        "company_name": "Contoso B.V.",
        "company_address": "Herengracht 182\n1016 BR Amsterdam",
        "website": "https://contoso.example",
        "country": "NL",
        "vat_id": "NL853746333B01",
        "year_established": "1998",
        "prior_business": "",
        "contact_name": "Contoso Finance",
        "contact_phone": "+31 20 123 4567",
        "contact_email": "finance@contoso.example",
        "justification": "Our finance department pays suppliers by wire transfer only.",
        "preferred_contact": "email",
    }
    return {**data, **overrides}


@pytest.fixture
def contoso(demo):
    """The card-paying business web-direct scope, its marketplace service removed."""
    MarketplaceService.objects.filter(subscription__account=demo.accounts["contoso"]).delete()
    return demo.profiles["contoso"]


def create(demo, profile, capture, **overrides):
    with capture(execute=True):
        return services.pbi_request_create(
            profile=profile,
            subscription=demo.subscriptions["contoso_prod"],
            actor=demo.users["wd_admin"],
            data=details(**overrides),
            confirmed=True,
        )


def test_pbi_1_the_account_admin_files_a_request_with_its_prechecks(demo, contoso, django_capture_on_commit_callbacks):
    request = create(demo, contoso, django_capture_on_commit_callbacks)
    assert request.status == RequestStatus.SUBMITTED and request.created_by == demo.users["wd_admin"]
    assert {check["code"] for check in request.prechecks} >= {
        "business_account",
        "marketplace_services",
        "billing_contact",
    }
    assert all(check["ok"] or not check["blocking"] for check in request.prechecks)
    assert list(request.events.values_list("action", flat=True)) == ["created"]
    received = set(Notification.objects.filter(kind="pbi_received").values_list("recipient", flat=True))
    assert received == {"wd.admin@contoso.example", "finance@contoso.example"}  # the admin and the named contact
    waiting = set(Notification.objects.filter(kind="pbi_waiting").values_list("recipient", flat=True))
    assert waiting == {"support@portal.example"}


def test_pbi_1_roles_that_may_not_ask_are_refused(demo, contoso):
    for key in ("ea_admin", "ca_ba_reader", "support"):
        with pytest.raises(NotAllowed):
            services.pbi_request_create(
                profile=contoso,
                subscription=demo.subscriptions["contoso_prod"],
                actor=demo.users[key],
                data=details(),
                confirmed=True,
            )
    assert not PayByInvoiceRequest.objects.exists()


def test_pbi_2_every_field_is_validated_and_nothing_is_written(demo, contoso):
    with pytest.raises(InvalidInput) as refused:
        services.pbi_request_create(
            profile=contoso,
            subscription=demo.subscriptions["contoso_prod"],
            actor=demo.users["wd_admin"],
            data=details(
                website="not a url", year_established="1700", contact_email="nope", vat_id="NL123", contact_phone="x"
            ),
            confirmed=True,
        )
    assert set(refused.value.fields) >= {"website", "year_established", "contact_email", "vat_id", "contact_phone"}
    assert not PayByInvoiceRequest.objects.exists()


def test_pbi_2_a_card_number_in_a_free_text_field_is_refused_and_not_echoed(demo, contoso):
    with pytest.raises(InvalidInput) as refused:
        services.pbi_request_create(
            profile=contoso,
            subscription=demo.subscriptions["contoso_prod"],
            actor=demo.users["wd_admin"],
            data=details(justification=f"pay with {CARD}"),
            confirmed=True,
        )
    assert "justification" in refused.value.fields and "4111" not in str(refused.value.fields)
    assert not PayByInvoiceRequest.objects.exists()


def test_pbi_2_sign_in_id_off_the_company_domain_warns():
    from support import details as request_details

    assert request_details.warnings({"admin_sign_in": "a@gmail.example", "website": "https://contoso.example"})
    assert not request_details.warnings(
        {"admin_sign_in": "a@contoso.example", "website": "https://www.contoso.example"}
    )


def test_pbi_3_an_individual_account_cannot_ask(demo):
    profile = demo.profiles["individual"]
    subscription = demo.subscriptions["individual"]
    checks = prechecks.run_prechecks(profile=profile, subscription=subscription)
    assert [c for c in checks if c["code"] == "business_account"][0]["blocking"]
    with pytest.raises(Conflict) as refused:
        services.pbi_request_create(
            profile=profile,
            subscription=subscription,
            actor=demo.users["wd_individual"],
            data=details(company_name=profile.account.company_name or profile.account.name),
            confirmed=True,
        )
    assert refused.value.code == "pbi_precheck_failed" and "business_account" in refused.value.fields


def test_pbi_4_a_marketplace_service_blocks_the_request_until_removed(demo, django_capture_on_commit_callbacks):
    profile = demo.profiles["contoso"]
    campaigns = demo.subscriptions["contoso_campaigns"]
    with pytest.raises(Conflict) as refused:
        services.pbi_request_create(
            profile=profile, subscription=campaigns, actor=demo.users["wd_admin"], data=details(), confirmed=True
        )
    assert "marketplace_services" in refused.value.fields
    check = [c for c in prechecks.run_prechecks(profile=profile, subscription=campaigns) if c["rule"] == "PBI-4"][0]
    assert check["items"][0]["label"].startswith("Bulk Mail Relay")
    service = campaigns.marketplace_services.get()
    with pytest.raises(NotAllowed):
        account_services.marketplace_service_remove(service=service, actor=demo.users["ea_admin"])
    account_services.marketplace_service_remove(service=service, actor=demo.users["wd_admin"])
    with django_capture_on_commit_callbacks(execute=True):
        request = services.pbi_request_create(
            profile=profile, subscription=campaigns, actor=demo.users["wd_admin"], data=details(), confirmed=True
        )
    assert request.status == RequestStatus.SUBMITTED


def test_pbi_5_the_customer_must_confirm_that_the_switch_is_for_good(demo, contoso):
    with pytest.raises(InvalidInput) as refused:
        services.pbi_request_create(
            profile=contoso,
            subscription=demo.subscriptions["contoso_prod"],
            actor=demo.users["wd_admin"],
            data=details(),
            confirmed=False,
        )
    assert refused.value.code == "confirmation_required"


def test_pbi_6_company_name_and_address_must_match_the_profile(demo, contoso):
    with pytest.raises(Conflict) as refused:
        services.pbi_request_create(
            profile=contoso,
            subscription=demo.subscriptions["contoso_prod"],
            actor=demo.users["wd_admin"],
            data=details(company_name="Contoso Holding Ltd"),
            confirmed=True,
        )
    assert "company_matches_profile" in refused.value.fields
    check = [
        c
        for c in prechecks.run_prechecks(profile=contoso, data=details(company_name="Other"))
        if c["code"] == "company_matches_profile"
    ][0]
    assert check["items"] == [{"label": "company_name", "detail": "Other", "url": "Contoso B.V."}]


def test_one_open_request_per_scope(demo, contoso, django_capture_on_commit_callbacks):
    create(demo, contoso, django_capture_on_commit_callbacks)
    with pytest.raises(Conflict):
        create(demo, contoso, django_capture_on_commit_callbacks)
    assert PayByInvoiceRequest.objects.count() == 1


def _walk_to_credit_review(demo, request, capture):
    support = demo.users["support"]
    with capture(execute=True):
        services.pbi_ask_information(request=request, actor=support, message="What credit limit do you need?")
        services.pbi_request_answer(request=request, actor=demo.users["wd_admin"], message="About 50,000 EUR.")
        services.pbi_send_credit_application(request=request, actor=support)
        services.credit_application_submit(
            request=request,
            actor=demo.users["wd_admin"],
            data={
                "requested_limit": "50000",
                "annual_revenue": "1m_10m",
                "bank_name": "ING",
                "trade_references": "Fabrikam, finance@fabrikam.example",
            },
        )
    request.refresh_from_db()
    return request


def test_pbi_8_credit_application_then_a_decision_in_5_to_7_days(
    demo, contoso, clock, django_capture_on_commit_callbacks
):
    clock.set(dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC))
    request = create(demo, contoso, django_capture_on_commit_callbacks)
    request = _walk_to_credit_review(demo, request, django_capture_on_commit_callbacks)
    assert request.status == RequestStatus.CREDIT_REVIEW
    assert request.credit_application.submitted_at is not None
    from support.scopes import decision_dates

    assert decision_dates(request) == (dt.date(2026, 11, 7), dt.date(2026, 11, 9))
    assert list(request.events.values_list("action", flat=True)) == [
        "created",
        "asked_information",
        "answered",
        "credit_application_sent",
        "credit_application_returned",
    ]


def test_pbi_9_approval_switches_the_scope_and_mails_the_instructions(
    demo, contoso, django_capture_on_commit_callbacks
):
    request = create(demo, contoso, django_capture_on_commit_callbacks)
    request = _walk_to_credit_review(demo, request, django_capture_on_commit_callbacks)
    support = demo.users["support"]
    with pytest.raises(Conflict):  # no credit decision yet
        services.pbi_approve(request=request, actor=support)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.pbi_record_credit_decision(request=request, actor=support, decision="approved", credit_limit="50000")
        services.pbi_approve(request=request, actor=support)
    request.refresh_from_db()
    assert request.status == RequestStatus.APPROVED and request.credit_limit == Decimal("50000")
    contoso = BillingProfile.objects.select_related("account").get(pk=contoso.pk)
    assert permissions.pays_by_invoice(contoso)
    approved = [m for m in mail.outbox if "Approved" in m.subject]
    assert approved and "IBAN" in approved[0].body and "30 days" in approved[0].body
    assert invoice_services.payment_terms_for(contoso) == PaymentTerms.BANK_TRANSFER
    # PBI-5: no card stays active on the scope's subscriptions.
    assert not contoso.subscriptions.filter(payment_method__isnull=False).exists()


def test_pbi_7_no_credit_approval_and_no_approval_without_a_billing_contact(
    demo, contoso, django_capture_on_commit_callbacks
):
    request = create(demo, contoso, django_capture_on_commit_callbacks)
    account = demo.accounts["contoso"]
    account.billing_contact_name = account.billing_contact_email = ""
    account.save(update_fields=["billing_contact_name", "billing_contact_email"])
    with pytest.raises(Conflict) as refused:
        services.pbi_record_credit_decision(
            request=request, actor=demo.users["support"], decision="approved", credit_limit="1000"
        )
    assert refused.value.code == "billing_contact_missing"
    PayByInvoiceRequest.objects.filter(pk=request.pk).update(credit_decision="approved", credit_limit=1000)
    request.refresh_from_db()
    with pytest.raises(Conflict) as refused:
        services.pbi_approve(request=request, actor=demo.users["support"])
    assert refused.value.code == "pbi_precheck_failed"
    assert not permissions.pays_by_invoice(demo.profiles["contoso"])


def test_pbi_9_a_customer_never_reaches_a_staff_step(demo, contoso, django_capture_on_commit_callbacks):
    request = create(demo, contoso, django_capture_on_commit_callbacks)
    admin = demo.users["wd_admin"]
    for step, kwargs in (
        (services.pbi_ask_information, {"message": "x"}),
        (services.pbi_send_credit_application, {}),
        (services.pbi_record_credit_decision, {"decision": "approved", "credit_limit": "1"}),
        (services.pbi_approve, {}),
        (services.pbi_reject, {"reason": "x"}),
        (services.pbi_add_note, {"note": "x"}),
    ):
        with pytest.raises(NotAllowed):
            step(request=request, actor=admin, **kwargs)
    with pytest.raises(NotAllowed):
        account_services.billing_scope_switch_to_invoice(profile=contoso, actor=admin)
    assert not permissions.pays_by_invoice(contoso)


def test_rejection_keeps_the_card_and_tells_the_customer_once(demo, contoso, django_capture_on_commit_callbacks):
    request = create(demo, contoso, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        services.pbi_reject(request=request, actor=demo.users["support"], reason="Credit check failed.")
    request.refresh_from_db()
    assert request.status == RequestStatus.REJECTED and not permissions.pays_by_invoice(contoso)
    rejected = Notification.objects.filter(kind="pbi_rejected")
    assert rejected.count() == len({n.recipient for n in rejected}) >= 1
    with pytest.raises(Conflict):
        services.pbi_reject(request=request, actor=demo.users["support"], reason="again")


def test_internal_notes_stay_internal(demo, contoso, django_capture_on_commit_callbacks):
    request = create(demo, contoso, django_capture_on_commit_callbacks)
    services.pbi_add_note(request=request, actor=demo.users["support"], note="Checked the chamber of commerce.")
    note = request.messages.get()
    assert note.internal and note.from_support


def test_customer_agreement_switches_only_the_requested_billing_profile(demo, django_capture_on_commit_callbacks):
    nl, de = demo.profiles["woodgrove_nl"], demo.profiles["woodgrove_de"]
    MarketplaceService.objects.filter(subscription__account=demo.accounts["woodgrove"]).delete()
    data = details(
        admin_sign_in="ca.owner@woodgrove.example",
        company_name="Woodgrove Bank N.V.",
        vat_id="NL810433941B01",
        contact_email="finance@woodgrove.example",
        website="https://woodgrove.example",
    )
    with django_capture_on_commit_callbacks(execute=True):
        request = services.pbi_request_create(profile=nl, actor=demo.users["ca_owner"], data=data, confirmed=True)
        services.pbi_record_credit_decision(
            request=request, actor=demo.users["support"], decision="approved", credit_limit="10000"
        )
        services.pbi_approve(request=request, actor=demo.users["support"])
    nl.refresh_from_db()
    de.refresh_from_db()
    assert permissions.pays_by_invoice(nl) and not permissions.pays_by_invoice(de)


def test_pbi_4_after_the_switch_marketplace_charges_are_refused(demo, clock, django_capture_on_commit_callbacks):
    fabrikam = demo.profiles["fabrikam"]  # pays by invoice
    subscription = fabrikam.subscriptions.first()
    row = {
        "subscription_id": str(subscription.subscription_id),
        "period": "2026-01",
        "service_name": "Bulk Mail Relay",
        "meter": "messages",
        "quantity": "10",
        "unit_price": "1",
        "currency": fabrikam.account.currency,
        "is_marketplace": "true",
    }
    report = invoice_services.charge_import(rows=[row], actor=None, source="test")
    assert report.accepted == 0 and "PBI-4" in report.rejected[0]["errors"][0]

    # A marketplace charge recorded before the switch is left out of the invoice, with a reason.
    def charge(**kwargs):
        return Charge.objects.create(
            subscription=subscription, profile=fabrikam, period=dt.date(2026, 1, 1), currency=fabrikam.account.currency,
            meter="hours", **kwargs,
        )  # fmt: skip

    charge(service_name="Virtual Machines", quantity=2, unit_price=5, amount=10)
    marketplace = Charge.objects.create(
        subscription=subscription,
        profile=fabrikam,
        period=dt.date(2026, 1, 1),
        service_name="Bulk Mail Relay",
        meter="messages",
        quantity=1,
        unit_price=7,
        amount=7,
        currency=fabrikam.account.currency,
        is_marketplace=True,
    )
    clock.set(dt.datetime(2026, 2, 1, 6, 0, tzinfo=dt.UTC))
    with django_capture_on_commit_callbacks(execute=True):
        invoice_services.billing_run_start(period=dt.date(2026, 1, 1))
    invoice = Invoice.objects.get(profile=fabrikam)
    assert invoice.subtotal == Decimal("10.00")
    assert not invoice.lines.filter(is_marketplace=True).exists()
    marketplace.refresh_from_db()
    assert marketplace.not_billed_reason == "marketplace_on_invoice_scope"


def test_po_1_a_card_paying_account_gets_no_po_number_through_an_amendment_request(demo):
    from purchase_orders import services as po_services
    from purchase_orders.models import AmendmentRequest
    from tests.purchase_orders.conftest import make_invoice

    invoice = make_invoice(demo.profiles["contoso"], dt.date(2026, 10, 1))
    with pytest.raises(NotAllowed) as refused:
        po_services.amendment_request_create(
            invoice=invoice, actor=demo.users["wd_admin"], message="Please add our PO", po_number="PO-1"
        )
    assert refused.value.code == "pay_by_invoice_required"
    # A request filed before this rule held is refused at approval, and nothing is printed.
    request = AmendmentRequest.objects.create(
        account=invoice.account,
        profile=invoice.profile,
        invoice=invoice,
        change_po_number=True,
        po_number="PO-1",
        message="old request",
        requested_by=demo.users["wd_admin"],
    )
    with pytest.raises(NotAllowed):
        po_services.amendment_request_approve(request=request, actor=demo.users["support"])
    invoice.refresh_from_db()
    assert invoice.current_revision.po_number == ""
