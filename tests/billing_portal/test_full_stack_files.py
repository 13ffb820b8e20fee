"""docker-compose.yml starts the full stack through the same variables as the README."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_compose_has_the_full_stack():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "web", "worker", "beat", "mailcatcher"}
    assert "gunicorn --access-logfile -" in services["web"]["command"]  # the rest: gunicorn.conf.py
    assert "migrate" in services["web"]["command"]
    assert "-Q default,billing,pdf,email" in services["worker"]["command"]
    assert services["beat"]["command"].startswith("celery -A billing_portal beat")
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["PORTAL_MODE"] == "production"
        assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in env["DATABASE_URL"]
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        assert env["EMAIL_HOST"] == "mailcatcher"
        # No usable default key: compose refuses to start without SECRET_KEY.
        assert env["SECRET_KEY"].startswith("${SECRET_KEY:?") and env["SECRET_KEY"].endswith("}")
        assert services[name]["user"] == "portal"
    assert "healthz" in str(services["web"]["healthcheck"]["test"])


def test_image_installs_the_runtime_requirements_only():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11" in dockerfile
    assert "pip install --no-cache-dir --require-hashes -r requirements.txt" in dockerfile
    # The image runs as the unprivileged portal user, after collectstatic (run as root).
    assert "useradd" in dockerfile and " portal" in dockerfile
    lines = [line.strip() for line in dockerfile.splitlines()]
    user_line = lines.index("USER portal")
    assert user_line > max(i for i, line in enumerate(lines) if "collectstatic" in line)
    assert not [line for line in lines[user_line:] if line.startswith("USER ") and line != "USER portal"]
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".git", "db.sqlite3*"} <= set(ignored)


def test_every_web_start_uses_the_threaded_gunicorn_config():
    """gunicorn.conf.py is the one place of the web process's settings: the image and
    compose start plain ``gunicorn`` in the directory that holds it."""
    config: dict = {}
    exec((ROOT / "gunicorn.conf.py").read_text(), config)  # noqa: S102 - the repository's own file
    assert config["wsgi_app"] == "billing_portal.wsgi:application"
    assert config["worker_class"] == "gthread" and config["threads"] >= 2 and config["workers"] >= 2
    assert config["control_socket_disable"] is True  # no gunicornc socket in the container
    assert 'CMD ["gunicorn"]' in (ROOT / "Dockerfile").read_text()
    assert "WORKDIR /app" in (ROOT / "Dockerfile").read_text()


@pytest.mark.skipif(
    not shutil.which("docker-compose") and not os.environ.get("CI"), reason="docker-compose is not installed"
)
def test_compose_file_is_what_docker_compose_reads():
    """``docker-compose config`` (CI installs it) checks the file as compose reads it."""
    env = {**os.environ, "SECRET_KEY": "compose-config-check-only"}
    result = subprocess.run(
        ["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
