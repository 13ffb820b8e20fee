"""Invoices made directly (no billing run) with the values a test needs: number, period,
total, status, due date, PO number on the current revision, lines of given subscriptions
and, when asked, a stored PDF."""

import datetime as dt
from decimal import Decimal

from django.core.files.base import ContentFile

from accounts import services as account_services
from accounts.models import BillingProfile
from invoices.models import Invoice, InvoiceLine, InvoiceRevision
from tests.factories import UserFactory, make_account, make_subscription


def make_invoice(
    profile,
    number,
    *,
    period=dt.date(2026, 1, 1),
    total="121.00",
    status="due",
    due_date=None,
    issue_date=None,
    po_number="",
    subscriptions=(),
    lines=(("Virtual Machines", "D2s v5 hours", "10", "10.00"),),
    pdf: bytes | None = None,
) -> Invoice:
    total = Decimal(total)
    issue_date = issue_date or (period.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    invoice = Invoice.objects.create(
        number=number,
        account=profile.account,
        profile=profile,
        period=period,
        issue_date=issue_date,
        due_date=due_date or issue_date,
        status=status,
        currency="EUR",
        subtotal=(total / Decimal("1.21")).quantize(Decimal("0.01")),
        tax_amount=total - (total / Decimal("1.21")).quantize(Decimal("0.01")),
        total=total,
        payment_reference=f"RF00{number[-6:]}",
    )
    revision = InvoiceRevision.objects.create(
        invoice=invoice, number=1, language="en", sold_to="Tenant B.V.", bill_to="Tenant B.V.", tax_rate=Decimal("21")
    )
    revision.po_number = po_number
    if pdf is not None:
        revision.pdf.save(f"{number}-r1.pdf", ContentFile(pdf), save=False)
    revision.save()
    invoice.current_revision = revision
    invoice.save(update_fields=["current_revision"])
    position = 0
    for subscription in subscriptions:
        for service, meter, quantity, unit_price in lines:
            position += 1
            quantity, unit_price = Decimal(quantity), Decimal(unit_price)
            InvoiceLine.objects.create(
                invoice=invoice,
                subscription=subscription,
                position=position,
                service_name=service,
                meter=meter,
                quantity=quantity,
                unit_price=unit_price,
                amount=(quantity * unit_price).quantize(Decimal("0.01")),
                tax_amount=(quantity * unit_price * Decimal("0.21")).quantize(Decimal("0.01")),
            )
    return invoice


def customer_agreement(language="en", name="Woodgrove Test"):
    """A customer agreement with two billing profiles and three subscriptions (two of the
    same name on the first profile), its owner and a profile reader of the first profile."""
    owner = UserFactory(language=language)
    account = make_account(agreement_type="customer_agreement", signed_up_by=owner, profile_name="Nederland", name=name)
    account_services.role_assign(user=owner, role="ba_owner", account=account)
    first = account.profiles.get()
    second = BillingProfile.objects.create(account=account, name="Deutschland")
    subscriptions = {
        "prod": make_subscription(account, first, name="Production"),
        "prod_twin": make_subscription(account, first, name="Production"),
        "berlin": make_subscription(account, second, name="Berlin"),
    }
    reader = UserFactory(language=language)
    account_services.role_assign(user=reader, role="bp_reader", account=account, profile=first)
    return owner, reader, account, (first, second), subscriptions
