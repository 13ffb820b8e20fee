"""Members pages (accounts.member_views; docs/rules.md MEM-1 to MEM-6): every page as an
anonymous visitor, another tenant (404) and each refused role (403); the owners' forms
with their errors, the confirmations, the invitation link's page, Dutch role names and
a constant number of queries."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts import invitations, members
from accounts.models import Invitation, MemberChange, RoleAssignment, User
from accounts.roles import Role
from tests.factories import UserFactory

from .test_members import crowd

pytestmark = pytest.mark.django_db


def _urls(world, kind="account"):
    scope = world.accounts["ca"] if kind == "account" else world.profiles["ca_p1"]
    member = world.users["ca_reader"] if kind == "account" else world.users["bp1_reader"]
    invitation = invitations.member_invite(
        scope=scope,
        email="open@invitee.example",
        roles=[Role.BA_READER if kind == "account" else Role.BP_READER],
        actor=world.users["ca_owner"],
    )
    return {
        "members": members.scope_url(scope, "members"),
        "member": members.scope_url(scope, "member", member.pk),
        "member_remove": members.scope_url(scope, "member_remove", member.pk),
        "invitation_revoke": members.scope_url(scope, "invitation_revoke", invitation.pk),
    }


PAGES = ["members", "member", "member_remove", "invitation_revoke"]


@pytest.mark.parametrize("kind", ["account", "profile"])
def test_mem_1_every_page_sends_anonymous_visitors_to_sign_in(world, client, kind):
    for name, url in _urls(world, kind).items():
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 302 and response.url.startswith(reverse("accounts:login")), name


@pytest.mark.parametrize("kind", ["account", "profile"])
def test_mem_1_another_tenant_and_support_get_404(world, client_for, kind):
    urls = _urls(world, kind)
    for persona in ("outsider", "support"):
        client = client_for(world.users[persona])
        for name, url in urls.items():
            assert client.get(url).status_code == 404, (persona, name)
            assert client.post(url).status_code == 404, (persona, name)


def test_mem_1_the_owner_of_another_profile_gets_404(world, client_for):
    client = client_for(world.users["bp2_owner"])
    for name, url in _urls(world, "profile").items():
        assert client.get(url).status_code == 404, name


def test_mem_1_a_default_profile_has_no_members_page(world, client_for):
    url = reverse("accounts:profile_members", args=[world.profiles["wd_p"].pk])
    assert client_for(world.users["wd_admin"]).get(url).status_code == 404


# Refused roles: who sees the list but changes nothing (403 on every form and post), and
# who has no role on the scope itself (403 everywhere).
READ_ONLY = {
    "account": ["ca_contrib", "ca_reader"],
    "profile": ["ca_contrib", "bp1_contrib", "bp1_reader", "bp1_invmgr"],
}
NO_ROLE_HERE = {"account": ["bp1_owner", "bp1_reader", "bp1_invmgr", "bp2_owner"], "profile": []}


@pytest.mark.parametrize("kind", ["account", "profile"])
def test_mem_1_refused_roles_get_403_and_change_nothing(world, client_for, kind):
    urls = _urls(world, kind)
    before = (RoleAssignment.objects.count(), Invitation.objects.count(), MemberChange.objects.count())
    for persona in READ_ONLY[kind]:
        client = client_for(world.users[persona])
        response = client.get(urls["members"])
        assert response.status_code == 200 and b'id="invite"' not in response.content, persona
        assert b"Change roles" not in response.content and b'id="invitations"' not in response.content
        for name, url in urls.items():
            post = {"email": "x@invitee.example", "roles": [Role.BA_READER]}
            assert client.post(url, post).status_code == 403, (persona, name)
            if name != "members":
                assert client.get(url).status_code == 403, (persona, name)
    for persona in NO_ROLE_HERE[kind]:
        client = client_for(world.users[persona])
        for name, url in urls.items():
            assert client.get(url).status_code == 403, (persona, name)
            assert client.post(url).status_code == 403, (persona, name)
    assert (RoleAssignment.objects.count(), Invitation.objects.count(), MemberChange.objects.count()) == before


def test_mem_6_the_members_page_lists_roles_invitations_and_changes(world, client_for):
    _urls(world)
    response = client_for(world.users["ca_owner"]).get(_urls_members(world))
    text = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'data-email="ca_reader@world.example".*?Billing account reader', text, re.S)
    assert 'id="invite"' in text and "open@invitee.example" in text
    assert "Invited open@invitee.example as Billing account reader" in text
    assert 'class="table table-stacked" id="members"' in text


def _urls_members(world):
    return members.scope_url(world.accounts["ca"], "members")


def test_mem_6_roles_are_named_in_the_pages_language(world, client_for):
    owner = world.users["ca_owner"]
    client = client_for(owner)
    client.post(reverse("set_language"), {"language": "nl", "next": "/"})
    text = client.get(_urls_members(world)).content.decode()
    assert "Leden van CA" in text and "Lezer factureringsaccount" in text and "Iemand uitnodigen" in text


def test_mem_3_invite_from_the_page(world, client_for, django_capture_on_commit_callbacks):
    client = client_for(world.users["ca_owner"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_urls_members(world), {"email": "Colleague@Invitee.example", "roles": ["ba_reader"]})
    assert response.status_code == 302
    assert "An invitation was sent to colleague@invitee.example" in client.get(response.url).content.decode()
    assert mail.outbox[0].to == ["colleague@invitee.example"]


@pytest.mark.parametrize(
    "data,field,message",
    [
        ({"email": "nope", "roles": ["ba_reader"]}, "email", "Enter a valid email address."),
        ({"email": "a@invitee.example"}, "roles", "Choose at least one role."),
        ({"email": "a@invitee.example", "roles": ["bp_owner"]}, "roles", "Select a valid choice."),
        ({"email": "ca_reader@world.example", "roles": ["ba_reader"]}, "email", "is already a member"),
    ],
)
def test_mem_3_bad_input_on_the_invite_form_is_explained(world, client_for, data, field, message):
    response = client_for(world.users["ca_owner"]).post(_urls_members(world), data)
    assert response.status_code == 200
    assert message in " ".join(str(e) for e in response.context["form"].errors[field])
    assert not Invitation.objects.exists()


def test_mem_3_a_card_number_in_the_address_is_refused_and_not_shown_again(world, client_for):
    number = "4242 4242 4242 4242"
    response = client_for(world.users["ca_owner"]).post(
        _urls_members(world), {"email": f"{number}@invitee.example", "roles": ["ba_reader"]}
    )
    assert response.status_code == 200 and "Never enter a card number here" in response.content.decode()
    assert number not in response.content.decode()
    response = client_for(world.users["ca_owner"]).post(
        _urls_members(world), {"email": "4242424242424242@invitee.example", "roles": ["ba_reader"]}
    )
    assert "4242424242424242" not in response.content.decode() and not Invitation.objects.exists()


def test_mem_2_change_roles_from_the_page(world, client_for, django_capture_on_commit_callbacks):
    client = client_for(world.users["ca_owner"])
    url = members.scope_url(world.accounts["ca"], "member", world.users["ca_reader"].pk)
    page = client.get(url).content.decode()
    assert 'type="checkbox" name="roles" value="ba_reader"' in page and "checked" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"roles": ["ba_contributor"]})
    assert response.status_code == 302
    assert members.member_roles(world.accounts["ca"], world.users["ca_reader"]) == ["ba_contributor"]
    assert mail.outbox[0].to == [world.users["ca_reader"].email]
    assert "Choose at least one role." in client.post(url, {}).content.decode()


def test_mem_4_remove_asks_first_and_explains_the_last_owner(world, client_for):
    client = client_for(world.users["ead_admin"])
    url = members.scope_url(world.accounts["ead"], "member_remove", world.users["ead_admin"].pk)
    page = client.get(url).content.decode()
    assert "Yes, remove" in page and "loses every role" in page
    response = client.post(url)
    assert response.status_code == 200 and "is the last owner of this billing scope" in response.content.decode()
    assert members.member_roles(world.accounts["ead"], world.users["ead_admin"]) == ["ea_admin"]
    url = members.scope_url(world.accounts["ead"], "member_remove", world.users["ead_ro"].pk)
    assert client.post(url).status_code == 302
    assert members.member_roles(world.accounts["ead"], world.users["ead_ro"]) == []


def test_mem_3_revoke_asks_first(world, client_for):
    url = _urls(world)["invitation_revoke"]
    client = client_for(world.users["ca_owner"])
    assert "Yes, revoke" in client.get(url).content.decode()
    assert client.post(url).status_code == 302
    assert Invitation.objects.get().status == "revoked"
    assert client.get(url).status_code == 404  # no longer open


def test_mem_6_the_members_page_runs_a_constant_number_of_queries(world, client_for, django_assert_max_num_queries):
    client = client_for(world.users["ca_owner"])
    client.get(_urls_members(world))
    crowd(world)
    with django_assert_max_num_queries(14):
        assert client.get(_urls_members(world)).status_code == 200


# --- The invitation link's page (MEM-3) ------------------------------------------------------


def _invitation_path(world, sent_mail, email="new@invitee.example", roles=("ba_reader",)):
    with sent_mail(execute=True):
        invitations.member_invite(
            scope=world.accounts["ca"], email=email, roles=list(roles), actor=world.users["ca_owner"]
        )
    return re.search(r"/invitations/[^\s/]+/", mail.outbox[-1].body).group(0)


def test_mem_3_sign_up_from_the_link(world, client, django_capture_on_commit_callbacks):
    path = _invitation_path(world, django_capture_on_commit_callbacks)
    page = client.get(path)
    assert page.status_code == 200 and "Create your account" in page.content.decode()
    bad = client.post(path, {"full_name": "Nieuw", "password": "short", "password_again": "short"})
    assert bad.status_code == 200 and bad.context["form"].errors["password"]
    mismatch = client.post(path, {"full_name": "Nieuw", "password": "a-long-Pass-phrase-77", "password_again": "x"})
    assert "The two passwords are not the same." in mismatch.content.decode()
    response = client.post(
        path, {"full_name": "Nieuw Lid", "password": "a-long-Pass-phrase-77", "password_again": "a-long-Pass-phrase-77"}
    )
    assert response.status_code == 302 and response.url == reverse("accounts:overview")
    user = User.objects.get(email="new@invitee.example")
    assert client.get(reverse("accounts:overview")).context["user"] == user
    assert members.member_roles(world.accounts["ca"], user) == ["ba_reader"]
    # Used once: the link now says so, and a second sign-up changes nothing.
    client.logout()
    page = client.get(path).content.decode()
    assert "This invitation was used or revoked already." in page and "Create your account" not in page
    client.post(
        path, {"full_name": "X", "password": "a-long-Pass-phrase-77", "password_again": "a-long-Pass-phrase-77"}
    )
    assert User.objects.filter(email="new@invitee.example").count() == 1


def test_mem_3_an_existing_user_signs_in_then_accepts(world, client_for, client, django_capture_on_commit_callbacks):
    invitee = UserFactory(email="known@invitee.example")
    path = _invitation_path(world, django_capture_on_commit_callbacks, email=invitee.email)
    page = client.get(path).content.decode()
    assert "Sign in to accept the invitation" in page and f"?next={path}" in page
    assert client.post(path, {"full_name": "X", "password": "p", "password_again": "p"}).status_code == 403
    signed_in = client_for(invitee)
    assert "Accept the invitation" in signed_in.get(path).content.decode()
    assert signed_in.post(path).status_code == 302
    assert members.member_roles(world.accounts["ca"], invitee) == ["ba_reader"]


def test_mem_3_someone_signed_in_with_another_address_is_told_and_refused(
    world, client_for, django_capture_on_commit_callbacks
):
    path = _invitation_path(world, django_capture_on_commit_callbacks)
    other = client_for(world.users["ca_reader"])
    page = other.get(path)
    assert page.status_code == 403 and "but this invitation is for new@invitee.example" in page.content.decode()
    assert other.post(path).status_code == 403
    assert Invitation.objects.get().status == "pending"


def test_mem_3_an_expired_link_says_so(world, client, clock, django_capture_on_commit_callbacks):
    path = _invitation_path(world, django_capture_on_commit_callbacks)
    clock.advance(days=8)
    page = client.get(path).content.decode()
    assert "This invitation has expired" in page and "Create your account" not in page
    client.post(
        path, {"full_name": "X", "password": "a-long-Pass-phrase-77", "password_again": "a-long-Pass-phrase-77"}
    )
    assert not User.objects.filter(email="new@invitee.example").exists()


def test_mem_3_a_wrong_link_is_a_404(world, client):
    for token in ("1-abc", "x", "0-" + "0" * 40):
        assert client.get(reverse("accounts:invitation", args=[token])).status_code == 404


def test_mem_1_links_to_the_members_pages(world, client_for):
    owner = client_for(world.users["ca_owner"])
    assert reverse("accounts:account_members", args=[world.accounts["ca"].pk]) in owner.get("/").content.decode()
    profile_page = client_for(world.users["bp1_owner"]).get(reverse("accounts:profile", args=[world.accounts["ca"].pk]))
    text = profile_page.content.decode()
    assert reverse("accounts:profile_members", args=[world.profiles["ca_p1"].pk]) in text
    assert reverse("accounts:profile_members", args=[world.profiles["ca_p2"].pk]) not in text
    assert reverse("accounts:account_members", args=[world.accounts["ca"].pk]) not in text


def test_mem_1_an_owner_who_removes_themselves_goes_back_to_the_overview(world, client_for):
    client = client_for(world.users["ca_owner2"])
    url = members.scope_url(world.accounts["ca"], "member_remove", world.users["ca_owner2"].pk)
    response = client.post(url)
    assert response.status_code == 302 and response.url == reverse("accounts:overview")
    assert client.get(_urls_members(world)).status_code == 404  # no role left on the account


def test_mem_6_the_admin_site_shows_the_record_read_only(world, client_for):
    invitation = invitations.member_invite(
        scope=world.accounts["ca"], email="open@invitee.example", roles=["ba_reader"], actor=world.users["ca_owner"]
    )
    change = MemberChange.objects.get()
    admin = UserFactory(email="operator@portal.example", is_staff=True, is_superuser=True)
    client = client_for(admin)  # signed in with a verified second factor
    listing = client.get(reverse("admin:accounts_memberchange_changelist"))
    assert listing.status_code == 200 and "open@invitee.example" in listing.content.decode()
    page = client.get(reverse("admin:accounts_memberchange_change", args=[change.pk]))
    assert page.status_code == 200 and 'type="submit"' not in page.content.decode().split('id="content-main"')[1]
    assert client.get(reverse("admin:accounts_memberchange_add")).status_code == 403
    assert client.post(reverse("admin:accounts_memberchange_delete", args=[change.pk])).status_code == 403
    detail = client.get(reverse("admin:accounts_invitation_change", args=[invitation.pk])).content.decode()
    assert invitation.nonce not in detail
