"""The billing run's after-issue work (PDF, invoice-ready e-mail, automatic charge) is
published once per chunk and kind, never once per invoice; the list tasks do each
invoice's work once; what a lost message left undone is published again by the sweeper."""

import datetime as dt
from collections import Counter

import pytest
from django.core import mail

from billing_portal import queue
from invoices import services
from invoices.models import Invoice, InvoiceRevision, PaymentTerms
from invoices.services import documents
from invoices.tasks import render_invoice_pdfs, send_invoices_ready
from notifications.models import Notification
from payments import demo as payments_demo
from payments import services as payment_services
from payments.models import Payment
from payments.tasks import payments_charge_invoices
from tests.factories import make_account, make_subscription

pytestmark = pytest.mark.django_db

JAN = dt.date(2026, 1, 1)
AFTER_ISSUE = {
    "invoices.tasks.render_invoice_pdfs",
    "invoices.tasks.send_invoices_ready",
    "payments.tasks.payments_charge_invoices",
}


class Published(list):
    """Every publish, as (task name, args); lost (not sent) until ``lost`` is False."""

    lost = True

    def __init__(self, real):
        super().__init__()
        self.real = real

    def __call__(self, name, *args):
        self.append((name, args))
        return True if self.lost else self.real(name, *args)


@pytest.fixture
def published(monkeypatch):
    recorder = Published(queue.publish)
    monkeypatch.setattr(queue, "publish", recorder)
    return recorder


@pytest.fixture
def card_demo(demo, add_charge):
    """The demo with its cards and a charge on every subscription: seven billing scopes,
    card-paying and bank-transfer ones."""
    payments_demo.seed(demo)
    for subscription in demo.subscriptions.values():
        add_charge(subscription)
    return demo


@pytest.mark.parametrize("chunk_size", [3, 12])
def test_billing_run_publishes_after_issue_work_once_per_chunk_and_kind_whatever_the_chunk_size(
    chunk_size, add_charge, clock, published, django_capture_on_commit_callbacks
):
    for i in range(12):
        account = make_account(payment_mode="card" if i % 3 else "invoice")
        add_charge(make_subscription(account))
    clock.set(dt.datetime(2026, 2, 1, 6))
    run = services.billing_run_start(period=JAN, chunk_size=chunk_size, enqueue=False)
    for chunk in run.chunks.order_by("index"):
        published.clear()
        with django_capture_on_commit_callbacks(execute=True):
            assert services.billing_chunk_process(chunk_id=chunk.pk) == len(chunk.profile_ids)
        # Three messages per chunk, whatever its size: each carries the chunk's ids.
        assert Counter(name for name, _args in published) == Counter(AFTER_ISSUE)
        invoices = Invoice.objects.filter(profile_id__in=chunk.profile_ids)
        by_name = {name: args for name, args in published}
        assert by_name["invoices.tasks.send_invoices_ready"] == (sorted(invoices.values_list("pk", flat=True)),)
        assert by_name["invoices.tasks.render_invoice_pdfs"] == (
            sorted(invoices.values_list("current_revision_id", flat=True)),
        )
        card = invoices.filter(payment_terms=PaymentTerms.CARD)
        assert by_name["payments.tasks.payments_charge_invoices"] == (sorted(card.values_list("pk", flat=True)),)
    assert Invoice.objects.count() == 12


def test_list_tasks_do_each_invoices_work_once(card_demo, run_billing):
    run_billing()  # eager: the chunk's list tasks ran on commit
    invoices = list(Invoice.objects.order_by("pk"))
    assert len(invoices) == 7
    revision_ids = [invoice.current_revision_id for invoice in invoices]
    assert all(InvoiceRevision.objects.filter(pk__in=revision_ids).values_list("pdf", flat=True))
    ready = Notification.objects.filter(kind=services.INVOICE_READY)
    assert {n.invoice_id for n in ready} == {invoice.pk for invoice in invoices}
    card_ids = [invoice.pk for invoice in invoices if invoice.payment_terms == PaymentTerms.CARD]
    payments = list(Payment.objects.order_by("pk").values_list("invoice_id", "pk"))
    assert payments and {invoice_id for invoice_id, _pk in payments} <= set(card_ids)
    outbox = len(mail.outbox)

    # The same messages again (a redelivery, a sweep that overlapped): nothing twice.
    assert render_invoice_pdfs.delay(revision_ids).get() == 0
    assert send_invoices_ready.delay([invoice.pk for invoice in invoices]).get() == 0
    payments_charge_invoices.delay(card_ids).get()
    assert Notification.objects.filter(kind=services.INVOICE_READY).count() == ready.count()
    assert list(Payment.objects.order_by("pk").values_list("invoice_id", "pk")) == payments
    assert len(mail.outbox) == outbox


