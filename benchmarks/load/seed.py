"""Data for the load test: the demo (``manage.py seed_demo``) plus one web-direct
account per simulated user, made the way the portal makes them: the account through the
accounts service, a card through the sandbox gateway's card-entry flow, usage charges for
the last ``periods`` closed months invoiced by the real billing run (one invoice per month, three
lines). The oldest ``paid`` invoices are recorded as paid; the rest stay due (past due)
for Pay now, so that every simulated user pays invoices of its own and no two payments
meet on one invoice. ``pdfs`` paid invoices per user get their PDF rendered and stored,
as the PDF worker does after issuing.

Seeded with task publishing on (benchmarks.billing._publishing): the after-issue PDF,
e-mail and charge messages go to the broker and are purged, so nothing is charged
automatically and nothing is rendered but the PDFs asked for."""

import datetime as dt
import io
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.core.management import call_command

from accounts import services as account_services
from accounts.models import Subscription, User
from accounts.roles import Role
from billing_portal import clock
from invoices import services as invoice_services
from invoices.models import Charge, Invoice, InvoiceStatus
from payments.demo import add_card

PASSWORD = "load-test-2026"  # noqa: S105 - throw-away users of the load-test database
LINES = (
    ("Virtual Machines", "D2s v5 (hours)", Decimal("720"), Decimal("0.096")),
    ("Storage", "LRS data stored (GB-month)", Decimal("123.5"), Decimal("0.0184")),
    ("Bandwidth", "Data transfer out (GB)", Decimal("310"), Decimal("0.087")),
)


def email(i: int) -> str:
    return f"load.user{i:03d}@load.example"


def _periods(count: int) -> list[dt.date]:
    """The ``count`` closed months up to the last one, oldest first."""
    periods, period = [], clock.month_start(clock.today())
    for _ in range(count):
        period = clock.previous_month(period)
        periods.append(period)
    return periods[::-1]


def _users_and_cards(users: int) -> list[dict]:
    """One user, web-direct account (card, NL business), subscription and sandbox card each."""
    password = make_password(PASSWORD)  # hashed once: the same hash for every load user
    people = User.objects.bulk_create(
        [User(email=email(i), full_name=f"Load User {i}", language="en", password=password) for i in range(users)]
    )
    entries = []
    for i, user in enumerate(people):
        account = account_services.billing_account_create(
            signed_up_by=user,
            name=f"Load Test {i:03d}",
            agreement_type="web_direct",
            kind="business",
            company_name=f"Load Test {i:03d} B.V.",
            vat_id="NL853746333B01",
            address_line1="Damrak 1",
            postal_code="1012 LG",
            city="Amsterdam",
            country="NL",
            currency="EUR",
            payment_mode="card",
            language="en",
        )
        account_services.role_assign(user=user, role=Role.ACCOUNT_ADMIN, account=account)
        profile = account_services.default_profile(account)
        subscription = Subscription.objects.create(account=account, profile=profile, name=f"Load {i:03d} Production")
        setup = add_card(
            actor=user, profile=profile, subscription=subscription, number="4242424242424242", holder=user.full_name
        )
        entries.append({"user": user, "profile": profile, "subscription": subscription, "card": setup.payment_method})
    return entries


def _invoice(entries: list[dict], periods: list[dt.date]) -> None:
    Charge.objects.bulk_create(
        [
            Charge(
                subscription=e["subscription"],
                profile=e["profile"],
                period=period,
                service_name=service,
                meter=meter,
                quantity=quantity,
                unit_price=price,
                amount=(quantity * price).quantize(Decimal("0.01")),
                currency="EUR",
                source="load-test",
            )
            for e in entries
            for period in periods
            for service, meter, quantity, price in LINES
        ],
        batch_size=5000,
    )
    for period in periods:
        run = invoice_services.billing_run_start(period=period, issue_date=clock.next_month(period), enqueue=False)
        for chunk_id in run.chunks.filter(done=False).values_list("pk", flat=True):
            invoice_services.billing_chunk_process(chunk_id=chunk_id)


def seed(users: int, periods: int, paid: int, pdfs: int) -> list[dict]:
    """Seed everything; returns the plan of the simulated users (JSON-ready): e-mail,
    password, card, every invoice, the invoices with a stored PDF, the invoices to pay."""
    if not 0 <= pdfs <= paid < periods:
        raise ValueError("need 0 <= pdfs <= paid < periods")
    call_command("seed_demo", stdout=io.StringIO())
    entries = _users_and_cards(users)
    _invoice(entries, _periods(periods))
    plan = []
    for e in entries:
        invoices = list(Invoice.objects.filter(profile=e["profile"]).order_by("period"))
        if len(invoices) != periods:
            raise RuntimeError(f"{e['user'].email}: {len(invoices)} invoices, expected {periods}")
        for invoice in invoices[:paid]:
            invoice_services.invoice_record_payment(
                invoice=invoice,
                amount=invoice.amount_due,
                paid_at=dt.datetime.combine(invoice.due_date, dt.time(10), tzinfo=dt.UTC),
            )
        with_pdf = invoices[paid - pdfs : paid]
        for invoice in with_pdf:
            invoice_services.invoice_revision_render_pdf(revision_id=invoice.current_revision_id)
        plan.append(
            {
                "email": e["user"].email,
                "password": PASSWORD,
                "card": e["card"].pk,
                "invoices": [i.pk for i in invoices],
                "pdf": [i.pk for i in with_pdf],
                "due": [i.pk for i in invoices[paid:]],
            }
        )
    invoice_services.invoices_mark_past_due()
    due = Invoice.objects.filter(pk__in=[pk for p in plan for pk in p["due"]])
    if due.exclude(status__in=[InvoiceStatus.DUE, InvoiceStatus.PAST_DUE]).exists():
        raise RuntimeError("an invoice to pay is not due")
    return plan
