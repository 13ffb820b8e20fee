import datetime as dt

import pytest

from purchase_orders import demo as po_demo
from purchase_orders.models import AmendmentRequest, NumberChange, PeriodPONumber

from .conftest import make_invoice

pytestmark = pytest.mark.django_db


def test_demo_seed_is_idempotent(demo, clock):
    clock.set(dt.datetime(2026, 11, 15, 12, tzinfo=dt.UTC))
    make_invoice(demo.profiles["woodgrove_nl"], dt.date(2026, 9, 1))
    po_demo.seed(demo)
    po_demo.seed(demo)
    assert PeriodPONumber.objects.get().po_number == "NW-PO-202611"
    assert NumberChange.objects.count() == 2
    assert AmendmentRequest.objects.get().is_open
