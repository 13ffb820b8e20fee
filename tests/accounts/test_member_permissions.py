"""MEM-1, MEM-2 (docs/rules.md, Members and roles), table-driven like test_permissions.py:
who sees and who manages the members of every scope, and which roles each manager may
grant, change or remove. A persona not listed for a scope gets False / no role."""

import pytest

from accounts import permissions
from accounts.roles import Role

from .conftest import PERSONAS
from .test_permissions import CA_ACCOUNT, CA_P1, CA_P2, EAD, EAI, NOBODY, WD

pytestmark = pytest.mark.django_db

SCOPES = ("wd", "ead", "eai", "ca", "wd_p", "ead_p", "eai_p", "ca_p1", "ca_p2")

# MEM-6: every role on the scope itself sees its members (the account's roles reach its
# profiles); a default profile has no members of its own.
VIEWERS = {
    "wd": WD,
    "ead": EAD,
    "eai": EAI,
    "ca": CA_ACCOUNT,
    "wd_p": NOBODY,
    "ead_p": NOBODY,
    "eai_p": NOBODY,
    "ca_p1": CA_ACCOUNT | CA_P1,
    "ca_p2": CA_ACCOUNT | CA_P2,
}
PROFILE_ROLES = {Role.BP_OWNER, Role.BP_CONTRIBUTOR, Role.BP_READER, Role.INVOICE_MANAGER}
CA_OWNERS = {"ca_owner", "ca_owner2"}
# MEM-1, MEM-2: scope -> {manager: the roles they may grant}; everybody else: none.
GRANTABLE = {
    "wd": dict.fromkeys(WD, {Role.ACCOUNT_ADMIN}),
    # Direct enrollment: the EA admin; there is no partner admin on it.
    "ead": {"ead_admin": {Role.EA_ADMIN, Role.EA_READONLY}},
    # Indirect enrollment: the partner admin; the EA admin and the read-only admin manage nothing.
    "eai": {"eai_partner": {Role.PARTNER_ADMIN, Role.EA_ADMIN, Role.EA_READONLY}},
    "ca": dict.fromkeys(CA_OWNERS, {Role.BA_OWNER, Role.BA_CONTRIBUTOR, Role.BA_READER}),
    "wd_p": {},
    "ead_p": {},
    "eai_p": {},
    # A billing profile: its owner and the billing account owners; profile roles only.
    "ca_p1": dict.fromkeys({*CA_OWNERS, "bp1_owner"}, PROFILE_ROLES),
    "ca_p2": dict.fromkeys({*CA_OWNERS, "bp2_owner"}, PROFILE_ROLES),
}


def _scope(world, key):
    return world.profiles[key] if key in world.profiles else world.accounts[key]


@pytest.mark.parametrize("scope_key", SCOPES)
def test_mem_6_who_sees_the_members(world, scope_key):
    scope = _scope(world, scope_key)
    seen = {p for p in PERSONAS if permissions.can_view_members(world.users[p], scope)}
    assert seen == VIEWERS[scope_key]


@pytest.mark.parametrize("scope_key", SCOPES)
def test_mem_1_mem_2_who_grants_which_roles(world, scope_key):
    scope = _scope(world, scope_key)
    for persona in PERSONAS:
        want = GRANTABLE[scope_key].get(persona, set())
        assert permissions.grantable_roles(world.users[persona], scope) == want, persona
        assert permissions.can_manage_members(world.users[persona], scope) is bool(want), persona


def test_mem_2_nobody_grants_a_role_beyond_their_own(world):
    """Every role a manager may grant exists on the scope, and the manager holds the
    scope's owner role: nobody hands out more than they have."""
    for scope_key in SCOPES:
        scope = _scope(world, scope_key)
        for persona, roles in GRANTABLE[scope_key].items():
            assert roles <= permissions.scope_roles(scope)
            held = permissions.profile_roles if scope_key in world.profiles else permissions.account_roles
            assert held(world.users[persona], scope) & permissions.scope_owner_roles(scope)


def test_mem_5_the_sign_up_user_keeps_the_owner_role(world):
    assert permissions.keeps_owner_role(world.users["wd_admin"], world.accounts["wd"])
    assert permissions.keeps_owner_role(world.users["ca_owner"], world.accounts["ca"])
    assert not permissions.keeps_owner_role(world.users["wd_admin2"], world.accounts["wd"])
    assert not permissions.keeps_owner_role(world.users["ca_owner2"], world.accounts["ca"])
