"""PO-1..PO-8 and VAT-1 at the service level, for the three agreement types."""

import datetime as dt

import pytest

from accounts import services as account_services
from billing_portal.errors import Conflict, InvalidInput, NotAllowed
from invoices.models import InvoiceRevision
from purchase_orders import selectors, services
from purchase_orders.models import ChangeSource, NumberChange, PeriodPONumber
from tests.factories import UserFactory

from .conftest import make_invoice

pytestmark = pytest.mark.django_db

OCT = dt.date(2026, 10, 1)
NOV = dt.date(2026, 11, 1)


def utc(*args):
    return dt.datetime(*args, tzinfo=dt.UTC)


@pytest.fixture
def northwind(demo):
    return demo.profiles["northwind"]


# --- PO-1 / PO-3: web direct ----------------------------------------------------------------------


def test_po_1_web_direct_card_paying_account_is_refused_with_a_reason(demo):
    profile = demo.profiles["contoso"]
    with pytest.raises(NotAllowed) as exc:
        services.profile_po_number_set(profile=profile, po_number="PO-1", actor=demo.users["wd_admin"], version=1)
    assert exc.value.code == "pay_by_invoice_required"
    profile.refresh_from_db()
    assert profile.po_number == "" and not NumberChange.objects.exists()


def test_po_3_web_direct_invoice_paying_account_admin_sets_po_for_next_invoice(demo):
    profile = demo.profiles["fabrikam"]
    profile.refresh_from_db()
    services.profile_po_number_set(
        profile=profile, po_number="  PO-FAB-2026-002 ", actor=demo.users["wd_invoice_admin"], version=profile.version
    )
    profile.refresh_from_db()
    assert profile.po_number == "PO-FAB-2026-002"
    change = NumberChange.objects.get()
    assert (change.field, change.old_value, change.new_value) == ("po_number", "PO-FAB-2026-001", "PO-FAB-2026-002")
    assert change.changed_by == demo.users["wd_invoice_admin"] and change.invoice is None
    assert selectors.po_numbers_in_force([profile], NOV)[profile.pk] == "PO-FAB-2026-002"


# --- PO-2: who may edit ----------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["ca_owner", "ca_ba_contributor", "ca_bp_contributor"])
def test_po_2_customer_agreement_editors_set_the_profile_po(demo, key):
    profile = demo.profiles["woodgrove_nl"]
    services.profile_po_number_set(
        profile=profile, po_number=f"PO-{key}", actor=demo.users[key], version=profile.version
    )
    profile.refresh_from_db()
    assert profile.po_number == f"PO-{key}"


def test_po_2_billing_profile_owner_edits_their_own_profile(demo):
    profile = demo.profiles["woodgrove_de"]
    services.profile_po_number_set(
        profile=profile, po_number="PO-DE", actor=demo.users["ca_bp_owner"], version=profile.version
    )
    profile.refresh_from_db()
    assert profile.po_number == "PO-DE"


@pytest.mark.parametrize("key", ["ca_ba_reader", "ca_bp_reader", "ca_invoice_manager", "ca_bp_owner", "support"])
def test_po_2_customer_agreement_other_roles_are_refused(demo, key):
    profile = demo.profiles["woodgrove_nl"]  # ca_bp_owner owns Deutschland, not Nederland
    with pytest.raises(NotAllowed):
        services.profile_po_number_set(profile=profile, po_number="X", actor=demo.users[key], version=profile.version)
    profile.refresh_from_db()
    assert profile.po_number == ""


@pytest.mark.parametrize("key", ["ea_readonly", "partner_admin", "support", "wd_admin"])
def test_po_2_enterprise_direct_only_the_ea_admin_edits(demo, northwind, key, clock):
    clock.set(utc(2026, 11, 15, 12))
    with pytest.raises(NotAllowed):
        services.period_po_number_set(profile=northwind, period=NOV, po_number="X", actor=demo.users[key], version=0)
    assert not PeriodPONumber.objects.exists()


def test_po_2_enterprise_indirect_partner_admin_edits_and_an_ea_admin_role_does_not(demo, clock):
    clock.set(utc(2026, 11, 15, 12))
    tailspin = demo.profiles["tailspin"]
    ea_admin_on_indirect = UserFactory()
    account_services.role_assign(user=ea_admin_on_indirect, role="ea_admin", account=tailspin.account)
    with pytest.raises(NotAllowed):
        services.period_po_number_set(
            profile=tailspin, period=NOV, po_number="X", actor=ea_admin_on_indirect, version=0
        )
    with pytest.raises(NotAllowed):
        services.period_po_number_set(
            profile=tailspin, period=NOV, po_number="X", actor=demo.users["ea_readonly"], version=0
        )
    services.period_po_number_set(
        profile=tailspin, period=NOV, po_number="TT-77", actor=demo.users["partner_admin"], version=0
    )
    assert selectors.period_state(tailspin, NOV).po_number == "TT-77"


