"""The portal's side of tests/security/test_database_outage_writes.py: one scenario per
process, on a database of the private PostgreSQL server (tests/private_postgres.py).

``python -m tests.security.outage_scenarios <scenario> <kill point>``. The scenario seeds
its data, patches one lower function (test-only) so that at the chosen point the work
pauses and the parent stops the server with ``pg_ctl stop -m immediate``; the work then
meets the dead server. The scenario asks for the server back, records what is in the
database, repeats the request or runs the recovery (re-run, sweeper, reconciler), and
hands everything to the test as JSON. The same process lives through the outage: its
persistent connection breaks and is replaced, as in a web or worker process.

Celery does not run tasks here (``CELERY_TASK_ALWAYS_EAGER=false``, an in-memory
broker): every publish is recorded instead, so the test sees what follow-up work was
asked for, and when.
"""

import datetime as dt
import io
import json
import sys
import time
from decimal import Decimal

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count, Sum  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts import api_tokens  # noqa: E402
from accounts import demo as accounts_demo  # noqa: E402
from accounts.models import BillingProfile  # noqa: E402
from accounts.permissions import must_use_two_factor  # noqa: E402
from billing_portal import clock, queue  # noqa: E402
from billing_portal.middleware import DATABASE_UNAVAILABLE  # noqa: E402
from invoices.models import (  # noqa: E402
    BillingRun,
    BillingRunChunk,
    Charge,
    Invoice,
    InvoiceLine,
    InvoiceNumberSequence,
    InvoiceRevision,
)
from invoices.services import billing_run, sweeper  # noqa: E402
from notifications.models import Notification  # noqa: E402
from payments import demo as payments_demo  # noqa: E402
from payments.models import IdempotencyRecord, Payment, SandboxCharge  # noqa: E402
from payments.sandbox import SandboxGateway  # noqa: E402
from payments.services import (  # noqa: E402
    IDEMPOTENCY_LEASE,
    RECONCILE_GIVE_UP,
    charges,
    payments_charge_missed,
    payments_reconcile_pending,
    scope_active_card,
)
from payments.services.collection import MISSED_CHARGE_AFTER  # noqa: E402
from purchase_orders.models import AmendmentRequest, NumberChange, PeriodPONumber  # noqa: E402
from purchase_orders.services import amendment_request_create, amendments, numbers  # noqa: E402
from tests.factories import make_account, make_subscription, sign_in_with_verified_device  # noqa: E402
from tests.payments.conftest import make_invoice as make_pay_invoice  # noqa: E402
from tests.private_postgres import pause, result  # noqa: E402
from tests.purchase_orders.conftest import make_invoice as make_po_invoice  # noqa: E402

