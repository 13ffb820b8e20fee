"""The pay-by-invoice API, customer's side (PBI-1..PBI-6, PBI-8): the same services,
selectors and predicates as the pages; errors are {code, detail, fields}."""

import pytest

from accounts.models import MarketplaceService
from notifications.models import Notification
from support.models import PayByInvoiceRequest, RequestStatus

pytestmark = pytest.mark.django_db

BASE = "/api/v1/support/"
REQUESTS = BASE + "pay-by-invoice-requests/"
CARD = "4111 1111 1111 1111"


def create(api, payload):
    return api.post(REQUESTS, payload, format="json")


@pytest.fixture
def contoso_request(demo, api_for, pbi_payload, contoso_ready):
    response = create(api_for(demo.users["wd_admin"]), pbi_payload(demo.users["wd_admin"], contoso_ready))
    assert response.status_code == 201, response.json()
    return PayByInvoiceRequest.objects.get(pk=response.json()["id"])


def customer_endpoints(pk):
    return [
        ("get", BASE + "request-types/"),
        ("get", BASE + "scopes/"),
        ("get", BASE + "prechecks/?scope=s1"),
        ("get", REQUESTS),
        ("post", REQUESTS),
        ("get", f"{REQUESTS}{pk}/"),
        ("post", f"{REQUESTS}{pk}/answer/"),
        ("post", f"{REQUESTS}{pk}/messages/"),
        ("post", f"{REQUESTS}{pk}/cancel/"),
        ("post", f"{REQUESTS}{pk}/credit-application/"),
    ]


def staff_endpoints(pk):
    queue = f"{BASE}queue/pay-by-invoice/{pk}/"
    return [
        ("get", BASE + "queue/"),
        ("get", queue),
        ("post", queue + "ask-information/"),
        ("post", queue + "notes/"),
        ("post", queue + "send-credit-application/"),
        ("post", queue + "credit-decision/"),
        ("post", queue + "approve/"),
        ("post", queue + "reject/"),
    ]


def test_anonymous_gets_401_on_every_endpoint(api_for, contoso_request):
    c = api_for(None)
    for method, url in customer_endpoints(contoso_request.pk) + staff_endpoints(contoso_request.pk):
        response = getattr(c, method)(url, {}, format="json") if method == "post" else c.get(url)
        assert response.status_code == 401, (method, url)
        assert set(response.json()) == {"code", "detail", "fields"}, url
    contoso_request.refresh_from_db()
    assert contoso_request.status == RequestStatus.SUBMITTED


def test_pbi_1_other_tenant_gets_404_for_a_request_and_a_scope(demo, api_for, other_tenant, contoso_request):
    c = api_for(other_tenant)
    pk = contoso_request.pk
    for method, url in customer_endpoints(pk)[5:]:
        body = {"message": "hello", "requested_limit": "1000"}
        response = getattr(c, method)(url, body, format="json") if method == "post" else c.get(url)
        assert response.status_code == 404 and response.json()["code"] == "not_found", url
    assert c.get(REQUESTS).json()["results"] == []
    scope = f"s{contoso_request.subscription_id}"
    assert c.get(f"{BASE}prechecks/?scope={scope}").status_code == 404
    assert create(c, {"scope": scope, "confirm": True}).status_code == 404
    assert PayByInvoiceRequest.objects.count() == 1 and contoso_request.messages.count() == 0


def test_customer_on_staff_endpoints_gets_403(demo, api_for, contoso_request):
    c = api_for(demo.users["wd_admin"])
    for pk in (contoso_request.pk, 999_999):
        for method, url in staff_endpoints(pk):
            body = {"message": "x", "note": "x", "decision": "approved", "credit_limit": "1", "reason": "x"}
            response = getattr(c, method)(url, body, format="json") if method == "post" else c.get(url)
            assert response.status_code == 403, (method, url)
    contoso_request.refresh_from_db()
    assert contoso_request.status == RequestStatus.SUBMITTED and contoso_request.credit_decision == ""


