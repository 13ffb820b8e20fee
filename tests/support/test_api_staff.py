"""The pay-by-invoice API, support staff's side (PBI-7..PBI-9) and the round trip
through the API; each step e-mails whom it concerns once."""

import datetime as dt

import pytest
from django.core import mail

from accounts.permissions import pays_by_invoice
from notifications.models import Notification
from support.models import PayByInvoiceRequest, RequestStatus
from tests.purchase_orders.conftest import make_invoice

pytestmark = pytest.mark.django_db

BASE = "/api/v1/support/"
REQUESTS = BASE + "pay-by-invoice-requests/"
QUEUE = BASE + "queue/"
CUSTOMER, CONTACT, STAFF = "wd.admin@contoso.example", "finance@contoso.example", "support@portal.example"


def queue_url(pk, step=""):
    return f"{QUEUE}pay-by-invoice/{pk}/{step + '/' if step else ''}"


class Mail:
    """What one step e-mailed: (kind, recipient) pairs, each sent once."""

    def __init__(self, capture):
        self.capture, self.seen = capture, 0

    def step(self, call):
        mail.outbox.clear()
        before = set(Notification.objects.values_list("pk", flat=True))
        with self.capture(execute=True):
            response = call()
        new = Notification.objects.exclude(pk__in=before)
        sent = sorted((n.kind, n.recipient) for n in new)
        assert len(sent) == len(set(sent)), sent
        assert sorted(to for m in mail.outbox for to in m.to) == sorted(r for _kind, r in sent)
        return response, sent


def _create(api, payload):
    return api.post(REQUESTS, payload, format="json")


@pytest.fixture
def contoso_request(demo, api_for, pbi_payload, contoso_ready):
    response = _create(api_for(demo.users["wd_admin"]), pbi_payload(demo.users["wd_admin"], contoso_ready))
    assert response.status_code == 201, response.json()
    return PayByInvoiceRequest.objects.get(pk=response.json()["id"])


