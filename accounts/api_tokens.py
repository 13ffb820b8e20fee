"""API tokens (accounts.token_models.ApiToken): reads, writes and the check of a key.

* **The key** is 43 URL-safe characters (256 random bits), shown once when the token is
  made; the portal keeps its SHA-256 only (``hash_key``) and its first 8 characters.
* **Every token expires**, after 30, 90 (the default) or 365 days: a key that leaked
  stops working on its own. No token lives for ever (docs/operations.md, "API tokens").
* **The second factor.** A token is handed out only after the second factor of a user
  who has (or, as staff, must have) two-factor sign-in: the token endpoint asks for the
  ``otp`` code (``api_token_sign_in`` → ``two_factor.two_factor_check_for_token``), the
  page for a session that passed the code step (``api_token_create``).
* **The token endpoint** makes a new token at each call, named "API (sign-in)", with the
  default expiry, and keeps the newest ``SIGN_IN_TOKENS_KEPT`` of them per user (a script
  that signs in at every run would otherwise pile them up); tokens made on the page are
  never removed that way, at most ``MAX_PAGE_TOKENS`` of them work at once.
* **Revoked** tokens disappear from the owner's lists at once; the row stays for
  ``KEPT_AFTER_END`` so that a call with it says "revoked", like an expired one says
  "expired", and is then deleted (with expired ones) when the owner next makes a token.
* **On each API call** (accounts.token_auth) the key costs one query, the token with its
  user and the user's role assignments (``token_for_key``); ``last_used_at`` is written at most once a minute per token
  (``note_use``), so a busy script adds one UPDATE a minute, not one per request.

Objects of another user are reported as not existing (``Http404``), as in
accounts.selectors.
"""

import functools
import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing_portal import clock
from billing_portal.card_numbers import refuse_card_number
from billing_portal.errors import InvalidInput, NotAllowed

from . import grants, permissions, two_factor
from .token_models import ApiToken, ApiTokenOrigin

EXPIRY_DAYS = (30, 90, 365)
DEFAULT_EXPIRY_DAYS = 90
NAME_MAX_LENGTH = 100
SIGN_IN_TOKEN_NAME = gettext_lazy("API (sign-in)")
SIGN_IN_TOKENS_KEPT = 20
MAX_PAGE_TOKENS = 50
KEPT_AFTER_END = timedelta(days=30)
LAST_USED_EVERY = timedelta(minutes=1)

ACTIVE, EXPIRED, REVOKED = "active", "expired", "revoked"
STATUS_LABELS = {ACTIVE: gettext_lazy("Active"), EXPIRED: gettext_lazy("Expired"), REVOKED: gettext_lazy("Revoked")}


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def token_status(token: ApiToken, now=None) -> str:
    if token.revoked_at is not None:
        return REVOKED
    return EXPIRED if token.expires_at <= (now or clock.now()) else ACTIVE


# --- Reads ----------------------------------------------------------------------------------


def tokens_for_user(user) -> QuerySet[ApiToken]:
    """The user's tokens, newest first: the working ones and those that expired in the
    last ``KEPT_AFTER_END`` (marked expired); revoked ones are gone."""
    if not permissions.can_manage_own_access(user):
        return ApiToken.objects.none()
    return ApiToken.objects.filter(
        user=user, revoked_at__isnull=True, expires_at__gt=clock.now() - KEPT_AFTER_END
    ).order_by("-created_at", "-pk")


