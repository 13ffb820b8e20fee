"""manage.py import_usage FILE.csv: add usage charges and report rejected rows."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from billing_portal.errors import DomainError
from invoices import services


class Command(BaseCommand):
    help = (
        "Import usage charges from a CSV file with the columns subscription_id, period (YYYY-MM), "
        "service_name, meter, quantity, unit_price, currency and optionally is_marketplace, record_id."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            rows = services.read_usage_csv(path.read_text(encoding="utf-8-sig"))
            report = services.charge_import(rows=rows, actor=None, source=f"csv:{path.name}")
        except DomainError as exc:
            raise CommandError(exc.message)
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
            return
        self.stdout.write(
            f"Accepted: {report.accepted}  Duplicates skipped: {report.duplicates}  Rejected: {len(report.rejected)}"
        )
        for rejected in report.rejected:
            # Row numbers count data rows; the header is line 1 of the file.
            self.stdout.write(f"  line {rejected['row'] + 1}: " + "; ".join(rejected["errors"]))
