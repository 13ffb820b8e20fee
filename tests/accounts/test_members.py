"""Members services (accounts.members, accounts.invitations; docs/rules.md MEM-1 to
MEM-6): role limits, invitations (link, expiry, reuse, revoke), sign-up and accept, the
last owner and the sign-up user, the record of every change and the member's e-mail."""

import re

import pytest
from django.core import mail
from django.http import Http404

from accounts import demo as accounts_demo
from accounts import invitations, member_selectors, members, permissions
from accounts.models import Invitation, InvitationStatus, MemberChange, RoleAssignment, User
from accounts.roles import Role
from billing_portal.errors import Conflict, InvalidInput, NotAllowed
from notifications.models import Notification
from tests.factories import UserFactory, make_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(django_capture_on_commit_callbacks):
    """Run the service with its on-commit work (the e-mail) and return the mails sent."""

    def run(call, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            result = call(*args, **kwargs)
        return result

    return run


def _invite(world, email="new@invitee.example", roles=(Role.BA_READER,), scope=None, actor="ca_owner"):
    return invitations.member_invite(
        scope=scope or world.accounts["ca"], email=email, roles=list(roles), actor=world.users[actor]
    )


def _link(message) -> str:
    return re.search(r"https?://[^\s]+/invitations/[^\s/]+/", message.body).group(0)


def _token(message) -> str:
    return _link(message).rstrip("/").rsplit("/", 1)[1]


def crowd(world, n=30):
    """``n`` more members of the customer agreement's billing account, each with an open
    invitation and a role change on record (for the query-count tests of the lists)."""
    account, owner = world.accounts["ca"], world.users["ca_owner"]
    for i in range(n):
        user = UserFactory()
        RoleAssignment.objects.create(user=user, role=Role.BA_READER, account=account)
        invitations.member_invite(scope=account, email=f"n{i}@invitee.example", roles=["ba_reader"], actor=owner)
        members.member_set_roles(scope=account, member=user, roles=["ba_contributor"], actor=owner)


def _roles(world, key, scope):
    return members.member_roles(scope, world.users[key])


# --- MEM-1, MEM-2: who may grant what ----------------------------------------------------------


@pytest.mark.parametrize("persona", ["ca_contrib", "ca_reader", "bp1_owner", "bp1_invmgr", "outsider", "support"])
def test_mem_1_only_owners_invite_on_the_billing_account(world, persona):
    with pytest.raises(NotAllowed) as exc:
        _invite(world, actor=persona)
    assert exc.value.code == "members_not_allowed"
    assert not Invitation.objects.exists()


def test_mem_2_a_profile_owner_cannot_grant_billing_account_roles(world):
    with pytest.raises(InvalidInput) as exc:  # an account role on the profile
        _invite(world, roles=[Role.BA_OWNER], scope=world.profiles["ca_p1"], actor="bp1_owner")
    assert exc.value.code == "role_scope" and "roles" in exc.value.fields
    with pytest.raises(NotAllowed):  # another profile
        _invite(world, roles=[Role.BP_READER], scope=world.profiles["ca_p2"], actor="bp1_owner")
    invitation = _invite(
        world, roles=[Role.BP_OWNER, Role.INVOICE_MANAGER], scope=world.profiles["ca_p1"], actor="bp1_owner"
    )
    assert invitation.roles == [Role.BP_OWNER, Role.INVOICE_MANAGER]


def test_mem_2_an_ea_admin_cannot_grant_partner_admin_and_on_indirect_grants_nothing(world):
    with pytest.raises(InvalidInput):
        _invite(world, roles=[Role.PARTNER_ADMIN], scope=world.accounts["ead"], actor="ead_admin")
    with pytest.raises(NotAllowed):
        _invite(world, roles=[Role.EA_READONLY], scope=world.accounts["eai"], actor="eai_admin")
    _invite(world, roles=[Role.PARTNER_ADMIN], scope=world.accounts["eai"], actor="eai_partner")


def test_mem_2_a_billing_account_contributor_cannot_change_roles(world):
    with pytest.raises(NotAllowed):
        members.member_set_roles(
            scope=world.accounts["ca"],
            member=world.users["ca_reader"],
            roles=[Role.BA_OWNER],
            actor=world.users["ca_contrib"],
        )
    with pytest.raises(NotAllowed):
        members.member_remove(
            scope=world.accounts["ca"], member=world.users["ca_reader"], actor=world.users["ca_contrib"]
        )
    assert _roles(world, "ca_reader", world.accounts["ca"]) == [Role.BA_READER]


def test_mem_2_a_role_lost_meanwhile_is_read_again_under_the_lock(world):
    actor = world.users["ca_owner2"]
    assert permissions.can_manage_members(actor, world.accounts["ca"])  # cached grants
    RoleAssignment.objects.filter(user=actor).delete()
    with pytest.raises(NotAllowed):
        _invite(world, actor="ca_owner2")


def test_mem_2_bad_roles_and_addresses_are_refused(world):
    for roles, code in (([], "roles_required"), (["nonsense"], "role_scope"), ([Role.EA_ADMIN], "role_scope")):
        with pytest.raises(InvalidInput) as exc:
            _invite(world, roles=roles)
        assert exc.value.code == code
    for email in ("not an address", "", "a@b@c"):
        with pytest.raises(InvalidInput) as exc:
            _invite(world, email=email)
        assert exc.value.code == "invalid_email" and "email" in exc.value.fields


def test_mem_3_card_numbers_refused_in_the_address_and_the_name(world):
    with pytest.raises(InvalidInput) as exc:
        _invite(world, email="4242424242424242@invitee.example")
    assert exc.value.code == "card_number_refused" and "4242" not in exc.value.message
    invitation = _invite(world)
    with pytest.raises(InvalidInput) as exc:
        invitations.invitation_sign_up(
            invitation=invitation, full_name="Jo 4111 1111 1111 1111", password="a-long-Pass-phrase-77", language="en"
        )
    assert exc.value.code == "card_number_refused" and "full_name" in exc.value.fields
    assert not User.objects.filter(email="new@invitee.example").exists()


# --- MEM-3: invitations -------------------------------------------------------------------


def test_mem_3_invite_records_and_mails_a_one_time_link(world, sent):
    invitation = sent(_invite, world, roles=[Role.BA_READER, Role.BA_CONTRIBUTOR])
    assert invitation.roles == [Role.BA_CONTRIBUTOR, Role.BA_READER]  # owners first
    (message,) = mail.outbox
    assert message.to == ["new@invitee.example"]
    assert "Billing account contributor, Billing account reader" in message.body
    assert member_selectors.invitation_for_token(_token(message)) == invitation
    # The link is made when the e-mail is rendered: neither the row nor the notification holds it.
    notification = Notification.objects.get(kind="member_invited")
    assert _token(message) not in str(notification.context) and _token(message) not in invitation.nonce
    change = MemberChange.objects.get()
    assert (change.action, change.actor, change.member_email) == ("invited", world.users["ca_owner"], invitation.email)
    assert change.new_roles == invitation.roles


def test_mem_3_the_invitation_mail_is_in_the_invitees_language_or_else_the_inviters(world, sent):
    dutch = UserFactory(email="bestaand@invitee.example", language="nl")
    sent(_invite, world, email=dutch.email)
    assert mail.outbox[-1].subject == "U bent uitgenodigd voor CA"
    assert "Lezer factureringsaccount" in mail.outbox[-1].body
    owner = world.users["ca_owner"]
    owner.language = "nl"
    owner.save()
    sent(_invite, world, email="nieuw@invitee.example")
    assert mail.outbox[-1].subject.startswith("U bent uitgenodigd")


def test_mem_3_a_wrong_or_tampered_link_is_a_404(world, sent):
    sent(_invite, world)
    token = _token(mail.outbox[0])
    pk, digest = token.split("-")
    for bad in (f"{pk}-{digest[:-1]}0", f"{int(pk) + 1}-{digest}", digest, "", "-", f"{'9' * 30}-{digest}"):
        if bad != token:
            with pytest.raises(Http404):
                member_selectors.invitation_for_token(bad)


def test_mem_3_sign_up_creates_the_user_with_the_roles_and_the_link_is_used_once(world, sent):
    invitation = sent(_invite, world)
    user = invitations.invitation_sign_up(
        invitation=invitation, full_name="Nieuwe Collega", password="a-long-Pass-phrase-77", language="nl"
    )
    assert user.check_password("a-long-Pass-phrase-77") and user.language == "nl"
    assert members.member_roles(world.accounts["ca"], user) == [Role.BA_READER]
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.ACCEPTED and invitation.accepted_by == user
    assert MemberChange.objects.filter(action="joined", member=user, new_roles=[Role.BA_READER]).exists()
    for again in (
        lambda: invitations.invitation_sign_up(
            invitation=invitation, full_name="X", password="a-long-Pass-phrase-77", language="en"
        ),
        lambda: invitations.invitation_accept(invitation=invitation, user=user),
    ):
        with pytest.raises(Conflict) as exc:
            again()
        assert exc.value.code == "invitation_closed"


def test_mem_3_a_weak_password_is_refused_and_nothing_is_created(world):
    invitation = _invite(world)
    with pytest.raises(InvalidInput) as exc:
        invitations.invitation_sign_up(invitation=invitation, full_name="Jo", password="1234", language="en")
    assert exc.value.code == "invalid_password" and exc.value.fields["password"]
    assert not User.objects.filter(email=invitation.email).exists()
    assert Invitation.objects.get().status == InvitationStatus.PENDING


def test_mem_3_an_existing_user_accepts_after_signing_in_with_the_invited_address(world):
    invitee = UserFactory(email="known@invitee.example")
    invitation = _invite(world, email="Known@Invitee.example")
    with pytest.raises(NotAllowed) as exc:
        invitations.invitation_accept(invitation=invitation, user=world.users["ca_reader"])
    assert exc.value.code == "invitation_other_user"
    with pytest.raises(Conflict) as exc:
        invitations.invitation_sign_up(
            invitation=invitation, full_name="Jo", password="a-long-Pass-phrase-77", language="en"
        )
    assert exc.value.code == "invitation_sign_in"
    assert invitations.invitation_accept(invitation=invitation, user=invitee) == [Role.BA_READER]
    assert permissions.can_view_members(invitee, world.accounts["ca"])


def test_mem_3_invitations_expire_after_seven_days(world, clock):
    invitation = _invite(world)
    clock.advance(days=7, seconds=1)
    assert invitations.invitation_status(invitation) == InvitationStatus.EXPIRED
    with pytest.raises(Conflict) as exc:
        invitations.invitation_sign_up(
            invitation=invitation, full_name="Jo", password="a-long-Pass-phrase-77", language="en"
        )
    assert exc.value.code == "invitation_expired"
    # An expired invitation makes way for a new one (the old link stays dead).
    again = _invite(world)
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.EXPIRED and again.status == InvitationStatus.PENDING


def test_mem_3_one_open_invitation_per_address_and_scope(world):
    _invite(world)
    with pytest.raises(Conflict) as exc:
        _invite(world, email="NEW@invitee.example")
    assert exc.value.code == "already_invited"
    _invite(world, scope=world.profiles["ca_p1"], roles=[Role.BP_READER])  # another scope


def test_mem_3_members_are_not_invited_again(world):
    with pytest.raises(Conflict) as exc:
        _invite(world, email=world.users["ca_reader"].email)
    assert exc.value.code == "already_member"


def test_mem_3_a_revoked_invitation_cannot_be_accepted(world):
    invitation = _invite(world)
    with pytest.raises(NotAllowed):
        invitations.invitation_revoke(invitation=invitation, actor=world.users["ca_reader"])
    invitations.invitation_revoke(invitation=invitation, actor=world.users["ca_owner2"])
    with pytest.raises(Conflict):
        invitations.invitation_revoke(invitation=invitation, actor=world.users["ca_owner2"])
    with pytest.raises(Conflict) as exc:
        invitations.invitation_sign_up(
            invitation=invitation, full_name="Jo", password="a-long-Pass-phrase-77", language="en"
        )
    assert exc.value.code == "invitation_closed"
    assert list(MemberChange.objects.values_list("action", flat=True)) == ["invitation_revoked", "invited"]


def test_mem_2_mem_3_the_inviter_must_still_hold_the_rights_when_it_is_accepted(world):
    invitation = _invite(world, actor="ca_owner2")
    RoleAssignment.objects.filter(user=world.users["ca_owner2"]).delete()
    with pytest.raises(Conflict) as exc:
        invitations.invitation_sign_up(
            invitation=invitation, full_name="Jo", password="a-long-Pass-phrase-77", language="en"
        )
    assert exc.value.code == "invitation_inviter_lost_rights"
    assert not User.objects.filter(email=invitation.email).exists()


# --- Change roles, remove (MEM-2, MEM-4, MEM-5, MEM-6) --------------------------------------------------


def test_mem_6_a_role_change_is_recorded_and_mailed_to_the_member(world, sent):
    reader = world.users["ca_reader"]
    reader.language = "nl"
    reader.save()
    scope = world.accounts["ca"]
    sent(
        members.member_set_roles, scope=scope, member=reader, roles=[Role.BA_CONTRIBUTOR], actor=world.users["ca_owner"]
    )
    assert _roles(world, "ca_reader", scope) == [Role.BA_CONTRIBUTOR]
    change = MemberChange.objects.get()
    assert (change.action, change.old_roles, change.new_roles) == ("roles_changed", ["ba_reader"], ["ba_contributor"])
    assert change.actor_email == world.users["ca_owner"].email and change.created_at
    (message,) = mail.outbox
    assert message.to == [reader.email] and message.subject == "Uw rollen voor CA zijn gewijzigd"
    assert "van Lezer factureringsaccount in Inzender factureringsaccount" in message.body
    # Unchanged roles change nothing and mail nothing.
    sent(
        members.member_set_roles, scope=scope, member=reader, roles=[Role.BA_CONTRIBUTOR], actor=world.users["ca_owner"]
    )
    assert MemberChange.objects.count() == 1 and len(mail.outbox) == 1


def test_mem_6_removing_takes_the_scopes_roles_only_and_tells_the_member(world, sent):
    member = world.users["bp1_reader"]
    RoleAssignment.objects.create(user=member, role=Role.BA_READER, account=world.accounts["ca"])
    sent(members.member_remove, scope=world.profiles["ca_p1"], member=member, actor=world.users["bp1_owner"])
    assert _roles(world, "bp1_reader", world.profiles["ca_p1"]) == []
    assert _roles(world, "bp1_reader", world.accounts["ca"]) == [Role.BA_READER]
    change = MemberChange.objects.get()
    assert (change.action, change.profile, change.old_roles) == ("removed", world.profiles["ca_p1"], ["bp_reader"])
    assert mail.outbox[0].to == [member.email] and "removed you" in mail.outbox[0].body
    with pytest.raises(InvalidInput):
        members.member_remove(scope=world.profiles["ca_p1"], member=member, actor=world.users["bp1_owner"])


@pytest.mark.parametrize("how", ["remove", "downgrade"])
def test_mem_4_the_last_owner_cannot_be_removed_or_downgraded(world, how):
    scope, owner = world.accounts["ead"], world.users["ead_admin"]
    with pytest.raises(Conflict) as exc:
        if how == "remove":
            members.member_remove(scope=scope, member=owner, actor=owner)
        else:
            members.member_set_roles(scope=scope, member=owner, roles=[Role.EA_READONLY], actor=owner)
    assert exc.value.code == "last_owner"
    assert _roles(world, "ead_admin", scope) == [Role.EA_ADMIN] and not MemberChange.objects.exists()


def test_mem_4_an_inactive_owner_does_not_count_and_a_second_owner_frees_the_first(world):
    scope, partner = world.accounts["eai"], world.users["eai_partner"]
    dormant = UserFactory(is_active=False)
    RoleAssignment.objects.create(user=dormant, role=Role.PARTNER_ADMIN, account=scope)
    with pytest.raises(Conflict):
        members.member_remove(scope=scope, member=partner, actor=partner)
    members.member_set_roles(
        scope=scope, member=world.users["eai_admin"], roles=[Role.PARTNER_ADMIN, Role.EA_ADMIN], actor=partner
    )
    members.member_remove(scope=scope, member=partner, actor=partner)
    assert _roles(world, "eai_partner", scope) == []


def test_mem_4_a_billing_profile_keeps_an_owner_through_the_billing_account_owners(world):
    profile = world.profiles["ca_p2"]
    members.member_remove(scope=profile, member=world.users["bp2_owner"], actor=world.users["bp2_owner"])
    assert permissions.can_manage_members(world.users["ca_owner"], profile)


def test_mem_5_the_user_who_signed_up_keeps_the_owner_role(world):
    for scope, signup, other in (("ca", "ca_owner", "ca_owner2"), ("wd", "wd_admin", "wd_admin2")):
        account = world.accounts[scope]
        with pytest.raises(Conflict) as exc:
            members.member_remove(scope=account, member=world.users[signup], actor=world.users[other])
        assert exc.value.code == "signup_user_keeps_owner"
    with pytest.raises(Conflict):
        members.member_set_roles(
            scope=world.accounts["ca"],
            member=world.users["ca_owner"],
            roles=[Role.BA_READER],
            actor=world.users["ca_owner"],
        )
    # Another owner may go, and the sign-up user may hold more roles.
    members.member_remove(scope=world.accounts["ca"], member=world.users["ca_owner2"], actor=world.users["ca_owner"])
    members.member_set_roles(
        scope=world.accounts["ca"],
        member=world.users["ca_owner"],
        roles=[Role.BA_OWNER, Role.BA_READER],
        actor=world.users["ca_owner"],
    )


def test_mem_4_no_sign_up_user_and_two_owners_one_may_leave(db):
    owner, second = UserFactory(), UserFactory()
    account = make_account(agreement_type="customer_agreement", profile_name="P")
    for user in (owner, second):
        RoleAssignment.objects.create(user=user, role=Role.BA_OWNER, account=account)
    members.member_remove(scope=account, member=second, actor=second)
    with pytest.raises(Conflict):
        members.member_remove(scope=account, member=owner, actor=owner)


def test_mem_3_the_demo_has_one_pending_invitation(demo):
    first = accounts_demo.seed_invitation(demo)
    assert accounts_demo.seed_invitation(demo) == first  # idempotent
    assert invitations.invitation_status(first) == InvitationStatus.PENDING
    assert (first.email, first.roles, first.invited_by) == (
        accounts_demo.DEMO_INVITEE,
        ["ba_reader"],
        demo.users["ca_owner"],
    )
    assert Invitation.objects.count() == 1 and MemberChange.objects.get().action == "invited"
