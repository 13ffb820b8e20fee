"""The PO and VAT pages: who reaches what, the forms, conflicts, CSV, constant queries."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse

from notifications.models import Notification
from purchase_orders import services
from purchase_orders.models import AmendmentRequest, NumberChange

from .conftest import make_charge, make_invoice

pytestmark = pytest.mark.django_db

OCT = dt.date(2026, 10, 1)


def utc(*args):
    return dt.datetime(*args, tzinfo=dt.UTC)


def wd_url(demo, key="fabrikam_main"):
    return reverse("purchase_orders:web_direct_po", args=[demo.subscriptions[key].subscription_id])


def period_url(demo, period="2026-10"):
    return reverse("purchase_orders:period_po", args=[demo.accounts["northwind"].pk, period])


def customer_pages(demo):
    return [
        wd_url(demo),
        reverse("purchase_orders:usage_summary") + f"?account={demo.accounts['northwind'].pk}",
        period_url(demo),
        reverse("purchase_orders:profile_po", args=[demo.profiles["woodgrove_nl"].pk]),
        reverse("purchase_orders:numbers", args=[demo.accounts["woodgrove"].pk]),
        reverse("purchase_orders:vat_number", args=[demo.accounts["woodgrove"].pk]),
        reverse("purchase_orders:history", args=[demo.accounts["woodgrove"].pk]),
        reverse("purchase_orders:history_csv", args=[demo.accounts["woodgrove"].pk]),
    ]


@pytest.fixture
def now(clock):
    return clock.set(utc(2026, 11, 15, 12))


def test_every_page_sends_anonymous_visitors_to_sign_in(demo, client, now):
    urls = customer_pages(demo) + [reverse("support:queue"), reverse("purchase_orders:amendment_new")]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and reverse("accounts:login") in response["Location"], url


def test_other_tenant_and_support_staff_get_404_on_customer_pages(demo, client_for, other_tenant, now):
    for user in (other_tenant, demo.users["support"]):
        c = client_for(user)
        for url in customer_pages(demo):
            assert c.get(url).status_code in (404, 403), url
            if "usage-summary/" in url and "po-numbers" not in url:
                continue  # the Usage summary itself answers 403 to a user without enrollments
            assert c.get(url).status_code == 404, url


def test_customers_get_403_on_the_support_queue(demo, client_for, now):
    invoice = make_invoice(demo.profiles["woodgrove_nl"], OCT)
    amendment = services.amendment_request_create(
        invoice=invoice, actor=demo.users["ca_owner"], message="x", po_number="N"
    )
    for key in ("ca_owner", "ea_admin", "wd_invoice_admin"):
        c = client_for(demo.users[key])
        assert c.get(reverse("support:queue")).status_code == 403
        assert c.get(reverse("purchase_orders:support_request", args=[amendment.pk])).status_code == 403
        assert (
            c.post(
                reverse("purchase_orders:support_request", args=[amendment.pk]),
                {"action": "approve", "confirmed": "yes"},
            ).status_code
            == 403
        )
        assert (
            c.post(
                reverse("purchase_orders:support_request", args=[amendment.pk]),
                {"action": "decline", "reason": "no", "confirmed": "yes"},
            ).status_code
            == 403
        )
    amendment.refresh_from_db()
    assert amendment.is_open


# --- PO-3 / PO-1 ---------------------------------------------------------------------------------


def test_po_3_payment_methods_invoice_row_saves_the_po(demo, client_for):
    c = client_for(demo.users["wd_invoice_admin"])
    page = c.get(wd_url(demo)).content.decode()
    assert "PO-FAB-2026-001" in page and 'name="version"' in page
    response = c.post(wd_url(demo), {"po_number": "  PO-FAB-9 ", "version": 1})
    assert response.status_code == 302
    demo.profiles["fabrikam"].refresh_from_db()
    assert demo.profiles["fabrikam"].po_number == "PO-FAB-9"
    assert "PO-FAB-9" in c.get(wd_url(demo)).content.decode()


def test_po_1_card_paying_account_page_explains_and_points_to_help(demo, client_for):
    c = client_for(demo.users["wd_admin"])
    page = c.get(wd_url(demo, "contoso_prod")).content.decode()
    assert "pays by card" in page and reverse("support:help") in page and 'name="po_number"' not in page
    c.post(wd_url(demo, "contoso_prod"), {"po_number": "X", "version": 1})
    demo.profiles["contoso"].refresh_from_db()
    assert demo.profiles["contoso"].po_number == ""


def test_po_input_errors_are_shown_in_dutch_and_change_nothing(demo, client_for):
    c = client_for(demo.users["wd_invoice_admin"])  # a Dutch-speaking user
    page = c.post(wd_url(demo), {"po_number": "X" * 51, "version": 1}).content.decode()
    assert "Maximaal 50 tekens" in page
    demo.profiles["fabrikam"].refresh_from_db()
    assert demo.profiles["fabrikam"].po_number == "PO-FAB-2026-001"


def test_po_concurrent_edit_shows_the_conflict_and_keeps_the_other_edit(demo, client_for):
    profile = demo.profiles["woodgrove_nl"]
    url = reverse("purchase_orders:profile_po", args=[profile.pk])
    client_for(demo.users["ca_owner"]).post(url, {"po_number": "FIRST", "version": 1})
    response = client_for(demo.users["ca_ba_contributor"]).post(url, {"po_number": "SECOND", "version": 1})
    page = response.content.decode()
    assert response.status_code == 200 and "Someone else changed this number to “FIRST”" in page
    assert 'name="version" value="2"' in page  # a second Save is a deliberate overwrite
    profile.refresh_from_db()
    assert profile.po_number == "FIRST"


@pytest.mark.parametrize("key", ["ca_ba_reader", "ca_bp_reader", "ca_invoice_manager"])
def test_po_2_customer_agreement_read_only_roles_see_but_get_403_on_save(demo, client_for, key):
    url = reverse("purchase_orders:profile_po", args=[demo.profiles["woodgrove_nl"].pk])
    c = client_for(demo.users[key])
    page = c.get(url)
    assert page.status_code == 200 and 'name="po_number"' not in page.content.decode()
    assert c.post(url, {"po_number": "X", "version": 1}).status_code == 403


def test_po_2_profile_owner_of_another_profile_gets_404(demo, client_for):
    url = reverse("purchase_orders:profile_po", args=[demo.profiles["woodgrove_nl"].pk])
    assert client_for(demo.users["ca_bp_owner"]).get(url).status_code == 404


# --- PO-4 / PO-6 / PO-7 -----------------------------------------------------------------------------------


def test_po_4_usage_summary_shows_charges_default_po_and_deadline(demo, client_for, clock):
    northwind = demo.profiles["northwind"]
    make_charge(northwind, OCT, amount="12.50")
    make_charge(northwind, OCT, service="Storage", amount="7.25")
    make_invoice(northwind, OCT, notified_at=utc(2026, 11, 2, 9))
    clock.set(utc(2026, 11, 5, 12))
    page = (
        client_for(demo.users["ea_admin"])
        .get(reverse("purchase_orders:usage_summary") + "?period=2026-10")
        .content.decode()
    )
    assert "€19.75" in page and "87654321" in page and "default: the enrollment number" in page
    assert "until the end of" in page and "View/Edit PO numbers" in page


def test_po_4_view_edit_saves_the_period_po(demo, client_for, now):
    c = client_for(demo.users["ea_admin"])
    response = c.post(period_url(demo, "2026-11"), {"po_number": "NW-NOV", "version": 0})
    assert response.status_code == 302
    assert "NW-NOV" in c.get(period_url(demo, "2026-11")).content.decode()


def test_po_7_after_the_window_the_page_offers_a_support_request(demo, client_for, clock):
    invoice = make_invoice(demo.profiles["northwind"], OCT, notified_at=utc(2026, 11, 2, 9))
    clock.set(utc(2026, 11, 10, 12))
    c = client_for(demo.users["ea_admin"])
    page = c.get(period_url(demo)).content.decode()
    assert 'name="po_number"' not in page and "Only a support request" in page
    assert f"{reverse('purchase_orders:amendment_new')}?invoice={invoice.pk}" in page
    response = c.post(period_url(demo), {"po_number": "LATE", "version": 0})
    assert response.status_code == 200 and "no longer be changed" in response.content.decode()
    invoice.refresh_from_db()
    assert invoice.revisions.count() == 1


def test_po_7_change_inside_the_window_asks_before_it_amends_the_issued_invoice(demo, client_for, clock):
    invoice = make_invoice(demo.profiles["northwind"], OCT, notified_at=utc(2026, 11, 2, 9))
    clock.set(utc(2026, 11, 5, 12))
    c = client_for(demo.users["ea_admin"])
    first = c.post(period_url(demo), {"po_number": "NW-OCT-NEW", "version": 0})
    page = first.content.decode()
    assert first.status_code == 200 and 'id="confirm-amendment"' in page
    assert f"Save and amend invoice {invoice.number}?" in page and "NW-OCT-NEW" in page
    invoice.refresh_from_db()
    assert invoice.revisions.count() == 1 and not NumberChange.objects.exists()  # nothing written yet
    done = c.post(period_url(demo), {"po_number": "NW-OCT-NEW", "version": 0, "confirmed": "yes"}, follow=True)
    text = done.content.decode()
    assert f"Invoice {invoice.number} was updated: a new revision with a new PDF." in text
    invoice.refresh_from_db()
    assert invoice.revisions.count() == 2 and invoice.current_revision.po_number == "NW-OCT-NEW"


def test_po_6_clearing_the_period_po_says_the_default_is_restored(demo, client_for, clock):
    invoice = make_invoice(demo.profiles["northwind"], OCT, notified_at=utc(2026, 11, 2, 9))
    clock.set(utc(2026, 11, 5, 12))
    c = client_for(demo.users["ea_admin"])
    c.post(period_url(demo), {"po_number": "NW-OCT-NEW", "version": 0, "confirmed": "yes"})
    confirm = c.post(period_url(demo), {"po_number": "", "version": 1}).content.decode()
    number = demo.accounts["northwind"].enrollment_number
    assert f"with the default PO number, the enrollment number {number}" in confirm
    done = c.post(period_url(demo), {"po_number": "", "version": 1, "confirmed": "yes"}, follow=True)
    assert f"cleared: the default, the enrollment number {number}, applies again" in done.content.decode()
    invoice.refresh_from_db()
    assert invoice.current_revision.po_number == number


def test_po_4_before_the_invoice_a_save_needs_no_confirmation(demo, client_for, now):
    c = client_for(demo.users["ea_admin"])
    response = c.post(period_url(demo, "2026-11"), {"po_number": "NW-NOV", "version": 0}, follow=True)
    assert (
        "The PO number was saved: NW-NOV. It will be printed on this period&#x27;s invoice."
        in response.content.decode()
    )


def test_po_2_ea_readonly_sees_usage_summary_but_may_not_save(demo, client_for, now):
    c = client_for(demo.users["ea_readonly"])
    assert c.get(reverse("purchase_orders:usage_summary")).status_code == 200
    assert c.post(period_url(demo, "2026-11"), {"po_number": "X", "version": 0}).status_code == 403


def test_po_4_usage_summary_is_refused_to_non_enterprise_users(demo, client_for, now):
    assert client_for(demo.users["ca_owner"]).get(reverse("purchase_orders:usage_summary")).status_code == 403
    url = reverse("purchase_orders:usage_summary") + f"?account={demo.accounts['woodgrove'].pk}"
    assert client_for(demo.users["ca_owner"]).get(url).status_code == 404


# --- VAT-1 -----------------------------------------------------------------------------------------------


def test_vat_1_page_validates_and_records(demo, client_for):
    account = demo.accounts["woodgrove"]
    url = reverse("purchase_orders:vat_number", args=[account.pk])
    c = client_for(demo.users["ca_ba_contributor"])
    page = c.post(url, {"vat_id": "NL123", "version": account.version}).content.decode()
    assert "Not a valid VAT / tax ID" in page
    assert c.post(url, {"vat_id": "NL004495445B01", "version": account.version}).status_code == 302
    assert "NL004495445B01" in c.get(url).content.decode()
    assert client_for(demo.users["ca_ba_reader"]).post(url, {"vat_id": "", "version": 2}).status_code == 403


# --- History and CSV ------------------------------------------------------------------------------------


def test_history_csv_export_is_safe_against_formula_injection(demo, client_for):
    profile = demo.profiles["woodgrove_nl"]
    services.profile_po_number_set(
        profile=profile, po_number='=HYPERLINK("http://x")', actor=demo.users["ca_owner"], version=1
    )
    response = client_for(demo.users["ca_owner"]).get(reverse("purchase_orders:history_csv", args=[profile.account_id]))
    assert response["Content-Type"].startswith("text/csv") and "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1][7] == '\'=HYPERLINK("http://x")' and rows[1][1] == "ca.owner@woodgrove.example"


def test_history_profile_roles_see_only_their_profile_and_the_vat(demo, client_for):
    services.profile_po_number_set(
        profile=demo.profiles["woodgrove_de"], po_number="DE-1", actor=demo.users["ca_owner"], version=1
    )
    services.profile_po_number_set(
        profile=demo.profiles["woodgrove_nl"], po_number="NL-1", actor=demo.users["ca_owner"], version=1
    )
    url = reverse("purchase_orders:history", args=[demo.accounts["woodgrove"].pk])
    page = client_for(demo.users["ca_bp_reader"]).get(url).content.decode()
    assert "NL-1" in page and "DE-1" not in page


def _add_changes(demo, n):
    profile = demo.profiles["woodgrove_nl"]
    profile.refresh_from_db()
    for i in range(n):
        services.profile_po_number_set(
            profile=profile,
            po_number=f"PO-{i}-{profile.version}",
            actor=demo.users["ca_owner"],
            version=profile.version,
        )


def test_history_page_and_csv_use_a_constant_number_of_queries(demo, client_for, django_assert_max_num_queries):
    c = client_for(demo.users["ca_owner"])
    url = reverse("purchase_orders:history", args=[demo.accounts["woodgrove"].pk])
    csv_url = reverse("purchase_orders:history_csv", args=[demo.accounts["woodgrove"].pk])
    _add_changes(demo, 2)
    with django_assert_max_num_queries(12):
        c.get(url)
    with django_assert_max_num_queries(10):
        c.get(csv_url)
    _add_changes(demo, 30)
    with django_assert_max_num_queries(12):
        c.get(url)
    with django_assert_max_num_queries(10):
        c.get(csv_url)


def test_usage_summary_uses_a_constant_number_of_queries(demo, client_for, django_assert_max_num_queries, now):
    northwind = demo.profiles["northwind"]
    c = client_for(demo.users["ea_admin"])
    make_charge(northwind, OCT)
    with django_assert_max_num_queries(14):
        c.get(reverse("purchase_orders:usage_summary"))
    for month in range(1, 10):
        make_charge(northwind, dt.date(2026, month, 1))
        make_charge(northwind, dt.date(2026, month, 1), service=f"S{month}")
        make_invoice(northwind, dt.date(2026, month, 1))
    with django_assert_max_num_queries(14):
        c.get(reverse("purchase_orders:usage_summary"))


# --- PO-5 through the pages -------------------------------------------------------------------------------


def test_po_5_customer_opens_request_and_support_approves_with_confirmation(
    demo, client_for, django_capture_on_commit_callbacks
):
    invoice = make_invoice(demo.profiles["woodgrove_nl"], OCT)
    customer = client_for(demo.users["ca_owner"])
    response = customer.post(
        reverse("purchase_orders:amendment_new"),
        {
            "invoice": invoice.pk,
            "change_po_number": "on",
            "po_number": "WG-NEW",
            "message": "New PO from procurement",
        },
    )
    amendment = AmendmentRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "purchase_orders:amendment_detail", args=[amendment.pk]
    )
    assert f"#{amendment.pk}" in customer.get(reverse("support:help")).content.decode()
    staff = client_for(demo.users["support"])
    assert f"#{amendment.pk}" in staff.get(reverse("support:queue")).content.decode()
    url = reverse("purchase_orders:support_request", args=[amendment.pk])
    assert "This cannot be undone" in staff.get(url + "?action=approve").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        assert staff.post(url, {"action": "approve", "confirmed": "yes"}).status_code == 302
    invoice.refresh_from_db()
    assert invoice.current_revision.po_number == "WG-NEW" and invoice.revisions.count() == 2
    assert NumberChange.objects.get().invoice == invoice


def test_po_5_support_declines_with_a_reason_after_confirmation(demo, client_for, django_capture_on_commit_callbacks):
    invoice = make_invoice(demo.profiles["woodgrove_nl"], OCT)
    amendment = services.amendment_request_create(
        invoice=invoice, actor=demo.users["ca_owner"], message="x", po_number="N"
    )
    staff = client_for(demo.users["support"])
    url = reverse("purchase_orders:support_request", args=[amendment.pk])
    assert staff.post(url, {"action": "decline", "reason": ""}).status_code == 200
    # First step: the confirmation repeats the reason as typed; nothing is written yet.
    reason = "Not needed: the PO <b>was</b> right"
    page = staff.post(url, {"action": "decline", "reason": f"  {reason} "}).content.decode()
    assert "Decline the request?" in page and "This cannot be undone" in page
    assert 'name="confirmed" value="yes"' in page and "Not needed: the PO &lt;b&gt;was&lt;/b&gt; right" in page
    amendment.refresh_from_db()
    assert amendment.is_open and amendment.decline_reason == ""
    assert not Notification.objects.filter(kind="po_amendment_declined").exists()
    # "Change the reason" goes back to the form with the reason kept, still nothing written.
    page = staff.post(url, {"action": "decline", "reason": reason, "edit": "1"}).content.decode()
    assert "Decline the request?" not in page and "Not needed: the PO &lt;b&gt;was&lt;/b&gt; right</textarea>" in page
    amendment.refresh_from_db()
    assert amendment.is_open
    # Confirming without a reason (a tampered form) writes nothing either.
    assert staff.post(url, {"action": "decline", "reason": " ", "confirmed": "yes"}).status_code == 200
    amendment.refresh_from_db()
    assert amendment.is_open
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(url, {"action": "decline", "reason": reason, "confirmed": "yes"})
    assert response.status_code == 302 and response["Location"] == reverse("support:queue")
    amendment.refresh_from_db()
    assert amendment.status == "declined" and amendment.decline_reason == reason
    assert Notification.objects.filter(kind="po_amendment_declined").count() == 1
    assert invoice.revisions.count() == 1
    # A second confirmation (back button, double click) changes nothing and says so.
    response = staff.post(url, {"action": "decline", "reason": "Other", "confirmed": "yes"}, follow=True)
    assert "already" in response.content.decode()
    amendment.refresh_from_db()
    assert amendment.decline_reason == reason


def test_support_queue_uses_a_constant_number_of_queries(demo, client_for, django_assert_max_num_queries):
    staff = client_for(demo.users["support"])

    months = iter(dt.date(2020 + i // 12, 1 + i % 12, 1) for i in range(100))

    def add(n):
        for i in range(n):
            invoice = make_invoice(demo.profiles["woodgrove_nl"], next(months))
            services.amendment_request_create(
                invoice=invoice, actor=demo.users["ca_owner"], message="x", po_number=f"N{i}"
            )

    add(1)
    with django_assert_max_num_queries(8):
        staff.get(reverse("support:queue"))
    AmendmentRequest.objects.all().delete()
    add(20)
    with django_assert_max_num_queries(8):
        staff.get(reverse("support:queue"))


def test_po_1_refusal_on_the_page_is_the_services_reason(demo, client_for):
    c = client_for(demo.users["wd_admin"])
    response = c.post(wd_url(demo, "contoso_prod"), {"po_number": "X", "version": 1}, follow=True)
    refusal = services.profile_po_refusal(demo.users["wd_admin"], demo.profiles["contoso"])
    assert refusal.code == "pay_by_invoice_required"
    assert refusal.message in response.content.decode()
