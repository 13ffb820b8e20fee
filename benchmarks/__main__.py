"""python -m benchmarks [--n 10000 --n 100000] [--pdf-renders 60] [--only billing|pdf|list|pay] [--keepdb]
                      [--pay-requests 1000 --pay-concurrency 8 --pay-race 50]

Runs against the database of DATABASE_URL (PostgreSQL for the budgets in docs/rules.md) in
a separate test database (``test_<name>``, created and migrated here, dropped at the end
unless --keepdb), or against a temporary SQLite database when DATABASE_URL is unset.
Every benchmark returns ``benchmarks.results.Result`` rows; the run ends with one table
and one ``RESULT`` line per row, and exits 1 if a budget was missed and ``--strict``.
"""

import argparse
import os
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--n", type=int, action="append", help="subscriptions to bill (repeatable; default 10000 and 100000)"
    )
    parser.add_argument("--pdf-renders", type=int, default=60, help="PDF renders to time (default 60)")
    parser.add_argument("--only", choices=["billing", "pdf", "list", "pay"], help="run one benchmark")
    parser.add_argument("--list-invoices", type=int, default=10_000, help="invoices in the list benchmark's account")
    parser.add_argument(
        "--list-big-invoices", type=int, default=None, help="invoices in its second account (default 10 x; 0: none)"
    )
    parser.add_argument("--list-requests", type=int, default=1000, help="requests per target in the list benchmark")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads in the list benchmark")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers in the list benchmark (2 cores)")
    parser.add_argument("--pay-requests", type=int, default=1000, help="payments in the pay benchmark (--workers)")
    parser.add_argument("--pay-concurrency", type=int, default=8, help="client threads in the pay benchmark")
    parser.add_argument(
        "--pay-race", type=int, default=50, help="concurrent pay requests on one invoice (pay benchmark)"
    )
    parser.add_argument("--chunk-size", type=int, default=None, help="subscriptions per chunk (default: the service's)")
    parser.add_argument("--keepdb", action="store_true", help="keep the benchmark database")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a budget is missed")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billing_portal.settings")
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
    os.environ.setdefault("AXES_ENABLED", "false")
    import django

    django.setup()
    import logging

    logging.disable(logging.INFO)
    from django.db import connection
    from django.test.utils import setup_test_environment

    from . import billing, invoice_list, pay, pdf
    from .results import load_average, machine_speed, table

    load_before = load_average()
    results = [machine_speed()]

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=args.keepdb)
    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})", flush=True)
    try:
        if args.only in (None, "billing"):
            results += billing.run_sizes(args.n or [10_000, 100_000], chunk_size=args.chunk_size)
        if args.only in (None, "pdf"):
            results += pdf.run(args.pdf_renders)
        if args.only in (None, "list"):
            results += invoice_list.run(
                args.list_invoices, args.list_requests, args.concurrency, args.workers, args.list_big_invoices
            )
        if args.only in (None, "pay"):
            results += pay.run(args.pay_requests, args.pay_concurrency, args.workers, args.pay_race)
    finally:
        if not args.keepdb:
            connection.creation.destroy_test_db(old_name, verbosity=0)
    print(table(results, load_before=load_before, load_after=load_average()), flush=True)
    return 1 if args.strict and any(r.met is False for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
