"""PO-5: every link to a new invoice amendment request is shown exactly to the roles the
request service would not refuse (``can_request_invoice_amendment``, the predicate of
``amendment_request_create``): on the invoice page, Help + support, the PO and VAT pages,
the list of amendment requests, New support request and its problem types (page and API)."""

import datetime as dt

import pytest
from django.urls import reverse

from accounts import permissions
from accounts.selectors import profiles_for_user
from invoices import services as invoice_services
from purchase_orders.selectors import may_request_amendments

from .conftest import make_invoice

pytestmark = pytest.mark.django_db

NEW = reverse("purchase_orders:amendment_new")
PERIOD = dt.date(2026, 1, 1)
# Who may ask, from the role table of PO-2 / VAT-1 (accounts.permissions).
MAY = {"wd_admin", "wd_invoice_admin", "wd_individual", "ea_admin", "partner_admin", "ca_owner", "ca_ba_contributor"}
MAY_NOT = {"ea_readonly", "ca_ba_reader", "ca_bp_reader", "ca_invoice_manager"}


def _html(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


@pytest.mark.parametrize("key", sorted(MAY | MAY_NOT))
def test_po_5_amendment_links_follow_the_request_predicate(demo, client_for, key):
    user = demo.users[key]
    expected = key in MAY
    assert may_request_amendments(user) is expected
    assert expected == any(permissions.can_request_invoice_amendment(user, p) for p in profiles_for_user(user))
    client = client_for(user)
    for url in (reverse("support:help"), reverse("purchase_orders:amendment_list")):
        assert (f'href="{NEW}' in _html(client, url)) is expected, url
    # New support request: the problem type in the form, or the link when the role opens no other request.
    html = _html(client, reverse("support:request_new"))
    assert (f'href="{NEW}' in html or 'value="invoice_amendment"' in html) is expected
    profile = profiles_for_user(user)[0]
    invoice = make_invoice(profile, PERIOD)
    html = _html(client, reverse("invoices:detail", args=[invoice.pk]))
    assert (f'href="{NEW}?invoice={invoice.pk}"' in html) is permissions.can_request_invoice_amendment(user, profile)
    numbers = _html(client, reverse("purchase_orders:numbers", args=[profile.account_id]))
    assert (f'href="{NEW}"' in numbers) is expected


def test_po_5_problem_type_offered_only_to_who_may_ask(demo, client_for, api_for):
    for key, expected in (("wd_admin", True), ("ca_ba_reader", False), ("ea_readonly", False), ("ca_owner", True)):
        user = demo.users[key]
        codes = [t["code"] for t in api_for(user).get("/api/v1/support/request-types/").json()]
        assert ("invoice_amendment" in codes) is expected, key
        page = client_for(user).get(reverse("support:request_new")).content.decode()
        assert ('value="invoice_amendment"' in page) is (expected and 'id="no-scopes"' not in page), key


def test_po_5_no_amendment_link_on_a_void_invoice(demo, client_for):
    user = demo.users["wd_admin"]
    invoice = make_invoice(profiles_for_user(user)[0], PERIOD)
    invoice_services.invoice_void(invoice=invoice, actor=None, reason="Issued in error")
    html = _html(client_for(user), reverse("invoices:detail", args=[invoice.pk]))
    assert 'id="request-amendment"' not in html  # the request service refuses a void invoice
