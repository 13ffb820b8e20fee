"""Only final answers are kept for an Idempotency-Key: a transient 409
(``payment_in_progress``, ``idempotency_in_progress``) releases the record, so a retry
with the same key runs again and learns how the payment ended."""

import pytest

from billing_portal.errors import Conflict
from payments import services
from payments.models import IdempotencyRecord, Payment
from payments.services import idempotency
from tests.factories import UserFactory

from .test_idempotency import KEY, _post, payer  # noqa: F401
from .test_idempotency_records import Work, _once

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("code", sorted(idempotency.TRANSIENT_CODES))
def test_a_transient_409_is_not_kept_and_the_retry_runs_again(code):
    user = UserFactory()
    busy = Work(409, {"code": code, "detail": "Busy.", "fields": {}})
    first = _once(user, busy)
    assert (first.status_code, first.replayed) == (409, False)
    assert not IdempotencyRecord.objects.filter(user=user, key="k-1").exists()
    done = Work(201, {"id": 7})
    again = _once(user, done)
    assert (again.status_code, again.body, again.replayed) == (201, {"id": 7}, False)
    assert done.calls == 1
    assert _once(user, Work(201, {"id": 8})).replayed  # the final answer is kept


def test_a_final_409_is_still_kept():
    user = UserFactory()
    _once(user, Work(409, {"code": "invoice_paid", "detail": "Paid.", "fields": {}}))
    replay = _once(user, Work(201, {"id": 1}))
    assert (replay.status_code, replay.replayed) == (409, True)


def test_pay_retry_after_payment_in_progress_learns_the_outcome(payer, monkeypatch):  # noqa: F811
    api, invoice, card, _admin = payer

    def busy(**kwargs):
        raise Conflict("A payment of this invoice is already being processed.", code="payment_in_progress")

    with monkeypatch.context() as m:
        m.setattr(services, "invoice_pay", busy)
        first = _post(api, invoice, card)
    assert first.status_code == 409 and first.json()["code"] == "payment_in_progress"
    assert not IdempotencyRecord.objects.filter(key=KEY).exists()
    retry = _post(api, invoice, card)
    assert retry.status_code == 201, retry.json()
    assert "Idempotent-Replayed" not in retry
    assert Payment.objects.filter(invoice=invoice).count() == 1
    replay = _post(api, invoice, card)
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
