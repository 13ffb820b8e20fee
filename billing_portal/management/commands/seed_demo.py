from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts import demo as accounts_demo
from invoices import demo as invoices_demo
from payments import demo as payments_demo
from purchase_orders import demo as po_demo
from support import demo as support_demo


class Command(BaseCommand):
    help = "Create demo personas and data for every role and agreement type (idempotent; refused in production)."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("seed_demo refuses to run in production mode (PORTAL_MODE=production).")
        with transaction.atomic():
            demo = accounts_demo.seed()
            payments_demo.seed(demo)
            invoices_demo.seed(demo)
            po_demo.seed(demo)
            support_demo.seed(demo)
            accounts_demo.seed_invitation(demo)
        self.stdout.write(self.style.SUCCESS("Demo data is ready. Sign in at /sign-in/ with:"))
        for key, (email, name, language) in {**accounts_demo.PERSONAS, **support_demo.PERSONAS}.items():
            self.stdout.write(f"  {email:<45} {name:<18} {language}  ({key})")
        self.stdout.write(f"Password for every demo user: {accounts_demo.DEMO_PASSWORD}")
        self.stdout.write(
            f"{accounts_demo.PERSONAS['support'][0]} signs in with two factors: the first sign-in sets up an "
            "authenticator app (docs/operations.md, Two-factor sign-in)."
        )
