"""Invoice PDF render time in a warm process, against a bare one-line WeasyPrint render."""

import datetime as dt
import statistics
import time
from decimal import Decimal

from accounts import services as account_services
from accounts.models import Subscription
from benchmarks.results import at_most, info
from invoices import pdf
from invoices.models import Invoice, InvoiceLine, InvoiceRevision


def _invoice():
    account = account_services.billing_account_create(
        name="PDF bench",
        agreement_type="web_direct",
        kind="business",
        company_name="Bench B.V.",
        address_line1="Damrak 1",
        postal_code="1012 LG",
        city="Amsterdam",
        country="NL",
        currency="EUR",
        vat_id="NL853746333B01",
        payment_mode="invoice",
    )
    profile = account.profiles.get()
    subscription = Subscription.objects.create(account=account, profile=profile, name="Production")
    invoice = Invoice.objects.create(
        number="INV-BENCH-000001",
        account=account,
        profile=profile,
        period=dt.date(2020, 1, 1),
        issue_date=dt.date(2020, 2, 1),
        due_date=dt.date(2020, 3, 2),
        currency="EUR",
        subtotal=Decimal("112.45"),
        tax_amount=Decimal("23.61"),
        total=Decimal("136.06"),
        payment_reference="RF18539007547034",
        payment_terms="bank_transfer",
    )
    for position, (service, meter, qty, price, amount) in enumerate(
        [
            ("Virtual Machines", "D2s v5 (hours)", "720", "0.096", "69.12"),
            ("Storage", "LRS (GB-month)", "123.5", "0.0184", "2.27"),
            ("Bandwidth", "Data transfer out (GB)", "472", "0.087", "41.06"),
        ],
        1,
    ):
        InvoiceLine.objects.create(
            invoice=invoice,
            subscription=subscription,
            position=position,
            service_name=service,
            meter=meter,
            quantity=Decimal(qty),
            unit_price=Decimal(price),
            amount=Decimal(amount),
            tax_amount=Decimal("0"),
        )
    revision = InvoiceRevision.objects.create(
        invoice=invoice,
        number=1,
        language="nl",
        sold_to="Bench B.V.\nDamrak 1\n1012 LG Amsterdam\nNederland",
        bill_to="Bench B.V.\nDamrak 1\n1012 LG Amsterdam\nNederland",
        vat_id="NL853746333B01",
        po_number="PO-4711",
        tax_rate=Decimal("21"),
    )
    return revision


def _time(fn, count):
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        data = fn()
        samples.append((time.perf_counter() - started) * 1000)
        assert data.startswith(b"%PDF")
    samples.sort()
    return statistics.median(samples), samples[max(0, int(round(0.95 * len(samples))) - 1)]


def run(count: int) -> list:
    from weasyprint import HTML

    revision = _invoice()
    revision = InvoiceRevision.objects.select_related("invoice").get(pk=revision.pk)
    print(f"\n== invoice PDF, {count} renders in a warm process", flush=True)

    def bare():
        return HTML(string="<p>Invoice INV-BENCH-000001</p>").write_pdf()

    def invoice_pdf():
        return pdf.render_revision_pdf(revision)

    for _ in range(3):  # warm up both
        bare()
        invoice_pdf()
    bare_median, bare_p95 = _time(bare, count)
    median, p95 = _time(invoice_pdf, count)
    print(
        f"invoice PDF: median {median:.0f} ms, p95 {p95:.0f} ms (budget: median <= 100 ms)\n"
        f"bare one-line WeasyPrint render: median {bare_median:.0f} ms, p95 {bare_p95:.0f} ms; "
        f"ratio (median) = {median / bare_median:.1f}x",
        flush=True,
    )
    return [
        at_most("pdf.median_one_page", median, "ms", 100, ratio=median / bare_median),
        info("pdf.p95_one_page", p95, "ms", ratio=p95 / bare_median),
        info("pdf.bare_render_median", bare_median, "ms"),
    ]
