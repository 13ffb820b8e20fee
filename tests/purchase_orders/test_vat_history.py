"""VAT-1: every door that changes an account's VAT ID records the change in the PO/VAT
history, through ``accounts.hooks.vat_number_changed`` (registered by purchase_orders)."""

import pytest
from django.urls import reverse

from accounts import hooks as account_hooks
from accounts import services as account_services
from accounts.models import BillingAccount
from billing_portal.errors import NotAllowed
from purchase_orders import services
from purchase_orders.models import ChangedField, NumberChange

pytestmark = pytest.mark.django_db

OLD, NEW = "NL820646660B01", "NL004495445B01"


def _profile_form(account, **changes):
    data = {
        name: getattr(account, name) for name in account_services.PROFILE_FIELDS if name not in ("country", "vat_id")
    }
    data.update(country=account.country.code, vat_id=account.vat_id, version=account.version)
    data.update(changes)
    return data


def _profile_page(demo, client_for, api_for, account, user):
    url = reverse("accounts:profile", args=[account.pk])
    return client_for(user).post(url, _profile_form(account, vat_id=NEW)).status_code


def _vat_page(demo, client_for, api_for, account, user):
    url = reverse("purchase_orders:vat_number", args=[account.pk])
    return client_for(user).post(url, {"vat_id": NEW, "version": account.version}).status_code


def _profile_api(demo, client_for, api_for, account, user):
    url = f"/api/v1/billing-accounts/{account.pk}/"
    return api_for(user).patch(url, {"vat_id": NEW, "version": account.version}, format="json").status_code


def _vat_api(demo, client_for, api_for, account, user):
    url = f"/api/v1/billing-accounts/{account.pk}/vat-number/"
    return api_for(user).put(url, {"vat_id": NEW, "version": account.version}, format="json").status_code


DOORS = {"profile page": _profile_page, "VAT page": _vat_page, "profile API": _profile_api, "VAT API": _vat_api}


@pytest.mark.parametrize("door", DOORS)
def test_vat_1_every_door_records_the_change(demo, client_for, api_for, door):
    account = demo.accounts["woodgrove"]
    user = demo.users["ca_owner"]
    assert account.vat_id == OLD
    status = DOORS[door](demo, client_for, api_for, account, user)
    assert status in (200, 302), door
    assert BillingAccount.objects.get(pk=account.pk).vat_id == NEW
    change = NumberChange.objects.get(field=ChangedField.VAT_ID)
    assert (change.account, change.old_value, change.new_value, change.changed_by) == (account, OLD, NEW, user)
    assert change.profile is None and change.invoice is None


@pytest.mark.parametrize("door", DOORS)
def test_vat_1_no_history_when_the_vat_id_stays(demo, client_for, api_for, door):
    account = demo.accounts["woodgrove"]
    account.vat_id = NEW
    account.save(update_fields=["vat_id"])
    assert DOORS[door](demo, client_for, api_for, account, demo.users["ca_owner"]) in (200, 302), door
    assert not NumberChange.objects.exists()


@pytest.mark.parametrize("door", DOORS)
def test_vat_1_a_reader_changes_nothing_through_any_door(demo, client_for, api_for, door):
    account = demo.accounts["woodgrove"]
    assert DOORS[door](demo, client_for, api_for, account, demo.users["ca_ba_reader"]) == 403, door
    assert BillingAccount.objects.get(pk=account.pk).vat_id == OLD
    assert not NumberChange.objects.exists()


def test_the_history_recorder_is_registered_on_the_accounts_hook():
    assert services.record_vat_change in account_hooks.vat_number_changed.receivers


def test_purchase_orders_vat_number_set_is_the_accounts_service():
    assert services.vat_number_set is account_services.billing_account_vat_id_set


def test_a_failing_receiver_rolls_the_vat_change_back(demo):
    account = demo.accounts["woodgrove"]

    def broken(**kwargs):
        raise RuntimeError("receiver failed")

    account_hooks.vat_number_changed.register(broken)
    try:
        with pytest.raises(RuntimeError):
            account_services.billing_account_vat_id_set(
                account=account, vat_id=NEW, actor=demo.users["ca_owner"], version=account.version
            )
    finally:
        account_hooks.vat_number_changed.unregister(broken)
    assert BillingAccount.objects.get(pk=account.pk).vat_id == OLD
    assert not NumberChange.objects.exists()


def test_vat_refusal_comes_before_validation(demo):
    """The role is checked first: a reader learns nothing about the number they typed."""
    account = demo.accounts["woodgrove"]
    with pytest.raises(NotAllowed) as exc:
        services.vat_number_set(account=account, vat_id="nonsense", actor=demo.users["ca_ba_reader"])
    assert exc.value.code == "vat_role_not_allowed"
