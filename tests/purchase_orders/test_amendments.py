"""PO-5: support requests to amend an issued invoice, approved or declined by support staff."""

import datetime as dt

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from billing_portal.errors import Conflict, InvalidInput, NotAllowed
from notifications.models import Notification
from purchase_orders import selectors, services
from purchase_orders.models import AmendmentStatus, ChangeSource, NumberChange

from .conftest import make_invoice

pytestmark = pytest.mark.django_db

OCT = dt.date(2026, 10, 1)


def utc(*args):
    return dt.datetime(*args, tzinfo=dt.UTC)


def test_po_5_web_direct_request_approved_gives_a_new_revision_and_notifies(demo, django_capture_on_commit_callbacks):
    profile = demo.profiles["fabrikam"]
    profile.refresh_from_db()
    invoice = make_invoice(profile, OCT)
    customer, staff = demo.users["wd_invoice_admin"], demo.users["support"]
    amendment = services.amendment_request_create(
        invoice=invoice, actor=customer, message="Our purchasing department issued a new PO.", po_number="PO-FAB-NEW"
    )
    assert amendment.status == AmendmentStatus.OPEN and amendment.current_po_number == "PO-FAB-2026-001"
    with django_capture_on_commit_callbacks(execute=True):
        services.amendment_request_approve(request=amendment, actor=staff)
    invoice.refresh_from_db()
    assert [r.po_number for r in invoice.revisions.order_by("number")] == ["PO-FAB-2026-001", "PO-FAB-NEW"]
    amendment.refresh_from_db()
    assert amendment.status == AmendmentStatus.APPROVED and amendment.revision == invoice.current_revision
    change = NumberChange.objects.get()
    assert change.source == ChangeSource.SUPPORT_AMENDMENT and change.invoice == invoice
    assert change.amendment_request == amendment and change.changed_by == staff
    profile.refresh_from_db()
    assert profile.po_number == "PO-FAB-2026-001"  # the next invoice is not affected by the amendment
    notification = Notification.objects.get(kind="po_amendment_approved")
    assert notification.recipient == customer.email and notification.language == "nl"
    assert len(mail.outbox) == 1 and invoice.number in mail.outbox[0].subject
    assert "aangepast" in mail.outbox[0].subject  # Dutch for the Dutch customer


def test_po_5_customer_agreement_vat_request_declined_with_reason(demo, django_capture_on_commit_callbacks):
    invoice = make_invoice(demo.profiles["woodgrove_nl"], OCT)
    amendment = services.amendment_request_create(
        invoice=invoice, actor=demo.users["ca_ba_contributor"], message="Wrong VAT ID", vat_id="NL004495445B01"
    )
    with pytest.raises(InvalidInput):
        services.amendment_request_decline(request=amendment, actor=demo.users["support"], reason="   ")
    with django_capture_on_commit_callbacks(execute=True):
        services.amendment_request_decline(
            request=amendment, actor=demo.users["support"], reason="The VAT ID was right."
        )
    amendment.refresh_from_db()
    assert amendment.status == AmendmentStatus.DECLINED and amendment.decline_reason == "The VAT ID was right."
    assert invoice.revisions.count() == 1 and not NumberChange.objects.exists()
    assert "The VAT ID was right." in mail.outbox[0].body
    request_url = settings.PORTAL_BASE_URL + reverse("purchase_orders:amendment_detail", args=[amendment.pk])
    assert request_url in mail.outbox[0].body and f'href="{request_url}"' in mail.outbox[0].alternatives[0][0]
    with pytest.raises(Conflict):
        services.amendment_request_approve(request=amendment, actor=demo.users["support"])


def test_po_5_enterprise_after_the_window_only_a_request_changes_the_po(demo, clock):
    northwind = demo.profiles["northwind"]
    invoice = make_invoice(northwind, OCT, notified_at=utc(2026, 11, 2, 9))
    clock.set(utc(2026, 11, 5, 12))  # window still open: the EA admin can do it directly
    with pytest.raises(InvalidInput) as exc:
        services.amendment_request_create(invoice=invoice, actor=demo.users["ea_admin"], message="x", po_number="NW-1")
    assert exc.value.code == "po_window_open"
    clock.set(utc(2026, 11, 20, 12))
    amendment = services.amendment_request_create(
        invoice=invoice, actor=demo.users["ea_admin"], message="x", po_number="NW-1"
    )
    services.amendment_request_approve(request=amendment, actor=demo.users["support"])
    invoice.refresh_from_db()
    assert invoice.current_revision.po_number == "NW-1"
    state = selectors.period_state(northwind, OCT)
    assert state.po_number == "NW-1" and not state.is_default  # the Usage summary agrees with the invoice


@pytest.mark.parametrize("key", ["ea_readonly", "support"])
def test_po_5_enterprise_refused_requesters(demo, clock, key):
    invoice = make_invoice(demo.profiles["northwind"], OCT, notified_at=utc(2026, 11, 2, 9))
    clock.set(utc(2026, 11, 20, 12))
    with pytest.raises(NotAllowed):
        services.amendment_request_create(invoice=invoice, actor=demo.users[key], message="x", po_number="NW-1")


@pytest.mark.parametrize("key", ["ca_ba_reader", "ca_bp_reader", "ca_invoice_manager"])
def test_po_5_customer_agreement_refused_requesters(demo, key):
    invoice = make_invoice(demo.profiles["woodgrove_nl"], OCT)
    with pytest.raises(NotAllowed):
        services.amendment_request_create(invoice=invoice, actor=demo.users[key], message="x", po_number="NEW")


def test_po_5_profile_contributor_may_not_ask_for_a_vat_change(demo):
    invoice = make_invoice(demo.profiles["woodgrove_nl"], OCT)
    with pytest.raises(NotAllowed):
        services.amendment_request_create(
            invoice=invoice, actor=demo.users["ca_bp_contributor"], message="x", vat_id="NL004495445B01"
        )


def test_po_5_only_support_staff_approve_or_decline(demo):
    invoice = make_invoice(demo.profiles["woodgrove_nl"], OCT)
    amendment = services.amendment_request_create(
        invoice=invoice, actor=demo.users["ca_owner"], message="x", po_number="N"
    )
    for key in ("ca_owner", "ea_admin"):
        with pytest.raises(NotAllowed):
            services.amendment_request_approve(request=amendment, actor=demo.users[key])
        with pytest.raises(NotAllowed):
            services.amendment_request_decline(request=amendment, actor=demo.users[key], reason="no")
    amendment.refresh_from_db()
    assert amendment.is_open and invoice.revisions.count() == 1


def test_po_5_requests_are_validated_and_not_duplicated(demo):
    invoice = make_invoice(demo.profiles["woodgrove_nl"], OCT, po_number="SAME")
    owner = demo.users["ca_owner"]
    with pytest.raises(InvalidInput) as exc:
        services.amendment_request_create(invoice=invoice, actor=owner, message="x", po_number=" SAME ")
    assert exc.value.code == "nothing_to_change"
    with pytest.raises(InvalidInput):
        services.amendment_request_create(invoice=invoice, actor=owner, message="x", vat_id="NL123")
    with pytest.raises(InvalidInput):
        services.amendment_request_create(invoice=invoice, actor=owner, message="  ", po_number="NEW")
    services.amendment_request_create(invoice=invoice, actor=owner, message="x", po_number="NEW")
    with pytest.raises(Conflict):
        services.amendment_request_create(invoice=invoice, actor=owner, message="again", po_number="NEWER")