def test_pbi_9_full_round_trip_through_the_api(
    demo, api_for, pbi_payload, contoso_ready, django_capture_on_commit_callbacks, clock
):
    clock.set(dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC))
    customer, staff = api_for(demo.users["wd_admin"]), api_for(demo.users["support"])
    profile = demo.profiles["contoso"]
    mails = Mail(django_capture_on_commit_callbacks)
    assert not pays_by_invoice(profile)

    created, sent = mails.step(lambda: _create(customer, pbi_payload(demo.users["wd_admin"], contoso_ready)))
    assert created.status_code == 201, created.json()
    assert sent == [("pbi_received", CONTACT), ("pbi_received", CUSTOMER), ("pbi_waiting", STAFF)]
    pk = created.json()["id"]
    assert created.json()["status"] == "submitted" and created.json()["subscription_name"] == "Contoso Campaigns"

    queue = staff.get(QUEUE).json()
    row = next(r for r in queue["results"] if r["kind"] == "pay_by_invoice")
    assert row["id"] == pk and row["waiting_for_support"] and row["account_name"] == "Contoso Web Shop"
    detail = staff.get(queue_url(pk)).json()
    assert detail["prechecks_submitted"] and detail["prechecks_now"] and not detail["blocked"]
    assert next(c for c in detail["prechecks_now"] if c["code"] == "billing_contact")["ok"]

    asked, sent = mails.step(
        lambda: staff.post(queue_url(pk, "ask-information"), {"message": "Who signs?"}, format="json")
    )
    assert asked.status_code == 200 and asked.json()["status"] == "needs_information"
    assert sent == [("pbi_needs_information", CONTACT), ("pbi_needs_information", CUSTOMER)]

    answered, sent = mails.step(
        lambda: customer.post(f"{REQUESTS}{pk}/answer/", {"message": "Our CFO."}, format="json")
    )
    assert answered.status_code == 200 and answered.json()["status"] == "submitted"
    assert sent == [("pbi_waiting", STAFF)]

    note, sent = mails.step(lambda: staff.post(queue_url(pk, "notes"), {"note": "CFO checked."}, format="json"))
    assert note.status_code == 200 and sent == []
    number = staff.post(queue_url(pk, "notes"), {"note": 42}, format="json")  # a number is text, as in a form
    assert number.status_code == 200

    sent_application, sent = mails.step(lambda: staff.post(queue_url(pk, "send-credit-application")))
    assert sent_application.status_code == 200
    assert sent_application.json()["status"] == "credit_application_sent"
    assert sent == [("pbi_credit_application", CONTACT), ("pbi_credit_application", CUSTOMER)]

    application = {
        "requested_limit": "25000.00",
        "annual_revenue": "1m_10m",
        "bank_name": "ING Bank",
        "trade_references": "Fabrikam, Northwind",
    }
    returned, sent = mails.step(
        lambda: customer.post(f"{REQUESTS}{pk}/credit-application/", application, format="json")
    )
    assert returned.status_code == 200, returned.json()
    body = returned.json()
    assert body["status"] == "credit_review" and body["credit_application"]["bank_name"] == "ING Bank"
    assert body["credit_application"]["requested_limit"] == "25000.00"
    assert body["decision_expected"] == {"earliest": "2026-11-07", "latest": "2026-11-09"}
    assert sent == [("pbi_waiting", STAFF)]

    decided, sent = mails.step(
        lambda: staff.post(
            queue_url(pk, "credit-decision"), {"decision": "approved", "credit_limit": "20000"}, format="json"
        )
    )
    assert decided.status_code == 200, decided.json()
    assert decided.json()["credit_decision"] == "approved" and decided.json()["credit_limit"] == "20000.00"
    assert sent == []

    approved, sent = mails.step(lambda: staff.post(queue_url(pk, "approve")))
    assert approved.status_code == 200, approved.json()
    assert approved.json()["status"] == "approved"
    assert sent == [("pbi_approved", CONTACT), ("pbi_approved", CUSTOMER)]
    profile.refresh_from_db()
    profile.account.refresh_from_db()
    assert pays_by_invoice(profile)

    final = customer.get(f"{REQUESTS}{pk}/").json()
    assert [e["action"] for e in final["events"]] == [
        "created",
        "asked_information",
        "answered",
        "note",
        "note",
        "credit_application_sent",
        "credit_application_returned",
        "credit_decision",
        "approved",
    ]
    assert [m["body"] for m in final["messages"]] == ["Who signs?", "Our CFO."]
    staff_messages = staff.get(queue_url(pk)).json()["messages"]
    assert [(m["body"], m["internal"]) for m in staff_messages][-2:] == [("CFO checked.", True), ("42", True)]
    assert staff.post(queue_url(pk, "approve")).status_code == 409


def _approved_credit(demo, api_for, pk):
    response = api_for(demo.users["support"]).post(
        queue_url(pk, "credit-decision"), {"decision": "approved", "credit_limit": "5000"}, format="json"
    )
    assert response.status_code == 200, response.json()


def test_pbi_7_approve_refused_while_a_blocker_holds(demo, api_for, contoso_request):
    _approved_credit(demo, api_for, contoso_request.pk)
    account = demo.accounts["contoso"]
    account.billing_contact_name = account.billing_contact_email = ""
    account.save(update_fields=["billing_contact_name", "billing_contact_email"])
    staff = api_for(demo.users["support"])
    detail = staff.get(queue_url(contoso_request.pk)).json()
    assert detail["blocked"]
    assert next(c for c in detail["prechecks_now"] if c["code"] == "billing_contact")["blocking"]
    assert next(c for c in detail["prechecks_submitted"] if c["code"] == "billing_contact")["ok"]
    response = staff.post(queue_url(contoso_request.pk, "approve"))
    assert response.status_code == 409 and response.json()["code"] == "pbi_precheck_failed"
    contoso_request.refresh_from_db()
    account.refresh_from_db()
    assert contoso_request.status == RequestStatus.SUBMITTED and not pays_by_invoice(demo.profiles["contoso"])


