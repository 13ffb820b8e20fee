"""The PO/VAT API: same rules as the pages, errors as {code, detail, fields}."""

import datetime as dt

import pytest

from purchase_orders import services

from .conftest import make_invoice

pytestmark = pytest.mark.django_db

OCT = dt.date(2026, 10, 1)


def utc(*args):
    return dt.datetime(*args, tzinfo=dt.UTC)


@pytest.fixture
def now(clock):
    return clock.set(utc(2026, 11, 15, 12))


def endpoints(demo):
    nw, wg = demo.accounts["northwind"].pk, demo.accounts["woodgrove"].pk
    return [
        f"/api/v1/billing-profiles/{demo.profiles['fabrikam'].pk}/po-number/",
        f"/api/v1/billing-accounts/{wg}/vat-number/",
        f"/api/v1/billing-accounts/{nw}/po-periods/",
        f"/api/v1/billing-accounts/{nw}/po-periods/2026-10/",
        f"/api/v1/billing-accounts/{wg}/number-changes/",
    ]


def test_anonymous_gets_401_everywhere(demo, api_for, now):
    c = api_for(None)
    for url in endpoints(demo) + ["/api/v1/amendment-requests/", "/api/v1/support/amendment-requests/"]:
        response = c.get(url)
        assert response.status_code == 401 and response.json()["code"], url


def test_other_tenant_and_support_staff_get_404(demo, api_for, other_tenant, now):
    for user in (other_tenant, demo.users["support"]):
        c = api_for(user)
        for url in endpoints(demo):
            assert c.get(url).status_code == 404, url
            assert c.put(url, {"po_number": "X", "vat_id": "", "version": 1}, format="json").status_code in (
                404,
                405,
            ), url


