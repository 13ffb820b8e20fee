"""Invoices pages and API: permissions (anonymous, other tenant, refused roles), filters,
constant query counts, PDF download, Pay now / bank-transfer display."""

import datetime as dt

import pytest
from django.urls import reverse

from invoices.models import Invoice, InvoiceStatus
from tests.factories import UserFactory, make_account, make_subscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued(demo, add_charge, run_billing):
    for key in ("contoso_prod", "fabrikam_main", "northwind_erp", "woodgrove_core", "woodgrove_berlin"):
        add_charge(demo.subscriptions[key])
    run_billing()
    return {inv.profile_id: inv for inv in Invoice.objects.select_related("current_revision")}


def test_pages_anonymous_redirected(client, issued):
    invoice = next(iter(issued.values()))
    for url in (
        reverse("invoices:list"),
        reverse("invoices:detail", args=[invoice.pk]),
        reverse("invoices:pdf", args=[invoice.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/sign-in/" in response["Location"]


def test_api_anonymous_401(api_for, issued):
    invoice = next(iter(issued.values()))
    api = api_for(None)
    for url in (
        "/api/v1/invoices/",
        f"/api/v1/invoices/{invoice.pk}/",
        f"/api/v1/invoices/{invoice.pk}/pdf/",
        "/api/v1/usage/",
    ):
        response = api.get(url) if "usage" not in url else api.post(url, {"rows": []}, format="json")
        assert response.status_code == 401
        assert set(response.json()) == {"code", "detail", "fields"}


def test_other_tenant_gets_404(demo, issued, client_for, api_for):
    contoso = issued[demo.profiles["contoso"].pk]
    woodgrove_de = issued[demo.profiles["woodgrove_de"].pk]
    outsider = client_for(demo.users["ca_owner"])
    for url in (
        reverse("invoices:detail", args=[contoso.pk]),
        reverse("invoices:pdf", args=[contoso.pk]),
        reverse("invoices:pdf", args=[contoso.pk, 1]),
    ):
        assert outsider.get(url).status_code == 404
    # A profile-level role sees only its own profile's invoices.
    nl_reader = client_for(demo.users["ca_bp_reader"])
    assert nl_reader.get(reverse("invoices:detail", args=[woodgrove_de.pk])).status_code == 404
    api = api_for(demo.users["ca_bp_reader"])
    assert api.get(f"/api/v1/invoices/{woodgrove_de.pk}/").status_code == 404
    assert api.get(f"/api/v1/invoices/{contoso.pk}/pdf/").status_code == 404
    assert api.get("/api/v1/invoices/999999/").status_code == 404


def test_list_shows_visible_invoices_and_filters(demo, issued, client_for, clock):
    client = client_for(demo.users["ca_owner"])
    html = client.get(reverse("invoices:list")).content.decode()
    assert issued[demo.profiles["woodgrove_nl"].pk].number in html
    assert issued[demo.profiles["woodgrove_de"].pk].number in html
    assert issued[demo.profiles["contoso"].pk].number not in html
    Invoice.objects.filter(profile=demo.profiles["woodgrove_de"]).update(status=InvoiceStatus.PAID)
    html = client.get(reverse("invoices:list"), {"status": "paid"}).content.decode()
    assert issued[demo.profiles["woodgrove_de"].pk].number in html
    assert issued[demo.profiles["woodgrove_nl"].pk].number not in html
    html = client.get(reverse("invoices:list"), {"period": "2025-12"}).content.decode()
    assert "Geen facturen gevonden." in html  # ca_owner reads Dutch
    assert client.get(reverse("invoices:list"), {"period": "garbage"}).status_code == 200


def test_pay_now_and_bank_transfer_display(demo, issued, client_for, settings):
    # The payments app provides payments:pay; until then no Pay now link shows.
    html = client_for(demo.users["wd_admin"]).get(reverse("invoices:list")).content.decode()
    from django.urls import NoReverseMatch

    try:
        reverse("payments:pay", args=[1])
        has_pay = True
    except NoReverseMatch:
        has_pay = False
    assert ("Pay now" in html) == has_pay
    # Reader roles never see Pay now (PAY-1).
    html = client_for(demo.users["ca_ba_reader"]).get(reverse("invoices:list")).content.decode()
    assert "Pay now" not in html
    # Bank transfer: instructions and reference instead of Pay now.
    fabrikam = issued[demo.profiles["fabrikam"].pk]
    html = (
        client_for(demo.users["wd_invoice_admin"]).get(reverse("invoices:detail", args=[fabrikam.pk])).content.decode()
    )
    assert fabrikam.payment_reference in html and settings.PORTAL_SELLER["iban"] in html
    assert "Nu betalen" not in html and "Pay now" not in html


def test_detail_shows_lines_revisions_and_snapshot(demo, issued, client_for):
    northwind = issued[demo.profiles["northwind"].pk]
    html = client_for(demo.users["ea_readonly"]).get(reverse("invoices:detail", args=[northwind.pk])).content.decode()
    assert northwind.number in html and "87654321" in html and "D2s v5 hours" in html
    assert reverse("invoices:pdf", args=[northwind.pk, 1]) in html


def test_pdf_download_for_allowed_user(demo, issued, client_for, api_for):
    invoice = issued[demo.profiles["woodgrove_nl"].pk]
    response = client_for(demo.users["ca_invoice_manager"]).get(reverse("invoices:pdf", args=[invoice.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    body = b"".join(response.streaming_content)
    assert body.startswith(b"%PDF")
    assert invoice.number in response["Content-Disposition"]
    response = api_for(demo.users["ca_owner"]).get(f"/api/v1/invoices/{invoice.pk}/pdf/1/")
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")
    assert client_for(demo.users["ca_owner"]).get(reverse("invoices:pdf", args=[invoice.pk, 9])).status_code == 404


def test_pdf_rendered_on_demand_when_worker_lost_it(demo, issued, client_for):
    invoice = issued[demo.profiles["contoso"].pk]
    revision = invoice.current_revision
    revision.pdf.delete(save=True)
    response = client_for(demo.users["wd_admin"]).get(reverse("invoices:pdf", args=[invoice.pk]))
    assert response.status_code == 200
    revision.refresh_from_db()
    assert revision.pdf


def test_api_list_filters_and_detail(demo, issued, api_for):
    api = api_for(demo.users["ca_owner"])
    data = api.get("/api/v1/invoices/").json()
    assert len(data["results"]) == 2 and data["next"] is None
    assert {row["number"] for row in data["results"]} == {
        issued[demo.profiles["woodgrove_nl"].pk].number,
        issued[demo.profiles["woodgrove_de"].pk].number,
    }
    assert api.get("/api/v1/invoices/", {"status": "paid"}).json()["results"] == []
    assert len(api.get("/api/v1/invoices/", {"period": "2026-01"}).json()["results"]) == 2
    bad = api.get("/api/v1/invoices/", {"period": "2026-99"})
    assert bad.status_code == 400 and "period" in bad.json()["fields"]
    invoice = issued[demo.profiles["woodgrove_nl"].pk]
    detail = api.get(f"/api/v1/invoices/{invoice.pk}/").json()
    assert detail["lines"][0]["amount"] == "10.00" and detail["revisions"][0]["number"] == 1
    assert detail["total"] == "12.10" and detail["vat_id"] == "NL820646660B01"


def test_api_list_rows_are_what_the_serializer_gives_for_the_invoices(demo, issued, api_for):
    """The list reads only the columns it returns (values, no model instances): its rows
    are exactly InvoiceSerializer's representation of the invoices, for every kind of
    row (credited, overpaid, replacing another, without a revision, a named profile)."""
    from decimal import Decimal

    from django.utils import timezone

    from invoices.api.serializers import InvoiceSerializer

    first, second, third, *_ = Invoice.objects.order_by("pk")
    now = timezone.now()
    Invoice.objects.filter(pk=first.pk).update(
        amount_paid=first.total + Decimal("5.25"), paid_at=now, notified_at=now, status=InvoiceStatus.PAID
    )
    Invoice.objects.filter(pk=second.pk).update(amount_credited=Decimal("1.10"), replaces=first)
    Invoice.objects.filter(pk=third.pk).update(current_revision=None, payment_terms="bank_transfer")
    everything = Invoice.objects.order_by("-issue_date", "-number")
    expected = [dict(row) for row in InvoiceSerializer(everything, many=True).data]
    assert InvoiceSerializer.represent_values(everything.values(*InvoiceSerializer.value_columns())) == expected
    kinds = {(row["surplus"] != "0.00", row["replaces"] is not None, row["po_number"] == "") for row in expected}
    assert len(kinds) > 2 and any(" / " in row["profile_name"] for row in expected)
    # The endpoint answers the same rows for the invoices the user may see.
    owner = demo.users["ca_owner"]
    visible = [row for row in expected if row["account"] == demo.profiles["woodgrove_nl"].account_id]
    assert api_for(owner).get("/api/v1/invoices/").json()["results"] == visible


def _many_invoices(account, count):
    from invoices import services

    profile = account.profiles.get()
    for i in range(count):
        Invoice.objects.create(
            number=f"T-{account.pk}-{i}",
            account=account,
            profile=profile,
            period=dt.date(2020, 1, 1) + dt.timedelta(days=31 * i),
            issue_date=dt.date(2020, 2, 1),
            due_date=dt.date(2020, 2, 1),
            currency="EUR",
            subtotal=1,
            tax_amount=0,
            total=1,
            payment_reference=services.payment_reference(2020, i + 1),
        )


@pytest.mark.parametrize("count", [2, 30])
def test_list_page_and_endpoint_constant_queries(count, client_for, api_for, django_assert_max_num_queries):
    from accounts import services as account_services

    user = UserFactory()
    account = make_account(signed_up_by=user)
    account_services.role_assign(user=user, role="account_admin", account=account)
    _many_invoices(account, count)
    client = client_for(user)
    # session, user, grants, the filter's billing profiles and subscriptions, one page of invoices
    with django_assert_max_num_queries(5):
        assert client.get(reverse("invoices:list")).status_code == 200
    api = api_for(user)
    with django_assert_max_num_queries(5):
        assert api.get("/api/v1/invoices/", {"page_size": 50}).status_code == 200


def test_usage_import_api_staff_only(demo, api_for):
    sub = demo.subscriptions["contoso_prod"]
    row = {
        "subscription_id": str(sub.subscription_id),
        "period": "2026-01",
        "service_name": "VM",
        "meter": "hours",
        "quantity": "2",
        "unit_price": "0.125",
        "currency": "EUR",
        "record_id": "r-1",
    }
    assert api_for(demo.users["wd_admin"]).post("/api/v1/usage/", {"rows": [row]}, format="json").status_code == 403
    staff = UserFactory(is_staff=True)
    bad = dict(row, subscription_id="nope", quantity="-1", record_id="r-2")
    response = api_for(staff).post("/api/v1/usage/", {"rows": [row, bad, row]}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] == 1 and body["duplicates"] == 1
    assert body["rejected"][0]["row"] == 2 and len(body["rejected"][0]["errors"]) == 2
    from invoices.models import Charge

    charge = Charge.objects.get(external_id="r-1")
    assert str(charge.amount) == "0.25"


def test_api_schema_lists_invoice_endpoints(client):
    schema = client.get("/api/schema/").content.decode()
    for path in ("/api/v1/invoices/", "/api/v1/invoices/{id}/", "/api/v1/invoices/{id}/pdf/", "/api/v1/usage/"):
        assert path in schema


def test_other_tenant_sees_no_invoices_in_list(demo, issued, client_for):
    stranger = UserFactory()
    html = client_for(stranger).get(reverse("invoices:list")).content.decode()
    assert "There are no invoices you can see." in html
    other = make_account()
    make_subscription(other)
    assert "INV-" not in html


def test_po_5_detail_offers_amendment_request_only_to_po_or_vat_editors(demo, issued, client_for):
    northwind = issued[demo.profiles["northwind"].pk]
    url = reverse("invoices:detail", args=[northwind.pk])
    link = f"{reverse('purchase_orders:amendment_new')}?invoice={northwind.pk}"
    assert link in client_for(demo.users["ea_admin"]).get(url).content.decode()
    assert link not in client_for(demo.users["ea_readonly"]).get(url).content.decode()
