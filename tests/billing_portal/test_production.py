"""Production mode, each in a subprocess (settings are read once per process)."""

import subprocess
import textwrap

from .conftest import PYTHON, ROOT


def _run(args, env, timeout=120):
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def test_check_deploy_is_clean_in_production_mode(production_env):
    result = _run([PYTHON, "manage.py", "check", "--deploy", "--fail-level", "DEBUG"], production_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_mode_requires_a_secret_key_and_hosts(production_env):
    env = {k: v for k, v in production_env.items() if k != "SECRET_KEY"}
    result = _run([PYTHON, "manage.py", "check"], env)
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr
    env = {k: v for k, v in production_env.items() if k != "ALLOWED_HOSTS"}
    result = _run([PYTHON, "manage.py", "check"], env)
    assert result.returncode != 0 and "ALLOWED_HOSTS must be set" in result.stderr


def test_production_mode_does_not_fall_back_on_the_sandbox_gateway(production_env):
    env = {k: v for k, v in production_env.items() if k != "PAYMENT_GATEWAY"}
    result = _run([PYTHON, "manage.py", "check"], env)
    assert result.returncode != 0 and "PAYMENT_GATEWAY must be set" in result.stderr
    # Chosen on purpose, the sandbox runs.
    result = _run([PYTHON, "manage.py", "check"], {**env, "PAYMENT_GATEWAY": "sandbox"})
    assert result.returncode == 0, result.stderr


def test_seed_demo_refused_in_production_mode(production_env, tmp_path):
    result = _run([PYTHON, "manage.py", "seed_demo"], production_env)
    assert result.returncode != 0
    assert "refuses to run in production mode" in result.stderr
    assert not (tmp_path / "prod.sqlite3").exists()  # refused before touching any database


SERVE_SCRIPT = textwrap.dedent(
    """
    import json, re
    import django
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    call_command("migrate", verbosity=0)
    # Same storage as production (hashed names + manifest); only the slow gzip/brotli
    # pass is skipped here to keep the test quick.
    settings.WHITENOISE_SKIP_COMPRESS_EXTENSIONS = ["css", "js", "map", "svg", "html", "txt", "json", "ttf", "eot", "woff", "png", "ico"]
    call_command("collectstatic", interactive=False, verbosity=0)
    from django.test import Client
    client = Client()
    out = {"debug": settings.DEBUG}
    page = client.get("/sign-in/", secure=True, HTTP_HOST="example.com")
    out["page_status"] = page.status_code
    html = page.content.decode()
    out["css"] = re.findall(r'href="(/static/[^"]+[.]css)"', html)
    css = client.get(out["css"][0], secure=True, HTTP_HOST="example.com") if out["css"] else None
    out["css_status"] = css.status_code if css else None
    out["css_type"] = css["Content-Type"] if css else None
    out["css_cache"] = css.get("Cache-Control") if css else None
    plain = client.get("/sign-in/", HTTP_HOST="example.com")
    out["http_status"], out["http_location"] = plain.status_code, plain.get("Location")
    health = client.get("/healthz", secure=True, HTTP_HOST="example.com")
    out["health"] = health.status_code
    out["hsts"] = page.get("Strict-Transport-Security")
    out["cookies_secure"] = all(c["secure"] for c in page.cookies.values())
    out["xfo"] = page.get("X-Frame-Options")
    out["bad_host"] = client.get("/sign-in/", secure=True, HTTP_HOST="evil.example").status_code
    out["missing"] = client.get("/no-such-page/", secure=True, HTTP_HOST="example.com").status_code
    out["missing_text"] = "Not found" in client.get("/no-such-page/", secure=True, HTTP_HOST="example.com").content.decode()
    print("RESULT" + json.dumps(out))
    """
)


def test_production_web_serves_pages_and_collected_static_files(production_env):
    """Whitenoise serves the hashed, compressed files that collectstatic made (as the
    Dockerfile does), pages link to them, and the secure settings are on."""
    result = _run([PYTHON, "-c", SERVE_SCRIPT], production_env, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    import json

    out = json.loads(result.stdout.split("RESULT", 1)[1])
    assert out["debug"] is False
    assert out["page_status"] == 200
    assert out["css"] and out["css"][0] != "/static/css/portal.css"  # hashed name from the manifest
    assert out["css_status"] == 200 and out["css_type"].startswith("text/css")
    assert "immutable" in out["css_cache"]
    assert out["http_status"] == 301 and out["http_location"].startswith("https://")
    assert out["health"] == 200
    assert out["hsts"].startswith("max-age=31536000")
    assert out["cookies_secure"] is True
    assert out["xfo"] == "DENY"
    assert out["bad_host"] == 400
    assert out["missing"] == 404 and out["missing_text"]


def test_dockerfile_collects_static_files_in_production_mode():
    dockerfile = (ROOT / "Dockerfile").read_text()
    collect = [line for line in dockerfile.splitlines() if "collectstatic" in line]
    assert collect, "the image must collect static files"
    start = dockerfile.index("PORTAL_MODE=production")
    run = dockerfile[start : dockerfile.index("manage.py collectstatic", start)]
    assert "SECRET_KEY=" in run and "ALLOWED_HOSTS=" in run and "PAYMENT_GATEWAY=" in run


def test_openapi_schema_is_valid(production_env):
    """The whole schema validates as OpenAPI 3 (errors fail; warnings of the accounts
    endpoints fail too)."""
    env = {**production_env, "PORTAL_MODE": "development"}
    result = _run([PYTHON, "manage.py", "spectacular", "--validate", "--file", "/dev/null"], env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    import re

    # The summary is printed only when something was found; errors must be none.
    assert all(int(n) == 0 for n in re.findall(r"Errors:\s+(\d+)", output)), output
    assert not [line for line in output.splitlines() if line.startswith("Error")], output
    names = (
        "accounts",
        "MeView",
        "BillingAccount",
        "BillingProfile",
        "Subscription",
        "ObtainToken",
        "ApiToken",
        "Member",
        "Invitation",
    )
    for name in (*names, "RoleEnum", "RolesEnum"):
        assert not [line for line in output.splitlines() if line.startswith(("Warning", "Error")) and name in line]


def test_production_mode_refuses_stripe_without_its_keys(production_env):
    env = {k: v for k, v in production_env.items() if not k.startswith("STRIPE_")}
    env["PAYMENT_GATEWAY"] = "stripe"
    result = _run([PYTHON, "manage.py", "check"], {**env, "STRIPE_SECRET_KEY": "sk_live_x"})
    assert result.returncode != 0
    assert "STRIPE_PUBLISHABLE_KEY, STRIPE_WEBHOOK_SECRET" in result.stderr
    keys = {"STRIPE_SECRET_KEY": "sk_live_x", "STRIPE_PUBLISHABLE_KEY": "pk_live_x", "STRIPE_WEBHOOK_SECRET": "whsec_x"}
    result = _run([PYTHON, "manage.py", "check"], {**env, **keys})
    assert result.returncode == 0, result.stderr
