"""python -m benchmarks.load [--users 50] [--spawn-rate 50] [--run-time 30] [--scenarios list,pay,...]

The load test (``make load``; not part of ``make test``): PostgreSQL (DATABASE_URL) and Redis
(REDIS_URL) are required. It creates its own database (``test_<name>`` of DATABASE_URL),
migrates, seeds the demo and one customer per simulated user (benchmarks/load/seed.py),
collects the static files, starts gunicorn in production mode on a free port of 127.0.0.1
(benchmarks/load/server.py), runs locust headless against it (benchmarks/load/locustfile.py:
every scenario in turn for --run-time seconds with all users, each after --baseline-time
seconds of the bare logged-in view), checks the payments in the database, prints each
scenario's requests/s, p50/p95/p99 and errors with the ratio to the bare view's phase just
before it, and the load average. It exits non-zero on any error. The
server, the database, the media and static folders and the Celery queues it filled are
removed whatever happens. See docs/benchmarks.md.
"""

import argparse
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

SCENARIOS = ("overview", "sign-in", "api-token", "list", "detail", "pdf", "api-list", "pay")
BASELINE = "hello (bare logged-in view)"
HERE = Path(__file__).resolve().parent


def _seconds(text: str) -> float:
    """``30``, ``30s``, ``2m``."""
    text = text.strip().lower()
    factor = {"s": 1, "m": 60}.get(text[-1:], None)
    return float(text[:-1]) * factor if factor else float(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50, help="simulated users at once (default 50)")
    parser.add_argument(
        "--spawn-rate", type=float, default=None, help="users started per second (default: all at once)"
    )
    parser.add_argument("--run-time", type=_seconds, default=30.0, help="seconds per scenario (default 30; 30s, 1m)")
    parser.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help=f"comma-separated, in this order (default all: {','.join(SCENARIOS)})",
    )
    parser.add_argument(
        "--baseline-time",
        type=_seconds,
        default=10.0,
        help="seconds of the bare view before each scenario (default 10)",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2, for 2 cores)")
    parser.add_argument(
        "--threads", type=int, default=4, help="threads per gunicorn worker (default 4, as gunicorn.conf.py)"
    )
    parser.add_argument(
        "--periods",
        type=int,
        default=None,
        help="invoices (months) per simulated user (default: enough to pay 100 a second for --run-time, at least 72)",
    )
    parser.add_argument("--paid", type=int, default=12, help="of which paid; the rest can be paid (default 12)")
    parser.add_argument("--pdfs", type=int, default=3, help="paid invoices per user with a stored PDF (default 3)")
    parser.add_argument("--keepdb", action="store_true", help="keep the load-test database")
    return parser


def _loadavg() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} ({os.cpu_count()} cores)"


def _percentile(ordered: list[float], q: float) -> float:
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _row(name: str, own: list, windows: dict[int, tuple[float, float]]) -> dict:
    """``own``: (phase, start, ms, ok) of one request name; ``windows``: phase -> (start, seconds)."""
    ordered = sorted(e for _p, _s, e, _ok in own)
    answered = sum(1 for p, s, e, _ok in own if s + e / 1000 <= sum(windows[p]))
    return {
        "name": name,
        "phase": min(windows),
        "requests": len(own),
        "errors": sum(1 for *_r, ok in own if not ok),
        "rps": answered / sum(seconds for _start, seconds in windows.values()),
        "p50": _percentile(ordered, 0.50),
        "p95": _percentile(ordered, 0.95),
        "p99": _percentile(ordered, 0.99),
    }


def summarise(result: dict) -> list[dict]:
    """Per request name of a phase: requests/s = the requests answered within the phase's
    seconds, divided by them; p50/p95/p99 and errors of every request started in it (the
    last ones are answered after its time is up, before the next phase starts). The bare
    view's phases are summed up in one row; every other row's ratio is to the bare view's
    phase just before it."""
    phases = result["phases"]
    windows = list(zip(result["starts"], result["ends"], strict=False))
    records: dict[tuple[int, str], list] = defaultdict(list)
    for name, start, elapsed, ok in result["records"]:
        phase = next((k for k, (s, e) in enumerate(windows) if s <= start <= e), None)
        if phase is not None and not name.startswith("setup"):
            records[phase, name].append((phase, start, elapsed, ok))
    window = {k: (windows[k][0], phases[k][1]) for k in range(len(windows))}
    hello_phases = sorted(p for p, name in records if name == BASELINE)
    hello_by_phase = {p: _row(BASELINE, records[p, BASELINE], {p: window[p]}) for p in hello_phases}
    rows = []
    if hello_phases:
        own = [r for p in hello_phases for r in records[p, BASELINE]]
        rows.append(_row(BASELINE, own, {p: window[p] for p in hello_phases}))
        rows[0]["hello"] = rows[0]["rps"]
    for (phase, name), own in records.items():
        if name == BASELINE:
            continue
        row = _row(name, own, {phase: window[phase]})
        before = hello_by_phase.get(phase - 1) or (rows[0] if hello_phases else None)
        row["hello"] = before["rps"] if before else float("nan")
        row["first"] = min(s for _p, s, _e, _ok in own)
        rows.append(row)
    rows[1:] = sorted(rows[1:], key=lambda r: (r["phase"], r["first"]))
    for row in rows:
        row["ratio"] = row["rps"] / row["hello"] if row["hello"] else float("nan")
    return rows


