import logging
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings

from accounts import demo as accounts_demo
from invoices import demo as invoices_demo
from notifications.models import Notification
from payments import demo as payments_demo
from purchase_orders import demo as po_demo
from support import demo as support_demo

CONSOLE_BACKEND = "django.core.mail.backends.console.EmailBackend"


class Command(BaseCommand):
    help = "Create demo personas and data for every role and agreement type (idempotent; refused in production)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--mail-dir",
            default=str(settings.BASE_DIR / "demo-mail"),
            help="where the demo data's e-mails go when e-mail is printed to the console (default: demo-mail/)",
        )

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("seed_demo refuses to run in production mode (PORTAL_MODE=production).")
        # The demo data sends hundreds of e-mails (invoices, receipts, requests). With the
        # embedded default they would be printed before the server's address; they go to
        # files instead. A configured SMTP server or file path gets them as usual.
        mail_dir = None
        mail = {}
        if settings.EMAIL_BACKEND == CONSOLE_BACKEND:
            mail_dir = Path(options["mail_dir"])
            mail_dir.mkdir(parents=True, exist_ok=True)
            mail = {"EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend", "EMAIL_FILE_PATH": mail_dir}
        sent_before = Notification.objects.filter(sent_at__isnull=False).count()
        # One INFO line per task run would bury the personas as well.
        trace = logging.getLogger("celery.app.trace")
        level = trace.level
        trace.setLevel(max(level, logging.WARNING))
        try:
            with override_settings(**mail), transaction.atomic():
                demo = accounts_demo.seed()
                payments_demo.seed(demo)
                invoices_demo.seed(demo)
                po_demo.seed(demo)
                support_demo.seed(demo)
                accounts_demo.seed_invitation(demo)
        finally:
            trace.setLevel(level)
        sent = Notification.objects.filter(sent_at__isnull=False).count() - sent_before
        if mail_dir is not None:
            self.stdout.write(f"{sent} e-mails of the demo data were written to {mail_dir}/ (not printed here).")
        self.stdout.write(self.style.SUCCESS("Demo data is ready. Sign in at /sign-in/ with:"))
        for key, (email, name, language) in {**accounts_demo.PERSONAS, **support_demo.PERSONAS}.items():
            self.stdout.write(f"  {email:<45} {name:<18} {language}  ({key})")
        self.stdout.write(f"Password for every demo user: {accounts_demo.DEMO_PASSWORD}")
        self.stdout.write(
            f"{accounts_demo.PERSONAS['support'][0]} signs in with two factors: the first sign-in sets up an "
            "authenticator app (docs/operations.md, Two-factor sign-in)."
        )
