import datetime as dt
from decimal import Decimal

import pytest

from billing_portal.money import quantize
from invoices import services
from invoices.models import Charge


@pytest.fixture
def add_charge():
    def make(
        subscription,
        period=dt.date(2026, 1, 1),
        quantity="1",
        unit_price="10.00",
        service="Virtual Machines",
        meter="D2s v5 hours",
        marketplace=False,
        currency=None,
    ):
        quantity, unit_price = Decimal(quantity), Decimal(unit_price)
        currency = currency or subscription.account.currency
        return Charge.objects.create(
            subscription=subscription,
            profile=subscription.profile,
            period=period,
            service_name=service,
            meter=meter,
            quantity=quantity,
            unit_price=unit_price,
            amount=quantize(quantity * unit_price, currency),
            currency=currency,
            is_marketplace=marketplace,
            source="test",
        )

    return make


@pytest.fixture
def run_billing(django_capture_on_commit_callbacks, clock):
    """Run a period's billing (eager tasks, on-commit work executed)."""

    def run(period=dt.date(2026, 1, 1), today=dt.datetime(2026, 2, 1, 6, 0)):
        clock.set(today)
        with django_capture_on_commit_callbacks(execute=True):
            return services.billing_run_start(period=period)

    return run