def test_request_types_and_scopes(demo, api_for):
    types = api_for(demo.users["wd_admin"]).get(BASE + "request-types/").json()
    assert [t["code"] for t in types] == ["pay_by_invoice", "invoice_amendment"]
    contoso = api_for(demo.users["wd_admin"]).get(BASE + "scopes/").json()
    assert {s["value"] for s in contoso} == {
        f"s{demo.subscriptions[key].pk}" for key in ("contoso_prod", "contoso_staging", "contoso_campaigns")
    }
    assert all(s["profile"] == demo.profiles["contoso"].pk and s["subscription"] for s in contoso)
    woodgrove = api_for(demo.users["ca_owner"]).get(BASE + "scopes/").json()
    assert {s["value"] for s in woodgrove} == {
        f"p{demo.profiles['woodgrove_nl'].pk}",
        f"p{demo.profiles['woodgrove_de'].pk}",
    }
    assert all(s["subscription"] is None and s["agreement_type"] == "customer_agreement" for s in woodgrove)
    profile_owner = api_for(demo.users["ca_bp_owner"]).get(BASE + "scopes/").json()
    assert [s["value"] for s in profile_owner] == [f"p{demo.profiles['woodgrove_de'].pk}"]
    assert api_for(demo.users["ca_ba_reader"]).get(BASE + "scopes/").json() == []


@pytest.mark.parametrize("key", ["ca_ba_reader", "ca_bp_reader", "ca_bp_contributor", "ca_invoice_manager"])
def test_pbi_1_reader_role_gets_403_on_create_and_prechecks(demo, api_for, pbi_payload, key):
    scope = f"p{demo.profiles['woodgrove_nl'].pk}"
    payload = pbi_payload(demo.users["ca_owner"], scope)
    c = api_for(demo.users[key])
    response = create(c, payload)
    assert response.status_code == 403 and response.json()["code"] == "pbi_role_not_allowed"
    prechecks = c.get(f"{BASE}prechecks/?scope={scope}")
    assert prechecks.status_code == 403 and prechecks.json()["code"] == "pbi_role_not_allowed"
    assert not PayByInvoiceRequest.objects.exists() and not Notification.objects.exists()


def test_pbi_1_customer_agreement_profile_owner_requests_for_their_profile(demo, api_for, pbi_payload):
    user = demo.users["ca_bp_owner"]
    de = f"p{demo.profiles['woodgrove_de'].pk}"
    response = create(api_for(user), pbi_payload(user, de, website="https://woodgrove.example"))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["profile"] == demo.profiles["woodgrove_de"].pk and body["subscription"] is None
    nl = pbi_payload(demo.users["ca_owner"], f"p{demo.profiles['woodgrove_nl'].pk}")
    assert create(api_for(user), nl).status_code == 404  # not a profile they can see


def test_pbi_3_individual_account_refused(demo, api_for, pbi_payload):
    user = demo.users["wd_individual"]
    scope = api_for(user).get(BASE + "scopes/").json()[0]["value"]
    checks = api_for(user).get(f"{BASE}prechecks/?scope={scope}").json()
    assert checks["blocked"]
    assert next(c for c in checks["checks"] if c["code"] == "business_account")["blocking"]
    # The details are valid (an individual has no VAT number on the profile: one is typed).
    response = create(api_for(user), pbi_payload(user, scope, vat_id="NL853746333B01", website="https://smit.example"))
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "pbi_precheck_failed" and "business_account" in response.json()["fields"]
    assert not PayByInvoiceRequest.objects.exists()


def test_pbi_4_marketplace_blocker_refuses_create(demo, api_for, pbi_payload):
    user = demo.users["wd_admin"]
    scope = f"s{demo.subscriptions['contoso_campaigns'].pk}"
    checks = api_for(user).get(f"{BASE}prechecks/?scope={scope}").json()
    marketplace = next(c for c in checks["checks"] if c["code"] == "marketplace_services")
    assert marketplace["rule"] == "PBI-4" and marketplace["blocking"] and marketplace["fix"]
    assert marketplace["items"][0]["label"].startswith("Bulk Mail Relay") and marketplace["items"][0]["url"]
    response = create(api_for(user), pbi_payload(user, scope))
    assert response.status_code == 409 and response.json()["code"] == "pbi_precheck_failed"
    assert list(response.json()["fields"]) == ["marketplace_services"]
    assert not PayByInvoiceRequest.objects.exists() and not Notification.objects.exists()
    # Another subscription of the account holds no marketplace service.
    prod = f"s{demo.subscriptions['contoso_prod'].pk}"
    assert create(api_for(user), pbi_payload(user, prod)).status_code == 201


