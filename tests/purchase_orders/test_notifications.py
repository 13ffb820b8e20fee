"""PO-5 and Notifications: a new amendment request gives the customer a receipt and
tells every active support-staff user that it waits, each once and in their language."""

import datetime as dt
from unittest import mock

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from accounts.models import User
from billing_portal.errors import InvalidInput
from notifications.models import Notification
from notifications.tasks import send_notification
from purchase_orders import services

from .conftest import make_invoice

pytestmark = pytest.mark.django_db

OCT = dt.date(2026, 10, 1)
RECEIVED, WAITING = "po_amendment_received", "po_amendment_waiting"


@pytest.fixture
def more_staff(demo):
    """A Dutch support-staff user, an inactive one and a plain operator employee."""
    dutch = User.objects.create_user(
        email="steun@portal.example", full_name="Sanne Steun", language="nl", is_support_staff=True
    )
    User.objects.create_user(email="former@portal.example", full_name="Former", is_support_staff=True, is_active=False)
    User.objects.create_user(email="ops@portal.example", full_name="Ops", is_staff=True)
    return dutch


def _open_request(demo, **changes):
    invoice = make_invoice(demo.profiles["woodgrove_nl"], OCT, po_number="WG-OLD")
    changes = changes or {"po_number": "WG-NEW"}
    return services.amendment_request_create(
        invoice=invoice, actor=demo.users["ca_owner"], message="Procurement issued a <new> PO.", **changes
    )


def _mail_to(address):
    found = [m for m in mail.outbox if m.to == [address]]
    assert len(found) == 1, [m.to for m in mail.outbox]
    return found[0]


def test_po_5_new_request_notifies_customer_and_each_active_support_user_once(
    demo, more_staff, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        amendment = _open_request(demo)
    customer, support = demo.users["ca_owner"], demo.users["support"]

    receipt = Notification.objects.get(kind=RECEIVED)
    assert receipt.recipient == customer.email and receipt.language == "nl"
    assert receipt.dedupe_key == f"{RECEIVED}:{amendment.pk}" and receipt.invoice == amendment.invoice
    waiting = Notification.objects.filter(kind=WAITING).order_by("recipient")
    assert [(n.recipient, n.language) for n in waiting] == [(more_staff.email, "nl"), (support.email, "en")]
    assert len(mail.outbox) == 3

    # The customer's receipt, in Dutch, with an absolute link to their request.
    message = _mail_to(customer.email)
    assert amendment.invoice.number in message.subject and "ontvangen" in message.subject
    request_url = settings.PORTAL_BASE_URL + reverse("purchase_orders:amendment_detail", args=[amendment.pk])
    assert request_url in message.body and "WG-OLD → WG-NEW" in message.body
    html = message.alternatives[0][0]
    assert f'href="{request_url}"' in html

    # Support staff, each in their own language, with a link into the support queue.
    queue_url = settings.PORTAL_BASE_URL + reverse("purchase_orders:support_request", args=[amendment.pk])
    english, dutch = _mail_to(support.email), _mail_to(more_staff.email)
    assert english.subject == f"New support request #{amendment.pk}: amend invoice {amendment.invoice.number}"
    assert "Nieuwe" in dutch.subject and "wacht" in dutch.body
    for message in (english, dutch):
        assert queue_url in message.body and "Procurement issued a <new> PO." in message.body
        assert f'href="{queue_url}"' in message.alternatives[0][0]
        assert "Procurement issued a &lt;new&gt; PO." in message.alternatives[0][0]


def test_po_5_running_the_notification_service_again_queues_nothing_new(
    demo, more_staff, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        amendment = _open_request(demo, vat_id="NL004495445B01")
    with django_capture_on_commit_callbacks(execute=True):
        services.amendment_request_notify_received(request=amendment)
        services.amendment_request_notify_received(request=amendment)
    assert Notification.objects.filter(kind=RECEIVED).count() == 1
    assert Notification.objects.filter(kind=WAITING).count() == 2
    assert len(mail.outbox) == 3
    # A support user who joins later is told about the request once too.
    late = User.objects.create_user(email="late@portal.example", full_name="Late", is_support_staff=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.amendment_request_notify_received(request=amendment)
    assert Notification.objects.filter(kind=WAITING).count() == 3
    assert [m.to for m in mail.outbox[3:]] == [[late.email]]


def test_po_5_a_retried_send_task_sends_each_notification_once(demo, more_staff, django_capture_on_commit_callbacks):
    # The mail server is down when the request is opened: nothing goes out, nothing is lost.
    with mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=OSError("mail server down")):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            _open_request(demo)
        for notification in Notification.objects.filter(kind__in=[RECEIVED, WAITING]):
            with pytest.raises(OSError):
                send_notification.run(notification.pk)
    assert mail.outbox == [] and len(callbacks) == 3
    pending = list(Notification.objects.filter(kind__in=[RECEIVED, WAITING]))
    assert len(pending) == 3 and all(n.status == "pending" and n.attempts == 1 for n in pending)
    # The task is retried (and delivered a second time): each e-mail goes out once.
    for _ in range(2):
        for notification in pending:
            send_notification.run(notification.pk)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(n.recipient for n in pending)
    assert all(n.status == "sent" for n in Notification.objects.filter(kind__in=[RECEIVED, WAITING]))


def test_po_5_requests_through_the_api_and_the_page_notify_too(demo, client_for, api_for):
    invoice = make_invoice(demo.profiles["woodgrove_nl"], OCT)
    response = api_for(demo.users["ca_owner"]).post(
        "/api/v1/amendment-requests/", {"invoice": invoice.pk, "po_number": "API-1", "message": "x"}, format="json"
    )
    assert response.status_code == 201
    pk = response.json()["id"]
    assert Notification.objects.filter(kind=RECEIVED, dedupe_key=f"{RECEIVED}:{pk}").count() == 1
    assert Notification.objects.filter(kind=WAITING, recipient=demo.users["support"].email).count() == 1


def test_po_5_a_refused_request_notifies_nobody(demo):
    invoice = make_invoice(demo.profiles["woodgrove_nl"], OCT, po_number="SAME")
    with pytest.raises(InvalidInput):
        services.amendment_request_create(invoice=invoice, actor=demo.users["ca_owner"], message="x", po_number="SAME")
    assert not Notification.objects.filter(kind__in=[RECEIVED, WAITING]).exists()
