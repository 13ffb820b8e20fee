"""Invoice list under load (docs/rules.md, budgets): gunicorn on 127.0.0.1, one account with 10,000
invoices, a signed-in user; requests/s and p50/p95 of the invoice list (first page and
a filtered page) against a bare logged-in "hello" view served by the same server in the
same run. Budget: list >= 0.5 x hello requests/s, p95 < 100 ms.

The server runs with ``benchmarks.bench_settings`` (the project's settings and URLs plus
``/bench/hello/``), DEBUG off, against the benchmark database. The load generator is
pure Python: a fixed number of threads, each sending requests back to back over its own
connections, until a bounded number of requests is done. Everything it starts is
stopped when it finishes or fails.
"""

import datetime as dt
import http.client
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from decimal import Decimal
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import OuterRef, Subquery

from accounts import services as account_services
from accounts.models import BillingProfile
from benchmarks.results import at_least, at_most, info
from invoices import services
from invoices.models import Invoice, InvoiceRevision, InvoiceStatus, PaymentTerms

ROOT = Path(__file__).resolve().parent.parent
EMAIL = "list.bench@bench.example"
PASSWORD = "bench-list-2026"  # noqa: S105 - a throw-away user in the benchmark database
PROFILES = 100  # billing profiles of the account (customer agreement)
FILTERED = "/invoices/?status=past_due"


def seed(total: int) -> None:
    """One customer-agreement account with ``total`` invoices over PROFILES billing
    profiles (one invoice per profile and month), bulk inserted; the user is the
    billing account owner who signed up (sees and may pay all of them)."""
    user_model = get_user_model()
    user_model.objects.filter(email=EMAIL).delete()
    user = user_model.objects.create_user(email=EMAIL, password=PASSWORD)
    account = account_services.billing_account_create(
        signed_up_by=user,
        profile_name="Profile 1",
        name="List bench",
        agreement_type="customer_agreement",
        kind="business",
        company_name="List Bench B.V.",
        address_line1="Damrak 1",
        postal_code="1012 LG",
        city="Amsterdam",
        country="NL",
        currency="EUR",
        vat_id="NL853746333B01",
        payment_mode="card",
    )
    account_services.role_assign(user=user, role="ba_owner", account=account)
    BillingProfile.objects.bulk_create(
        [BillingProfile(account=account, name=f"Profile {i}") for i in range(2, PROFILES + 1)]
    )
    profiles = list(account.profiles.order_by("pk"))
    months = -(-total // len(profiles))
    statuses = [InvoiceStatus.PAID] * 8 + [InvoiceStatus.PAST_DUE, InvoiceStatus.DUE]
    invoices, n = [], 0
    for month in range(months):
        period = dt.date(2000 + month // 12, month % 12 + 1, 1)
        issue = (period + dt.timedelta(days=32)).replace(day=1)
        for profile in profiles:
            if n == total:
                break
            n += 1
            status = statuses[n % len(statuses)]
            invoices.append(
                Invoice(
                    number=f"INV-LIST-{n:06d}",
                    account=account,
                    profile=profile,
                    period=period,
                    issue_date=issue,
                    due_date=issue,
                    status=status,
                    currency="EUR",
                    subtotal=Decimal("100.00"),
                    tax_amount=Decimal("21.00"),
                    total=Decimal("121.00"),
                    amount_paid=Decimal("121.00") if status == InvoiceStatus.PAID else Decimal(0),
                    payment_reference=services.payment_reference(2099, n),
                    payment_terms=PaymentTerms.CARD,
                )
            )
    Invoice.objects.bulk_create(invoices, batch_size=5000)
    InvoiceRevision.objects.bulk_create(
        [
            InvoiceRevision(
                invoice=invoice,
                number=1,
                language="en",
                sold_to="List Bench B.V.\nDamrak 1",
                bill_to="List Bench B.V.",
                vat_id=account.vat_id,
                tax_rate=Decimal("21"),
            )
            for invoice in invoices
        ],
        batch_size=5000,
    )
    Invoice.objects.filter(account=account).update(
        current_revision=Subquery(InvoiceRevision.objects.filter(invoice_id=OuterRef("pk"), number=1).values("pk")[:1])
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    s = connection.settings_dict
    auth = urllib.parse.quote(s["USER"] or "", safe="")
    if s.get("PASSWORD"):
        auth += ":" + urllib.parse.quote(s["PASSWORD"], safe="")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class Server:
    """gunicorn in its own process group, stopped (TERM, then KILL) on exit."""

    def __init__(self, workers: int):
        self.port = _free_port()
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "benchmarks.bench_settings",
            "DATABASE_URL": _database_url(),
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            "CELERY_TASK_ALWAYS_EAGER": "true",
        }
        env.pop("REDIS_URL", None)
        self.process = subprocess.Popen(  # noqa: S603 - fixed command
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "billing_portal.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--log-level",
                "warning",
                "--backlog",
                "256",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn exited: " + self.process.stderr.read().decode(errors="replace")[-2000:])
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/sign-in/")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer in time")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process.stderr.close()


def _cookies(response, jar: dict) -> None:
    for header in response.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        jar[name.strip()] = rest.split(";", 1)[0]


def _cookie_header(jar: dict) -> str:
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def sign_in(port: int) -> str:
    """Sign in through the real sign-in form; returns the Cookie header (session)."""
    jar: dict = {}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/sign-in/")
    response = conn.getresponse()
    _cookies(response, jar)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', response.read()).group(1).decode()
    body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": EMAIL, "password": PASSWORD})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(
        "POST",
        "/sign-in/",
        body=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": _cookie_header(jar),
            "Referer": f"http://127.0.0.1:{port}/sign-in/",
        },
    )
    response = conn.getresponse()
    response.read()
    _cookies(response, jar)
    if response.status != 302 or "sessionid" not in jar:
        raise RuntimeError(f"sign-in failed: {response.status}")
    return _cookie_header(jar)