def test_pbi_4_removing_the_service_clears_the_blocker(demo, api_for, contoso_ready):
    checks = api_for(demo.users["wd_admin"]).get(f"{BASE}prechecks/?scope={contoso_ready}").json()
    assert not checks["blocked"] and not MarketplaceService.objects.exists()


def test_pbi_5_scope_that_already_pays_by_invoice_is_refused(demo, api_for, pbi_payload):
    user = demo.users["wd_invoice_admin"]
    scope = api_for(user).get(BASE + "scopes/").json()[0]["value"]
    response = create(api_for(user), pbi_payload(user, scope, website="https://fabrikam.example"))
    assert response.status_code == 409 and "already_pays_by_invoice" in response.json()["fields"]


def test_pbi_5_create_needs_the_confirmation(demo, api_for, pbi_payload, contoso_ready):
    user = demo.users["wd_admin"]
    response = create(api_for(user), pbi_payload(user, contoso_ready, confirm=False))
    assert response.status_code == 400 and response.json()["code"] == "confirmation_required"
    assert "confirm" in response.json()["fields"] and not PayByInvoiceRequest.objects.exists()


def test_pbi_1_one_open_request_per_scope(demo, api_for, pbi_payload, contoso_request):
    user = demo.users["wd_admin"]
    again = create(api_for(user), pbi_payload(user, f"s{contoso_request.subscription_id}"))
    assert again.status_code == 409 and "open_request" in again.json()["fields"]
    assert PayByInvoiceRequest.objects.count() == 1


def test_pbi_6_prechecks_compare_the_typed_company_with_the_profile(demo, api_for, pbi_payload, contoso_ready):
    user = demo.users["wd_admin"]
    c = api_for(user)
    plain = c.get(f"{BASE}prechecks/", {"scope": contoso_ready}).json()
    assert "company_matches_profile" not in {check["code"] for check in plain["checks"]}
    typed = pbi_payload(user, contoso_ready)
    same = c.get(
        f"{BASE}prechecks/",
        {"scope": contoso_ready, "company_name": typed["company_name"], "company_address": typed["company_address"]},
    ).json()
    assert next(check for check in same["checks"] if check["code"] == "company_matches_profile")["ok"]
    other = c.get(
        f"{BASE}prechecks/",
        {"scope": contoso_ready, "company_name": "Contoso Holding", "company_address": typed["company_address"]},
    ).json()
    check = next(check for check in other["checks"] if check["code"] == "company_matches_profile")
    assert check["rule"] == "PBI-6" and check["blocking"] and [i["label"] for i in check["items"]] == ["company_name"]
    response = create(c, {**typed, "company_name": "Contoso Holding"})
    assert response.status_code == 409 and "company_matches_profile" in response.json()["fields"]


def test_prechecks_need_a_scope(demo, api_for):
    c = api_for(demo.users["wd_admin"])
    response = c.get(f"{BASE}prechecks/")
    assert response.status_code == 400 and "scope" in response.json()["fields"]
    assert c.get(f"{BASE}prechecks/?scope=nonsense").status_code == 404