def report(rows: list[dict]) -> None:
    for r in rows:
        print(
            f"{r['name']:>28} {r['rps']:7.1f} req/s  p50 {r['p50']:7.1f} ms  p95 {r['p95']:7.1f} ms"
            f"  p99 {r['p99']:7.1f} ms  errors {r['errors']}  ratio to hello {r['ratio']:.2f}"
            + ("" if r["name"] == BASELINE else f" (hello {r['hello']:.0f} req/s just before)"),
            flush=True,
        )
    print(
        "\n| scenario | requests | req/s | p50 ms | p95 ms | p99 ms | errors | hello req/s just before | ratio to hello |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        before = "(all its phases)" if r["name"] == BASELINE else f"{r['hello']:.1f}"
        print(
            f"| {r['name']} | {r['requests']:,} | {r['rps']:.1f} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f}"
            f" | {r['errors']} | {before} | {r['ratio']:.2f} |"
        )
    print(flush=True)


def run_locust(args, url: str, plan_path: Path, result_path: Path, log_path: Path, phases: list) -> int:
    locust = Path(sys.executable).with_name("locust")
    setup_timeout = 60 + 2 * args.users  # every user signs in once (password hashing: ~0.3 s of CPU each)
    # Each phase is followed by its slowest answers (a sign-in under load: up to ~30 s).
    hard_limit = setup_timeout + sum(seconds + 60 for _name, seconds in phases)
    env = {
        **os.environ,
        "LOAD_PLAN": str(plan_path),
        "LOAD_RESULT": str(result_path),
        "LOAD_PHASES": ",".join(f"{name}:{seconds:g}" for name, seconds in phases),
        "LOAD_SETUP_TIMEOUT": str(setup_timeout),
    }
    command = [
        str(locust),
        "-f",
        str(HERE / "locustfile.py"),
        "--headless",
        "--users",
        str(args.users),
        "--spawn-rate",
        str(args.spawn_rate or args.users),
        "--run-time",
        f"{math.ceil(hard_limit)}s",
        "--host",
        url,
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    with open(log_path, "wb") as log:
        process = subprocess.run(command, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=hard_limit + 60)  # noqa: S603
    return process.returncode


def check_payments(plan: list[dict], paid_now: int) -> list[str]:
    """Every Pay now answered with a redirect is one succeeded payment of a distinct invoice."""
    from invoices.models import Invoice, InvoiceStatus
    from payments.models import Payment, PaymentStatus

    due = [pk for p in plan for pk in p["due"]]
    payments = Payment.objects.filter(invoice_id__in=due)
    statuses = dict(Counter(payments.values_list("status", flat=True)))
    problems = []
    if statuses.get(PaymentStatus.SUCCEEDED, 0) != paid_now or len(statuses) > (1 if paid_now else 0):
        problems.append(f"payments {statuses}, {paid_now} Pay now answered as paid")
    if payments.order_by().values("invoice_id").distinct().count() != payments.count():
        problems.append("an invoice has more than one payment")
    paid = Invoice.objects.filter(pk__in=due, status=InvoiceStatus.PAID).count()
    if paid != paid_now:
        problems.append(f"{paid} invoices paid, {paid_now} expected")
    return problems


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    if args.periods is None:
        args.periods = args.paid + max(60, math.ceil(1.5 * 100 * args.run_time / args.users))
    scenarios = [s for s in args.scenarios.split(",") if s and s != "hello"]
    unknown = set(scenarios) - set(SCENARIOS)
    if unknown:
        print(f"unknown scenarios: {', '.join(sorted(unknown))} (known: {', '.join(SCENARIOS)})", file=sys.stderr)
        return 2
    database_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")) or not redis_url:
        print("the load test needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL)", file=sys.stderr)
        return 2
    if not Path(sys.executable).with_name("locust").exists():
        print("locust is not installed: make load (or pip install -r requirements-load.txt)", file=sys.stderr)
        return 2

    work = Path(tempfile.mkdtemp(prefix="bp-load-"))
    os.environ.update(
        DJANGO_SETTINGS_MODULE="billing_portal.settings",
        PORTAL_MODE="development",  # the runner seeds the demo; the server runs in production mode
        CELERY_TASK_ALWAYS_EAGER="false",  # publish to Redis, run nothing here (purged at the end)
        MEDIA_ROOT=str(work / "media"),
        STATIC_ROOT=str(work / "static"),
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    import logging

    logging.disable(logging.WARNING)
    from django.db import connection
    from django.test.utils import setup_test_environment

    from benchmarks import billing

    from . import seed, server

    setup_test_environment()  # e-mails sent while seeding stay in memory
    print(f"== load test: {_loadavg()} before seeding", flush=True)
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=args.keepdb)
    web = None
    failed = False
    try:
        started = time.perf_counter()
        with billing._publishing():
            plan = seed.seed(args.users, args.periods, args.paid, args.pdfs)
        env = server.production_env(redis_url, str(work / "media"), str(work / "static"))
        server.collectstatic(env)
        connection.close()
        print(
            f"   database {connection.settings_dict['NAME']}: demo + {args.users} customers × {args.periods} invoices "
            f"({args.paid} paid, {args.periods - args.paid} to pay, {args.pdfs} PDFs stored each); "
            f"seeded in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
        web = server.Server(env, args.workers, args.threads, work / "gunicorn.log")
        web.wait_ready()
        (work / "plan.json").write_text(json.dumps(plan))
        print(
            f"   gunicorn billing_portal.wsgi, production mode, {args.workers} workers × {args.threads} threads "
            f"on {web.url}; locust {args.users} users (spawn rate {args.spawn_rate or args.users}/s), "
            f"{args.run_time:g} s per scenario, each after {args.baseline_time:g} s of hello: {', '.join(scenarios)}",
            flush=True,
        )
        load_before = _loadavg()
        phases = [p for s in scenarios for p in (("hello", args.baseline_time), (s, args.run_time))]
        phases = phases or [("hello", args.run_time)]
        cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall = time.perf_counter()
        code = run_locust(args, web.url, work / "plan.json", work / "result.json", work / "locust.log", phases)
        load_during = _loadavg()
        wall = time.perf_counter() - wall
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        locust_cpu = after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime
        web.stop()  # every answer given: the payments in the database are final
        result = json.loads((work / "result.json").read_text()) if (work / "result.json").exists() else None
        if result is None or len(result["ends"]) < len(phases):
            failed = True
            print("FAILED: locust stopped before every scenario had run", file=sys.stderr)
            for line in (result or {}).get("failures", [])[:10]:
                print(f"   {line}", file=sys.stderr)
            print((work / "locust.log").read_text(errors="replace")[-3000:], file=sys.stderr)
            return 1
        rows = summarise(result)
        report(rows)
        pays = sum(1 for name, _s, _e, ok in result["records"] if name == "pay now" and ok)
        problems = check_payments(plan, pays)
        errors = sum(1 for *_rest, ok in result["records"] if not ok)
        print(f"   {load_before} when locust started, {load_during} when it stopped")
        print(
            f"   locust itself used {locust_cpu:.0f} s of CPU in {wall:.0f} s ({100 * locust_cpu / wall:.0f} % of one core)"
        )
        print(f"   uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
        print(f"   Pay now: {pays} invoices paid, each once{'' if not problems else ': ' + '; '.join(problems)}")
        if errors or problems or code != 0:
            failed = True
            print(f"FAILED: {errors} failed requests, locust exit code {code}", file=sys.stderr)
            for line in result["failures"][:10]:
                print(f"   {line}", file=sys.stderr)
            print((work / "locust.log").read_text(errors="replace")[-3000:], file=sys.stderr)
    except BaseException:
        failed = True
        raise
    finally:
        if web is not None:
            web.stop()
            log = web.output()
            if failed and log:
                print("gunicorn log (tail):\n" + log[-3000:], file=sys.stderr)
        with billing._publishing():
            pass  # empties the Celery queues the portal published to
        if not args.keepdb:
            connection.creation.destroy_test_db(old_name, verbosity=0)
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
