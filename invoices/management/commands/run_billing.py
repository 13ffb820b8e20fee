"""manage.py run_billing --period YYYY-MM: issue the period's invoices, with a progress bar."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from billing_portal import clock
from billing_portal.errors import DomainError
from invoices import services
from invoices.models import BillingRun, BillingRunStatus


class Command(BaseCommand):
    help = "Start (or resume, or re-run) the billing run of a closed period and show its progress."

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="YYYY-MM")
        parser.add_argument("--chunk-size", type=int, default=services.CHUNK_SIZE)
        parser.add_argument(
            "--inline",
            action="store_true",
            help="Process the chunks in this process (the default when Celery runs tasks in-process).",
        )

    def handle(self, *args, **options):
        try:
            period = clock.require_period(options["period"])
            inline = options["inline"] or settings.CELERY_TASK_ALWAYS_EAGER
            run = services.billing_run_start(period=period, chunk_size=options["chunk_size"], enqueue=not inline)
        except DomainError as exc:
            raise CommandError(exc.message)
        bar = tqdm(total=run.total_chunks, initial=run.done_chunks, unit="chunk", desc=f"Billing {run}")
        if inline:
            for chunk_id in run.chunks.filter(done=False).order_by("index").values_list("pk", flat=True):
                services.billing_chunk_process(chunk_id=chunk_id)
                bar.update(1)
        else:
            while True:
                run = BillingRun.objects.get(pk=run.pk)
                bar.update(run.done_chunks - bar.n)
                if run.status == BillingRunStatus.FINISHED:
                    break
                time.sleep(0.5)
        bar.close()
        run.refresh_from_db()
        self.stdout.write(
            f"{run}: {run.status}, {run.invoices_created} invoices for {run.total_scopes} billing scopes "
            f"({run.done_chunks}/{run.total_chunks} chunks)."
        )