def test_po_1_api_refuses_a_card_paying_web_direct_account_with_a_reason(demo, api_for):
    c = api_for(demo.users["wd_admin"])
    url = f"/api/v1/billing-profiles/{demo.profiles['contoso'].pk}/po-number/"
    assert c.get(url).json()["refusal_code"] == "pay_by_invoice_required"
    response = c.put(url, {"po_number": "PO-1", "version": 1}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "pay_by_invoice_required"


def test_po_3_api_sets_the_web_direct_po_and_refuses_stale_versions(demo, api_for):
    c = api_for(demo.users["wd_invoice_admin"])
    url = f"/api/v1/billing-profiles/{demo.profiles['fabrikam'].pk}/po-number/"
    body = c.get(url).json()
    assert body["po_number"] == "PO-FAB-2026-001" and body["can_edit"]
    response = c.put(url, {"po_number": "PO-API", "version": body["version"]}, format="json")
    assert response.status_code == 200 and response.json()["po_number"] == "PO-API"
    stale = c.put(url, {"po_number": "PO-STALE", "version": body["version"]}, format="json")
    assert stale.status_code == 409 and stale.json()["code"] == "stale_version"
    bad = c.put(url, {"po_number": "X" * 51, "version": body["version"] + 1}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "po_too_long" and "po_number" in bad.json()["fields"]


@pytest.mark.parametrize("key", ["ca_ba_reader", "ca_bp_reader", "ca_invoice_manager"])
def test_po_2_api_customer_agreement_readers_get_403(demo, api_for, key):
    url = f"/api/v1/billing-profiles/{demo.profiles['woodgrove_nl'].pk}/po-number/"
    c = api_for(demo.users[key])
    assert c.get(url).json()["refusal_code"] == "po_role_not_allowed"
    assert c.put(url, {"po_number": "X", "version": 1}, format="json").status_code == 403


def test_po_2_api_customer_agreement_profile_contributor_sets_po(demo, api_for):
    url = f"/api/v1/billing-profiles/{demo.profiles['woodgrove_nl'].pk}/po-number/"
    response = api_for(demo.users["ca_bp_contributor"]).put(url, {"po_number": "WG-API", "version": 1}, format="json")
    assert response.status_code == 200 and response.json()["po_number"] == "WG-API"


def test_po_7_api_periods_show_default_and_deadline(demo, api_for, clock):
    northwind = demo.profiles["northwind"]
    make_invoice(northwind, OCT, notified_at=utc(2026, 11, 2, 9))
    clock.set(utc(2026, 11, 9, 12))
    c = api_for(demo.users["ea_admin"])
    body = c.get(f"/api/v1/billing-accounts/{northwind.account_id}/po-periods/").json()
    october = next(p for p in body["results"] if p["period"] == "2026-10")
    assert october["po_number"] == "87654321" and october["is_default"]
    assert october["window"]["state"] == "open" and october["window"]["last_day"] == "2026-11-09"
    assert october["can_edit"]
    url = f"/api/v1/billing-accounts/{northwind.account_id}/po-periods/2026-10/"
    response = c.put(url, {"po_number": "NW-API", "version": 0}, format="json")
    assert response.status_code == 200 and response.json()["invoice"]["printed_po_number"] == "NW-API"
    clock.set(utc(2026, 11, 10, 12))
    closed = c.put(url, {"po_number": "NW-LATE", "version": 1}, format="json")
    assert closed.status_code == 403 and closed.json()["code"] == "po_window_closed"


def test_po_2_api_ea_readonly_gets_403_on_periods(demo, api_for, now):
    url = f"/api/v1/billing-accounts/{demo.accounts['northwind'].pk}/po-periods/2026-11/"
    c = api_for(demo.users["ea_readonly"])
    assert c.get(url).json()["can_edit"] is False
    assert c.put(url, {"po_number": "X", "version": 0}, format="json").status_code == 403


def test_po_4_api_unknown_or_future_period_is_404(demo, api_for, now):
    c = api_for(demo.users["ea_admin"])
    for period in ("2026-12", "nonsense", "2026-13"):
        assert (
            c.get(f"/api/v1/billing-accounts/{demo.accounts['northwind'].pk}/po-periods/{period}/").status_code == 404
        )


def test_vat_1_api(demo, api_for):
    url = f"/api/v1/billing-accounts/{demo.accounts['woodgrove'].pk}/vat-number/"
    owner = api_for(demo.users["ca_owner"])
    version = owner.get(url).json()["version"]
    bad = owner.put(url, {"vat_id": "NL123", "version": version}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "vat_invalid"
    assert (
        owner.put(url, {"vat_id": "NL004495445B01", "version": version}, format="json").json()["vat_id"]
        == "NL004495445B01"
    )
    assert (
        api_for(demo.users["ca_ba_reader"]).put(url, {"vat_id": "", "version": version + 1}, format="json").status_code
        == 403
    )
    history = owner.get(f"/api/v1/billing-accounts/{demo.accounts['woodgrove'].pk}/number-changes/?field=vat_id").json()
    assert len(history["results"]) == 1 and history["results"][0]["new_value"] == "NL004495445B01"


def test_po_5_api_amendment_request_round_trip(demo, api_for, django_capture_on_commit_callbacks):
    invoice = make_invoice(demo.profiles["woodgrove_nl"], OCT)
    customer = api_for(demo.users["ca_owner"])
    created = customer.post(
        "/api/v1/amendment-requests/", {"invoice": invoice.pk, "po_number": "WG-9", "message": "PO"}, format="json"
    )
    assert created.status_code == 201 and created.json()["status"] == "open"
    pk = created.json()["id"]
    assert len(customer.get("/api/v1/amendment-requests/").json()["results"]) == 1
    assert customer.post(f"/api/v1/support/amendment-requests/{pk}/approve/").status_code == 403
    staff = api_for(demo.users["support"])
    assert len(staff.get("/api/v1/support/amendment-requests/").json()["results"]) == 1
    with django_capture_on_commit_callbacks(execute=True):
        approved = staff.post(f"/api/v1/support/amendment-requests/{pk}/approve/")
    assert approved.status_code == 200 and approved.json()["revision_number"] == 2
    again = staff.post(f"/api/v1/support/amendment-requests/{pk}/decline/", {"reason": "x"}, format="json")
    assert again.status_code == 409


def test_po_5_api_other_tenant_cannot_request_on_someone_elses_invoice(demo, api_for, other_tenant):
    invoice = make_invoice(demo.profiles["woodgrove_nl"], OCT)
    response = api_for(other_tenant).post(
        "/api/v1/amendment-requests/", {"invoice": invoice.pk, "po_number": "X", "message": "x"}, format="json"
    )
    assert response.status_code == 404


def test_api_lists_use_a_constant_number_of_queries(demo, api_for, django_assert_max_num_queries, now):
    owner = api_for(demo.users["ca_owner"])
    profile = demo.profiles["woodgrove_nl"]
    url = f"/api/v1/billing-accounts/{profile.account_id}/number-changes/"
    services.profile_po_number_set(profile=profile, po_number="A", actor=demo.users["ca_owner"], version=1)
    with django_assert_max_num_queries(6):
        owner.get(url)
    for i in range(20):
        profile.refresh_from_db()
        services.profile_po_number_set(
            profile=profile, po_number=f"B{i}", actor=demo.users["ca_owner"], version=profile.version
        )
    with django_assert_max_num_queries(6):
        owner.get(url)
    ea = api_for(demo.users["ea_admin"])
    periods_url = f"/api/v1/billing-accounts/{demo.accounts['northwind'].pk}/po-periods/"
    with django_assert_max_num_queries(8):
        ea.get(periods_url)
    for month in range(1, 10):
        make_invoice(demo.profiles["northwind"], dt.date(2026, month, 1))
    with django_assert_max_num_queries(8):
        ea.get(periods_url)


def test_api_schema_lists_the_po_endpoints(client):
    schema = client.get("/api/schema/").content.decode()
    for path in (
        "/api/v1/billing-accounts/{id}/po-periods/{period}/",
        "/api/v1/amendment-requests/",
        "/api/v1/support/amendment-requests/{id}/approve/",
        "/api/v1/billing-profiles/{id}/po-number/",
    ):
        assert path in schema