# --- PO-4 / PO-6: enterprise period PO and its default -------------------------------------------------


def test_po_6_enterprise_default_po_is_the_enrollment_number(demo, northwind, clock):
    clock.set(utc(2026, 11, 15, 12))
    state = selectors.period_state(northwind, NOV)
    assert state.is_default and state.po_number == "87654321" and state.version == 0
    invoice = make_invoice(northwind, OCT)
    assert invoice.current_revision.po_number == "87654321"


def test_po_4_enterprise_ea_admin_sets_period_po_and_clearing_restores_the_default(demo, northwind, clock):
    clock.set(utc(2026, 11, 15, 12))
    admin = demo.users["ea_admin"]
    row = services.period_po_number_set(profile=northwind, period=NOV, po_number="NW-NOV", actor=admin, version=0)
    assert row.version == 1
    assert selectors.po_numbers_in_force([northwind], NOV)[northwind.pk] == "NW-NOV"
    services.period_po_number_set(profile=northwind, period=NOV, po_number="", actor=admin, version=1)
    state = selectors.period_state(northwind, NOV)
    assert state.is_default and state.po_number == "87654321" and state.version == 2
    history = list(NumberChange.objects.order_by("changed_at", "id").values_list("old_value", "new_value", "period"))
    assert history == [("87654321", "NW-NOV", NOV), ("NW-NOV", "87654321", NOV)]


def test_po_4_future_periods_and_bad_periods_are_refused(demo, northwind, clock):
    clock.set(utc(2026, 11, 15, 12))
    with pytest.raises(InvalidInput) as exc:
        services.period_po_number_set(
            profile=northwind, period=dt.date(2026, 12, 1), po_number="X", actor=demo.users["ea_admin"], version=0
        )
    assert exc.value.code == "period_in_future"
    with pytest.raises(InvalidInput):
        services.period_po_number_set(
            profile=northwind, period=dt.date(2026, 11, 5), po_number="X", actor=demo.users["ea_admin"], version=0
        )


def test_po_4_enterprise_profile_po_goes_through_periods(demo, northwind):
    with pytest.raises(InvalidInput) as exc:
        services.profile_po_number_set(profile=northwind, po_number="X", actor=demo.users["ea_admin"], version=1)
    assert exc.value.code == "po_per_period"


# --- PO-7: the enterprise edit window -----------------------------------------------------------------


def test_po_7_window_open_before_the_invoice_is_generated(demo, northwind, clock):
    clock.set(utc(2026, 11, 20, 12))  # October still has no invoice
    services.period_po_number_set(
        profile=northwind, period=OCT, po_number="NW-OCT", actor=demo.users["ea_admin"], version=0
    )
    invoice = make_invoice(northwind, OCT)  # the billing run takes the PO in force
    assert invoice.current_revision.po_number == "NW-OCT"
    assert NumberChange.objects.get().invoice is None


def test_po_7_window_open_on_day_7_after_the_notification_issues_a_new_revision(demo, northwind, clock):
    # Notification at 10:00 Amsterdam on 2 Nov (day 0); day 7 is 9 Nov, local time.
    invoice = make_invoice(northwind, OCT, notified_at=utc(2026, 11, 2, 9))
    clock.set(utc(2026, 11, 9, 22, 59))  # 23:59 on 9 Nov in Amsterdam
    services.period_po_number_set(
        profile=northwind, period=OCT, po_number="NW-LATE", actor=demo.users["ea_admin"], version=0
    )
    invoice.refresh_from_db()
    revisions = list(InvoiceRevision.objects.filter(invoice=invoice).order_by("number"))
    assert [r.number for r in revisions] == [1, 2]
    assert revisions[0].po_number == "87654321"  # the earlier revision stays readable
    assert revisions[1].po_number == "NW-LATE" and invoice.current_revision == revisions[1]
    change = NumberChange.objects.get()
    assert change.invoice == invoice and change.source == ChangeSource.WINDOW_AMENDMENT
    assert (change.old_value, change.new_value) == ("87654321", "NW-LATE")


