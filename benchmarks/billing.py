"""Billing run: N subscriptions (one per web-direct account, two charges each) to
invoices, revisions and lines, the after-issue work included: the PDF, invoice-ready
and automatic-charge messages of every chunk are published to the broker, as in
production (rendering, sending and charging themselves are other workers' and excluded
by the budget, see docs/benchmarks.md). Nothing is patched out; only the clock is set.

The same seeded accounts are billed three times, the invoices removed in between:

* in-process: the run started with ``enqueue=False`` and every chunk processed here,
  one after the other (one worker's work without Celery in between);
* through real Celery workers, 1 and then 2 processes (``celery -A billing_portal worker
  -Q billing``, solo pool, each in its own process group) on the benchmark database and
  the Redis of REDIS_URL: the run started with ``enqueue=True``, the clock stopped when
  the BillingRun is finished. The workers consume only the billing queue, so the PDF,
  e-mail and charge messages they publish stay in their queues: counted, then purged.

Baselines: the very same rows written bare, once with a multi-row INSERT and once with
a COPY, each in one committed transaction.
"""

import csv
import datetime as dt
import io
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from unittest import mock

from django.conf import settings
from django.db import DatabaseError, connection, transaction

from accounts.models import BillingAccount, BillingProfile, Subscription
from benchmarks.results import at_least, at_most, info
from billing_portal import clock, queue
from billing_portal.celery import app
from invoices import services
from invoices.models import (
    BillingRun,
    BillingRunChunk,
    BillingRunStatus,
    Charge,
    Invoice,
    InvoiceLine,
    InvoiceNumberSequence,
    InvoiceRevision,
)
from notifications.models import Notification

ROOT = Path(__file__).resolve().parents[1]
PERIOD = dt.date(2020, 1, 1)
TODAY = dt.date(2020, 2, 1)
COUNTRIES = [("NL", "NL853746333B01"), ("BE", "BE0403019261"), ("DE", ""), ("US", "")]
QUEUES = ("default", "billing", "pdf", "email")
# The after-issue messages of one chunk: PDFs, invoice-ready e-mails, automatic charges.
AFTER_ISSUE_QUEUES = ("pdf", "email", "default")
WORKER_COUNTS = (1, 2)
BUDGET_N = 100_000
PER_INVOICE_BASE_N = 10_000


def _truncate(models) -> None:
    tables = [m._meta.db_table for m in models]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("TRUNCATE " + ", ".join(tables) + " CASCADE")
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names


def _clear_rows():
    """The invoices, revisions and lines (and what hangs on them)."""
    _truncate([Notification, InvoiceLine, InvoiceRevision, Invoice])


def _clear_invoices():
    """Every invoice and what hangs on it, and the runs; accounts and charges stay."""
    _truncate([Notification, InvoiceLine, InvoiceRevision, Invoice, BillingRunChunk, BillingRun, InvoiceNumberSequence])


def _clear():
    _clear_invoices()
    Charge.objects.all().delete()
    Subscription.objects.all().delete()
    BillingProfile.objects.all().delete()
    BillingAccount.objects.all().delete()


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
    if connection.vendor == "postgresql":
        # Statistics for the planner, and nothing left for autovacuum to do during the runs.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def _settle() -> None:
    """Before each timed part: a CHECKPOINT (when the role may take one), so that no part
    pays for writing out what the one before left dirty (seeding 100,000 accounts leaves
    hundreds of MB)."""
    if connection.vendor != "postgresql":
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
    except DatabaseError as exc:
        print(f"   (no CHECKPOINT between the timed parts: {exc})".strip(), flush=True)


# --- baselines: the same rows, bare --------------------------------------------------------------


def _rows(model):
    fields = list(model._meta.concrete_fields)
    values = [
        tuple(f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields)
        for obj in model.objects.order_by("pk").iterator(chunk_size=10000)
    ]
    nullable = [f.column for f in fields if f.null]
    return model._meta.db_table, [f.column for f in fields], nullable, values


