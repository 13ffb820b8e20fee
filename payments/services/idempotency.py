"""``Idempotency-Key`` records of the pay API: the first answer to a request is kept and
replayed for a repeat of the same request; the same key with a different request is
refused.

A request holds its record for a lease (``IDEMPOTENCY_LEASE``). A repeat inside the
lease is refused as in progress (with the seconds left, for Retry-After); after it, the
first request is taken for dead (the process crashed mid-request) and the repeat takes
the record over (compare-and-set on the lease) and carries on. Taking over never charges
twice: the payment is tied to the key (``api_request_key``), so the repeat finds a
payment the first request made and answers with its current state.

The states of a record: created (in progress) → completed (answer kept). Only a final
answer is kept: an answer that raised, or a transient one (``TRANSIENT_CODES``: another
payment of the invoice is still running), deletes the record, so the client may retry
with the same key and learn the outcome.
"""

import datetime as dt
import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from billing_portal import clock
from billing_portal.db import insert_once
from billing_portal.errors import Conflict, DomainError, InvalidInput

from ..models import IdempotencyRecord

IDEMPOTENCY_LEASE = dt.timedelta(minutes=2)
KEY_MAX_LENGTH = 200
# Answers that say "not yet", not how the request ended: never kept for replay.
TRANSIENT_CODES = frozenset({"payment_in_progress", "idempotency_in_progress"})


class IdempotencyKeyReused(DomainError):
    """The key was used for a different request (another body or invoice)."""

    status_code = 422
    default_code = "idempotency_key_reused"


class IdempotencyInProgress(Conflict):
    """The first request with this key is still running (inside its lease)."""

    default_code = "idempotency_in_progress"

    def __init__(self, message, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Answer:
    """The answer to give: the first one (``replayed``) or the one just made."""

    status_code: int
    body: dict
    replayed: bool = False


def clean_key(raw) -> str:
    """The ``Idempotency-Key`` of a request: 1 to 200 characters."""
    key = (raw or "").strip()
    if not key or len(key) > KEY_MAX_LENGTH:
        raise InvalidInput(
            _("Send an Idempotency-Key header (1 to 200 characters)."),
            code="idempotency_key_required",
            fields={"Idempotency-Key": [_("Required.")]},
        )
    return key


def request_fingerprint(*, invoice_id, data) -> str:
    """Tells a repeat of the request from a different one. Keyed with the site's secret:
    whatever a client put in the body (a card number by mistake) cannot be recovered from
    the stored value by trying candidates."""
    body = json.dumps(data, sort_keys=True, default=str)
    return salted_hmac("payments.idempotency", f"POST {invoice_id} {body}", algorithm="sha256").hexdigest()


def api_request_key(user, key: str) -> str:
    """The payment's ``request_key`` for an API request: one payment per user and
    Idempotency-Key, whichever process (first request or a take-over) gets there."""
    return f"api:{user.pk}:{hashlib.sha256(key.encode()).hexdigest()}"


def _in_progress(record: IdempotencyRecord, now) -> IdempotencyInProgress:
    left = (record.leased_at + IDEMPOTENCY_LEASE - now).total_seconds()
    return IdempotencyInProgress(
        _("A request with this Idempotency-Key is still being processed."), retry_after=max(1, math.ceil(left))
    )


def _take_over(record: IdempotencyRecord, now) -> IdempotencyRecord:
    """Renew the lease of a stale record, unless another repeat did so first
    (compare-and-set on the lease we saw): then it is in progress, or completed."""
    taken = IdempotencyRecord.objects.filter(pk=record.pk, completed=False, leased_at=record.leased_at).update(
        leased_at=now
    )
    if taken:
        record.leased_at = now
        return record
    record.refresh_from_db()
    if not record.completed:
        raise _in_progress(record, now)
    return record


def _claim(*, user, key: str, fingerprint: str, may_answer) -> IdempotencyRecord:
    """The record this request works under: new, taken over, or completed (to replay)."""
    now = clock.now()
    record = IdempotencyRecord(user=user, key=key, fingerprint=fingerprint, created_at=now, leased_at=now)
    if insert_once(record, unique=("user", "key")):
        return record
    if may_answer is not None:
        may_answer()
    record = IdempotencyRecord.objects.get(user=user, key=key)
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused(_("This Idempotency-Key was used for a different request."))
    if record.completed:
        return record
    if now - record.leased_at < IDEMPOTENCY_LEASE:
        raise _in_progress(record, now)
    return _take_over(record, now)


def is_transient(status_code: int, body) -> bool:
    """Is this answer a "try again later" (409 with a TRANSIENT_CODES code)?"""
    return status_code == 409 and isinstance(body, dict) and body.get("code") in TRANSIENT_CODES


def answer_once(
    *,
    user,
    key: str,
    fingerprint: str,
    answer: Callable[[Callable[[int, dict], None]], tuple[int, dict]],
    may_answer: Callable | None = None,
) -> Answer:
    """Give the answer of the request ``fingerprint`` sent with ``key`` by ``user``: the
    first final answer if there was one, else ``answer(keep)`` (status code and body),
    kept for repeats unless it is transient (is_transient). The work may call
    ``keep(status_code, body)`` with its answer itself, in its own transaction (so that
    its writes and the kept answer commit together); otherwise the answer is kept once
    the work returns. Raises IdempotencyKeyReused or IdempotencyInProgress.
    ``may_answer`` runs before anything is said about a key used before (it raises if
    the caller may no longer see what the request is about)."""
    record = _claim(user=user, key=key, fingerprint=fingerprint, may_answer=may_answer)
    if record.completed:
        return Answer(record.status_code, record.body, replayed=True)
    kept = []

    def keep(status_code: int, body: dict) -> None:
        if not is_transient(status_code, body):
            _keep(record, status_code, body)
            kept.append(status_code)

    try:
        status_code, body = answer(keep)
    except Exception:
        # Nothing was kept: the client may retry with the same key (a payment made
        # meanwhile is found again through its request key).
        IdempotencyRecord.objects.filter(pk=record.pk, completed=False, leased_at=record.leased_at).delete()
        raise
    if kept:
        return Answer(status_code, body)
    if is_transient(status_code, body):
        IdempotencyRecord.objects.filter(pk=record.pk, completed=False, leased_at=record.leased_at).delete()
        return Answer(status_code, body)
    _keep(record, status_code, body)
    return Answer(status_code, body)


def _keep(record: IdempotencyRecord, status_code: int, body: dict) -> None:
    # The first answer is the one replayed (a slow original finishing after a take-over
    # does not overwrite it).
    IdempotencyRecord.objects.filter(pk=record.pk, completed=False).update(
        completed=True, status_code=status_code, body=body
    )