def get_token_for_user(user, pk) -> ApiToken:
    try:
        return tokens_for_user(user).get(pk=pk)
    except (ApiToken.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


# --- Making and revoking -------------------------------------------------------------------------


def _clean_name(name) -> str:
    name = " ".join(str(name or "").split())
    if not name:
        message = _("Give the token a name, e.g. the script or machine that uses it.")
        raise InvalidInput(message, fields={"name": [message]})
    if len(name) > NAME_MAX_LENGTH:
        message = _("Keep the name to %(limit)d characters.") % {"limit": NAME_MAX_LENGTH}
        raise InvalidInput(message, fields={"name": [message]})
    refuse_card_number(name, field="name")
    return name


def _clean_days(days) -> int:
    if days not in EXPIRY_DAYS:
        message = _("Choose how long the token works: 30, 90 or 365 days.")
        raise InvalidInput(message, fields={"expires_in_days": [message]})
    return days


def _purge(user, now) -> None:
    """Delete the user's tokens that stopped working more than ``KEPT_AFTER_END`` ago."""
    cutoff = now - KEPT_AFTER_END
    ApiToken.objects.filter(user=user).filter(Q(revoked_at__lt=cutoff) | Q(expires_at__lt=cutoff)).delete()


def _make(user, *, name: str, days: int, origin: str) -> tuple[ApiToken, str]:
    now = clock.now()
    key = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        key_hash=hash_key(key),
        prefix=key[:8],
        origin=origin,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    _purge(user, now)
    return token, key


@transaction.atomic
def api_token_create(*, user, name: str, days: int, session_verified: bool) -> tuple[ApiToken, str]:
    """A token made on the API tokens page; returns it with its key (shown once, never
    stored). ``session_verified``: the session passed the code step of two-factor
    sign-in (django-otp's ``is_verified()``)."""
    if not permissions.can_manage_own_access(user):
        raise NotAllowed(_("Sign in to make an API token."))
    if not session_verified and (permissions.must_use_two_factor(user) or two_factor.has_two_factor(user)):
        raise NotAllowed(
            _(
                "Your account has two-factor sign-in, and this browser did not pass its code step. "
                "Sign out, sign in again with a code from your authenticator app, then make the token."
            ),
            code="two_factor_required",
        )
    name, days = _clean_name(name), _clean_days(days)
    working = ApiToken.objects.filter(
        user=user, origin=ApiTokenOrigin.PAGE, revoked_at__isnull=True, expires_at__gt=clock.now()
    )
    if working.count() >= MAX_PAGE_TOKENS:
        raise NotAllowed(
            _("You have %(limit)d working tokens. Revoke one you no longer use first.") % {"limit": MAX_PAGE_TOKENS},
            code="too_many_tokens",
        )
    return _make(user, name=name, days=days, origin=ApiTokenOrigin.PAGE)


def api_token_sign_in(*, user, code: str) -> tuple[ApiToken, str]:
    """The token endpoint (``POST /api/v1/auth/token/``, after the password): the
    two-factor code for a user who has two-factor sign-in, then a new token named
    "API (sign-in)" (in the user's language) with the default expiry. Only the newest
    ``SIGN_IN_TOKENS_KEPT`` tokens of the endpoint stay; older ones are deleted.

    The code is checked outside the transaction, so that a wrong code stays counted."""
    if not permissions.can_manage_own_access(user):
        raise NotAllowed(_("Sign in to make an API token."))
    two_factor.two_factor_check_for_token(user=user, code=code)
    with translation.override(user.language or "en"):
        name = str(SIGN_IN_TOKEN_NAME)
    with transaction.atomic():
        token, key = _make(user, name=name, days=DEFAULT_EXPIRY_DAYS, origin=ApiTokenOrigin.SIGN_IN)
        sign_in_tokens = ApiToken.objects.filter(user=user, origin=ApiTokenOrigin.SIGN_IN, revoked_at__isnull=True)
        newest = sign_in_tokens.order_by("-created_at", "-pk").values("pk")[:SIGN_IN_TOKENS_KEPT]
        sign_in_tokens.exclude(pk__in=newest).delete()
    return token, key


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor) -> ApiToken:
    """The owner revokes a token: every call with it is refused (401) from now on."""
    if not permissions.can_manage_own_access(actor) or token.user_id != actor.pk:
        raise Http404
    now = clock.now()
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
    token.revoked_at = token.revoked_at or now
    return token


@transaction.atomic
def api_tokens_revoke_by_operator(*, tokens: QuerySet[ApiToken], actor) -> int:
    """The admin site (a lost laptop, a departing employee): support staff or a superuser
    revoke tokens of any user. Returns how many were still working."""
    if not permissions.is_support_or_superuser(actor):
        raise NotAllowed(_("Only support staff can revoke other people's tokens."), code="not_support_staff")
    return tokens.filter(revoked_at__isnull=True).update(revoked_at=clock.now())


# --- Checking a key (accounts.token_auth) ----------------------------------------------------------


@functools.cache
def _token_query() -> tuple[QuerySet, list[str], list[str]]:
    """The query of ``token_for_key`` (built once): the token's columns, its user's, then
    the ``grants.COLUMNS`` of each of the user's role assignments."""
    token_columns = [f.attname for f in ApiToken._meta.concrete_fields]
    user_columns = [f.attname for f in ApiToken._meta.get_field("user").related_model._meta.concrete_fields]
    query = ApiToken.objects.values_list(
        *token_columns,
        *(f"user__{c}" for c in user_columns),
        *(f"user__role_assignments__{c}" for c in grants.COLUMNS),
    )
    return query, token_columns, user_columns


def token_for_key(key: str) -> ApiToken | None:
    """The token of ``key`` with its user and the user's role assignments: the one query
    of a token-authenticated call (one row per assignment; ``grants.remember_grants``)."""
    query, token_columns, user_columns = _token_query()
    rows = list(query.filter(key_hash=hash_key(key)))
    if not rows:
        return None
    user_at, grants_at = len(token_columns), len(token_columns) + len(user_columns)
    token = ApiToken.from_db(query.db, token_columns, rows[0][:user_at])
    user = ApiToken.user.field.related_model.from_db(query.db, user_columns, rows[0][user_at:grants_at])
    grants.remember_grants(user, (row[grants_at:] for row in rows))
    token.user = user
    return token


def token_refusal(token: ApiToken, now) -> tuple[str, str] | None:
    """(code, message) why a known token no longer works, or None."""
    status = token_status(token, now)
    if status == REVOKED:
        return "token_revoked", _("This token was revoked. Make a new one on the API tokens page of the portal.")
    if status == EXPIRED:
        return "token_expired", _(
            "This token expired on %(date)s. Make a new one on the API tokens page of the portal."
        ) % {"date": f"{token.expires_at:%Y-%m-%d}"}
    return None


def note_use(token: ApiToken, now) -> None:
    """Record that the token was used: at most one UPDATE a minute per token (the
    condition is in the statement too, so concurrent calls write once)."""
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_EVERY:
        return
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_EVERY)
    ).update(last_used_at=now)
    token.last_used_at = now
