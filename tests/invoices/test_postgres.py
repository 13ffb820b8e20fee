"""PostgreSQL and Redis: gap-free numbers under concurrent runs, and a real Celery worker
killed (SIGKILL) in the middle of a billing run."""

import datetime as dt
import os
import signal
import threading
import time

import psycopg2
import pytest
from django.db import IntegrityError, connection, connections, transaction

from invoices import services
from invoices.models import BillingRun, Invoice, InvoiceLine, InvoiceNumberSequence
from invoices.services import billing_run, sweeper
from invoices.services.rows import insert_rows
from tests.factories import make_account, make_charges, make_subscription
from tests.workers import database_url_of, purge_queues, start_worker

JAN = dt.date(2026, 1, 1)


def _assert_gap_free(year=2026):
    numbers = sorted(
        int(n.rsplit("-", 1)[1])
        for n in Invoice.objects.filter(number__startswith=f"INV-{year}-").values_list("number", flat=True)
    )
    assert numbers == list(range(1, len(numbers) + 1))
    assert InvoiceNumberSequence.objects.get(year=year).last_number == len(numbers)


@pytest.mark.postgres
@pytest.mark.django_db
def test_bulk_insert_raises_djangos_database_errors_not_the_drivers():
    """insert_rows writes through the driver's cursor; its errors are still Django's, so a
    server lost mid-chunk is django.db's OperationalError (503, retries, the connection
    dropped afterwards): tests/security/test_database_outage_writes.py."""
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        insert_rows(InvoiceNumberSequence, ("last_number",), [(1,)])  # no year: NOT NULL
    assert isinstance(caught.value.__cause__, psycopg2.IntegrityError)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_numbers_gap_free_under_concurrent_runs(clock, monkeypatch):
    monkeypatch.setattr(billing_run, "_after_issue", lambda ids: None)
    clock.set(dt.datetime(2026, 3, 1, 6))
    subs_jan = [make_subscription(make_account()) for _ in range(30)]
    subs_feb = [make_subscription(make_account()) for _ in range(30)]
    make_charges(subs_jan, JAN)
    make_charges(subs_feb, period=dt.date(2026, 2, 1))
    make_charges(subs_jan[:10], period=dt.date(2026, 2, 1))
    runs = [services.billing_run_start(period=p, chunk_size=4, enqueue=False) for p in (JAN, dt.date(2026, 2, 1))]
    chunk_ids = [c for run in runs for c in run.chunks.values_list("pk", flat=True)]
    errors = []

    def worker(ids):
        try:
            for chunk_id in ids:
                services.billing_chunk_process(chunk_id=chunk_id)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    # Four threads process all chunks, each in a different order and twice over:
    # every chunk is raced by several workers.
    orders = [chunk_ids, chunk_ids[::-1], chunk_ids[1::2] + chunk_ids[::2], chunk_ids[::2] + chunk_ids[1::2]]
    threads = [threading.Thread(target=worker, args=(order,)) for order in orders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert Invoice.objects.filter(period=JAN).count() == 30
    assert Invoice.objects.filter(period=dt.date(2026, 2, 1)).count() == 40
    _assert_gap_free()
    for run in BillingRun.objects.all():
        assert run.status == "finished" and run.done_chunks == run.total_chunks


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_chunks_issue_concurrently_and_their_numbers_stay_gap_free(clock, monkeypatch):
    """While one chunk holds the year's number lock (its tail: invoice rows, commit), a
    second chunk writes its revisions and lines; then it takes the lock and numbers on
    after the first, without a gap."""
    monkeypatch.setattr(billing_run, "_after_issue", lambda ids: None)
    clock.set(dt.datetime(2026, 2, 1, 6))
    make_charges([make_subscription(make_account()) for _ in range(8)], JAN)
    run = services.billing_run_start(period=JAN, chunk_size=4, enqueue=False)
    chunks = list(run.chunks.order_by("index"))
    holding, written, overlapped, errors = threading.Event(), threading.Event(), [], []
    real_lock, real_insert = billing_run.locked_sequence, billing_run.insert_rows

    def locked_sequence(model, year):
        sequence = real_lock(model, year)
        if threading.current_thread().name == "first":
            holding.set()
            overlapped.append(written.wait(10))  # the second chunk writes its rows meanwhile
        return sequence

    def insert_rows(model, columns, rows):
        real_insert(model, columns, rows)
        if model is InvoiceLine and threading.current_thread().name == "second":
            written.set()

    monkeypatch.setattr(billing_run, "locked_sequence", locked_sequence)
    monkeypatch.setattr(billing_run, "insert_rows", insert_rows)

    def process(chunk, wait_for=None):
        try:
            if wait_for is not None:
                assert wait_for.wait(10)
            assert services.billing_chunk_process(chunk_id=chunk.pk) == 4
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=process, args=(chunks[0],), name="first"),
        threading.Thread(target=process, args=(chunks[1], holding), name="second"),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and overlapped == [True]
    for chunk, numbers in zip(chunks, (range(1, 5), range(5, 9)), strict=True):
        issued = Invoice.objects.filter(profile_id__in=chunk.profile_ids).values_list("number", flat=True)
        assert sorted(issued) == [f"INV-2026-{n:06d}" for n in numbers]
    assert InvoiceLine.objects.count() == 8
    _assert_gap_free()
    run.refresh_from_db()
    assert (run.status, run.invoices_created, run.done_chunks) == ("finished", 8, 2)


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_run_every_scope_gets_exactly_one_invoice(clock, monkeypatch, tmp_path, settings):
    from celery import current_app

    from billing_portal.celery import app

    subs = [make_subscription(make_account()) for _ in range(120)]
    make_charges(subs, JAN)
    env = {
        "DATABASE_URL": database_url_of(connection),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "EMAIL_FILE_PATH": str(tmp_path / "mail"),
    }
    purge_queues(app)
    # The settings hold CELERY_TASK_ALWAYS_EAGER=True under pytest; the namespaced key wins.
    app.conf.update(CELERY_TASK_ALWAYS_EAGER=False)
    assert not current_app.conf.task_always_eager
    monkeypatch.setattr(billing_run, "_after_issue", lambda ids: None)
    clock.set(dt.datetime(2026, 2, 1, 6))
    log = open(tmp_path / "worker.log", "w")
    # Each chunk is slowed down (after_issue waits) so that the kill lands in the middle of the run.
    worker = start_worker(queues="billing", log=log, env=env, extra_args=["--without-heartbeat"], slow_chunks=0.4)
    try:
        run = services.billing_run_start(period=JAN, chunk_size=5)  # 24 chunks, enqueued to Redis
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            run.refresh_from_db()
            if run.done_chunks >= 3:
                break
            time.sleep(0.1)
        assert 3 <= run.done_chunks < run.total_chunks, "the kill must land mid-run"
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
        killed_at = run.done_chunks
        worker = start_worker(queues="billing", log=log, env=env, extra_args=["--without-heartbeat"])
        # Recovery without a person: beat runs the sweeper every 30 s, and the sweeper takes
        # over a chunk not done a minute after it was published, so the chunk the dead
        # worker held runs again within two minutes of portal time.
        period = dt.timedelta(seconds=settings.CELERY_BEAT_SCHEDULE["sweep-unfinished-work"]["schedule"])
        recovery = sweeper.STUCK_CHUNK_AFTER + period
        assert recovery <= dt.timedelta(minutes=2)
        clock.advance(seconds=recovery.total_seconds())
        assert services.sweep_unfinished_work()["chunks"] >= 1
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            run.refresh_from_db()
            if run.status == "finished":
                break
            time.sleep(0.2)
        assert run.status == "finished", (tmp_path / "worker.log").read_text()[-3000:]
        assert killed_at < run.total_chunks
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
        purge_queues(app)
        app.conf.update(CELERY_TASK_ALWAYS_EAGER=True)
        log.close()
    counts = {s.profile_id: 0 for s in subs}
    for profile_id in Invoice.objects.values_list("profile_id", flat=True):
        counts[profile_id] += 1
    assert set(counts.values()) == {1}
    assert run.invoices_created == 120
    _assert_gap_free()
