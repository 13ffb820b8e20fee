"""Documents in object storage: with ``STORAGE_BACKEND=s3`` invoice, credit-note and
receipt PDFs are stored in a private bucket (moto's S3 server, tests/s3.py) by the real
render tasks and services, every door's download streams the object from the bucket
behind the usual permission checks, a PDF whose object is gone is rendered and stored
again, and a bucket that cannot be reached gives a quick 503 (page or the API's error
shape) with nothing written."""

# ruff: noqa: F811 - the fixtures of tests/invoices and tests/payments, imported here

import time

import pytest
from django.urls import reverse

from billing_portal.s3_storage import StreamedObject
from billing_portal.storage import open_document
from invoices import services as invoice_services
from invoices.models import CreditNote, Invoice
from payments import services as payment_services
from payments.models import PaymentSource
from tests.invoices.conftest import add_charge, run_billing  # noqa: F401
from tests.payments.conftest import cards, make_invoice  # noqa: F401
from tests.s3 import PREFIX, free_port, point_storage_at

pytestmark = [pytest.mark.django_db, pytest.mark.s3]


@pytest.fixture
def contoso_invoice(demo, add_charge, run_billing, s3_bucket):
    """Contoso's January invoice, billed with the documents in the bucket: the billing
    run publishes the PDF task on commit, and the task renders and stores it."""
    add_charge(demo.subscriptions["contoso_prod"])
    run_billing()
    return Invoice.objects.select_related("current_revision").get(profile=demo.profiles["contoso"])


def _streamed(response, bucket, key) -> bytes:
    """The body of a download, checked to be the bucket's object read as it streams."""
    assert response.status_code == 200, response.content[:300] if not response.streaming else ""
    assert response["Content-Type"] == "application/pdf"
    assert response.streaming
    body = b"".join(response.streaming_content)
    assert body.startswith(b"%PDF") and body == bucket.body(key)
    assert response["Content-Length"] == str(len(body))
    return body


def test_the_render_task_stores_the_invoice_pdf_in_the_bucket(contoso_invoice, s3_bucket, settings):
    revision = contoso_invoice.current_revision
    assert revision.pdf and revision.pdf_rendered_at
    key = s3_bucket.key_of(revision.pdf)
    assert key.startswith(f"{PREFIX}/invoices/") and key.endswith(f"{contoso_invoice.number}-r1.pdf")
    assert s3_bucket.keys() == [key]
    assert s3_bucket.body(key).startswith(b"%PDF")
    assert not (settings.MEDIA_ROOT / "invoices").exists()  # nothing on the node's disk


def test_a_stored_document_is_read_from_the_bucket_as_it_arrives(contoso_invoice, s3_bucket):
    field_file = contoso_invoice.current_revision.pdf
    whole = s3_bucket.body(s3_bucket.key_of(field_file))
    content = open_document(field_file)
    try:
        assert isinstance(content, StreamedObject) and content.size == len(whole) > 4096
        assert content.read(4096) == whole[:4096]
        assert content.file.tell() == 4096  # the body of the GET, read so far: not a copy of the object
        assert content.read() == whole[4096:]
    finally:
        content.close()


def test_documents_are_private_objects(contoso_invoice, s3_bucket):
    key = s3_bucket.key_of(contoso_invoice.current_revision.pdf)
    grants = s3_bucket.client.get_object_acl(Bucket=s3_bucket.name, Key=key)["Grants"]
    assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"]  # the owner, nobody else
    assert not [g for g in grants if g["Grantee"].get("Type") == "Group"]  # no AllUsers / AuthenticatedUsers
    head = s3_bucket.client.head_object(Bucket=s3_bucket.name, Key=key)
    assert head["ContentType"] == "application/pdf"


def test_page_and_api_stream_the_invoice_pdf_from_the_bucket(demo, contoso_invoice, s3_bucket, client_for, api_for):
    key = s3_bucket.key_of(contoso_invoice.current_revision.pdf)
    page = client_for(demo.users["wd_admin"]).get(reverse("invoices:pdf", args=[contoso_invoice.pk]))
    assert page["Content-Disposition"] == f'attachment; filename="{contoso_invoice.number}.pdf"'
    body = _streamed(page, s3_bucket, key)
    api = api_for(demo.users["wd_admin"]).get(f"/api/v1/invoices/{contoso_invoice.pk}/pdf/1/")
    assert _streamed(api, s3_bucket, key) == body
    assert s3_bucket.keys() == [key]  # served, not rendered again


