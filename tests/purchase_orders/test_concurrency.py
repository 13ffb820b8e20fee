"""Concurrent saves against PostgreSQL: row locks plus versions let exactly one of two
editors who read the same version win; the other is told about the conflict."""

import datetime as dt
import threading

import pytest
from django.db import connection

from billing_portal.errors import Conflict
from purchase_orders import services
from purchase_orders.models import NumberChange, PeriodPONumber

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(calls):
    barrier = threading.Barrier(len(calls))
    outcomes = []

    def run(call):
        try:
            barrier.wait()
            call()
            outcomes.append("saved")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(outcomes)


def test_po_two_editors_of_one_profile_po_one_wins(demo):
    profile = demo.profiles["woodgrove_nl"]
    calls = [
        lambda: services.profile_po_number_set(
            profile=profile, po_number="OWNER", actor=demo.users["ca_owner"], version=1
        ),
        lambda: services.profile_po_number_set(
            profile=profile, po_number="CONTRIB", actor=demo.users["ca_ba_contributor"], version=1
        ),
    ]
    assert _race(calls) == ["conflict", "saved"]
    profile.refresh_from_db()
    assert profile.version == 2 and NumberChange.objects.count() == 1


def test_po_two_first_edits_of_an_enterprise_period_one_wins(demo):
    profile = demo.profiles["northwind"]
    period = dt.date(2026, 1, 1)
    calls = [
        lambda: services.period_po_number_set(
            profile=profile, period=period, po_number="A", actor=demo.users["ea_admin"], version=0
        ),
        lambda: services.period_po_number_set(
            profile=profile, period=period, po_number="B", actor=demo.users["ea_admin"], version=0
        ),
    ]
    assert _race(calls) == ["conflict", "saved"]
    assert PeriodPONumber.objects.get().version == 1
