"""Billing run: N subscriptions (one per web-direct account, two charges each) to
invoices, revisions and lines, in-process, chunk after chunk, the after-issue work
included: every PDF, invoice-ready e-mail and automatic-charge task is published to the
broker, as in production (rendering and sending themselves are the workers' and excluded
by the budget, see docs/benchmarks.md). Baseline: a bare bulk INSERT of the same rows."""

import datetime as dt
import time
from contextlib import contextmanager
from decimal import Decimal
from unittest import mock

from django.conf import settings
from django.db import connection, transaction
from kombu import pools

from accounts.models import BillingAccount, BillingProfile, Subscription
from benchmarks.results import at_most, info
from billing_portal import clock, queue
from billing_portal.celery import app
from invoices import services
from invoices.models import BillingRun, Charge, Invoice, InvoiceLine, InvoiceNumberSequence, InvoiceRevision
from notifications.models import Notification

PERIOD = dt.date(2020, 1, 1)
COUNTRIES = [("NL", "NL853746333B01"), ("BE", "BE0403019261"), ("DE", ""), ("US", "")]


def _clear():
    with connection.cursor() as cursor:
        tables = [m._meta.db_table for m in (Notification, InvoiceLine, InvoiceRevision, Invoice, Charge, BillingRun)]
        if connection.vendor == "postgresql":
            cursor.execute("TRUNCATE " + ", ".join(tables) + ", invoices_billingrunchunk CASCADE")
        else:
            for table in ["invoices_billingrunchunk", *tables]:
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
    Subscription.objects.all().delete()
    BillingProfile.objects.all().delete()
    BillingAccount.objects.all().delete()
    InvoiceNumberSequence.objects.all().delete()


def seed(n: int) -> None:
    batch = 5000
    for start in range(0, n, batch):
        size = min(batch, n - start)
        accounts = []
        for i in range(start, start + size):
            country, vat = COUNTRIES[i % len(COUNTRIES)]
            accounts.append(
                BillingAccount(
                    name=f"Bench {i}",
                    agreement_type="web_direct",
                    kind="business",
                    company_name=f"Bench {i} B.V.",
                    address_line1="Damrak 1",
                    postal_code="1012 LG",
                    city="Amsterdam",
                    country=country,
                    vat_id=vat,
                    currency="EUR",
                    payment_mode="invoice" if i % 3 == 0 else "card",
                    billing_contact_email=f"billing{i}@bench.example",
                )
            )
        BillingAccount.objects.bulk_create(accounts)
        profiles = BillingProfile.objects.bulk_create(
            [BillingProfile(account=a, name=a.name, is_default=True) for a in accounts]
        )
        subscriptions = Subscription.objects.bulk_create(
            [Subscription(account=p.account, profile=p, name=f"Sub {p.account.name}") for p in profiles]
        )
        charges = []
        for s in subscriptions:
            charges.append(
                Charge(
                    subscription=s,
                    profile_id=s.profile_id,
                    period=PERIOD,
                    service_name="Virtual Machines",
                    meter="D2s v5 (hours)",
                    quantity=Decimal("720"),
                    unit_price=Decimal("0.096"),
                    amount=Decimal("69.12"),
                    currency="EUR",
                )
            )
            charges.append(
                Charge(
                    subscription=s,
                    profile_id=s.profile_id,
                    period=PERIOD,
                    service_name="Storage",
                    meter="LRS (GB-month)",
                    quantity=Decimal("123.5"),
                    unit_price=Decimal("0.0184"),
                    amount=Decimal("2.27"),
                    currency="EUR",
                )
            )
        Charge.objects.bulk_create(charges)


def _rows(model):
    fields = [f for f in model._meta.concrete_fields]
    columns = [f.column for f in fields]
    values = [
        tuple(f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields)
        for obj in model.objects.order_by("pk").iterator(chunk_size=10000)
    ]
    return model._meta.db_table, columns, values


