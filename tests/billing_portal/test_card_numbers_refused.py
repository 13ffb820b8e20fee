"""The portal never stores or mails a card number: every free-text field refuses a
Luhn-valid run of 13 to 19 digits (spaces or dashes allowed) with the error
``card_number_refused``, at the service, so the page, the API, the admin and the demo
all refuse it; the value is never echoed back."""

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse

from accounts import services as account_services
from accounts.models import User
from billing_portal.card_numbers import CARD_NUMBER_REFUSED, contains_card_number, refuse_card_number
from billing_portal.errors import InvalidInput
from billing_portal.validators import clean_po_number, clean_vat_id
from invoices.services import invoice_amend
from invoices.services.usage_import import charge_import
from payments.card_data import contains_card_number as payments_contains_card_number
from payments.services.card_fields import clean_address, clean_holder_name
from purchase_orders import services as po_services
from purchase_orders.models import AmendmentRequest
from support import details
from support.services import common as support_common
from tests.payments.conftest import luhn_hits
from tests.purchase_orders.conftest import make_invoice

pytestmark = pytest.mark.django_db

CARD = "4242424242424242"
SPACED = "4242 4242 4242 4242"
DASHED = "4111-1111-1111-1111"
AMEX = "378282246310005"
OCT = dt.date(2026, 10, 1)


def _no_card(text: str):
    flat = text.replace(" ", "").replace("-", "")
    assert CARD not in flat and "4111111111111111" not in flat and luhn_hits(flat) == []


# --- The scan ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [CARD, SPACED, DASHED, AMEX, f"pay with {SPACED} cvc 123", "6011000990139424"])
def test_card_number_refused_finds_luhn_valid_runs(value):
    assert contains_card_number(value)
    with pytest.raises(InvalidInput) as refused:
        refuse_card_number(value, field="note")
    assert refused.value.code == "card_number_refused" and list(refused.value.fields) == ["note"]
    assert "4242" not in str(refused.value.message) and "4242" not in str(refused.value.fields)


@pytest.mark.parametrize(
    "value",
    ["4242424242424241", "+31 20 123 4567", "PO-2026-000123", "NL123456789B01", "123456789012", "", None],
)
def test_card_number_refused_only_for_a_luhn_valid_13_to_19_digit_run(value):
    assert not contains_card_number(value)
    refuse_card_number(value, field="note")


def test_card_number_refused_next_to_other_digits():
    assert contains_card_number(f"{SPACED} 123") and contains_card_number(f"ref 12{CARD}34567")
    contains_card_number("1 2 3 4 5 6 7 8 9 " * 400)  # a long message is scanned quickly


def test_payments_uses_the_one_card_number_scan():
    assert payments_contains_card_number is contains_card_number


# --- Every refusing field, through its service ------------------------------------------


def _profile(demo, **data):
    account = demo.accounts["contoso"]
    account.refresh_from_db()
    account_services.billing_account_update_profile(
        account=account, actor=demo.users["wd_admin"], version=account.version, data=data
    )


def _amendment(demo):
    invoice = make_invoice(demo.profiles["woodgrove_nl"], OCT)
    return po_services.amendment_request_create(
        invoice=invoice, actor=demo.users["ca_owner"], message="New PO, please.", po_number="NEW"
    )


def _usage(demo, **row):
    sub = demo.subscriptions["contoso_prod"]
    base = {
        "subscription_id": str(sub.subscription_id),
        "period": "2026-10",
        "service_name": "Compute",
        "meter": "vCPU hours",
        "quantity": "1",
        "unit_price": "1",
        "currency": sub.account.currency,
    }
    report = charge_import(rows=[{**base, **row}], actor=None)
    assert report.accepted == 0
    errors = " ".join(report.rejected[0]["errors"])
    _no_card(errors)
    raise InvalidInput(errors, code="card_number_refused" if "card number" in errors else "invalid")


PROFILE_TEXT = (
    "company_name",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "billing_contact_name",
    "billing_contact_email",
    "billing_contact_phone",
    "vat_id",
)
SUPPORT_DETAILS = details.FREE_TEXT

DOORS = {
    **{f"profile.{f}": (f, lambda demo, v, f=f: _profile(demo, **{f: v})) for f in PROFILE_TEXT},
    "po_number": ("po_number", lambda demo, v: clean_po_number(v)),
    "profile_po_number_set": (
        "po_number",
        lambda demo, v: po_services.profile_po_number_set(
            profile=demo.profiles["woodgrove_nl"], po_number=v, actor=demo.users["ca_owner"], version=1
        ),
    ),
    "vat_id": ("vat_id", lambda demo, v: clean_vat_id(v, "NL")),
    "vat_id_set": (
        "vat_id",
        lambda demo, v: account_services.billing_account_vat_id_set(
            account=demo.accounts["woodgrove"], vat_id=v, actor=demo.users["ca_owner"]
        ),
    ),
    "user.full_name": ("full_name", lambda demo, v: User.objects.create_user(email="n@example.com", full_name=v)),
    "amendment.message": (
        "message",
        lambda demo, v: po_services.amendment_request_create(
            invoice=make_invoice(demo.profiles["woodgrove_nl"], OCT),
            actor=demo.users["ca_owner"],
            message=v,
            po_number="NEW",
        ),
    ),
    "amendment.po_number": (
        "po_number",
        lambda demo, v: po_services.amendment_request_create(
            invoice=make_invoice(demo.profiles["woodgrove_nl"], OCT),
            actor=demo.users["ca_owner"],
            message="x",
            po_number=v,
        ),
    ),
    "amendment.decline_reason": (
        "reason",
        lambda demo, v: po_services.amendment_request_decline(
            request=_amendment(demo), actor=demo.users["support"], reason=v
        ),
    ),
    "invoice_amend.reason": (
        "reason",
        lambda demo, v: invoice_amend(
            invoice=make_invoice(demo.profiles["woodgrove_nl"], OCT), actor=None, reason=v, po_number="NEW"
        ),
    ),
    **{f"support.{f}": (f, lambda demo, v, f=f: details.clean_details({f: v})) for f in SUPPORT_DETAILS},
    "support.message": ("message", lambda demo, v: support_common.clean_message(v)),
    "support.note": ("note", lambda demo, v: support_common.clean_message(v, field="note")),
    "support.rejection_reason": ("reason", lambda demo, v: support_common.clean_message(v, field="reason")),
    "support.bank_name": ("bank_name", lambda demo, v: support_common.clean_message(v, field="bank_name")),
    "card.holder_name": ("holder_name", lambda demo, v: clean_holder_name(v)),
    **{f"card.{f}": (f, lambda demo, v, f=f: clean_address({f: v})) for f in ("address_line1", "postal_code", "city")},
    **{
        f"usage.{f}": (None, lambda demo, v, f=f: _usage(demo, **{f: v}))
        for f in ("service_name", "meter", "record_id")
    },
}