def test_po_7_window_closed_on_day_8_snapshot_unchanged(demo, northwind, clock):
    invoice = make_invoice(northwind, OCT, notified_at=utc(2026, 11, 2, 9))
    clock.set(utc(2026, 11, 9, 23, 0))  # 00:00 on 10 Nov in Amsterdam: day 8
    with pytest.raises(NotAllowed) as exc:
        services.period_po_number_set(
            profile=northwind, period=OCT, po_number="NW-TOO-LATE", actor=demo.users["ea_admin"], version=0
        )
    assert exc.value.code == "po_window_closed"
    assert InvoiceRevision.objects.filter(invoice=invoice).count() == 1
    invoice.refresh_from_db()
    assert invoice.current_revision.po_number == "87654321"
    assert not PeriodPONumber.objects.exists() and not NumberChange.objects.exists()


def test_po_7_days_are_counted_in_the_accounts_time_zone(demo, northwind, clock):
    # 23:30 UTC on 1 Nov is already 2 Nov in Amsterdam: day 0 is 2 Nov, day 7 is 9 Nov.
    invoice = make_invoice(northwind, OCT, notified_at=utc(2026, 11, 1, 23, 30))
    window = selectors.period_state(northwind, OCT).window
    assert window.last_day == dt.date(2026, 11, 9)
    assert window.closes_at == utc(2026, 11, 9, 23)  # midnight Amsterdam (CET, UTC+1)
    clock.set(utc(2026, 11, 9, 22, 30))
    assert selectors.period_state(northwind, OCT).window.is_open
    clock.set(utc(2026, 11, 9, 23, 0))
    assert not selectors.period_state(northwind, OCT).window.is_open
    assert invoice.pk


def test_po_7_generated_but_not_yet_notified_is_still_open_and_amends(demo, northwind, clock):
    invoice = make_invoice(northwind, OCT, notified_at=None)
    clock.set(utc(2026, 11, 30, 12))
    services.period_po_number_set(
        profile=northwind, period=OCT, po_number="NW-X", actor=demo.users["ea_admin"], version=0
    )
    invoice.refresh_from_db()
    assert invoice.current_revision.number == 2 and invoice.current_revision.po_number == "NW-X"


# --- PO-5 / PO-8: next invoice only; issued invoices keep their snapshot --------------------------------------


def test_po_8_web_direct_issued_invoice_keeps_its_po_after_a_change(demo):
    profile = demo.profiles["fabrikam"]
    profile.refresh_from_db()
    invoice = make_invoice(profile, OCT)
    assert invoice.current_revision.po_number == "PO-FAB-2026-001"
    services.profile_po_number_set(
        profile=profile, po_number="PO-NEW", actor=demo.users["wd_invoice_admin"], version=profile.version
    )
    invoice.refresh_from_db()
    assert invoice.current_revision.po_number == "PO-FAB-2026-001"
    assert invoice.revisions.count() == 1
    assert selectors.po_numbers_in_force([profile], NOV)[profile.pk] == "PO-NEW"


def test_po_8_customer_agreement_issued_invoice_keeps_its_po_after_a_change(demo):
    profile = demo.profiles["woodgrove_nl"]
    services.profile_po_number_set(
        profile=profile, po_number="WG-1", actor=demo.users["ca_owner"], version=profile.version
    )
    invoice = make_invoice(profile, OCT)
    services.profile_po_number_set(
        profile=profile, po_number="WG-2", actor=demo.users["ca_owner"], version=profile.version
    )
    invoice.refresh_from_db()
    assert invoice.current_revision.po_number == "WG-1" and invoice.revisions.count() == 1


def test_po_5_vat_change_applies_to_the_next_invoice_only(demo):
    account = demo.accounts["woodgrove"]
    invoice = make_invoice(demo.profiles["woodgrove_nl"], OCT)
    services.vat_number_set(
        account=account, vat_id="NL004495445B01", actor=demo.users["ca_owner"], version=account.version
    )
    invoice.refresh_from_db()
    assert invoice.current_revision.vat_id == "NL820646660B01"
    account.refresh_from_db()
    assert account.vat_id == "NL004495445B01"


# --- Input rules and concurrency ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, code",
    [("X" * 51, "po_too_long"), ("PO\x00123", "po_invalid_characters"), ("PO\n123", "po_invalid_characters")],
)
def test_po_input_bad_values_change_nothing(demo, value, code):
    profile = demo.profiles["woodgrove_nl"]
    with pytest.raises(InvalidInput) as exc:
        services.profile_po_number_set(
            profile=profile, po_number=value, actor=demo.users["ca_owner"], version=profile.version
        )
    assert exc.value.code == code and "po_number" in exc.value.fields
    profile.refresh_from_db()
    assert profile.po_number == "" and profile.version == 1 and not NumberChange.objects.exists()