def _bare_write(tables, *, copy: bool) -> float:
    """Time writing the rows bare, in one transaction that commits (its foreign keys
    checked, as the run's are): a multi-row INSERT, or with ``copy`` one COPY per table
    (CSV written by the csv module from the same Python values)."""
    _clear_rows()
    _settle()
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for table, columns, nullable, values in tables:
            names = ", ".join(columns)
            if connection.vendor != "postgresql":
                sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608
                cursor.executemany(sql, values)
            elif copy:
                text = io.StringIO()
                csv.writer(text, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n").writerows(values)
                text.seek(0)
                options = f"FORMAT csv, FORCE_NULL ({', '.join(nullable)})" if nullable else "FORMAT csv"
                cursor.cursor.copy_expert(f"COPY {table} ({names}) FROM STDIN WITH ({options})", text)
            else:
                from psycopg2.extras import execute_values

                execute_values(cursor.cursor, f"INSERT INTO {table} ({names}) VALUES %s", values, page_size=5000)  # noqa: S608
    elapsed = time.perf_counter() - started
    _clear_rows()
    return elapsed


# --- the broker ------------------------------------------------------------------------------------


@contextmanager
def _publishing():
    """Tasks are published, not run here: to the Redis of REDIS_URL (the production path),
    or to kombu's in-memory broker when none is configured. The queues are emptied
    before and afterwards, so that no worker acts on the benchmark's messages."""
    with queue.using_broker(settings.CELERY_BROKER_URL, eager=False):  # REDIS_URL, or "memory://"
        _purge()
        try:
            yield app.conf.broker_write_url or app.conf.broker_url
        finally:
            _purge()


def _purge():
    with app.connection_for_write() as broker:
        for name in QUEUES:
            broker.default_channel.queue_purge(name)


def _queued() -> dict:
    """Messages waiting in each queue."""
    with app.connection_for_write() as broker:
        channel = broker.default_channel
        return {name: channel.queue_declare(queue=name).message_count for name in QUEUES}


# --- real workers -----------------------------------------------------------------------------------


def _database_url() -> str:
    """DATABASE_URL, pointing at the benchmark's own database."""
    url = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
    return url._replace(path="/" + connection.settings_dict["NAME"]).geturl()


class Workers:
    """``count`` Celery worker processes on the billing queue only (solo pool), each in
    its own process group, output to a log file; ``stop`` ends them (TERM, then KILL)."""

    def __init__(self, count: int, log_dir: str):
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "billing_portal.settings",
            "DATABASE_URL": _database_url(),
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "DEBUG": "false",  # as in production: no query log
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
        self.names = [f"bench-billing-{i}@{os.uname().nodename}" for i in range(count)]
        self.logs = [Path(log_dir) / f"worker-{i}.log" for i in range(count)]
        self.processes = []
        try:
            for name, log in zip(self.names, self.logs, strict=True):
                command = [sys.executable, "-m", "celery", "-A", "billing_portal", "worker", "-Q", "billing"]
                command += ["--pool", "solo", "-n", name, "--without-gossip", "--without-mingle"]
                command += ["--without-heartbeat", "-l", "warning"]
                with open(log, "wb") as out:
                    self.processes.append(
                        subprocess.Popen(  # noqa: S603 - fixed command
                            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
                        )
                    )
        except BaseException:
            self.stop()
            raise

    def check_alive(self) -> None:
        for process, log in zip(self.processes, self.logs, strict=True):
            if process.poll() is not None:
                raise RuntimeError(f"a billing worker exited ({process.returncode}):\n{log.read_text()[-3000:]}")

    def wait_ready(self, timeout: float = 60) -> None:
        """Until every worker answers a ping, then check that each consumes the billing
        queue and nothing else."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            answered = {name for reply in app.control.ping(destination=self.names, timeout=0.5) for name in reply}
            if answered >= set(self.names):
                break
        else:
            raise RuntimeError("the billing workers did not answer in time")
        active = app.control.inspect(destination=self.names, timeout=2).active_queues() or {}
        consumed = {name: sorted(q["name"] for q in active.get(name, [])) for name in self.names}
        if any(queues != ["billing"] for queues in consumed.values()):
            raise RuntimeError(f"the billing workers must consume the billing queue only: {consumed}")

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


# --- the runs -----------------------------------------------------------------------------------------


def _in_process(chunk_size: int) -> tuple[float, int]:
    started = time.perf_counter()
    run = services.billing_run_start(period=PERIOD, chunk_size=chunk_size, enqueue=False)
    for chunk_id in run.chunks.order_by("index").values_list("pk", flat=True):
        services.billing_chunk_process(chunk_id=chunk_id)
    return time.perf_counter() - started, run.total_chunks


def _through_workers(count: int, chunk_size: int, log_dir: str, timeout: float) -> tuple[float, int]:
    workers = Workers(count, log_dir)
    try:
        workers.wait_ready()
        started = time.perf_counter()
        run = services.billing_run_start(period=PERIOD, chunk_size=chunk_size, enqueue=True)
        deadline = time.monotonic() + timeout
        while BillingRun.objects.filter(pk=run.pk).values_list("status", flat=True).get() != BillingRunStatus.FINISHED:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the billing run through {count} worker(s) did not finish within {timeout:.0f} s")
            workers.check_alive()
            time.sleep(0.02)
        return time.perf_counter() - started, run.total_chunks
    finally:
        workers.stop()


def _after_issue_messages(chunks: int) -> float:
    """Check that the after-issue messages wait unexecuted in their queues (and no chunk
    is left in the billing queue); returns the messages per chunk."""
    waiting = _queued()
    if waiting["billing"]:
        raise RuntimeError(f"billing chunks left in the queue: {waiting}")
    if any(not waiting[name] for name in AFTER_ISSUE_QUEUES):
        raise RuntimeError(f"after-issue messages missing from their queues: {waiting}")
    _purge()
    return sum(waiting[name] for name in AFTER_ISSUE_QUEUES) / chunks


def _check_issued(n: int) -> int:
    invoices = Invoice.objects.count()
    if invoices != n:
        raise RuntimeError(f"{invoices} invoices for {n} subscriptions")
    numbers = Invoice.objects.order_by("number").values_list("number", flat=True)
    if numbers.first() != services.invoice_number(TODAY.year, 1) or numbers.last() != services.invoice_number(
        TODAY.year, n
    ):
        raise RuntimeError("invoice numbers are not 1..N")
    return InvoiceLine.objects.count()


def run_sizes(sizes: list[int], chunk_size: int | None = None) -> list:
    """Every size in turn; the cost per invoice of the largest against the 10,000 run."""
    results, per_invoice = [], {}
    with mock.patch.object(clock, "today", lambda tz=None: TODAY), _publishing() as broker:
        print(f"\n== billing run: after-issue messages published to {broker.split('@')[-1]}", flush=True)
        for n in sizes:
            rows, figures = run(n, chunk_size=chunk_size)
            results += rows
            per_invoice[n] = figures
    if PER_INVOICE_BASE_N in per_invoice and max(per_invoice) > PER_INVOICE_BASE_N:
        big = max(per_invoice)
        for mode, base in per_invoice[PER_INVOICE_BASE_N].items():
            if mode in per_invoice[big]:
                ratio = per_invoice[big][mode] / base
                name = f"billing.per_invoice_{mode}_{big}_vs_{PER_INVOICE_BASE_N}"
                results.append(at_most(name, ratio, "x", 1.2, ratio=ratio, on_ratio=True))
    return results


def run(n: int, chunk_size: int | None = None) -> tuple[list, dict]:
    """The results of one size, and the seconds per invoice of each way it ran (inside
    ``_publishing``, with the clock set)."""
    _clear()
    t0 = time.perf_counter()
    seed(n)
    print(f"\n== billing run, N={n:,} subscriptions (seeded in {time.perf_counter() - t0:.1f} s)", flush=True)
    chunk_size = chunk_size or services.CHUNK_SIZE
    with_workers = connection.vendor == "postgresql" and bool(settings.REDIS_URL)
    timings = {}
    _settle()
    elapsed, chunks = _in_process(chunk_size)
    lines = _check_issued(n)
    per_chunk = _after_issue_messages(chunks)
    timings["in_process"] = elapsed
    print(f"   in-process: {n:,} invoices + {lines:,} lines in {elapsed:.2f} s ({chunks} chunks)", flush=True)
    # Baselines: the same rows, written bare.
    tables = [_rows(Invoice), _rows(InvoiceRevision), _rows(InvoiceLine)]
    bare = _bare_write(tables, copy=False)
    copy = _bare_write(tables, copy=True) if connection.vendor == "postgresql" else None
    del tables
    if with_workers:
        with tempfile.TemporaryDirectory(prefix="bench-billing-") as log_dir:
            for count in WORKER_COUNTS:
                _clear_invoices()
                _settle()
                elapsed, chunks = _through_workers(count, chunk_size, log_dir, timeout=max(120, n / 200))
                _check_issued(n)
                per_chunk = max(per_chunk, _after_issue_messages(chunks))
                timings[f"workers{count}"] = elapsed
                print(f"   {count} worker(s): {elapsed:.2f} s", flush=True)
    else:
        print("   through Celery workers: skipped (needs PostgreSQL and Redis: DATABASE_URL, REDIS_URL)", flush=True)
    copy_text = f", COPY {copy:.2f} s" if copy else ""
    print(f"   bare INSERT of the same rows {bare:.2f} s{copy_text}", flush=True)

    budget = at_most if n == BUDGET_N else None
    results = []
    for mode, seconds in timings.items():
        name = f"billing.{mode}_{n}"
        results.append(
            budget(name, seconds, "s", 60, ratio=seconds / bare)
            if budget
            else info(name, seconds, "s", ratio=seconds / bare)
        )
        results.append(info(f"billing.{mode}_invoices_per_s_{n}", n / seconds, "invoices/s"))
    results += [
        info(f"billing.bare_insert_{n}", bare, "s"),
        at_most(
            f"billing.ratio_to_insert_{n}",
            timings["in_process"] / bare,
            "x",
            3,
            ratio=timings["in_process"] / bare,
            on_ratio=True,
        ),
    ]
    if copy:
        results += [
            info(f"billing.copy_{n}", copy, "s"),
            info(f"billing.ratio_to_copy_{n}", timings["in_process"] / copy, "x", ratio=timings["in_process"] / copy),
        ]
    results.append(at_most(f"billing.after_issue_messages_per_chunk_{n}", per_chunk, "messages", 3))
    if "workers2" in timings:
        speedup = timings["workers1"] / timings["workers2"]
        results.append(at_least(f"billing.parallel_speedup_{n}", speedup, "x", 1.6, ratio=speedup, on_ratio=True))
    return results, {mode: seconds / n for mode, seconds in timings.items()}
