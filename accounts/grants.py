"""A user's role assignments as ``Grant`` rows: read with one query per request and
cached on the user object, so that every predicate of ``accounts.permissions`` asks the
same rows and list pages stay at a constant number of queries.

The token check of an API call reads them in its own query (``accounts.api_tokens.
token_for_key`` joins them to the token and its user: ``COLUMNS`` from
``user__role_assignments__``) and hands them over with ``remember_grants``.
"""

from dataclasses import dataclass

from .models import RoleAssignment

_CACHE_ATTR = "_portal_grants"

# A RoleAssignment's columns that make a Grant, in the Grant's order.
COLUMNS = ("role", "account_id", "profile_id", "account__agreement_type")


@dataclass(frozen=True)
class Grant:
    role: str
    account_id: int
    profile_id: int | None
    agreement_type: str


# The query of ``grants``, its columns resolved once (only ever filtered, never read).
_GRANT_ROWS = RoleAssignment.objects.values_list(*COLUMNS)


def grants(user) -> tuple[Grant, ...]:
    """The user's role assignments (cached on the user object for this request)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return ()
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        cached = tuple(Grant(*row) for row in _GRANT_ROWS.filter(user_id=user.pk))
        setattr(user, _CACHE_ATTR, cached)
    return cached


def remember_grants(user, rows) -> None:
    """Cache the assignments read with the user by another query: ``rows`` of
    ``COLUMNS``, a row of None values standing for "none" (an outer join)."""
    setattr(user, _CACHE_ATTR, tuple(Grant(*row) for row in rows if row[0] is not None))


def forget_grants(user) -> None:
    """Drop the cached assignments (call after changing a user's roles)."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)
