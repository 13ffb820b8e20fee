"""The Idempotency-Key state machine (payments.services.idempotency) on its own: a new key
runs the work once and keeps the answer, a repeat replays it, another request with the
same key is refused, a record in progress is refused inside its lease and taken over
after it, and work that raised leaves no record."""

import hashlib
import json

import pytest
from django.db import transaction

from billing_portal.errors import InvalidInput
from payments.models import IdempotencyRecord
from payments.services import idempotency
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


class Work:
    """An answer that counts how often it ran."""

    def __init__(self, status_code=201, body=None):
        self.calls = 0
        self.status_code, self.body = status_code, body or {"id": 1}

    def __call__(self):
        self.calls += 1
        return self.status_code, self.body


def _once(user, work, *, key="k-1", fingerprint="fp"):
    return idempotency.answer_once(user=user, key=key, fingerprint=fingerprint, answer=lambda _keep: work())


def _leave_in_progress(user, *, key="k-1", fingerprint="fp"):
    """A first request whose process died: the record stays in progress."""

    class ProcessDied(BaseException):
        pass

    def dying():
        raise ProcessDied

    with pytest.raises(ProcessDied):
        _once(user, dying, key=key, fingerprint=fingerprint)
    assert not IdempotencyRecord.objects.get(user=user, key=key).completed


def test_a_new_key_runs_the_work_once_and_a_repeat_replays_its_answer():
    user = UserFactory()
    work = Work(202, {"status": "pending"})
    first = _once(user, work)
    assert (first.status_code, first.body, first.replayed) == (202, {"status": "pending"}, False)
    record = IdempotencyRecord.objects.get(user=user, key="k-1")
    assert record.completed and record.status_code == 202
    again = _once(user, Work(201, {"status": "succeeded"}))
    assert (again.status_code, again.body, again.replayed) == (202, {"status": "pending"}, True)
    assert work.calls == 1


def test_the_same_key_with_another_request_is_refused_and_keys_are_per_user():
    user = UserFactory()
    _once(user, Work())
    with pytest.raises(idempotency.IdempotencyKeyReused) as refused:
        _once(user, Work(), fingerprint="other")
    assert refused.value.status_code == 422 and refused.value.code == "idempotency_key_reused"
    other_user_work = Work()
    assert not _once(UserFactory(), other_user_work, fingerprint="other").replayed
    assert other_user_work.calls == 1


def test_a_record_in_progress_is_refused_inside_the_lease_then_taken_over(clock):
    user = UserFactory()
    _leave_in_progress(user)
    clock.advance(seconds=30)
    with pytest.raises(idempotency.IdempotencyInProgress) as busy:
        _once(user, Work())
    assert busy.value.status_code == 409 and busy.value.code == "idempotency_in_progress"
    assert busy.value.retry_after == 90
    clock.advance(seconds=idempotency.IDEMPOTENCY_LEASE.total_seconds())
    work = Work()
    taken = _once(user, work)
    assert not taken.replayed and work.calls == 1
    assert IdempotencyRecord.objects.get(user=user, key="k-1").completed


def test_a_stale_record_with_another_request_stays_refused(clock):
    user = UserFactory()
    _leave_in_progress(user)
    clock.advance(minutes=10)
    with pytest.raises(idempotency.IdempotencyKeyReused):
        _once(user, Work(), fingerprint="other")
    assert not IdempotencyRecord.objects.get(user=user, key="k-1").completed


def test_only_one_repeat_takes_a_stale_record_over(clock):
    user = UserFactory()
    _leave_in_progress(user)
    clock.advance(minutes=5)
    seen = []

    def work_while_another_repeat_arrives():
        with pytest.raises(idempotency.IdempotencyInProgress) as busy:
            _once(user, Work())
        seen.append(busy.value.retry_after)
        return 201, {"id": 1}

    assert _once(user, work_while_another_repeat_arrives).status_code == 201
    assert seen == [120]


def test_an_answer_the_work_keeps_in_its_own_transaction_commits_with_its_writes():
    user = UserFactory()

    def work(keep):
        with transaction.atomic():
            keep(201, {"id": 1})
            assert IdempotencyRecord.objects.get(user=user, key="k-1").completed
        return 201, {"id": 1}

    first = idempotency.answer_once(user=user, key="k-1", fingerprint="fp", answer=work)
    assert (first.status_code, first.replayed) == (201, False)
    assert _once(user, Work(202, {"id": 2})).replayed

    def work_rolled_back(keep):
        with transaction.atomic():
            keep(201, {"id": 3})
            raise RuntimeError("the settlement failed")

    with pytest.raises(RuntimeError):
        idempotency.answer_once(user=user, key="k-2", fingerprint="fp", answer=work_rolled_back)
    assert not IdempotencyRecord.objects.filter(user=user, key="k-2").exists()


def test_work_that_raises_leaves_no_record_so_the_key_can_be_used_again():
    user = UserFactory()

    def failing():
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        _once(user, failing)
    assert not IdempotencyRecord.objects.filter(user=user).exists()
    assert not _once(user, Work()).replayed


@pytest.mark.parametrize("raw", [None, "", "   ", "x" * 201])
def test_a_key_is_1_to_200_characters(raw):
    with pytest.raises(InvalidInput) as refused:
        idempotency.clean_key(raw)
    assert refused.value.code == "idempotency_key_required" and "Idempotency-Key" in refused.value.fields


def test_a_key_is_trimmed():
    assert idempotency.clean_key("  abc ") == "abc"
    assert idempotency.clean_key("x" * 200) == "x" * 200


def test_the_fingerprint_is_keyed_and_tells_requests_apart():
    body = {"payment_method": 7}
    fingerprint = idempotency.request_fingerprint(invoice_id=1, data=body)
    assert fingerprint == idempotency.request_fingerprint(invoice_id=1, data={"payment_method": 7})
    assert fingerprint != idempotency.request_fingerprint(invoice_id=2, data=body)
    assert fingerprint != idempotency.request_fingerprint(invoice_id=1, data={"payment_method": 8})
    plain = hashlib.sha256(f"POST 1 {json.dumps(body, sort_keys=True)}".encode()).hexdigest()
    assert fingerprint != plain


def test_the_payment_request_key_names_the_user_and_hides_the_key():
    user = UserFactory()
    request_key = idempotency.api_request_key(user, "secret-key")
    assert request_key.startswith(f"api:{user.pk}:") and "secret-key" not in request_key
    assert request_key != idempotency.api_request_key(UserFactory(), "secret-key")
