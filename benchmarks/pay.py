"""Pay now under load (docs/rules.md, budgets): at least 100 payments/s on the sandbox
gateway with distinct invoices from 8 clients, at most 15 queries per payment, and one
charge whatever the concurrency.

One customer-agreement account (the billing account owner who signed up pays) with a
sandbox card added through the card-entry flow and one due invoice per request. gunicorn
(``benchmarks.invoice_list.Server``, ``benchmarks.bench_settings``) serves the portal;
with REDIS_URL its tasks (the receipt e-mails) are published to that Redis as in
production (no worker runs; the queues are emptied afterwards), without it they run in
the request. The API token comes from the real token endpoint. Then:

* queries and commits of one API payment, counted in-process (``CaptureQueriesContext``,
  no surrounding transaction, the tasks published as the server does);
* N pay requests (``POST /api/v1/invoices/<id>/pay/``, each its own invoice and
  ``Idempotency-Key``) by the client threads; payments/s and p50/p95 against the bare
  logged-in view ``/bench/hello/`` on the same server in the same run (in five turns of
  each); afterwards every payment is checked in the database: succeeded, one per
  invoice, one sandbox charge each;
* a race: 50 threads pay one invoice at once (each its own key): one charge.
"""

import datetime as dt
import http.client
import json
import os
import statistics
import threading
import time
import uuid
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from benchmarks import seeding
from benchmarks.billing import _publishing
from benchmarks.clients import drive
from benchmarks.invoice_list import Server, load
from benchmarks.results import at_least, at_most, info
from invoices import services as invoice_services
from invoices.models import Invoice, InvoiceRevision, InvoiceStatus, PaymentTerms
from payments import demo as payments_demo
from payments import sandbox
from payments.models import Payment, PaymentStatus, SandboxCharge

EMAIL = "pay.bench@bench.example"
PASSWORD = "bench-pay-2026"  # noqa: S105 - a throw-away user in the benchmark database
BROKER_ENV = "BENCH_BROKER_URL"  # read by benchmarks.bench_settings
WARM_UP = 4  # payments per gunicorn worker before measuring
RACE = 50
ROUNDS = 5  # turns of the bare view and the payments