# Production mode, but neither password hashing nor static files are what is tested
# here: the fast hasher of the test settings (the demo users' passwords), and plain
# storage, so that pages render without a collectstatic run.
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
settings.STORAGES = {
    **settings.STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- the process's clock and what it publishes ------------------------------------------------------

_offset = dt.timedelta(0)


def _now():
    return timezone.now() + _offset


def advance(**delta) -> None:
    """Move the portal's clock forward (the reconciler's and sweeper's patience)."""
    global _offset
    _offset += dt.timedelta(**delta)


clock.now = _now
PUBLISHED: list[tuple[str, list]] = []
_real_publish = queue.publish


def _recording_publish(name, *args):
    PUBLISHED.append((name, list(args)))
    return _real_publish(name, *args)


queue.publish = _recording_publish


def published(name: str) -> list:
    return [args[0] for task, args in PUBLISHED if task == name]


def published_ids(name: str) -> list:
    """The ids of a task that takes a list of them (the billing run's after-issue work)."""
    return [pk for ids in published(name) for pk in ids]


# --- pulling the plug ------------------------------------------------------------------------------------


def crash_at(owner, name: str, *, nth: int = 1, after: bool = False, counts=lambda *args, **kwargs: True):
    """Patch ``owner.name``: at its ``nth`` call (of those ``counts`` accepts) the
    database is stopped just before the call, or just after it returned (``after``);
    the work goes on against the dead server. Returns the undo."""
    real = getattr(owner, name)
    calls = [0]

    def crashing(*args, **kwargs):
        counted = counts(*args, **kwargs)
        calls[0] += counted
        crash = counted and calls[0] == nth
        if crash and not after:
            stop_database()
        try:
            value = real(*args, **kwargs)
        except Exception as exc:
            if crash:  # what the call that met the dead server raised
                RAISED.append(f"{type(exc).__module__}.{type(exc).__name__}")
            raise
        if crash and after:
            stop_database()
        return value

    setattr(owner, name, crashing)
    return lambda: setattr(owner, name, real)


_stopped = [False]
RAISED: list[str] = []


def stop_database() -> None:
    pause("stop")
    _stopped[0] = True


def database_back() -> None:
    if not _stopped[0]:
        raise RuntimeError("the work never reached the point where the database was to be stopped")
    _stopped[0] = False
    pause("start")
    # What Django does at the start of every request and Celery before every task: a
    # connection that met errors and no longer answers is dropped, the next query connects.
    connection.close_if_unusable_or_obsolete()


def probe_down() -> dict:
    """A query while the server is down: how it fails, and how fast."""
    connection.close_if_unusable_or_obsolete()
    started = time.monotonic()
    try:
        Invoice.objects.count()
    except DATABASE_UNAVAILABLE as exc:
        return {"error": type(exc).__name__, "seconds": time.monotonic() - started}
    return {"error": None, "seconds": time.monotonic() - started}


def outcome(work) -> dict:
    """Run ``work``; what it raised (the database errors only)."""
    try:
        work()
    except DATABASE_UNAVAILABLE as exc:
        return {"error": type(exc).__name__, "in_transaction": connection.in_atomic_block}
    return {"error": None, "in_transaction": connection.in_atomic_block}


def call(client: Client, method: str, path: str, **extra) -> dict:
    started = time.monotonic()
    response = getattr(client, method)(path, secure=True, **extra)
    return {
        "status": response.status_code,
        "seconds": time.monotonic() - started,
        "body": response.content.decode()[:6000],
        "retry": response.get("Retry-After"),
        "location": response.get("Location", ""),
        "replayed": response.get("Idempotent-Replayed"),
    }


def web_client(user) -> Client:
    """A signed-in client; support staff with a verified authenticator app (two-factor
    sign-in is required for them)."""
    client = Client(raise_request_exception=False, HTTP_HOST="example.com")
    if must_use_two_factor(user):
        sign_in_with_verified_device(client, user)
    else:
        client.force_login(user)
    return client


# --- billing run --------------------------------------------------------------------------------------

SCOPES = 60
CHUNK_SIZE = 5
CRASH_CHUNK = 4


def _seed_billing(period: dt.date) -> None:
    rows = []
    for i in range(SCOPES):
        subscription = make_subscription(make_account(name=f"Outage {i:03d}"))
        for n, (quantity, price) in enumerate([("3", "10.01"), (str(i + 1), "0.37")]):
            amount = (Decimal(quantity) * Decimal(price)).quantize(Decimal("0.01"))
            rows.append(
                Charge(
                    subscription=subscription,
                    profile_id=subscription.profile_id,
                    period=period,
                    service_name=f"Service {n}",
                    meter="hours",
                    quantity=Decimal(quantity),
                    unit_price=Decimal(price),
                    amount=amount,
                    currency="EUR",
                )
            )
    Charge.objects.bulk_create(rows)


def billing_state(period: dt.date) -> dict:
    """Every invariant of the period's invoices, as plain data."""
    invoices = list(
        Invoice.objects.filter(period=period).values(
            "pk", "number", "profile_id", "subtotal", "tax_amount", "total", "current_revision_id"
        )
    )
    lines = {
        row["invoice_id"]: row
        for row in InvoiceLine.objects.filter(invoice__period=period)
        .values("invoice_id")
        .annotate(n=Count("pk"), amount=Sum("amount"), tax=Sum("tax_amount"))
    }
    revisions = dict(
        InvoiceRevision.objects.filter(invoice__period=period)
        .values("invoice_id")
        .annotate(n=Count("pk"))
        .values_list("invoice_id", "n")
    )
    sums_off = [
        i["number"]
        for i in invoices
        if i["pk"] in lines
        and (
            lines[i["pk"]]["amount"] != i["subtotal"]
            or lines[i["pk"]]["tax"] != i["tax_amount"]
            or i["total"] != i["subtotal"] + i["tax_amount"]
        )
    ]
    run = BillingRun.objects.filter(period=period).first()
    chunks = BillingRunChunk.objects.filter(run=run)
    sequence = InvoiceNumberSequence.objects.filter(year=run.issue_date.year).first() if run else None
    return {
        "invoices": len(invoices),
        "scopes_invoiced": len({i["profile_id"] for i in invoices}),
        "numbers": sorted(int(i["number"].rsplit("-", 1)[1]) for i in invoices),
        "sequence": sequence.last_number if sequence else 0,
        "without_lines": [i["number"] for i in invoices if i["pk"] not in lines],
        "lines_per_invoice": sorted({row["n"] for row in lines.values()}),
        "sums_off": sums_off,
        "revisions_off": [
            i["number"] for i in invoices if revisions.get(i["pk"]) != 1 or i["current_revision_id"] is None
        ],
        "invoice_ids": sorted(i["pk"] for i in invoices),
        "revision_ids": sorted(InvoiceRevision.objects.filter(invoice__period=period).values_list("pk", flat=True)),
        "run": {
            "status": run.status,
            "total_chunks": run.total_chunks,
            "done_chunks": run.done_chunks,
            "chunks_marked_done": chunks.filter(done=True).count(),
            "chunk_rows": chunks.count(),
            "invoices_created": run.invoices_created,
            "chunk_invoices": chunks.aggregate(n=Sum("invoices_created"))["n"] or 0,
            "total_scopes": run.total_scopes,
        }
        if run
        else None,
    }


BILLING_KILL_POINTS = {
    # In the chunk's transaction: its invoices and revisions are written, its lines not yet.
    "between_invoices_and_lines": lambda: crash_at(
        billing_run, "insert_rows", nth=CRASH_CHUNK, counts=lambda model, *args, **kwargs: model is InvoiceLine
    ),
    # In the chunk's transaction: every row written, the chunk not yet marked done.
    "before_chunk_done": lambda: crash_at(billing_run, "_mark_chunk_done", nth=CRASH_CHUNK),
    # The chunk committed; its PDF, e-mail and charge messages not yet published.
    "after_commit": lambda: crash_at(billing_run, "_after_issue", nth=CRASH_CHUNK),
}


def billing(kill_point: str) -> dict:
    """``manage.py run_billing --inline`` with the database stopped in its fourth chunk;
    after the restart the same command again, then the sweeper."""
    period = clock.previous_month(clock.month_start(clock.today()))
    _seed_billing(period)
    command = {"period": f"{period:%Y-%m}", "chunk_size": CHUNK_SIZE, "inline": True}
    undo = BILLING_KILL_POINTS[kill_point]()
    crashed = outcome(lambda: call_command("run_billing", stdout=io.StringIO(), stderr=io.StringIO(), **command))
    undo()
    down = probe_down()
    published_before = {
        "pdf": published_ids("invoices.tasks.render_invoice_pdfs"),
        "ready": published_ids("invoices.tasks.send_invoices_ready"),
    }
    database_back()
    after_crash = billing_state(period)
    PUBLISHED.clear()
    call_command("run_billing", stdout=io.StringIO(), stderr=io.StringIO(), **command)
    rerun_published = {
        "pdf": published_ids("invoices.tasks.render_invoice_pdfs"),
        "ready": published_ids("invoices.tasks.send_invoices_ready"),
    }
    final = billing_state(period)
    # The sweeper, once its patience has passed: the run is complete, so no chunk is
    # published again; what a crash after a commit left unpublished is.
    PUBLISHED.clear()
    advance(seconds=(sweeper.SWEEP_AFTER + dt.timedelta(minutes=1)).total_seconds())
    swept = sweeper.sweep_unfinished_work()
    return {
        "crashed": crashed,
        "raised": RAISED,
        "down": down,
        "after_crash": after_crash,
        "published_before": published_before,
        "rerun_published": rerun_published,
        "final": final,
        "swept": swept,
        "swept_pdf": published_ids("invoices.tasks.render_invoice_pdfs"),
        "swept_ready": published_ids("invoices.tasks.send_invoices_ready"),
        "scopes": SCOPES,
        "chunk_size": CHUNK_SIZE,
        "crash_chunk": CRASH_CHUNK,
    }


# --- Pay now and the pay API ---------------------------------------------------------------------------


def _pay_setup():
    demo = accounts_demo.seed()
    payments_demo.seed(demo)
    profile = demo.profiles["contoso"]
    return demo.users["wd_admin"], make_pay_invoice(profile), scope_active_card(profile)


def pay_state(invoice) -> dict:
    invoice = Invoice.objects.get(pk=invoice.pk)
    payments = list(
        Payment.objects.filter(invoice=invoice)
        .order_by("pk")
        .values("pk", "status", "failure_code", "amount", "gateway_key", "gateway_reference", "needs_refund")
    )
    keys = [p["gateway_key"] for p in payments]
    charges = list(
        SandboxCharge.objects.filter(idempotency_key__in=keys).values(
            "reference", "idempotency_key", "status", "amount"
        )
    )
    return {
        "invoice": {
            "status": invoice.status,
            "amount_paid": invoice.amount_paid,
            "amount_due": invoice.amount_due,
            "total": invoice.total,
            "paid_at": invoice.paid_at,
        },
        "payments": payments,
        "charges": charges,
        "all_charges": SandboxCharge.objects.count(),
        "notifications": sorted(
            Notification.objects.filter(invoice=invoice, kind__in=["payment_received", "payment_failed"]).values_list(
                "kind", "recipient", "dedupe_key"
            )
        ),
        "idempotency": list(IdempotencyRecord.objects.values("key", "completed", "status_code")),
        "published_notifications": len(published("notifications.tasks.send_notification")),
    }


def _pay_kill(kill_point: str):
    return {
        # Recorded as pending, the card not yet charged (the sandbox gateway keeps its
        # charges in this database, so its charge fails too).
        "before_charge": lambda: crash_at(SandboxGateway, "charge"),
        # Charged at the gateway; the outcome not yet recorded.
        "after_charge": lambda: crash_at(SandboxGateway, "charge", after=True),
        # Inside the settling transaction: payment and invoice updated, the receipt not yet queued.
        "in_settle": lambda: crash_at(charges, "notify"),
    }[kill_point]()


def _pay_token(client, invoice) -> str:
    page = client.get(reverse("payments:pay", args=[invoice.pk]), secure=True).content.decode()
    return page.split('name="token" value="', 1)[1].split('"', 1)[0]


def pay_now(kill_point: str) -> dict:
    """Pay now (the page) with the database stopped at ``kill_point``; after the restart
    the same form again, the reconciler, and (when nothing was charged) a new attempt."""
    admin, invoice, card = _pay_setup()
    client = web_client(admin)
    pay_url = reverse("payments:pay", args=[invoice.pk])
    detail_url = reverse("invoices:detail", args=[invoice.pk])
    form = {"method": card.pk, "token": _pay_token(client, invoice)}
    undo = _pay_kill(kill_point)
    first = call(client, "post", pay_url, data=form)
    undo()
    during = {"page": call(client, "get", detail_url), "pay_page": call(client, "get", pay_url)}
    database_back()
    after_crash = pay_state(invoice)
    again = call(client, "post", pay_url, data=form)
    after_again = pay_state(invoice)
    advance(minutes=3)
    reconciled = {"first": payments_reconcile_pending()}
    after_reconcile = pay_state(invoice)
    if after_reconcile["invoice"]["status"] != "paid":
        advance(seconds=RECONCILE_GIVE_UP.total_seconds())
        reconciled["after_give_up"] = payments_reconcile_pending()
        reconciled["state"] = pay_state(invoice)
        reconciled["new_attempt"] = call(
            client, "post", pay_url, data={"method": card.pk, "token": _pay_token(client, invoice)}
        )
    stale_form = call(client, "post", pay_url, data=form)
    return {
        "first": first,
        "during": during,
        "after_crash": after_crash,
        "again": again,
        "after_again": after_again,
        "reconciled": reconciled,
        "stale_form": stale_form,
        "final": pay_state(invoice),
        "detail": call(client, "get", detail_url),
        "payer": admin.email,
    }


def pay_api(kill_point: str) -> dict:
    """The pay API with an Idempotency-Key, the database stopped at ``kill_point``; the
    same request after the restart (inside the key's lease, after it), the reconciler."""
    admin, invoice, card = _pay_setup()
    client = Client(raise_request_exception=False, HTTP_HOST="example.com")
    headers = {
        "HTTP_AUTHORIZATION": f"Token {api_tokens.api_token_create(user=admin, name='Outage', days=90, session_verified=True)[1]}",
        "HTTP_IDEMPOTENCY_KEY": "pay-1",
    }
    url = f"/api/v1/invoices/{invoice.pk}/pay/"
    body = {"data": json.dumps({"payment_method": card.pk}), "content_type": "application/json", **headers}
    undo = _pay_kill(kill_point)
    first = call(client, "post", url, **body)
    undo()
    during = call(client, "get", f"/api/v1/invoices/{invoice.pk}/payments/", **headers)
    database_back()
    after_crash = pay_state(invoice)
    in_lease = call(client, "post", url, **body)
    advance(seconds=IDEMPOTENCY_LEASE.total_seconds() + 1)
    reconciled = payments_reconcile_pending()
    after_lease = call(client, "post", url, **body)
    replay = call(client, "post", url, **body)
    return {
        "first": first,
        "during": during,
        "after_crash": after_crash,
        "in_lease": in_lease,
        "reconciled": reconciled,
        "after_lease": after_lease,
        "replay": replay,
        "final": pay_state(invoice),
        "payer": admin.email,
    }


def auto_charge(kill_point: str) -> dict:
    """A card-paying scope's invoice: the database stopped right after the billing chunk
    committed (its automatic charge never published), then, once back, stopped again
    right after the missed-charge sweep charged the card (the outcome never recorded).
    The sweeps and the reconciler settle it with one charge."""
    demo = accounts_demo.seed()
    payments_demo.seed(demo)
    profile = demo.profiles["contoso"]
    period = clock.previous_month(clock.month_start(clock.today()))
    subscription = demo.subscriptions["contoso_prod"]
    Charge.objects.create(
        subscription=subscription, profile=profile, period=period, service_name="VM", meter="hours",
        quantity=Decimal("10"), unit_price=Decimal("4.99"), amount=Decimal("49.90"), currency="EUR",
    )  # fmt: skip
    command = {"period": f"{period:%Y-%m}", "chunk_size": CHUNK_SIZE, "inline": True}
    undo = {"after_issue": lambda: crash_at(billing_run, "_after_issue")}[kill_point]()
    issued = outcome(lambda: call_command("run_billing", stdout=io.StringIO(), stderr=io.StringIO(), **command))
    undo()
    database_back()
    invoice = Invoice.objects.get(profile=profile, period=period)
    after_issue_crash = {
        "state": pay_state(invoice),
        "charge_published": published_ids("payments.tasks.payments_charge_invoices"),
        "billing": billing_state(period),
    }
    advance(seconds=(MISSED_CHARGE_AFTER + dt.timedelta(minutes=1)).total_seconds())
    undo = crash_at(SandboxGateway, "charge", after=True)
    missed = outcome(payments_charge_missed)
    undo()
    database_back()
    after_charge_crash = pay_state(invoice)
    missed_again = payments_charge_missed()
    after_missed_again = pay_state(invoice)
    advance(minutes=3)
    reconciled = payments_reconcile_pending()
    final_missed = payments_charge_missed()
    return {
        "issued": issued,
        "after_issue_crash": after_issue_crash,
        "missed": missed,
        "after_charge_crash": after_charge_crash,
        "missed_again": missed_again,
        "after_missed_again": after_missed_again,
        "reconciled": reconciled,
        "final_missed": final_missed,
        "final": pay_state(invoice),
        "invoice_id": invoice.pk,
        "recipients": sorted([demo.users["wd_admin"].email, profile.account.billing_contact_email]),
    }


# --- PO numbers --------------------------------------------------------------------------------------------


def _number_changes() -> list:
    return list(
        NumberChange.objects.order_by("pk").values_list("field", "old_value", "new_value", "source", "invoice_id")
    )


def profile_po(kill_point: str) -> dict:
    """A customer-agreement profile's PO number set on its page, the database stopped
    between saving the number and recording its history; the same form again."""
    demo = accounts_demo.seed()
    profile = demo.profiles["woodgrove_nl"]
    client = web_client(demo.users["ca_owner"])
    url = reverse("purchase_orders:profile_po", args=[profile.pk])
    before = BillingProfile.objects.filter(pk=profile.pk).values("po_number", "version").get()
    form = {"po_number": "WG-OUTAGE-1", "version": before["version"]}
    undo = {"before_history": lambda: crash_at(numbers, "record")}[kill_point]()
    first = call(client, "post", url, data=form)
    undo()
    during = call(client, "get", url)
    database_back()

    def state():
        row = BillingProfile.objects.filter(pk=profile.pk).values("po_number", "version").get()
        return {"profile": row, "history": _number_changes()}

    after_crash = state()
    again = call(client, "post", url, data=form)
    return {
        "before": before,
        "first": first,
        "during": during,
        "after_crash": after_crash,
        "again": again,
        "final": state(),
        "page": call(client, "get", url),
    }


def amendment_approve(kill_point: str) -> dict:
    """Support approves an enrollment's request to change the PO number on an issued
    invoice (new revision, history, the period's PO row, the customer's e-mail), the
    database stopped just before the e-mail is queued; the same confirmation again."""

    demo = accounts_demo.seed()
    profile = demo.profiles["northwind"]
    period = clock.previous_month(clock.previous_month(clock.month_start(clock.today())))
    invoice = make_po_invoice(profile, period, notified_at=clock.now() - dt.timedelta(days=20))
    request = amendment_request_create(
        invoice=invoice, actor=demo.users["ea_admin"], message="Procurement issued a new PO.", po_number="NW-OUTAGE-7"
    )
    client = web_client(demo.users["support"])
    url = reverse("purchase_orders:support_request", args=[request.pk])
    form = {"action": "approve", "confirmed": "yes"}

    def state():
        row = AmendmentRequest.objects.get(pk=request.pk)
        current = Invoice.objects.select_related("current_revision").get(pk=invoice.pk).current_revision
        return {
            "request": {"status": row.status, "revision_id": row.revision_id, "handled_by_id": row.handled_by_id},
            "revisions": list(invoice.revisions.order_by("number").values_list("number", "po_number")),
            "printed_po": current.po_number,
            "history": _number_changes(),
            "period_po": list(PeriodPONumber.objects.filter(profile=profile).values_list("period", "po_number")),
            "notifications": sorted(Notification.objects.filter(invoice=invoice).values_list("kind", "recipient")),
            "pdf_published": published("invoices.tasks.render_invoice_pdf"),
        }

    before = state()
    undo = {"before_notification": lambda: crash_at(amendments, "_notify")}[kill_point]()
    first = call(client, "post", url, data=form)
    undo()
    during = call(client, "get", url)
    database_back()
    after_crash = state()
    again = call(client, "post", url, data=form)
    return {
        "before": before,
        "first": first,
        "during": during,
        "after_crash": after_crash,
        "again": again,
        "final": state(),
        "repeat": call(client, "post", url, data=form),
        "customer": demo.users["ea_admin"].email,
        "period": period,
    }


# --- entry point -------------------------------------------------------------------------------------

SCENARIOS = {
    "billing": billing,
    "pay_now": pay_now,
    "pay_api": pay_api,
    "auto_charge": auto_charge,
    "profile_po": profile_po,
    "amendment_approve": amendment_approve,
}


def main(argv) -> None:
    name, kill_point = argv[1], argv[2]
    data = SCENARIOS[name](kill_point)
    data["settings"] = {
        "engine": settings.DATABASES["default"]["ENGINE"],
        "eager": settings.CELERY_TASK_ALWAYS_EAGER,
        "conn_max_age": settings.DATABASES["default"]["CONN_MAX_AGE"],
        "connect_timeout": settings.DATABASES["default"]["OPTIONS"]["connect_timeout"],
    }
    result(json.loads(json.dumps(data, default=str)))


if __name__ == "__main__":
    main(sys.argv)