def test_pbi_7_credit_cannot_be_approved_without_a_billing_contact(demo, api_for, contoso_request):
    account = demo.accounts["contoso"]
    account.billing_contact_email = ""
    account.save(update_fields=["billing_contact_email"])
    response = api_for(demo.users["support"]).post(
        queue_url(contoso_request.pk, "credit-decision"), {"decision": "approved", "credit_limit": "10"}, format="json"
    )
    assert response.status_code == 409 and response.json()["code"] == "billing_contact_missing"


def test_pbi_9_approve_needs_an_approved_credit_decision(demo, api_for, contoso_request):
    staff = api_for(demo.users["support"])
    response = staff.post(queue_url(contoso_request.pk, "approve"))
    assert response.status_code == 409 and response.json()["code"] == "credit_not_approved"
    declined = staff.post(queue_url(contoso_request.pk, "credit-decision"), {"decision": "declined"}, format="json")
    assert declined.status_code == 200 and declined.json()["credit_limit"] is None
    assert staff.post(queue_url(contoso_request.pk, "approve")).json()["code"] == "credit_not_approved"


def test_staff_inputs_are_checked_by_the_services(demo, api_for, contoso_request):
    staff = api_for(demo.users["support"])
    pk = contoso_request.pk
    bad_decision = staff.post(queue_url(pk, "credit-decision"), {"decision": "maybe"}, format="json")
    assert bad_decision.status_code == 400 and "decision" in bad_decision.json()["fields"]
    no_limit = staff.post(queue_url(pk, "credit-decision"), {"decision": "approved"}, format="json")
    assert no_limit.status_code == 400 and "credit_limit" in no_limit.json()["fields"]
    for step, field in (("ask-information", "message"), ("notes", "note"), ("reject", "reason")):
        response = staff.post(queue_url(pk, step), {}, format="json")
        assert response.status_code == 400 and field in response.json()["fields"], step
        card = staff.post(queue_url(pk, step), {field: "4111 1111 1111 1111"}, format="json")
        assert card.json()["code"] == "card_number_refused" and "4111" not in card.content.decode(), step
    shape = staff.post(queue_url(pk, "notes"), {"note": {"text": "x"}}, format="json")
    assert shape.status_code == 400 and "note" in shape.json()["fields"]
    assert staff.get(queue_url(999_999)).status_code == 404
    contoso_request.refresh_from_db()
    assert contoso_request.status == RequestStatus.SUBMITTED and not contoso_request.messages.exists()


def test_pbi_reject_tells_the_customer_why(demo, api_for, contoso_request, django_capture_on_commit_callbacks):
    mails = Mail(django_capture_on_commit_callbacks)
    staff = api_for(demo.users["support"])
    response, sent = mails.step(
        lambda: staff.post(queue_url(contoso_request.pk, "reject"), {"reason": "No trade history."}, format="json")
    )
    assert response.status_code == 200 and response.json()["status"] == "rejected"
    assert sent == [("pbi_rejected", CONTACT), ("pbi_rejected", CUSTOMER)]
    body = api_for(demo.users["wd_admin"]).get(f"{REQUESTS}{contoso_request.pk}/").json()
    assert body["rejection_reason"] == "No trade history." and body["closed_at"]
    assert staff.post(queue_url(contoso_request.pk, "send-credit-application")).status_code == 409


