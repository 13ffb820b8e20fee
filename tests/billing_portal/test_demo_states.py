"""The demo data shows every state a user should be able to try: a closed PO edit window
(PO-7), a due invoice the invoice manager can pay (after a declined automatic charge),
and customer VAT IDs that are not the seller's."""

import io

import pytest
from django.conf import settings
from django.core.management import call_command

from accounts import permissions
from accounts.models import BillingAccount, User
from invoices.models import Invoice
from payments.models import Payment
from purchase_orders.windows import edit_window

pytestmark = pytest.mark.django_db(transaction=True)  # notifications go out as the seeding commits


def test_po_7_pm_vat_demo_shows_every_state():
    """One seeding (about 30 s) for the three states."""
    call_command("seed_demo", stdout=io.StringIO())
    _closed_and_open_po_window()
    _due_invoice_for_the_invoice_manager()
    _no_customer_with_the_sellers_vat_id()


def _closed_and_open_po_window():
    invoices = Invoice.objects.filter(account__agreement_type="enterprise").select_related("account").order_by("period")
    states = [edit_window(invoice=i, time_zone=i.account.time_zone).is_open for i in invoices]
    assert states[0] is False and states[-1] is True, states


def _due_invoice_for_the_invoice_manager():
    manager = User.objects.get(email="ca.invoices@woodgrove.example")
    due = Invoice.objects.filter(profile__name="Woodgrove Nederland", status="due").select_related("profile")
    assert due.count() == 1
    invoice = due.get()
    assert permissions.can_pay_invoices(manager, invoice.profile)
    assert Payment.objects.filter(invoice=invoice, kind="card", status="failed").exists()
    # ... and a second card that works is on file.
    assert invoice.profile.payment_methods.filter(removed_at__isnull=True).count() == 2


def _no_customer_with_the_sellers_vat_id():
    seller = settings.PORTAL_SELLER["vat_id"]
    assert not BillingAccount.objects.filter(vat_id=seller).exists()