def _bare_insert(tables) -> float:
    """Time a plain multi-row INSERT of the given rows (inside a rolled-back transaction)."""
    started = time.perf_counter()
    with transaction.atomic():
        with connection.cursor() as cursor:
            for table, columns, values in tables:
                sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "  # noqa: S608 - fixed names
                if connection.vendor == "postgresql":
                    from psycopg2.extras import execute_values

                    execute_values(cursor.cursor, sql + "%s", values, page_size=5000)
                else:
                    cursor.executemany(sql + "(" + ", ".join(["%s"] * len(columns)) + ")", values)
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed


QUEUES = ("default", "billing", "pdf", "email")


@contextmanager
def _publishing():
    """Tasks are published, not run here: to the Redis of REDIS_URL (the production path),
    or to kombu's in-memory broker when none is configured. The queues are emptied
    afterwards, so that no worker acts on the benchmark's messages."""
    eager, url = app.conf.task_always_eager, app.conf.broker_write_url or app.conf.broker_url
    target = settings.CELERY_BROKER_URL  # REDIS_URL, or "memory://" without one
    app.conf.update(task_always_eager=False, CELERY_TASK_ALWAYS_EAGER=False)
    app.conf.broker_url = app.conf.broker_write_url = target
    pools.reset()
    queue.reset()
    try:
        yield app.conf.broker_write_url or app.conf.broker_url
    finally:
        with app.connection_for_write() as broker:
            for name in QUEUES:
                broker.default_channel.queue_purge(name)
        app.conf.update(task_always_eager=eager, CELERY_TASK_ALWAYS_EAGER=eager)
        app.conf.broker_url = app.conf.broker_write_url = url
        pools.reset()


def run(n: int, chunk_size: int | None = None) -> list:
    _clear()
    t0 = time.perf_counter()
    seed(n)
    print(f"\n== billing run, N={n:,} subscriptions (seeded in {time.perf_counter() - t0:.1f} s)", flush=True)
    chunk_size = chunk_size or services.CHUNK_SIZE
    with mock.patch.object(clock, "today", lambda tz=None: dt.date(2020, 2, 1)), _publishing() as broker:
        print(f"   after-issue tasks published to {broker.split('@')[-1]}", flush=True)
        started = time.perf_counter()
        billing_run = services.billing_run_start(period=PERIOD, chunk_size=chunk_size, enqueue=False)
        for chunk_id in billing_run.chunks.order_by("index").values_list("pk", flat=True):
            services.billing_chunk_process(chunk_id=chunk_id)
        elapsed = time.perf_counter() - started
    invoices = Invoice.objects.count()
    lines = InvoiceLine.objects.count()
    assert invoices == n, (invoices, n)
    # Baseline: the same rows, inserted bare (after removing them).
    tables = [_rows(Invoice), _rows(InvoiceRevision), _rows(InvoiceLine)]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE invoices_invoice SET current_revision_id = NULL")
    for model in (InvoiceLine, InvoiceRevision, Invoice):
        model.objects.all()._raw_delete(connection.alias)
    # The invoice rows reference their revisions; insert them without it, as a bare insert would.
    inv_table, inv_cols, inv_values = tables[0]
    rev_index = inv_cols.index("current_revision_id")
    tables[0] = (inv_table, inv_cols, [v[:rev_index] + (None,) + v[rev_index + 1 :] for v in inv_values])
    baseline = _bare_insert(tables)
    result = {
        "n": n,
        "seconds": elapsed,
        "invoices_per_s": invoices / elapsed,
        "lines": lines,
        "baseline_seconds": baseline,
        "ratio": elapsed / baseline,
    }
    print(
        f"billing run: {invoices:,} invoices + {lines:,} lines in {elapsed:.2f} s = {result['invoices_per_s']:,.0f} invoices/s "
        f"(budget: 100,000 in <= 60 s)\n"
        f"bare bulk INSERT of the same rows: {baseline:.2f} s; ratio run / bare insert = {result['ratio']:.1f}x",
        flush=True,
    )
    return [
        info(f"billing.run_{n}", elapsed, "s", ratio=elapsed / baseline),
        info(f"billing.invoices_per_s_{n}", invoices / elapsed, "invoices/s"),
        info(f"billing.bare_insert_{n}", baseline, "s"),
        at_most(f"billing.ratio_to_insert_{n}", elapsed / baseline, "x", 3, ratio=elapsed / baseline, on_ratio=True),
    ]
