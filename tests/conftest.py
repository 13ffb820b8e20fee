"""Shared fixtures.

* ``clock``: set the portal's time (``clock.set(datetime)``, ``clock.advance(days=8)``).
* ``demo``: the demo personas of accounts.demo (users, accounts, profiles, subscriptions).
* ``client_for(user)`` / ``api_for(user)``: a signed-in web client / DRF API client.
* ``private_postgres`` / ``private_database``: a PostgreSQL server of the session alone, to
  stop like a crash and start again (fault tests; tests/private_postgres.py).
* ``localstripe`` / ``stripe_settings``: a local Stripe API server (tests/localstripe.py).
* ``moto_s3`` / ``s3_bucket``: moto's S3 server and a bucket holding the documents (tests/s3.py).
Sign in with ``force_login``: django-axes needs a request for password sign-ins. A user
who must use two-factor sign-in (support staff, staff, superusers) is signed in with a
verified authenticator app (``tests.factories.sign_in_with_verified_device``); enforcement
stays on, so ``client.force_login`` alone leaves such a user at the set-up step.
On-commit work (Celery tasks) runs in tests through
``django_capture_on_commit_callbacks(execute=True)``.

Every e-mail sent during the session (``django.core.mail.outbox`` is emptied before each
test; Celery runs eagerly, so its e-mails land there too) is kept in ``SENT_MAIL``; at
the end of the session they are scanned for card numbers, and a hit fails the run.
"""

import datetime as dt
import itertools
import os

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from billing_portal import clock as portal_clock
from tests.private_postgres import PrivatePostgres, postgres_bin_dir
from tests.private_postgres import unavailable_reason as private_postgres_unavailable

# localstripe for the Stripe adapter's tests (tests/localstripe.py), moto's S3 server for
# documents in object storage (tests/s3.py).
pytest_plugins = ["tests.localstripe", "tests.s3"]

SENT_MAIL: list = []


@pytest.fixture(autouse=True)
def _collect_sent_mail():
    yield
    from django.core import mail

    SENT_MAIL.extend(getattr(mail, "outbox", []))


def mail_text(message) -> str:
    parts = [message.subject, message.body, *(str(a[0]) for a in getattr(message, "alternatives", []))]
    return "\n".join([*parts, " ".join(message.to)])


def pytest_sessionfinish(session, exitstatus):
    """The portal never mails a card number: no e-mail of the session holds one."""
    from tests.payments.conftest import luhn_hits

    hits = [(m.subject, hit) for m in SENT_MAIL for hit in luhn_hits(mail_text(m))]
    if hits:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"card numbers in {len(hits)} e-mail(s) sent during the tests:", red=True)
            for subject, _hit in hits:
                reporter.write_line(f"  {subject}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


class Clock:
    def __init__(self, monkeypatch):
        self._now = timezone.now()
        monkeypatch.setattr(portal_clock, "now", lambda: self._now)

    def set(self, value: dt.datetime):
        if timezone.is_naive(value):
            value = timezone.make_aware(value, dt.UTC)
        self._now = value
        return self._now

    def advance(self, **delta):
        self._now = self._now + dt.timedelta(**delta)
        return self._now

    def now(self):
        return self._now


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


@pytest.fixture
def demo(db):
    from accounts import demo as accounts_demo

    return accounts_demo.seed()


@pytest.fixture
def client_for(client):
    from django.test import Client

    from accounts.permissions import must_use_two_factor
    from tests.factories import sign_in_with_verified_device

    def make(user):
        c = Client()
        if user is not None and must_use_two_factor(user):
            sign_in_with_verified_device(c, user)
        elif user is not None:
            c.force_login(user)
        return c

    return make


@pytest.fixture
def api_for():
    def make(user):
        c = APIClient()
        if user is not None:
            c.force_authenticate(user)
        return c

    return make


def pytest_collection_modifyitems(config, items):
    """Skip tests whose service is not configured, except in CI, where they must run."""
    in_ci = os.environ.get("CI") == "true"
    from django.conf import settings

    is_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    has_redis = bool(os.environ.get("REDIS_URL"))
    for item in items:
        if "postgres" in item.keywords and not is_postgres:
            if in_ci:
                raise pytest.UsageError("CI must run the PostgreSQL tests: set DATABASE_URL")
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)"))
        if "redis" in item.keywords and not has_redis:
            if in_ci:
                raise pytest.UsageError("CI must run the Redis tests: set REDIS_URL")
            item.add_marker(pytest.mark.skip(reason="needs Redis (set REDIS_URL)"))


# --- A private PostgreSQL server for fault tests (tests/private_postgres.py) -----------------------

_private_databases = itertools.count(1)


@pytest.fixture(scope="session")
def private_postgres():
    """A PostgreSQL server of this test session alone, on its own port, with a migrated
    template database: tests may stop it like a crash (``stop_immediate()``) and
    ``start()`` it again. Never the machine's own server. Skipped without the server
    binaries, except in CI, where the fault tests must run."""
    reason = private_postgres_unavailable()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the database fault tests: the private PostgreSQL server {reason}")
        pytest.skip(f"the private PostgreSQL server {reason}")
    instance = PrivatePostgres.create(postgres_bin_dir())
    try:
        instance.start()
        instance.make_template()
        yield instance
    finally:
        instance.destroy()


@pytest.fixture
def private_database(private_postgres) -> str:
    """The URL of a new database on the private server (the server running), cloned from
    the migrated template."""
    private_postgres.ensure_running()
    return private_postgres.fresh_database(f"portal_{next(_private_databases)}")
