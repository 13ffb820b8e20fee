"""Fixtures for the PO and VAT tests.

Invoices are created directly as ``Invoice`` + ``InvoiceRevision`` rows (what the
billing run would have written), so that these tests do not depend on the billing run.
"""

import datetime as dt
import itertools
from decimal import Decimal

import pytest

from invoices.models import Charge, Invoice, InvoiceRevision

_numbers = itertools.count(1)


def make_invoice(profile, period: dt.date, *, po_number=None, vat_id=None, notified_at=None, status="due"):
    from purchase_orders.selectors import po_numbers_in_force

    account = profile.account
    if po_number is None:
        po_number = po_numbers_in_force([profile], period)[profile.pk]
    issue_date = (period.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    invoice = Invoice.objects.create(
        number=f"T{period:%Y%m}-{next(_numbers):05d}",
        account=account,
        profile=profile,
        period=period,
        issue_date=issue_date,
        due_date=issue_date + dt.timedelta(days=30),
        status=status,
        currency=account.currency,
        subtotal=Decimal("100.00"),
        tax_amount=Decimal("21.00"),
        total=Decimal("121.00"),
        notified_at=notified_at,
    )
    revision = InvoiceRevision.objects.create(
        invoice=invoice,
        number=1,
        language=account.language,
        sold_to="\n".join(account.sold_to_lines),
        bill_to="\n".join(profile.bill_to_lines),
        vat_id=account.vat_id if vat_id is None else vat_id,
        po_number=po_number,
        tax_rate=Decimal("21.00"),
    )
    invoice.current_revision = revision
    invoice.save(update_fields=["current_revision"])
    return invoice


def make_charge(profile, period, subscription=None, *, service="Virtual Machines", amount="10.00"):
    subscription = subscription or profile.subscriptions.order_by("pk").first()
    return Charge.objects.create(
        subscription=subscription,
        profile=profile,
        period=period,
        service_name=service,
        meter="D2s v5",
        quantity=Decimal("1"),
        unit_price=Decimal(amount),
        amount=Decimal(amount),
        currency=profile.account.currency,
    )


@pytest.fixture
def invoice_factory():
    return make_invoice


@pytest.fixture
def charge_factory():
    return make_charge


@pytest.fixture
def other_tenant(db):
    """A user with an account of their own (every agreement type's "other tenant")."""
    from accounts import services
    from tests.factories import UserFactory, make_account

    user = UserFactory(email="outsider@elsewhere.example")
    account = make_account(agreement_type="web_direct", signed_up_by=user, payment_mode="invoice", name="Elsewhere")
    services.role_assign(user=user, role="account_admin", account=account)
    return user
