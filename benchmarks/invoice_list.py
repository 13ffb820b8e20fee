"""Invoice list, invoice detail and the API invoice list under load (docs/rules.md,
budgets): gunicorn on 127.0.0.1, a customer-agreement account with 10,000 invoices and a
second, ten times bigger account; signed-in users (a session for the pages, an API token
for the API). Each figure is requests/s and p50/p95 against a baseline served by the same
server in the same run:

* the pages (list, filtered list, detail) against ``/bench/layout/``, a bare logged-in
  view that renders the same page layout (navigation, language switch) with no content;
  the ratio to the bare "hello" view is reported too. Budget: >= 0.5 x, p95 < 100 ms.
* the API list (page_size 25 and 200) against ``/bench/api/``, a bare DRF view with the
  same authentication and renderer. Budget: >= 0.5 x; page_size=200 within 3 x of 25.
* flatness: the same list and API list for the user of the bigger account; its ratio
  to the smaller account's figure is reported (no COUNT per page: flat in the size).

The server runs with ``benchmarks.bench_settings`` (the project's settings and URLs plus
the baselines of ``benchmarks.bench_urls``), DEBUG off, against the benchmark database.
The load generator is pure Python: a fixed number of threads, each sending requests back
to back over its own connections, until a bounded number of requests is done; every
target's requests are sent in ROUNDS rounds, the targets one after the other in each, so
that a figure and its baseline see the same moments of a machine that runs other work.
Everything it starts is stopped when it finishes or fails.
"""

import datetime as dt
import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from decimal import Decimal
from pathlib import Path

from django.db import connection
from django.db.models import OuterRef, Subquery

from accounts.models import BillingProfile
from benchmarks import seeding
from benchmarks.clients import drive
from benchmarks.results import at_least, at_most, info
from invoices import services
from invoices.models import Invoice, InvoiceLine, InvoiceRevision, InvoiceStatus, PaymentTerms

ROOT = Path(__file__).resolve().parent.parent
EMAIL = "list.bench@bench.example"
BIG_EMAIL = "list.big@bench.example"
PASSWORD = "bench-list-2026"  # noqa: S105 - a throw-away user in the benchmark database
MONTHS = 100  # one invoice per billing profile and month: 100 profiles for 10,000 invoices
FILTERED = "/invoices/?status=past_due"
ROUNDS = 10  # the requests of every target are sent in this many rounds, targets interleaved


