"""Self-service access: the user's own profile (name, language), changing the password,
and resetting a forgotten one by e-mail (docs/operations.md, "Passwords").

**Resetting.** ``password_reset_request`` answers the same whether or not the address
belongs to an account (the page always says "if an account has this address, we sent
a link"); only an active user with a password gets the e-mail. The e-mail is recorded
and sent once by a Celery task (``accounts.hooks.send_email``, provided by the
notifications app). Its link is Django's password-reset token
(``default_token_generator``), made when the e-mail is rendered
(``password_reset_email_context``, called by notifications.account_mail), so no link is
stored anywhere: the notification keeps the user's id only. The link works for
``PASSWORD_RESET_TIMEOUT`` (one hour) and once: the token covers the password hash and
the last sign-in, so setting the password (or signing in) spends every link.

Requests are limited like sign-in attempts (``AXES_FAILURE_LIMIT`` per e-mail and
address, ``AXES_IP_FAILURE_LIMIT`` per address, for ``AXES_COOLOFF_TIME``); over the
limit the page says so, whatever the address. One account gets at most
``RESET_EMAILS_PER_USER`` reset e-mails in that time, silently (the page says the same).
The counters live in the cache, which fails open (billing_portal.cache).

**Changing** the password needs the current one (checked by the form through
``authenticate``, so that wrong passwords count towards the sign-in lock-out). Setting a
new password by either way signs the user's other browser sessions out (Django's
session hash; the page keeps its own session with ``update_session_auth_hash``) and
e-mails a confirmation. API tokens keep working; the e-mail says where to revoke them.
"""

import hashlib
import uuid

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from billing_portal.card_numbers import refuse_card_number
from billing_portal.errors import DomainError, InvalidInput, NotAllowed

from . import hooks, permissions, services
from .models import User

RESET_KIND = "password_reset"
CHANGED_KIND = "password_changed"
RESET_EMAILS_PER_USER = 3
CHANGED_BY_RESET, CHANGED_ON_PAGE = "reset", "change"


class TooManyResetRequests(DomainError):
    status_code = 429
    default_code = "too_many_requests"


# --- The profile ------------------------------------------------------------------------------


@transaction.atomic
def user_update_profile(*, user: User, full_name: str, language: str) -> User:
    """The user's own name and preferred language (pages, e-mails and API answers)."""
    if not permissions.can_manage_own_access(user):
        raise NotAllowed(_("Sign in to change your profile."))
    full_name = " ".join(str(full_name or "").split())
    limit = User._meta.get_field("full_name").max_length
    if len(full_name) > limit:
        message = _("Keep the name to %(limit)d characters.") % {"limit": limit}
        raise InvalidInput(message, fields={"full_name": [message]})
    refuse_card_number(full_name, field="full_name")
    services.user_set_language(user=user, language=language)
    if user.full_name != full_name:
        user.full_name = full_name
        user.save(update_fields=["full_name"])
    return user


# --- Setting a new password ------------------------------------------------------------------------


def _queue_changed_email(user: User, how: str) -> None:
    hooks.send_email(
        kind=CHANGED_KIND,
        recipient=user.email,
        language=user.language,
        dedupe_key=f"{CHANGED_KIND}:{user.pk}:{uuid.uuid4().hex}",
        context={"how": how, "email": user.email},
    )


@transaction.atomic
def password_set(*, user: User, password: str, how: str) -> User:
    """A new password, after a reset link (``CHANGED_BY_RESET``) or on the password page
    with the current one (``CHANGED_ON_PAGE``): Django's password validators, then the
    confirmation e-mail. Every other session of the user is signed out by the new hash."""
    if not (user and user.is_active):
        raise NotAllowed(_("This account cannot sign in."))
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise InvalidInput(" ".join(exc.messages), fields={"new_password2": list(exc.messages)}) from None
    user.set_password(password)
    user.save(update_fields=["password"])
    _queue_changed_email(user, how)
    return user


# --- Resetting a forgotten password -----------------------------------------------------------------


def _window() -> int:
    return int(settings.AXES_COOLOFF_TIME * 3600)


def _count(key: str) -> int:
    """How often ``key`` was counted in the current window, this time included."""
    cache.add(key, 0, _window())
    try:
        return cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.set(key, 1, _window())
        return 1


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def password_reset_request(*, email: str, address: str) -> None:
    """Send a reset link to ``email`` if it is an active account's; say nothing either
    way. ``address``: the client's address as the sign-in lock-out sees it."""
    email = (email or "").strip().lower()
    per_address = _count(f"password-reset:address:{address}")
    per_email = _count(f"password-reset:email:{_digest(email)}:{address}")
    if per_address > settings.AXES_IP_FAILURE_LIMIT or per_email > settings.AXES_FAILURE_LIMIT:
        raise TooManyResetRequests(_("Too many requests for a new password. Try again in 15 minutes."))
    user = User.objects.filter(email__iexact=email, is_active=True).first()
    if user is None or not user.has_usable_password():
        return
    if _count(f"password-reset:user:{user.pk}") > RESET_EMAILS_PER_USER:
        return
    with transaction.atomic():
        hooks.send_email(
            kind=RESET_KIND,
            recipient=user.email,
            language=user.language,
            dedupe_key=f"{RESET_KIND}:{user.pk}:{uuid.uuid4().hex}",
            context={"user_id": user.pk},
        )


def password_reset_path(user: User) -> str:
    """The path of a new reset link for ``user`` (a token of this moment)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return reverse("accounts:password_reset_confirm", kwargs={"uidb64": uid, "token": token})


def password_reset_email_context(context: dict) -> dict:
    """What the reset e-mail's templates need, made as it is rendered: the link (for a
    user who is no longer active, the page to ask again, which sends nothing)."""
    user = User.objects.filter(pk=context.get("user_id"), is_active=True).first()
    path = password_reset_path(user) if user is not None else reverse("accounts:password_reset")
    minutes = settings.PASSWORD_RESET_TIMEOUT // 60
    return {"reset_url": f"{settings.PORTAL_BASE_URL}{path}", "valid_minutes": minutes}
