"""Selectors return only what the user may see; anything else is a 404."""

import uuid

import pytest
from django.http import Http404

from accounts import selectors

from .conftest import PERSONAS
from .test_permissions import VISIBLE_ACCOUNT, VISIBLE_PROFILE, VISIBLE_SUBSCRIPTION

pytestmark = pytest.mark.django_db


def _visible(table, persona):
    return {key for key, personas in table.items() if persona in personas}


@pytest.mark.parametrize("persona", PERSONAS)
def test_lists_hold_exactly_the_visible_objects(world, persona):
    user = world.users[persona]
    accounts = {k for k, a in world.accounts.items() if a in set(selectors.accounts_for_user(user))}
    profiles = {k for k, p in world.profiles.items() if p in set(selectors.profiles_for_user(user))}
    subscriptions = {k for k, s in world.subscriptions.items() if s in set(selectors.subscriptions_for_user(user))}
    expected_accounts = _visible(VISIBLE_ACCOUNT, persona) | ({"other"} if persona == "outsider" else set())
    assert accounts == expected_accounts
    assert profiles == _visible(VISIBLE_PROFILE, persona) | ({"other_p"} if persona == "outsider" else set())
    assert subscriptions == _visible(VISIBLE_SUBSCRIPTION, persona) | ({"other_s"} if persona == "outsider" else set())


@pytest.mark.parametrize("persona", PERSONAS)
def test_getters_404_for_what_the_user_may_not_see(world, persona):
    user = world.users[persona]
    for key, account in world.accounts.items():
        visible = persona in VISIBLE_ACCOUNT.get(key, set()) or (key == "other" and persona == "outsider")
        if visible:
            assert selectors.get_account_for_user(user, account.pk) == account
        else:
            with pytest.raises(Http404):
                selectors.get_account_for_user(user, account.pk)
    for key, profile in world.profiles.items():
        visible = persona in VISIBLE_PROFILE.get(key, set()) or (key == "other_p" and persona == "outsider")
        if visible:
            assert selectors.get_profile_for_user(user, profile.pk) == profile
        else:
            with pytest.raises(Http404):
                selectors.get_profile_for_user(user, profile.pk)
    for key, subscription in world.subscriptions.items():
        visible = persona in VISIBLE_SUBSCRIPTION.get(key, set()) or (key == "other_s" and persona == "outsider")
        if visible:
            assert selectors.get_subscription_for_user(user, subscription.subscription_id) == subscription
        else:
            with pytest.raises(Http404):
                selectors.get_subscription_for_user(user, subscription.subscription_id)


@pytest.mark.parametrize("bad", [999_999, "abc", None, -1])
def test_unknown_or_malformed_ids_are_404(world, bad):
    user = world.users["ca_owner"]
    with pytest.raises(Http404):
        selectors.get_account_for_user(user, bad)
    with pytest.raises(Http404):
        selectors.get_profile_for_user(user, bad)
    with pytest.raises(Http404):
        selectors.get_subscription_for_user(user, bad)
    with pytest.raises(Http404):
        selectors.get_subscription_for_user(user, uuid.uuid4())


def test_profiles_where_filters_by_predicate(world):
    from accounts import permissions

    user = world.users["bp1_owner"]
    assert selectors.profiles_where(user, permissions.can_edit_po) == [world.profiles["ca_p1"]]
    assert selectors.profiles_where(world.users["ca_reader"], permissions.can_edit_po) == []


def test_overview_rows_carry_the_users_roles(world):
    rows = selectors.account_overview(world.users["bp1_invmgr"])
    assert [(r["account"].name, [str(role) for role in r["roles"]]) for r in rows] == [("CA", ["Invoice manager"])]
    assert selectors.account_overview(world.users["support"]) == []


def test_first_subscription_of_an_account_or_a_profile(world):
    account, p1, p2 = world.accounts["ca"], world.profiles["ca_p1"], world.profiles["ca_p2"]
    assert selectors.first_subscription(account) == world.subscriptions["ca_s1"]  # "P1 sub" < "P2 sub"
    assert selectors.first_subscription(p1) == world.subscriptions["ca_s1"]
    assert selectors.first_subscription(p2) == world.subscriptions["ca_s2"]
    empty = type(p2).objects.create(account=account, name="P3")
    assert selectors.first_subscription(empty) is None