def load(port: int, path: str, cookie: str, requests: int, concurrency: int, expect: bytes) -> dict:
    """``requests`` GETs of ``path`` by ``concurrency`` threads; every answer must be
    200 and contain ``expect`` (so a redirect to sign-in cannot pass for speed)."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    remaining = [requests]

    def worker():
        while True:
            with lock:
                if remaining[0] <= 0 or len(errors) > 10:
                    return
                remaining[0] -= 1
            started = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("GET", path, headers={"Cookie": cookie})
                response = conn.getresponse()
                body = response.read()
                conn.close()
            except OSError as exc:
                with lock:
                    errors.append(repr(exc))
                continue
            elapsed = time.perf_counter() - started
            with lock:
                if response.status != 200 or expect not in body:
                    errors.append(f"{response.status} {body[:80]!r}")
                else:
                    latencies.append(elapsed)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    wall = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - wall
    if errors:
        raise RuntimeError(f"{path}: {len(errors)} bad answers, e.g. {errors[0]}")
    latencies.sort()
    return {
        "path": path,
        "requests": len(latencies),
        "rps": len(latencies) / wall,
        "p50": statistics.median(latencies) * 1000,
        "p95": latencies[int(0.95 * (len(latencies) - 1))] * 1000,
    }


def run(total: int = 10_000, requests: int = 1000, concurrency: int = 8, workers: int = 2) -> list:
    if connection.vendor != "postgresql":
        print("\n== invoice list under load: skipped (needs PostgreSQL: set DATABASE_URL)", flush=True)
        return []
    t0 = time.perf_counter()
    seed(total)
    print(
        f"\n== invoice list under load: {total:,} invoices in one account (seeded in {time.perf_counter() - t0:.1f} s), "
        f"gunicorn {workers} workers, {concurrency} client threads, {requests} requests per target",
        flush=True,
    )
    server = Server(workers)
    try:
        server.wait_ready()
        cookie = sign_in(server.port)
        targets = [
            ("hello", "/bench/hello/", b"hello "),
            ("list", "/invoices/", b"INV-LIST-"),
            ("filtered", FILTERED, b"INV-LIST-"),
        ]
        for _name, path, expect in targets:  # warm every worker up
            load(server.port, path, cookie, 4 * workers, workers, expect)
        results = {
            name: load(server.port, path, cookie, requests, concurrency, expect) for name, path, expect in targets
        }
    finally:
        server.stop()
    hello = results["hello"]["rps"]
    for name in ("hello", "list", "filtered"):
        r = results[name]
        ratio = r["rps"] / hello
        verdict = (
            ""
            if name == "hello"
            else ("  OK" if ratio >= 0.5 and r["p95"] < 100 else "  MISSES THE BUDGET (>= 0.5x hello, p95 < 100 ms)")
        )
        print(
            f"{name:>8} {r['path']:<28} {r['rps']:7.1f} req/s  p50 {r['p50']:6.1f} ms  p95 {r['p95']:6.1f} ms"
            f"  ratio to hello {ratio:.2f}{verdict}",
            flush=True,
        )
    rows = [info("list.hello", hello, "req/s")]
    for name in ("list", "filtered"):
        r = results[name]
        rows.append(at_least(f"list.html_{name}", r["rps"], "req/s", 0.5, ratio=r["rps"] / hello, on_ratio=True))
        rows.append(at_most(f"list.html_{name}_p95", r["p95"], "ms", 100))
    return rows