def _issue_chunks(clock, capture) -> None:
    clock.set(dt.datetime(2026, 2, 1, 6))
    run = services.billing_run_start(period=JAN, enqueue=False)
    for chunk_id in run.chunks.values_list("pk", flat=True):
        with capture(execute=True):
            services.billing_chunk_process(chunk_id=chunk_id)


def test_one_failing_pdf_of_a_list_does_not_stop_the_others_and_the_retry_does_the_rest(
    card_demo, clock, published, monkeypatch, django_capture_on_commit_callbacks
):
    _issue_chunks(clock, django_capture_on_commit_callbacks)  # the messages are lost: no PDF yet
    revision_ids = list(InvoiceRevision.objects.order_by("pk").values_list("pk", flat=True))
    broken = revision_ids[1]
    real = documents.render_revision_pdf

    def render(revision):
        if revision.pk == broken:
            raise RuntimeError("renderer crashed")
        return real(revision)

    monkeypatch.setattr(documents, "render_revision_pdf", render)
    with pytest.raises(RuntimeError, match="renderer crashed"):
        services.invoice_revisions_render_pdf(revision_ids=revision_ids)
    pending = set(InvoiceRevision.objects.filter(pdf="").values_list("pk", flat=True))
    assert pending == {broken}
    monkeypatch.setattr(documents, "render_revision_pdf", real)
    assert services.invoice_revisions_render_pdf(revision_ids=revision_ids) == 1  # the retry renders only it


def test_lost_after_issue_messages_of_a_chunk_are_published_again_by_the_sweepers(
    card_demo, clock, published, django_capture_on_commit_callbacks
):
    _issue_chunks(clock, django_capture_on_commit_callbacks)
    # The chunk's three messages were lost: no PDF, no e-mail, no charge.
    assert {name for name, _args in published} == AFTER_ISSUE and len(published) == 3
    invoice_ids = sorted(Invoice.objects.values_list("pk", flat=True))
    assert len(invoice_ids) == 7
    assert not InvoiceRevision.objects.exclude(pdf="").exists()
    assert not Notification.objects.exists() and not Payment.objects.exists()

    clock.advance(minutes=11)  # past the sweepers' patience
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        swept = services.sweep_unfinished_work()
    assert swept == {"chunks": 0, "pdfs": 7, "invoice_notifications": 7, "notifications": 0}
    # The sweep publishes lists too: one message per kind, not one per invoice.
    assert published == [
        ("invoices.tasks.render_invoice_pdfs", (sorted(InvoiceRevision.objects.values_list("pk", flat=True)),)),
        ("invoices.tasks.send_invoices_ready", (invoice_ids,)),
    ]
    # Now with the broker back (eager tasks): the sweeps do the work, once.
    published.lost = False
    with django_capture_on_commit_callbacks(execute=True):
        services.sweep_unfinished_work()
        charged = payment_services.payments_charge_missed()
    assert not InvoiceRevision.objects.filter(pdf="").exists()
    assert set(Notification.objects.filter(kind=services.INVOICE_READY).values_list("invoice_id", flat=True)) == set(
        invoice_ids
    )
    assert charged == Payment.objects.count() > 0
    assert Payment.objects.values("invoice_id").distinct().count() == charged
    with django_capture_on_commit_callbacks(execute=True):
        assert payment_services.payments_charge_missed() == 0
        clock.advance(minutes=11)
        assert services.sweep_unfinished_work() == {
            "chunks": 0,
            "pdfs": 0,
            "invoice_notifications": 0,
            "notifications": 0,
        }
