"""With PostgreSQL unreachable, pages and the API answer a clean 503 quickly and
/healthz says so. Run in a subprocess whose DATABASE_URL points at a closed port on
127.0.0.1 (the settings are read once per process)."""

import json
import subprocess
import textwrap

from .conftest import PYTHON, ROOT

SCRIPT = textwrap.dedent(
    """
    import json, time
    import django
    django.setup()
    from django.conf import settings
    from django.test import Client

    def call(method, path, **extra):
        client = Client(raise_request_exception=False, HTTP_HOST="example.com")
        if extra.pop("signed_in", False):
            client.cookies[settings.SESSION_COOKIE_NAME] = "a" * 32
        started = time.monotonic()
        response = getattr(client, method)(path, secure=True, **extra)
        return {
            "status": response.status_code,
            "seconds": time.monotonic() - started,
            "body": response.content.decode(),
            "type": response.get("Content-Type", ""),
            "retry": response.get("Retry-After"),
        }

    out = {
        "engine": settings.DATABASES["default"]["ENGINE"],
        "timeout": settings.DATABASES["default"]["OPTIONS"]["connect_timeout"],
        "page": call("get", "/invoices/", signed_in=True),
        "page_nl": call("get", "/invoices/", signed_in=True, HTTP_ACCEPT_LANGUAGE="nl"),
        "sign_in": call("post", "/sign-in/", data={"username": "a@example.com", "password": "x"}),
        "api": call("get", "/api/v1/me/", HTTP_AUTHORIZATION="Token " + "0" * 40),
        "health": call("get", "/healthz"),
    }
    print("RESULT" + json.dumps(out))
    """
)


def test_unreachable_database_answers_503(production_env):
    env = {
        **production_env,
        "DATABASE_URL": "postgres://postgres@127.0.0.1:1/portal",
        "DB_CONNECT_TIMEOUT": "3",
    }
    result = subprocess.run([PYTHON, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.split("RESULT", 1)[1])
    assert out["engine"].endswith("postgresql") and out["timeout"] == 3
    for key in ("page", "page_nl", "sign_in", "api", "health"):
        assert out[key]["status"] == 503, (key, out[key]["status"], out[key]["body"][:500])
        assert out[key]["seconds"] < out["timeout"], key
    assert "Temporarily unavailable" in out["page"]["body"] and out["page"]["retry"]
    assert "Tijdelijk niet beschikbaar" in out["page_nl"]["body"]
    assert "Temporarily unavailable" in out["sign_in"]["body"]
    api = json.loads(out["api"]["body"])
    assert out["api"]["type"].startswith("application/json")
    assert api["code"] == "database_unavailable" and api["detail"] and api["fields"] == {}
    health = json.loads(out["health"]["body"])
    assert health["status"] == "unavailable" and health["checks"]["database"] == "unreachable"