def test_queue_filters(demo, api_for, contoso_request, clock):
    staff = api_for(demo.users["support"])

    def ids(**params):
        response = staff.get(QUEUE, params)
        assert response.status_code == 200, response.json()
        return [(r["kind"], r["id"]) for r in response.json()["results"]]

    mine = ("pay_by_invoice", contoso_request.pk)
    assert ids() == [mine]
    assert ids(kind="invoice_amendment") == []
    assert ids(status="waiting") == [mine] and ids(status="closed") == [] and ids(status="all") == [mine]
    assert ids(country="nl") == [mine] and ids(country="DE") == []
    assert ids(agreement_type="web_direct") == [mine] and ids(agreement_type="customer_agreement") == []
    assert ids(older_than_days=3) == []
    clock.advance(days=4)
    assert ids(older_than_days=3) == [mine]
    bad = staff.get(QUEUE, {"status": "everything", "older_than_days": "soon"})
    assert bad.status_code == 400 and {"status", "older_than_days"} <= set(bad.json()["fields"])
    api_for(demo.users["wd_admin"]).post(f"{REQUESTS}{contoso_request.pk}/cancel/")
    assert ids() == [] and ids(status="closed") == [mine]


def test_queue_lists_both_kinds_oldest_first_in_constant_queries(
    demo, api_for, pbi_payload, contoso_request, django_assert_max_num_queries, clock
):
    staff = api_for(demo.users["support"])
    with django_assert_max_num_queries(8):
        staff.get(QUEUE)
    owner = api_for(demo.users["ca_owner"])
    clock.advance(hours=1)
    for key in ("woodgrove_nl", "woodgrove_de"):
        payload = pbi_payload(demo.users["ca_owner"], f"p{demo.profiles[key].pk}", website="https://woodgrove.example")
        assert owner.post(REQUESTS, payload, format="json").status_code == 201
        clock.advance(hours=1)
    invoice = make_invoice(demo.profiles["woodgrove_nl"], dt.date(2026, 10, 1))
    amendment = owner.post(
        "/api/v1/amendment-requests/", {"invoice": invoice.pk, "po_number": "WG-9", "message": "PO"}, format="json"
    )
    assert amendment.status_code == 201, amendment.json()
    staff = api_for(demo.users["support"])
    with django_assert_max_num_queries(8):
        body = staff.get(QUEUE).json()
    assert len(body["results"]) == 4
    assert [r["kind"] for r in body["results"]] == ["pay_by_invoice"] * 3 + ["invoice_amendment"]
    assert body["results"][0]["id"] == contoso_request.pk
    created = [r["created_at"] for r in body["results"]]
    assert created == sorted(created)


def test_api_schema_lists_the_support_endpoints(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    for path in (
        "/api/v1/support/request-types/",
        "/api/v1/support/scopes/",
        "/api/v1/support/prechecks/",
        "/api/v1/support/pay-by-invoice-requests/",
        "/api/v1/support/pay-by-invoice-requests/{id}/",
        "/api/v1/support/pay-by-invoice-requests/{id}/answer/",
        "/api/v1/support/pay-by-invoice-requests/{id}/messages/",
        "/api/v1/support/pay-by-invoice-requests/{id}/cancel/",
        "/api/v1/support/pay-by-invoice-requests/{id}/credit-application/",
        "/api/v1/support/queue/",
        "/api/v1/support/queue/pay-by-invoice/{id}/",
        "/api/v1/support/queue/pay-by-invoice/{id}/ask-information/",
        "/api/v1/support/queue/pay-by-invoice/{id}/notes/",
        "/api/v1/support/queue/pay-by-invoice/{id}/send-credit-application/",
        "/api/v1/support/queue/pay-by-invoice/{id}/credit-decision/",
        "/api/v1/support/queue/pay-by-invoice/{id}/approve/",
        "/api/v1/support/queue/pay-by-invoice/{id}/reject/",
    ):
        assert path in schema["paths"], path
    operations = [op for item in schema["paths"].values() for op in item.values() if "operationId" in op]
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids))
    create = schema["paths"]["/api/v1/support/pay-by-invoice-requests/"]["post"]
    assert {"201", "400", "401", "403", "404", "409"} <= set(create["responses"])
    assert create["responses"]["409"]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")
    approve = schema["paths"]["/api/v1/support/queue/pay-by-invoice/{id}/approve/"]["post"]
    assert {"200", "401", "403", "404", "409"} <= set(approve["responses"])