def seed(invoices: int):
    """The payer, the account's card and ``invoices`` due card invoices (bulk inserted,
    as the billing run leaves them). Returns (user, card, invoice ids)."""
    user, account = seeding.owner_with_account(
        email=EMAIL, password=PASSWORD, name="Pay bench", profile_name="Pay bench", company_name="Pay Bench B.V."
    )
    profile = account.profiles.get()
    card = payments_demo.add_card(
        actor=user, profile=profile, number="4242424242424242", holder="Pay Bench"
    ).payment_method
    today = dt.date.today()
    rows = [
        Invoice(
            number=f"INV-PAY-{n:06d}",
            account=account,
            profile=profile,
            period=dt.date(1900 + n // 12, n % 12 + 1, 1),
            issue_date=today,
            due_date=today,
            status=InvoiceStatus.DUE,
            currency="EUR",
            subtotal=Decimal("100.00"),
            tax_amount=Decimal("21.00"),
            total=Decimal("121.00"),
            payment_reference=invoice_services.payment_reference(2098, n),
            payment_terms=PaymentTerms.CARD,
        )
        for n in range(1, invoices + 1)
    ]
    Invoice.objects.bulk_create(rows, batch_size=5000)
    revisions = InvoiceRevision.objects.bulk_create(
        [
            InvoiceRevision(
                invoice=i, number=1, language="en", sold_to="Pay Bench B.V.", bill_to="Pay Bench B.V.", tax_rate=21
            )
            for i in rows
        ],
        batch_size=5000,
    )
    for invoice, revision in zip(rows, revisions, strict=True):
        invoice.current_revision = revision
    Invoice.objects.bulk_update(rows, ["current_revision"], batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return user, card, [i.pk for i in rows]


def _request(port: int, method: str, path: str, body=None, headers=None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def api_token(port: int) -> str:
    """A token from the real token endpoint (e-mail and password)."""
    body = json.dumps({"email": EMAIL, "password": PASSWORD})
    status, answer = _request(port, "POST", "/api/v1/auth/token/", body, {"Content-Type": "application/json"})
    if status != 200:
        raise RuntimeError(f"token endpoint answered {status}: {answer[:200]!r}")
    return json.loads(answer)["token"]


def _pay_request(port: int, token: str, invoice_id: int, card_id: int) -> tuple[int, bytes]:
    return _request(
        port,
        "POST",
        f"/api/v1/invoices/{invoice_id}/pay/",
        json.dumps({"payment_method": card_id}),
        {"Content-Type": "application/json", "Authorization": f"Token {token}", "Idempotency-Key": uuid.uuid4().hex},
    )


def pay_load(port: int, token: str, card_id: int, invoice_ids: list[int], concurrency: int) -> dict:
    """Pay every invoice of ``invoice_ids`` once, ``concurrency`` threads back to back;
    every answer must be 201 with the payment succeeded."""

    def send(invoice_id):
        status, body = _pay_request(port, token, invoice_id, card_id)
        if status != 201 or b'"status":"succeeded"' not in body.replace(b" ", b""):
            return f"{status} {body[:120]!r}"
        return None

    latencies, wall = drive(invoice_ids, concurrency, send, "pay")
    return {"latencies": latencies, "wall": wall}


def _in_rounds(port, token, card_id, cookie, invoice_ids, concurrency, rounds) -> tuple[dict, dict]:
    """The bare view and the payments in turns (``rounds`` of each, as many requests of
    both), so that other work on the machine moves both alike. Returns the payments'
    and the bare view's requests/s (requests over the time spent on them) and p50/p95
    (the payments' over all of them, the bare view's the median of its rounds')."""
    size = -(-len(invoice_ids) // rounds)
    hellos, latencies, wall = [], [], 0.0
    for start in range(0, len(invoice_ids), size):
        chunk = invoice_ids[start : start + size]
        hellos.append(load(port, "/bench/hello/", cookie, len(chunk), concurrency, b"hello "))
        paid = pay_load(port, token, card_id, chunk, concurrency)
        latencies += paid["latencies"]
        wall += paid["wall"]
    latencies.sort()
    pay = {
        "rps": len(latencies) / wall,
        "p50": statistics.median(latencies) * 1000,
        "p95": latencies[int(0.95 * (len(latencies) - 1))] * 1000,
    }
    hello = {
        "rps": sum(h["requests"] for h in hellos) / sum(h["requests"] / h["rps"] for h in hellos),
        "p50": statistics.median(h["p50"] for h in hellos),
        "p95": statistics.median(h["p95"] for h in hellos),
        "rounds": [round(h["rps"]) for h in hellos],
    }
    return pay, hello


def race(port: int, token: str, card_id: int, invoice_id: int, threads: int = RACE) -> dict:
    """``threads`` pay requests for one invoice released at once, each its own key."""
    barrier = threading.Barrier(threads)
    statuses: list = []
    lock = threading.Lock()

    def attempt():
        barrier.wait(timeout=30)
        try:
            status, _body = _pay_request(port, token, invoice_id, card_id)
        except OSError as exc:
            status = repr(exc)
        with lock:
            statuses.append(status)

    pool = [threading.Thread(target=attempt) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    payments = Payment.objects.filter(invoice_id=invoice_id)
    charges = SandboxCharge.objects.filter(idempotency_key__in=payments.values("gateway_key")).count()
    return {
        "charges": charges,
        "succeeded": payments.filter(status=PaymentStatus.SUCCEEDED).count(),
        "payments": payments.count(),
        "statuses": sorted({str(s) for s in statuses}),
        "paid": statuses.count(201),
    }


def check_paid(invoice_ids: list[int]) -> None:
    """Every invoice paid once: one succeeded card payment each, nothing else, one
    sandbox charge per payment, the invoice paid."""
    payments = Payment.objects.filter(invoice_id__in=invoice_ids)
    problems = []
    if payments.count() != len(invoice_ids) or payments.filter(status=PaymentStatus.SUCCEEDED).count() != len(
        invoice_ids
    ):
        problems.append(f"{payments.count()} payments for {len(invoice_ids)} invoices")
    if payments.values("invoice_id").distinct().count() != len(invoice_ids):
        problems.append("an invoice has more than one payment")
    charges = SandboxCharge.objects.filter(idempotency_key__in=payments.values("gateway_key")).count()
    if charges != len(invoice_ids):
        problems.append(f"{charges} sandbox charges for {len(invoice_ids)} invoices")
    unpaid = Invoice.objects.filter(pk__in=invoice_ids).exclude(status=InvoiceStatus.PAID).count()
    if unpaid:
        problems.append(f"{unpaid} invoices not paid")
    if problems:
        raise RuntimeError("payments in the database: " + "; ".join(problems))


def queries_of_one_payment(card, warm_invoice_id: int, invoice_id: int) -> dict:
    """Queries and commits of one API payment in this process, without a surrounding
    transaction (as a request runs), its tasks published as the server does."""
    token = api_token_in_process()
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    # A token's first call of the minute records its use (one UPDATE a minute, not per
    # payment): made before counting, as a script's token has been used already. Likewise
    # one payment is made first (tests/payments/test_pay_queries.py does the same): the
    # sandbox gateway reads a card's outcome class on the card's first charge in a
    # process only, as the server's workers had done before they were measured.
    client.get("/api/v1/me/")
    _pay_in_process(client, card, warm_invoice_id)
    commits = [0]
    real_commit = connection.commit

    def counting_commit():
        commits[0] += 1
        real_commit()

    writes_outside = [0]

    def count_autocommit_writes(execute, sql, params, many, context):
        if not connection.in_atomic_block and sql.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE"):
            writes_outside[0] += 1
        return execute(sql, params, many, context)

    connection.commit = counting_commit
    try:
        with connection.execute_wrapper(count_autocommit_writes), CaptureQueriesContext(connection) as queries:
            _pay_in_process(client, card, invoice_id)
    finally:
        del connection.commit
    sandbox_tables = tuple(f'"{table}"' for table in sandbox.TABLES)
    by_sandbox = [q for q in queries.captured_queries if any(t in q["sql"] for t in sandbox_tables)]
    return {
        "queries": len(queries.captured_queries),
        "sandbox": len(by_sandbox),
        "commits": commits[0] + writes_outside[0],
    }


def _pay_in_process(client, card, invoice_id: int) -> None:
    response = client.post(
        f"/api/v1/invoices/{invoice_id}/pay/",
        {"payment_method": card.pk},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
    )
    if response.status_code != 201:
        raise RuntimeError(f"in-process payment answered {response.status_code}: {response.content[:200]!r}")


def api_token_in_process() -> str:
    response = Client().post(
        "/api/v1/auth/token/", {"email": EMAIL, "password": PASSWORD}, content_type="application/json"
    )
    if response.status_code != 200:
        raise RuntimeError(f"token endpoint answered {response.status_code}")
    return response.json()["token"]


def _session_cookie(user) -> str:
    """A signed-in session for the bare view (the API itself uses the token)."""
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def run(requests: int = 1000, concurrency: int = 8, workers: int = 2, race_threads: int = RACE) -> list:
    if connection.vendor != "postgresql":
        print("\n== Pay now under load: skipped (needs PostgreSQL: set DATABASE_URL)", flush=True)
        return []
    warm_up = WARM_UP * workers
    t0 = time.perf_counter()
    user, card, invoice_ids = seed(2 + warm_up + requests + 1)
    warm_in_process, in_process, warm, measured, race_invoice = (
        invoice_ids[0],
        invoice_ids[1],
        invoice_ids[2 : 2 + warm_up],
        invoice_ids[2 + warm_up : 2 + warm_up + requests],
        invoice_ids[-1],
    )
    broker = settings.CELERY_BROKER_URL if settings.REDIS_URL else ""
    print(
        f"\n== Pay now under load: {len(invoice_ids):,} due invoices (seeded in {time.perf_counter() - t0:.1f} s), "
        f"gunicorn {workers} workers, {concurrency} client threads, {requests} payments; tasks "
        + (f"published to {broker.split('@')[-1]}" if broker else "run in the request (no REDIS_URL)"),
        flush=True,
    )
    with _publishing():
        if broker:
            os.environ[BROKER_ENV] = broker
        server = Server(workers)
        try:
            server.wait_ready()
            token = api_token(server.port)
            cookie = _session_cookie(user)
            pay_load(server.port, token, card.pk, warm, workers)
            load(server.port, "/bench/hello/", cookie, 4 * workers, workers, b"hello ")
            pay, hello = _in_rounds(server.port, token, card.pk, cookie, measured, concurrency, ROUNDS)
            raced = race(server.port, token, card.pk, race_invoice, race_threads)
        finally:
            server.stop()
            os.environ.pop(BROKER_ENV, None)
        counted = queries_of_one_payment(card, warm_in_process, in_process)
    check_paid([*warm, *measured, warm_in_process, in_process])
    if raced["succeeded"] != 1 or raced["paid"] != 1:
        raise RuntimeError(f"race: {raced}")
    ratio = pay["rps"] / hello["rps"]
    print(
        f"one API payment in-process: {counted['queries']} queries ({counted['sandbox']} of them the sandbox "
        f"gateway's own), {counted['commits']} commits\n"
        f"   hello /bench/hello/ {hello['rps']:7.1f} req/s  p50 {hello['p50']:6.1f} ms  p95 {hello['p95']:6.1f} ms"
        f"  (rounds: {', '.join(map(str, hello['rounds']))} req/s)\n"
        f"     pay API pay now    {pay['rps']:7.1f} payments/s  p50 {pay['p50']:6.1f} ms  p95 {pay['p95']:6.1f} ms"
        f"  ratio to hello {ratio:.2f}  (budget >= 100 payments/s)\n"
        f"    race {race_threads} requests on one invoice: {raced['charges']} charge, {raced['payments']} payment, "
        f"answers {', '.join(raced['statuses'])}; {len(warm) + len(measured)} payments checked in the database",
        flush=True,
    )
    return [
        info("pay.hello", hello["rps"], "req/s"),
        at_least("pay.payments_per_s", pay["rps"], "payments/s", 100, ratio=ratio),
        info("pay.p50", pay["p50"], "ms"),
        info("pay.p95", pay["p95"], "ms"),
        at_most("pay.queries_per_payment", counted["queries"], "queries", 15),
        info("pay.portal_queries_per_payment", counted["queries"] - counted["sandbox"], "queries"),
        info("pay.commits_per_payment", counted["commits"], "commits"),
        at_most("pay.race_charges", raced["charges"], "charges", 1),
    ]