@pytest.mark.parametrize("door", sorted(DOORS))
def test_card_number_refused_in_every_free_text_field_through_its_service(demo, door):
    field, call = DOORS[door]
    requests_before = AmendmentRequest.objects.count()
    with pytest.raises(InvalidInput) as refused:
        call(demo, SPACED)
    fields = refused.value.fields
    if field is not None:
        assert fields[field] == [str(CARD_NUMBER_REFUSED)]
    # The support details report every field at once: other fields left empty there.
    others = [name for name in fields if name != field]
    assert refused.value.code == ("invalid" if others else "card_number_refused"), fields
    _no_card(str(refused.value.message) + str(refused.value.fields))
    assert AmendmentRequest.objects.count() <= requests_before + 1  # only the one a decline needs


# --- Pages and API -----------------------------------------------------------------------


def test_card_number_refused_in_po_number_page_and_api(demo, client_for, api_for):
    profile = demo.profiles["fabrikam"]
    page_url = reverse("purchase_orders:web_direct_po", args=[demo.subscriptions["fabrikam_main"].subscription_id])
    page = client_for(demo.users["wd_invoice_admin"]).post(page_url, {"po_number": SPACED, "version": 1})
    assert page.status_code == 200 and "Voer hier nooit een kaartnummer in." in page.content.decode()
    _no_card(page.content.decode())
    api = api_for(demo.users["wd_invoice_admin"])
    url = f"/api/v1/billing-profiles/{profile.pk}/po-number/"
    response = api.put(url, {"po_number": CARD, "version": 1}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "card_number_refused"
    assert "po_number" in response.json()["fields"]
    _no_card(response.content.decode())
    profile.refresh_from_db()
    assert profile.po_number == "PO-FAB-2026-001"


def test_card_number_refused_in_billing_contact_phone(demo, client_for):
    account = demo.accounts["contoso"]
    account.refresh_from_db()
    data = {
        name: getattr(account, name)
        for name in (
            "company_name",
            "address_line1",
            "address_line2",
            "postal_code",
            "city",
            "region",
            "vat_id",
            "billing_contact_name",
            "billing_contact_email",
        )
    }
    data |= {"country": account.country.code, "version": account.version, "billing_contact_phone": DASHED}
    page = client_for(demo.users["wd_admin"]).post(reverse("accounts:profile", args=[account.pk]), data)
    text = page.content.decode()
    assert page.status_code == 200 and "Never enter a card number here." in text
    _no_card(text)
    account.refresh_from_db()
    assert not contains_card_number(account.billing_contact_phone)


def test_card_number_refused_in_billing_contact_phone_in_the_admin(demo, client_for):
    account = demo.accounts["contoso"]
    superuser = User.objects.create_superuser(email="root@example.com", password="x")
    page = client_for(superuser).get(reverse("admin:accounts_billingaccount_change", args=[account.pk]))
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {k: ("" if v is None else v) for k, v in form.initial.items() if k in form.fields}
    data["country"] = account.country.code
    data["billing_contact_phone"] = SPACED
    data["signed_up_by"] = ""
    for prefix in ("profiles", "roleassignment_set"):
        data |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}
    response = client_for(superuser).post(reverse("admin:accounts_billingaccount_change", args=[account.pk]), data)
    text = response.content.decode()
    assert response.status_code == 200 and "Never enter a card number here." in text
    _no_card(text)
    account.refresh_from_db()
    assert not contains_card_number(account.billing_contact_phone)


def test_card_number_refused_in_amendment_message_and_never_mailed(demo, api_for, django_capture_on_commit_callbacks):
    invoice = make_invoice(demo.profiles["woodgrove_nl"], OCT)
    api = api_for(demo.users["ca_owner"])
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/amendment-requests/",
            {"invoice": invoice.pk, "message": f"charge {CARD} cvc 123", "po_number": "NEW"},
            format="json",
        )
    assert response.status_code == 400 and response.json()["code"] == "card_number_refused"
    _no_card(response.content.decode())
    assert not AmendmentRequest.objects.exists() and mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        po_services.amendment_request_create(
            invoice=invoice, actor=demo.users["ca_owner"], message="New PO from purchasing.", po_number="NEW"
        )
    assert mail.outbox  # the staff and the customer were mailed, with the message ...
    for message in mail.outbox:
        _no_card(message.subject + message.body + "".join(a[0] for a in message.alternatives))
