"""Members API (accounts.api.members; docs/rules.md MEM-1 to MEM-6): every endpoint as
anonymous (401), another tenant (404) and each refused role (403, with the service's
reason); the owners' operations; role limits, the last owner, bad input; constant
queries on the lists."""

import pytest
from django.core import mail

from accounts import invitations
from accounts.models import Invitation, MemberChange, RoleAssignment
from accounts.roles import Role
from tests.factories import UserFactory

from .test_members import crowd

pytestmark = pytest.mark.django_db


def _base(world, kind="account"):
    if kind == "account":
        return f"/api/v1/billing-accounts/{world.accounts['ca'].pk}"
    return f"/api/v1/billing-profiles/{world.profiles['ca_p1'].pk}"


def _endpoints(world, kind="account"):
    scope = world.accounts["ca"] if kind == "account" else world.profiles["ca_p1"]
    member = world.users["ca_reader"] if kind == "account" else world.users["bp1_reader"]
    role = Role.BA_READER if kind == "account" else Role.BP_READER
    invitation = invitations.member_invite(
        scope=scope, email="open@invitee.example", roles=[role], actor=world.users["ca_owner"]
    )
    base = _base(world, kind)
    return [
        ("get", f"{base}/members/", None),
        ("get", f"{base}/members/{member.pk}/", None),
        ("put", f"{base}/members/{member.pk}/", {"roles": [role]}),
        ("delete", f"{base}/members/{member.pk}/", None),
        ("get", f"{base}/invitations/", None),
        ("post", f"{base}/invitations/", {"email": "x@invitee.example", "roles": [role]}),
        ("get", f"{base}/invitations/{invitation.pk}/", None),
        ("delete", f"{base}/invitations/{invitation.pk}/", None),
        ("get", f"{base}/member-changes/", None),
    ]


def _call(client, method, url, data):
    return getattr(client, method)(url, data, format="json") if data is not None else getattr(client, method)(url)


@pytest.mark.parametrize("kind", ["account", "profile"])
def test_mem_1_api_anonymous_gets_401(world, api_for, kind):
    for method, url, data in _endpoints(world, kind):
        response = _call(api_for(None), method, url, data)
        assert response.status_code == 401 and response.json()["code"] == "not_authenticated", (method, url)


@pytest.mark.parametrize("kind", ["account", "profile"])
def test_mem_1_api_another_tenant_and_support_get_404(world, api_for, kind):
    endpoints = _endpoints(world, kind)
    for persona in ("outsider", "support", *(["bp2_owner"] if kind == "profile" else [])):
        for method, url, data in endpoints:
            response = _call(api_for(world.users[persona]), method, url, data)
            assert response.status_code == 404, (persona, method, url)


# Who sees the members but changes nothing; the invitations are the owners' only.
READERS = {"account": ["ca_contrib", "ca_reader"], "profile": ["ca_reader", "bp1_contrib", "bp1_invmgr"]}
NO_ROLE_HERE = {"account": ["bp1_owner", "bp1_invmgr"], "profile": []}


@pytest.mark.parametrize("kind", ["account", "profile"])
def test_mem_1_api_refused_roles_get_403_and_change_nothing(world, api_for, kind):
    endpoints = _endpoints(world, kind)
    before = (RoleAssignment.objects.count(), Invitation.objects.filter(status="pending").count())
    for persona in READERS[kind]:
        client = api_for(world.users[persona])
        for method, url, data in endpoints:
            response = _call(client, method, url, data)
            readable = method == "get" and "/invitations/" not in url
            assert response.status_code == (200 if readable else 403), (persona, method, url)
            if method in ("put", "post", "delete"):
                assert response.json()["code"] == "members_not_allowed", (persona, method, url)
    for persona in NO_ROLE_HERE[kind]:
        for method, url, data in endpoints:
            assert _call(api_for(world.users[persona]), method, url, data).status_code == 403, (persona, url)
    assert (RoleAssignment.objects.count(), Invitation.objects.filter(status="pending").count()) == before


def test_mem_6_api_lists_members_with_their_roles(world, api_for):
    response = api_for(world.users["ca_reader"]).get(f"{_base(world)}/members/")
    rows = {row["email"]: row for row in response.json()["results"]}
    assert set(rows) == {f"{p}@world.example" for p in ("ca_owner", "ca_owner2", "ca_contrib", "ca_reader", "inactive")}
    assert rows["ca_reader@world.example"]["roles"] == ["ba_reader"]
    assert rows["ca_reader@world.example"]["role_labels"] == "Billing account reader"
    nl = UserFactory(language="nl")
    RoleAssignment.objects.create(user=nl, role=Role.BA_READER, account=world.accounts["ca"])
    client = api_for(nl)
    client.credentials(HTTP_ACCEPT_LANGUAGE="nl")
    labels = {row["email"]: row["role_labels"] for row in client.get(f"{_base(world)}/members/").json()["results"]}
    assert labels["ca_reader@world.example"] == "Lezer factureringsaccount"