def test_another_tenant_gets_404_for_a_pdf_in_the_bucket(demo, contoso_invoice, client_for, api_for):
    outsider = demo.users["wd_invoice_admin"]  # Fabrikam's admin
    assert client_for(outsider).get(reverse("invoices:pdf", args=[contoso_invoice.pk])).status_code == 404
    api = api_for(outsider).get(f"/api/v1/invoices/{contoso_invoice.pk}/pdf/")
    assert api.status_code == 404 and api.json()["code"] == "not_found"
    assert client_for(None).get(reverse("invoices:pdf", args=[contoso_invoice.pk])).status_code == 302


def test_a_pdf_whose_object_is_gone_is_rendered_and_stored_again(demo, contoso_invoice, s3_bucket, client_for):
    revision = contoso_invoice.current_revision
    key = s3_bucket.key_of(revision.pdf)
    s3_bucket.delete(key)  # the bucket lost it; the row still names it
    assert s3_bucket.keys() == []
    response = client_for(demo.users["wd_admin"]).get(reverse("invoices:pdf", args=[contoso_invoice.pk]))
    revision.refresh_from_db()
    assert s3_bucket.keys() == [s3_bucket.key_of(revision.pdf)] == [key]
    _streamed(response, s3_bucket, key)


def test_credit_note_pdf_in_the_bucket_at_every_door(
    demo, contoso_invoice, s3_bucket, client_for, api_for, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the render task runs on commit
        credit_note = invoice_services.credit_note_issue(
            invoice=contoso_invoice, actor=None, reason="Service outage", amount="5.00"
        )
    credit_note = CreditNote.objects.get(pk=credit_note.pk)
    key = s3_bucket.key_of(credit_note.pdf)
    assert key.startswith(f"{PREFIX}/credit_notes/") and key in s3_bucket.keys()
    page = client_for(demo.users["wd_admin"]).get(reverse("invoices:credit_note_pdf", args=[credit_note.pk]))
    body = _streamed(page, s3_bucket, key)
    api = api_for(demo.users["wd_admin"]).get(f"/api/v1/credit-notes/{credit_note.pk}/pdf/")
    assert _streamed(api, s3_bucket, key) == body
    s3_bucket.delete(key)
    again = api_for(demo.users["wd_admin"]).get(f"/api/v1/credit-notes/{credit_note.pk}/pdf/")
    _streamed(again, s3_bucket, key)  # rendered and stored again
    outsider = api_for(demo.users["wd_invoice_admin"]).get(f"/api/v1/credit-notes/{credit_note.pk}/pdf/")
    assert outsider.status_code == 404


def test_receipt_pdf_rendered_on_first_download_into_the_bucket(cards, s3_bucket, client_for, api_for):
    profile = cards.profiles["contoso"]
    profile.refresh_from_db()
    invoice = make_invoice(profile, total="242.00")
    payment = payment_services.invoice_pay(
        invoice=invoice, payment_method=payment_services.scope_active_card(profile), source=PaymentSource.AUTOMATIC
    )
    receipt = payment.receipt
    assert not receipt.pdf and s3_bucket.keys() == []  # receipts are rendered when first asked for
    url = reverse("payments:receipt_pdf", args=[receipt.pk])
    page = client_for(cards.users["wd_admin"]).get(url)
    receipt.refresh_from_db()
    key = s3_bucket.key_of(receipt.pdf)
    assert key.startswith(f"{PREFIX}/receipts/") and s3_bucket.keys() == [key]
    body = _streamed(page, s3_bucket, key)
    api = api_for(cards.users["wd_admin"]).get(f"/api/v1/receipts/{receipt.pk}/pdf/")
    assert _streamed(api, s3_bucket, key) == body
    s3_bucket.delete(key)
    _streamed(client_for(cards.users["wd_admin"]).get(url), s3_bucket, key)  # rendered again
    assert client_for(cards.users["wd_invoice_admin"]).get(url).status_code == 404


def _assert_quick_503(response, started, *, api: bool):
    assert time.monotonic() - started < 8, "a download must not stall on an unreachable bucket"
    assert response.status_code == 503 and response["Retry-After"] == "30"
    if api:
        body = response.json()
        assert body["code"] == "storage_unavailable" and body["detail"] and body["fields"] == {}
    else:
        text = response.content.decode()
        assert "Temporarily unavailable" in text and "document storage" in text


@pytest.mark.parametrize("where", ["closed port", "silent server"])
def test_an_unreachable_bucket_gives_a_quick_503_and_changes_nothing(
    demo, contoso_invoice, s3_bucket, client_for, api_for, settings, monkeypatch, closed_port_endpoint,
    silent_listener, where,
):  # fmt: skip
    revision = contoso_invoice.current_revision
    stored = (revision.pdf.name, revision.pdf_rendered_at)
    endpoint = closed_port_endpoint if where == "closed port" else silent_listener
    point_storage_at(settings, monkeypatch, endpoint, s3_bucket.name, STORAGE_S3_READ_TIMEOUT="1")
    started = time.monotonic()
    page = client_for(demo.users["wd_admin"]).get(reverse("invoices:pdf", args=[contoso_invoice.pk]))
    _assert_quick_503(page, started, api=False)
    started = time.monotonic()
    api = api_for(demo.users["wd_admin"]).get(f"/api/v1/invoices/{contoso_invoice.pk}/pdf/")
    _assert_quick_503(api, started, api=True)
    revision.refresh_from_db()
    assert (revision.pdf.name, revision.pdf_rendered_at) == stored  # not forgotten, not rendered again


def test_a_missing_bucket_is_an_outage_not_a_lost_file(
    demo, contoso_invoice, s3_bucket, client_for, settings, monkeypatch
):
    revision = contoso_invoice.current_revision
    stored = (revision.pdf.name, revision.pdf_rendered_at)
    point_storage_at(settings, monkeypatch, s3_bucket.endpoint, "no-such-bucket")
    started = time.monotonic()
    page = client_for(demo.users["wd_admin"]).get(reverse("invoices:pdf", args=[contoso_invoice.pk]))
    _assert_quick_503(page, started, api=False)
    revision.refresh_from_db()
    assert (revision.pdf.name, revision.pdf_rendered_at) == stored  # its name is not forgotten


def test_a_document_not_yet_rendered_is_not_recorded_when_the_bucket_is_unreachable(
    cards,
    s3_bucket,
    client_for,
    settings,
    monkeypatch,
    closed_port_endpoint,
):
    profile = cards.profiles["contoso"]
    profile.refresh_from_db()
    invoice = make_invoice(profile, total="50.00")
    payment = payment_services.invoice_pay(
        invoice=invoice, payment_method=payment_services.scope_active_card(profile), source=PaymentSource.AUTOMATIC
    )
    point_storage_at(settings, monkeypatch, closed_port_endpoint, s3_bucket.name)
    started = time.monotonic()
    url = reverse("payments:receipt_pdf", args=[payment.receipt.pk])
    _assert_quick_503(client_for(cards.users["wd_admin"]).get(url), started, api=False)
    payment.receipt.refresh_from_db()
    assert not payment.receipt.pdf and payment.receipt.pdf_rendered_at is None


def test_health_check_reports_the_bucket(
    client, settings, s3_bucket, monkeypatch, closed_port_endpoint, silent_listener
):
    settings.CELERY_BROKER_URL = "memory://"
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "embedded", "storage": "ok"}
    point_storage_at(settings, monkeypatch, closed_port_endpoint, s3_bucket.name)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "broker": "embedded", "storage": "unreachable"},
    }
    point_storage_at(settings, monkeypatch, s3_bucket.endpoint, "no-such-bucket")
    assert client.get("/healthz").json()["checks"]["storage"] == "unreachable"
    point_storage_at(settings, monkeypatch, silent_listener, s3_bucket.name)
    started = time.monotonic()
    assert client.get("/healthz").json()["checks"]["storage"] == "unreachable"
    assert time.monotonic() - started < 3  # one attempt, one second


def test_the_503_is_in_the_users_language(cards, s3_bucket, client_for, settings, monkeypatch):
    """Fabrikam's admin reads Dutch; the invoice has no PDF yet, and it cannot be stored."""
    invoice = make_invoice(cards.profiles["fabrikam"], total="80.00")
    point_storage_at(settings, monkeypatch, f"http://127.0.0.1:{free_port()}", s3_bucket.name)
    user = cards.users["wd_invoice_admin"]
    page = client_for(user).get(reverse("invoices:pdf", args=[invoice.pk]))
    assert page.status_code == 503 and "documentopslag" in page.content.decode()
    api = client_for(user).get(f"/api/v1/invoices/{invoice.pk}/pdf/")  # the browser's session
    assert api.status_code == 503 and api.json()["detail"].startswith("Documenten kunnen op dit moment niet")
    assert not invoice.current_revision.__class__.objects.get(pk=invoice.current_revision_id).pdf
