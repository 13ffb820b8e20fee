"""MEM-4 and MEM-3 under concurrency, against PostgreSQL: the services lock the scope's
account row, so two owners who leave at the same moment cannot both pass the last-owner
check, and one invitation link used twice at once gives its roles once."""

import threading

import pytest
from django.db import connection

from accounts import invitations, members
from accounts.models import Invitation, MemberChange, RoleAssignment, User
from accounts.roles import Role
from billing_portal.errors import Conflict
from tests.factories import UserFactory, make_account

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(calls) -> list[str]:
    barrier = threading.Barrier(len(calls))
    outcomes = []

    def run(call):
        try:
            barrier.wait()
            call()
            outcomes.append("done")
        except Conflict as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


@pytest.mark.parametrize("how", ["remove", "downgrade"])
def test_mem_4_two_owners_leaving_at_once_one_stays(how):
    account = make_account(agreement_type="customer_agreement", profile_name="P")  # no sign-up user
    owners = [UserFactory(), UserFactory()]
    for owner in owners:
        RoleAssignment.objects.create(user=owner, role=Role.BA_OWNER, account=account)

    def leave(owner):
        actor = User.objects.get(pk=owner.pk)  # each thread its own user object and grants
        if how == "remove":
            return lambda: members.member_remove(scope=account, member=actor, actor=actor)
        return lambda: members.member_set_roles(scope=account, member=actor, roles=[Role.BA_READER], actor=actor)

    for _attempt in range(3):  # repeated: the barrier lines them up, the lock decides
        assert _race([leave(owner) for owner in owners]) == ["done", "last_owner"]
        assert RoleAssignment.objects.filter(account=account, role=Role.BA_OWNER).count() == 1
        # Make both owners again for the next round.
        for owner in owners:
            RoleAssignment.objects.filter(user=owner, account=account).delete()
            RoleAssignment.objects.create(user=owner, role=Role.BA_OWNER, account=account)


def test_mem_3_one_link_used_twice_at_once_gives_the_roles_once():
    owner = UserFactory()
    account = make_account(agreement_type="customer_agreement", profile_name="P")
    RoleAssignment.objects.create(user=owner, role=Role.BA_OWNER, account=account)
    invitation = invitations.member_invite(
        scope=account, email="twice@invitee.example", roles=["ba_reader"], actor=owner
    )

    def sign_up():
        invitations.invitation_sign_up(
            invitation=Invitation.objects.get(pk=invitation.pk),
            full_name="Twice",
            password="a-long-Pass-phrase-77",
            language="en",
        )

    assert _race([sign_up, sign_up]) == ["done", "invitation_closed"]
    assert User.objects.filter(email="twice@invitee.example").count() == 1
    assert MemberChange.objects.filter(action="joined").count() == 1