def test_mem_3_api_invite_list_and_revoke(world, api_for, django_capture_on_commit_callbacks):
    client = api_for(world.users["ca_owner"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"{_base(world)}/invitations/", {"email": "New@Invitee.example", "roles": ["ba_reader"]}, format="json"
        )
    assert response.status_code == 201
    body = response.json()
    assert (body["email"], body["roles"], body["status"]) == ("new@invitee.example", ["ba_reader"], "pending")
    assert body["invited_by"] == world.users["ca_owner"].email and "nonce" not in body and "token" not in body
    assert mail.outbox[0].to == ["new@invitee.example"]
    listed = client.get(f"{_base(world)}/invitations/").json()["results"]
    assert [row["id"] for row in listed] == [body["id"]]
    assert client.delete(f"{_base(world)}/invitations/{body['id']}/").status_code == 204
    assert client.get(f"{_base(world)}/invitations/").json()["results"] == []
    assert client.delete(f"{_base(world)}/invitations/{body['id']}/").status_code == 404
    actions = [row["action"] for row in client.get(f"{_base(world)}/member-changes/").json()["results"]]
    assert actions == ["invitation_revoked", "invited"]


def test_mem_2_api_change_roles_and_remove(world, api_for):
    client = api_for(world.users["ca_owner"])
    url = f"{_base(world)}/members/{world.users['ca_reader'].pk}/"
    response = client.put(url, {"roles": ["ba_contributor", "ba_reader"]}, format="json")
    assert response.status_code == 200 and response.json()["roles"] == ["ba_contributor", "ba_reader"]
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404
    assert MemberChange.objects.filter(action="removed", member=world.users["ca_reader"]).exists()


def test_mem_2_api_role_limits(world, api_for):
    bp_owner = api_for(world.users["bp1_owner"])
    profile_base = _base(world, "profile")
    response = bp_owner.post(
        f"{profile_base}/invitations/", {"email": "x@invitee.example", "roles": ["ba_owner"]}, format="json"
    )
    assert response.status_code == 400 and response.json()["code"] == "role_scope"
    response = bp_owner.post(
        f"{_base(world)}/invitations/", {"email": "x@invitee.example", "roles": ["ba_reader"]}, format="json"
    )
    assert response.status_code == 403  # no role on the billing account itself
    ea = api_for(world.users["ead_admin"])
    response = ea.post(
        f"/api/v1/billing-accounts/{world.accounts['ead'].pk}/invitations/",
        {"email": "x@invitee.example", "roles": ["partner_admin"]},
        format="json",
    )
    assert response.status_code == 400 and "roles" in response.json()["fields"]
    assert not Invitation.objects.exists()


def test_mem_4_api_last_owner_and_sign_up_user_are_409(world, api_for):
    ea = api_for(world.users["ead_admin"])
    url = f"/api/v1/billing-accounts/{world.accounts['ead'].pk}/members/{world.users['ead_admin'].pk}/"
    response = ea.delete(url)
    assert response.status_code == 409 and response.json()["code"] == "last_owner"
    response = ea.put(url, {"roles": ["ea_readonly"]}, format="json")
    assert response.status_code == 409
    owner2 = api_for(world.users["ca_owner2"])
    response = owner2.delete(f"{_base(world)}/members/{world.users['ca_owner'].pk}/")
    assert response.status_code == 409 and response.json()["code"] == "signup_user_keeps_owner"


@pytest.mark.parametrize(
    "body,field",
    [
        ({"email": "nope", "roles": ["ba_reader"]}, "email"),
        ({"email": "a@invitee.example", "roles": []}, "roles"),
        ({"email": "a@invitee.example", "roles": ["no_such_role"]}, "roles"),
        ({"email": "a@invitee.example", "roles": "ba_reader"}, "roles"),
        ({"email": "a" * 250 + "@x.example", "roles": ["ba_reader"]}, "email"),
        ({"email": "4242424242424242@invitee.example", "roles": ["ba_reader"]}, "email"),
        ({"roles": ["ba_reader"]}, "email"),
    ],
)
def test_mem_3_api_bad_input_is_a_400_naming_the_field(world, api_for, body, field):
    response = api_for(world.users["ca_owner"]).post(f"{_base(world)}/invitations/", body, format="json")
    assert response.status_code == 400 and field in response.json()["fields"], response.json()
    assert "4242424242424242" not in response.content.decode()
    assert not Invitation.objects.exists()


def test_mem_6_api_lists_run_a_constant_number_of_queries(world, api_for, django_assert_max_num_queries):
    client = api_for(world.users["ca_owner"])
    crowd(world)
    for path in ("members", "invitations", "member-changes"):
        with django_assert_max_num_queries(6):
            response = client.get(f"{_base(world)}/{path}/?page_size=100")
        assert response.status_code == 200 and len(response.json()["results"]) >= 30