def test_pbi_2_invalid_details_give_400_per_field_and_create_nothing(demo, api_for, pbi_payload, contoso_ready):
    user = demo.users["wd_admin"]
    payload = pbi_payload(
        user,
        contoso_ready,
        support_plan="platinum",
        admin_sign_in="not-an-email",
        year_established="nineteen",
        contact_phone="call me",
        justification=f"Card {CARD} is blocked",
        requested_cores="-3",
        country="XX",
    )
    del payload["commerce_account_id"]
    response = create(api_for(user), payload)
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["code"] == "invalid"
    assert {
        "support_plan",
        "admin_sign_in",
        "year_established",
        "contact_phone",
        "justification",
        "requested_cores",
        "country",
        "commerce_account_id",
    } <= set(body["fields"])
    assert "4111" not in response.content.decode()
    assert not PayByInvoiceRequest.objects.exists() and not Notification.objects.exists()


def test_pbi_2_non_scalar_values_are_refused_by_shape(demo, api_for, pbi_payload, contoso_ready):
    user = demo.users["wd_admin"]
    response = create(api_for(user), pbi_payload(user, contoso_ready, company_name=["Contoso"], confirm="maybe"))
    assert response.status_code == 400 and {"company_name", "confirm"} <= set(response.json()["fields"])


def test_detail_shows_history_and_hides_internal_notes(demo, api_for, contoso_request):
    from support import services

    services.pbi_add_note(request=contoso_request, actor=demo.users["support"], note="Called the bank.")
    services.pbi_ask_information(request=contoso_request, actor=demo.users["support"], message="Which bank?")
    body = api_for(demo.users["wd_admin"]).get(f"{REQUESTS}{contoso_request.pk}/").json()
    assert body["status"] == "needs_information" and body["reference"] == contoso_request.reference
    assert [e["action"] for e in body["events"]] == ["created", "note", "asked_information"]
    assert [m["body"] for m in body["messages"]] == ["Which bank?"]
    assert body["messages"][0]["from_support"] and body["messages"][0]["author_name"] is None
    assert "Called the bank." not in str(body)
    assert body["credit_application"] is None and body["decision_expected"] is None
    assert body["company_name"] == "Contoso B.V." and body["country"] == "NL"


def test_customer_steps_refuse_card_numbers_and_closed_requests(demo, api_for, contoso_request):
    c = api_for(demo.users["wd_admin"])
    url = f"{REQUESTS}{contoso_request.pk}/"
    card = c.post(url + "messages/", {"message": f"my card is {CARD}"}, format="json")
    assert (
        card.status_code == 400 and card.json()["code"] == "card_number_refused" and "4111" not in card.content.decode()
    )
    empty = c.post(url + "messages/", {}, format="json")
    assert empty.status_code == 400 and "message" in empty.json()["fields"]
    not_asked = c.post(url + "answer/", {"message": "Here it is"}, format="json")
    assert not_asked.status_code == 409 and not_asked.json()["code"] == "request_status"
    no_application = c.post(
        url + "credit-application/",
        {"requested_limit": "1000", "annual_revenue": "under_1m", "bank_name": "ING", "trade_references": "X"},
        format="json",
    )
    assert no_application.status_code == 409
    assert c.post(url + "messages/", {"message": "Any news?"}, format="json").status_code == 200
    cancelled = c.post(url + "cancel/")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["closed_at"]
    assert c.post(url + "cancel/").status_code == 409
    assert c.post(url + "messages/", {"message": "Hello?"}, format="json").status_code == 409


def test_my_requests_list_uses_a_constant_number_of_queries(
    demo, api_for, pbi_payload, contoso_request, django_assert_max_num_queries
):
    c = api_for(demo.users["ca_owner"])
    with django_assert_max_num_queries(6):
        assert c.get(REQUESTS).json()["results"] == []
    for key in ("woodgrove_nl", "woodgrove_de"):
        payload = pbi_payload(demo.users["ca_owner"], f"p{demo.profiles[key].pk}", website="https://woodgrove.example")
        assert create(c, payload).status_code == 201
    c = api_for(demo.users["ca_owner"])
    with django_assert_max_num_queries(6):
        body = c.get(REQUESTS).json()
    assert len(body["results"]) == 2 and {r["profile_name"] for r in body["results"]} == {
        "Woodgrove Nederland",
        "Woodgrove Deutschland",
    }
    assert api_for(demo.users["wd_admin"]).get(REQUESTS).json()["results"][0]["id"] == contoso_request.pk
