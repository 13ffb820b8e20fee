"""Demo data of the invoices app, added by ``manage.py seed_demo`` (idempotent).

Three closed months of usage charges for every demo subscription, invoiced by the
real billing run. The oldest month is paid, the middle month is paid except
Fabrikam's invoice (past due), the last month's invoices are due (Woodgrove Nederland's
after a declined automatic charge, payments.demo). The earlier months were notified on
their invoice dates, so their PO edit windows are closed.
"""

import datetime as dt
import hashlib
from decimal import Decimal

from billing_portal import clock

from . import services
from .models import Invoice, InvoiceStatus

METERS = [
    ("Virtual Machines", "D2s v5 (hours)", Decimal("0.096")),
    ("Storage", "LRS data stored (GB-month)", Decimal("0.0184")),
    ("Bandwidth", "Data transfer out (GB)", Decimal("0.087")),
]
MARKETPLACE = ("Bulk Mail Relay", "Messages (1,000)", Decimal("0.85"))


def _quantity(*parts) -> Decimal:
    digest = int(hashlib.sha256("/".join(parts).encode()).hexdigest()[:6], 16)
    return Decimal(100 + digest % 700)


def _periods() -> list[dt.date]:
    current = clock.month_start(clock.today())
    p1 = clock.previous_month(current)
    p2 = clock.previous_month(p1)
    p3 = clock.previous_month(p2)
    return [p3, p2, p1]


def seed(demo) -> None:
    periods = _periods()
    rows = []
    for key, subscription in demo.subscriptions.items():
        for period in periods:
            label = f"{period:%Y-%m}"
            meters = list(METERS) + ([MARKETPLACE] if key == "contoso_campaigns" else [])
            for service, meter, price in meters:
                rows.append(
                    {
                        "subscription_id": str(subscription.subscription_id),
                        "period": label,
                        "service_name": service,
                        "meter": meter,
                        "quantity": str(_quantity(key, label, meter)),
                        "unit_price": str(price),
                        "currency": subscription.account.currency,
                        "is_marketplace": "true" if (service, meter, price) == MARKETPLACE else "false",
                        "record_id": f"demo:{key}:{label}:{meter}",
                    }
                )
    # Charges of periods already invoiced are refused (and reported); the rest is added once.
    services.charge_import(rows=rows, actor=None, source="demo")
    today = clock.today()
    issue_dates = [clock.next_month(periods[0]), clock.next_month(periods[1]), today]
    for period, issue_date in zip(periods, issue_dates, strict=True):
        # Processed here (not queued) so that the invoices exist inside seed_demo's transaction.
        run = services.billing_run_start(period=period, issue_date=issue_date, enqueue=False)
        for chunk_id in run.chunks.filter(done=False).values_list("pk", flat=True):
            services.billing_chunk_process(chunk_id=chunk_id)
    # The earlier months' invoice e-mails went out on their invoice dates, so their PO
    # edit windows have closed (PO-7: only a support request changes them now); the
    # latest month's invoices are notified as the seeding commits (window open).
    for period, issue_date in zip(periods[:2], issue_dates[:2], strict=True):
        Invoice.objects.filter(period=period, notified_at__isnull=True).update(
            notified_at=dt.datetime.combine(issue_date, dt.time(9), tzinfo=dt.UTC)
        )
    fabrikam = demo.profiles["fabrikam"].pk
    to_pay = Invoice.objects.filter(period__in=periods[:2], status__in=[InvoiceStatus.DUE, InvoiceStatus.PAST_DUE])
    for invoice in to_pay.exclude(period=periods[1], profile_id=fabrikam):
        services.invoice_record_payment(
            invoice=invoice,
            amount=invoice.amount_due,
            paid_at=dt.datetime.combine(invoice.due_date, dt.time(10), tzinfo=dt.UTC),
        )
    services.invoices_mark_past_due()
