"""Publishing Celery tasks from services.

Tasks import services (a task is a thin wrapper that calls one service); services never
import tasks. A service that needs work done later publishes the task by its registered
name (the ``name=`` of its ``@shared_task``), after its transaction commits. Every app
imports its own ``tasks`` module in ``AppConfig.ready()``, so the name is known in
every process, and ``delay`` keeps its meaning (eager mode in tests included).

Publishing never fails or stalls a request. The work is always recorded in the database
first (a notification row, a billing chunk, a revision without a PDF, an invoice not yet
charged); the message only says "do it now". So a publish that fails — the broker is down
or does not answer within the connect timeout (settings: no publish retry, a short
connect timeout) — is logged and left to the sweeper, which publishes again what is
still undone. After one failure the process stops trying for ``BROKER_BACKOFF_SECONDS``,
so a request that would publish several messages waits for at most one timeout.

Large work is published as a list of ids in one message (a billing chunk's PDFs,
e-mails, charges), never one message per item; the task does each item with ``each``.
"""

import logging
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager

from celery.exceptions import SoftTimeLimitExceeded
from django.db import InterfaceError, OperationalError, transaction
from kombu import pools

from billing_portal.celery import app

logger = logging.getLogger(__name__)

BROKER_BACKOFF_SECONDS = 10.0
_broker_down_until = 0.0


def broker_marked_down() -> bool:
    return time.monotonic() < _broker_down_until


def _shown(args) -> str:
    """The arguments for a log line; a list of ids (a chunk's work) by its size and ends."""
    return ", ".join(
        f"[{len(a)} ids: {a[0]}..{a[-1]}]" if isinstance(a, list) and len(a) > 3 else repr(a) for a in args
    )


def publish(name: str, *args) -> bool:
    """Send the task called ``name`` now. Returns False (and logs) when the broker could
    not take it; the sweeper will publish it again."""
    global _broker_down_until
    task = app.tasks[name]
    if app.conf.task_always_eager:
        task.apply_async(args)  # runs here; its errors are the caller's (tests)
        return True
    if broker_marked_down():
        logger.warning("broker unavailable, not publishing %s(%s): left to the sweeper", name, _shown(args))
        return False
    try:
        # argsrepr given: Celery would otherwise build a safe repr of a chunk's 500 ids
        # for the message header on every publish. ignore_result: nothing waits for a
        # published task's result (its work is in the database), so the publisher does
        # not subscribe to the result (two more round trips to Redis, a third of the
        # publish's CPU) and the worker stores none.
        task.apply_async(args, retry=False, ignore_result=True, argsrepr=f"({_shown(args)})")
    except Exception as exc:  # noqa: BLE001 - kombu and redis raise many kinds; none may reach the request
        _broker_down_until = time.monotonic() + BROKER_BACKOFF_SECONDS
        logger.warning(
            "could not publish %s(%s) (%s: %s): left to the sweeper", name, _shown(args), type(exc).__name__, exc
        )
        return False
    return True


def publish_on_commit(name: str, *args) -> None:
    """Send the task called ``name`` once the current transaction commits (at once
    outside a transaction)."""
    transaction.on_commit(lambda: publish(name, *args))


def reset() -> None:
    """Forget an earlier broker failure (the broker is back; tests)."""
    global _broker_down_until
    _broker_down_until = 0.0


def use_broker(url: str, *, eager: bool) -> None:
    """Point this process's Celery app at the broker ``url`` (read and write), eager or
    not (tests and benchmarks). kombu's pools are closed and Celery's references to them
    dropped, as Celery does after a fork: a producer pool kept across the switch is closed
    and every later publish would fail ("Acquire on closed pool")."""
    app.conf.broker_url = app.conf.broker_write_url = app.conf.broker_read_url = url
    # The Django settings carry CELERY_TASK_ALWAYS_EAGER; the namespaced key wins.
    app.conf.update(task_always_eager=eager, CELERY_TASK_ALWAYS_EAGER=eager)
    pools.reset()  # kombu's connection and producer pools, keyed by broker address
    app._pool = None
    app.amqp._producer_pool = None
    reset()


@contextmanager
def using_broker(url: str, *, eager: bool):
    """``use_broker`` for the block; the broker addresses and eager mode of before are
    restored after it."""
    conf = app.conf
    saved = conf.broker_url, conf.broker_write_url, conf.broker_read_url, conf.task_always_eager
    use_broker(url, eager=eager)
    try:
        yield
    finally:
        use_broker(saved[0], eager=saved[3])
        conf.broker_write_url, conf.broker_read_url = saved[1], saved[2]


# Failures that are not the item's: every other item would meet them too (the database
# is gone, the task's time is up), so the list stops at once and the task retries later.
STOPS_THE_LIST = (OperationalError, InterfaceError, SoftTimeLimitExceeded)


def each(work: Callable[..., object], ids: Iterable[int], *, key: str) -> int:
    """The body of a task that takes a list of ids: ``work(**{key: id})`` for every id,
    each on its own, so that one that fails does not stop the others. Returns how many
    answered truthy (did something now). The first failure is raised once all were
    tried, so that the task retries; the work is idempotent, and what is done is skipped
    on the retry. A failure that is not the item's (``STOPS_THE_LIST``) is raised at once."""
    done, failure = 0, None
    for pk in ids:
        try:
            done += bool(work(**{key: pk}))
        except STOPS_THE_LIST:
            raise
        except Exception as exc:  # noqa: BLE001 - logged, raised below after the others
            logger.exception("%s(%s=%s) failed", work.__name__, key, pk)
            failure = failure or exc
    if failure is not None:
        raise failure
    return done