def test_po_input_is_trimmed_and_50_characters_are_accepted(demo):
    profile = demo.profiles["woodgrove_nl"]
    services.profile_po_number_set(
        profile=profile, po_number=f"  {'Ä' * 50}  ", actor=demo.users["ca_owner"], version=1
    )
    profile.refresh_from_db()
    assert profile.po_number == "Ä" * 50


def test_po_input_messages_are_in_dutch(demo):
    from django.utils import translation

    profile = demo.profiles["woodgrove_nl"]
    with translation.override("nl"), pytest.raises(InvalidInput) as exc:
        services.profile_po_number_set(profile=profile, po_number="X" * 60, actor=demo.users["ca_owner"], version=1)
    assert "maximaal 50 tekens" in str(exc.value.message)


def test_po_concurrent_stale_save_does_not_overwrite_an_unseen_edit(demo):
    profile = demo.profiles["woodgrove_nl"]
    seen = profile.version
    services.profile_po_number_set(profile=profile, po_number="FIRST", actor=demo.users["ca_owner"], version=seen)
    with pytest.raises(Conflict) as exc:
        services.profile_po_number_set(
            profile=profile, po_number="SECOND", actor=demo.users["ca_ba_contributor"], version=seen
        )
    assert exc.value.code == "stale_version" and "FIRST" in str(exc.value.message)
    profile.refresh_from_db()
    assert profile.po_number == "FIRST" and NumberChange.objects.count() == 1


def test_po_concurrent_stale_period_save_is_refused(demo, northwind, clock):
    clock.set(utc(2026, 11, 15, 12))
    services.period_po_number_set(profile=northwind, period=NOV, po_number="A", actor=demo.users["ea_admin"], version=0)
    with pytest.raises(Conflict):
        services.period_po_number_set(
            profile=northwind, period=NOV, po_number="B", actor=demo.users["ea_admin"], version=0
        )
    assert selectors.period_state(northwind, NOV).po_number == "A"


# --- VAT-1 ------------------------------------------------------------------------------------------------


def test_vat_1_validated_for_the_country_and_recorded(demo):
    account = demo.accounts["fabrikam"]  # Belgium
    with pytest.raises(InvalidInput) as exc:
        services.vat_number_set(
            account=account, vat_id="BE0403019262", actor=demo.users["wd_invoice_admin"], version=account.version
        )
    assert exc.value.code == "vat_invalid"
    with pytest.raises(InvalidInput):  # a valid Dutch number is not a Belgian one
        services.vat_number_set(
            account=account, vat_id="NL004495445B01", actor=demo.users["wd_invoice_admin"], version=account.version
        )
    services.vat_number_set(
        account=account, vat_id="be 0477.472.701", actor=demo.users["wd_invoice_admin"], version=account.version
    )
    account.refresh_from_db()
    assert account.vat_id == "BE0477472701"
    change = NumberChange.objects.get()
    assert (change.field, change.old_value, change.new_value, change.changed_by) == (
        "vat_id",
        "BE0403019261",
        "BE0477472701",
        demo.users["wd_invoice_admin"],
    )


@pytest.mark.parametrize("key", ["ea_readonly", "ea_admin"])
def test_vat_1_enterprise(demo, key):
    account = demo.accounts["northwind"]
    if key == "ea_readonly":
        with pytest.raises(NotAllowed):
            services.vat_number_set(
                account=account, vat_id="NL810433941B01", actor=demo.users[key], version=account.version
            )
    else:
        services.vat_number_set(
            account=account, vat_id="NL810433941B01", actor=demo.users[key], version=account.version
        )
        account.refresh_from_db()
        assert account.vat_id == "NL810433941B01"


@pytest.mark.parametrize("key", ["ca_ba_reader", "ca_bp_owner", "ca_bp_contributor", "ca_invoice_manager"])
def test_vat_1_customer_agreement_only_account_owner_and_contributor(demo, key):
    account = demo.accounts["woodgrove"]
    with pytest.raises(NotAllowed):
        services.vat_number_set(
            account=account, vat_id="NL004495445B01", actor=demo.users[key], version=account.version
        )
    account.refresh_from_db()
    assert account.vat_id == "NL820646660B01"


def test_vat_1_stale_version_is_refused(demo):
    account = demo.accounts["woodgrove"]
    seen = account.version
    services.vat_number_set(account=account, vat_id="NL004495445B01", actor=demo.users["ca_owner"], version=seen)
    with pytest.raises(Conflict):
        services.vat_number_set(
            account=account, vat_id="NL853746333B01", actor=demo.users["ca_ba_contributor"], version=seen
        )
