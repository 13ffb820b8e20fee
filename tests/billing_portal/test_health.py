"""/healthz: 200 when the database and the broker answer (the document storage too:
tests/billing_portal/test_object_storage.py), 503 otherwise."""

import socket
import threading

import pytest
from django.db import OperationalError, connection

pytestmark = pytest.mark.django_db


def test_healthy_with_embedded_broker(client, settings):
    settings.CELERY_BROKER_URL = "memory://"
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "embedded", "storage": "local"}}
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens here once the socket is closed


def test_503_when_the_broker_refuses_connections(client, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "broker": "unreachable", "storage": "local"},
    }


def test_503_when_the_broker_accepts_but_never_answers(client, settings):
    """A hung broker must not hang the probe: the check gives up after its timeout."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    accepted = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _addr = server.accept()
                accepted.append(conn)  # keep it open, say nothing
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{server.getsockname()[1]}/0"
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json()["checks"]["broker"] == "unreachable"
        assert accepted, "the check did reach the silent broker"
    finally:
        stop.set()
        thread.join(2)
        for conn in accepted:
            conn.close()
        server.close()


def test_503_when_a_non_redis_broker_is_unreachable(client, settings):
    from billing_portal.celery import app
    from billing_portal.queue import using_broker

    url = f"amqp://guest:guest@127.0.0.1:{_closed_port()}//"
    # Entered before the setting changes: Celery's addresses of before are the ones restored
    # (read after it, the write address would already be this one and would stay).
    with using_broker(url, eager=app.conf.task_always_eager):
        settings.CELERY_BROKER_URL = url
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == "unreachable"


def test_503_when_the_database_is_unreachable(client, settings, monkeypatch):
    settings.CELERY_BROKER_URL = "memory://"

    def broken_cursor(*args, **kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "unreachable", "broker": "embedded", "storage": "local"},
    }


@pytest.mark.redis
def test_200_with_the_real_redis_broker(client, settings):
    import os

    settings.CELERY_BROKER_URL = os.environ["REDIS_URL"]
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "ok", "storage": "local"}