def seed(total: int, *, email: str = EMAIL, prefix: str = "INV-LIST-", name: str = "List bench"):
    """One customer-agreement account with ``total`` invoices over ``total / MONTHS``
    billing profiles (one invoice per profile and month, the same months for every
    account), bulk inserted; the user is the billing account owner who signed up (sees
    and may pay all of them). Returns the user."""
    user, account = seeding.owner_with_account(email=email, password=PASSWORD, name=name, profile_name="Profile 1")
    BillingProfile.objects.bulk_create(
        [BillingProfile(account=account, name=f"Profile {i}") for i in range(2, max(1, total // MONTHS) + 1)]
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
                    number=f"{prefix}{n:06d}",
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
                sold_to=f"{name} B.V.\nDamrak 1",
                bill_to=f"{name} B.V.",
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
    return user


def detail_invoice(user) -> Invoice:
    """The newest past-due invoice of the user's account, given three lines (as the
    billing run writes them): the invoice whose page the benchmark asks for."""
    invoice = Invoice.objects.filter(account__signed_up_by=user, status=InvoiceStatus.PAST_DUE).order_by("-pk")[0]
    InvoiceLine.objects.bulk_create(
        [
            InvoiceLine(
                invoice=invoice,
                position=i,
                service_name=service,
                meter=meter,
                quantity=Decimal(quantity),
                unit_price=Decimal(price),
                amount=Decimal(amount),
                tax_amount=(Decimal(amount) * Decimal("0.21")).quantize(Decimal("0.01")),
            )
            for i, (service, meter, quantity, price, amount) in enumerate(
                [
                    ("Virtual machines", "D2s v5 hours", "500", "0.1", "50.00"),
                    ("Storage", "GB months", "1000", "0.03", "30.00"),
                    ("Bandwidth", "GB out", "250", "0.08", "20.00"),
                ],
                start=1,
            )
        ]
    )
    return invoice


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


def sign_in(port: int, email: str = EMAIL) -> str:
    """Sign in through the real sign-in form; returns the Cookie header (session)."""
    jar: dict = {}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/sign-in/")
    response = conn.getresponse()
    _cookies(response, jar)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', response.read()).group(1).decode()
    body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": email, "password": PASSWORD})
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


def api_token(port: int, email: str = EMAIL) -> str:
    """An API token through the real token endpoint; returns the Authorization header."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(
        "POST",
        "/api/v1/auth/token/",
        body=json.dumps({"email": email, "password": PASSWORD}),
        headers={"Content-Type": "application/json"},
    )
    response = conn.getresponse()
    body = response.read()
    if response.status != 200:
        raise RuntimeError(f"API token refused: {response.status} {body[:200]!r}")
    return f"Token {json.loads(body)['token']}"


def load(port: int, path: str, cookie: str, requests: int, concurrency: int, expect: bytes, *, headers=None) -> dict:
    """``requests`` GETs of ``path`` by ``concurrency`` threads; every answer must be
    200 and contain ``expect`` (so a redirect to sign-in cannot pass for speed). The
    request carries the Cookie header ``cookie`` and any other ``headers``."""
    headers = {**(headers or {}), **({"Cookie": cookie} if cookie else {})}

    def send(_job):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()
        finally:
            conn.close()
        return None if response.status == 200 and expect in body else f"{response.status} {body[:80]!r}"

    latencies, wall = drive(range(requests), concurrency, send, path)
    return summary(path, latencies, wall)


def summary(path: str, latencies: list[float], wall: float) -> dict:
    """Requests/s (answers / wall time) and p50/p95 ms of a bounded load."""
    latencies = sorted(latencies)
    return {
        "path": path,
        "requests": len(latencies),
        "rps": len(latencies) / wall,
        "p50": statistics.median(latencies) * 1000,
        "p95": latencies[int(0.95 * (len(latencies) - 1))] * 1000,
        "latencies": latencies,
        "wall": wall,
    }


# (name, path, user, API?, text every answer must contain).
TARGETS = [
    ("hello", "/bench/hello/", "main", False, b"hello "),
    ("layout", "/bench/layout/", "main", False, b'class="mainnav"'),
    ("list", "/invoices/", "main", False, b"INV-LIST-"),
    ("filtered", FILTERED, "main", False, b"INV-LIST-"),
    ("detail", "/invoices/{detail}/", "main", False, b"Virtual machines"),
    ("list_big", "/invoices/", "big", False, b"INV-BIG-"),
    ("api_bare", "/bench/api/", "main", True, b'{"user":'),
    ("api_list", "/api/v1/invoices/", "main", True, b"INV-LIST-"),
    ("api_list_200", "/api/v1/invoices/?page_size=200", "main", True, b"INV-LIST-"),
    ("api_list_big", "/api/v1/invoices/", "big", True, b"INV-BIG-"),
]


def run(total: int = 10_000, requests: int = 1000, concurrency: int = 8, workers: int = 2, big: int | None = None):
    """``big`` invoices (default 10 x ``total``; 0: none) in the second account."""
    if connection.vendor != "postgresql":
        print("\n== invoice list under load: skipped (needs PostgreSQL: set DATABASE_URL)", flush=True)
        return []
    big = 10 * total if big is None else big
    t0 = time.perf_counter()
    users = {"main": seed(total)}
    if big:
        users["big"] = seed(big, email=BIG_EMAIL, prefix="INV-BIG-", name="Big bench")
    detail = detail_invoice(users["main"]).pk
    targets = [t for t in TARGETS if t[2] in users]
    print(
        f"\n== invoice list under load: {total:,} invoices in one account, {big:,} in another "
        f"(seeded in {time.perf_counter() - t0:.1f} s), gunicorn {workers} workers, {concurrency} client threads, "
        f"{requests} requests per target",
        flush=True,
    )
    server = Server(workers)
    try:
        server.wait_ready()
        emails = {"main": EMAIL, "big": BIG_EMAIL}
        auth = {(key, False): ({"Cookie": sign_in(server.port, emails[key])}) for key in users} | {
            (key, True): {"Authorization": api_token(server.port, emails[key])} for key in users
        }

        def measure(name, path, user, api, expect, n, threads):
            return load(server.port, path.format(detail=detail), "", n, threads, expect, headers=auth[(user, api)]) | {
                "name": name
            }

        for target in targets:  # warm every worker up
            measure(*target, 4 * workers, workers)
        # In ROUNDS rounds, each target after the other: every figure and its baseline
        # see the same moments of a machine that runs other work too.
        parts: dict[str, list] = {target[0]: [] for target in targets}
        for _round in range(ROUNDS):
            for target in targets:
                parts[target[0]].append(measure(*target, max(1, requests // ROUNDS), concurrency))
        results = {
            name: summary(runs[0]["path"], [t for r in runs for t in r["latencies"]], sum(r["wall"] for r in runs))
            | {"name": name}
            for name, runs in parts.items()
        }
    finally:
        server.stop()
    for r in results.values():
        print(
            f"{r['name']:>12} {r['path']:<34} {r['rps']:7.1f} req/s  p50 {r['p50']:6.1f} ms  p95 {r['p95']:6.1f} ms",
            flush=True,
        )
    return report(results)


def report(results: dict) -> list:
    """The Result rows: every page against the layout (and hello), the API against the
    bare API view, page_size 200 against 25, the bigger account against the smaller."""
    rps = {name: r["rps"] for name, r in results.items()}
    hello, layout, api = rps["hello"], rps["layout"], rps["api_bare"]
    rows = [info("list.hello", hello, "req/s"), info("list.layout", layout, "req/s", ratio=layout / hello)]
    for name in ("list", "filtered", "detail", "list_big"):
        if name not in rps:
            continue
        label = "detail" if name == "detail" else f"html_{name}"
        rows.append(at_least(f"list.{label}", rps[name], "req/s", 0.5, ratio=rps[name] / layout, on_ratio=True))
        rows.append(info(f"list.{label}_ratio_hello", rps[name] / hello, "x"))
        rows.append(at_most(f"list.{label}_p95", results[name]["p95"], "ms", 100))
    rows.append(info("list.api_bare", api, "req/s"))
    for name in ("api_list", "api_list_200", "api_list_big"):
        if name not in rps:
            continue
        label = "api_list_25" if name == "api_list" else name
        if name == "api_list_200":  # its budget: within 3 x of page_size=25 (below)
            rows.append(info(f"list.{label}", rps[name], "req/s", ratio=rps[name] / api))
            rows.append(info(f"list.{label}_p95", results[name]["p95"], "ms"))
            continue
        rows.append(at_least(f"list.{label}", rps[name], "req/s", 0.5, ratio=rps[name] / api, on_ratio=True))
        rows.append(at_most(f"list.{label}_p95", results[name]["p95"], "ms", 100))
    # page_size=200 costs at most 3 x page_size=25 (time per request: the inverse of req/s).
    rows.append(at_most("list.api_200_vs_25", rps["api_list"] / rps["api_list_200"], "x", 3))
    if "list_big" in rps:  # flat in the account's size: the bigger account within 0.8 x
        rows.append(at_least("list.html_big_vs_small", rps["list_big"] / rps["list"], "x", 0.8))
        rows.append(at_least("list.api_big_vs_small", rps["api_list_big"] / rps["api_list"], "x", 0.8))
    return rows
