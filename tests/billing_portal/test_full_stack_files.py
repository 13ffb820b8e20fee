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
    assert set(services) == {"postgres", "redis", "bucket", "bucket-init", "web", "worker", "beat", "mailcatcher"}
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


def test_compose_keeps_the_documents_in_its_bucket():
    """The bucket server (S3-compatible), a one-shot service that makes the private bucket
    and the portal's key before the portal starts, and STORAGE_BACKEND=s3 in every portal
    container; the secrets have no defaults."""
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    bucket, init = services["bucket"], services["bucket-init"]
    assert bucket["image"].startswith("minio/minio:RELEASE.") and "ports" not in bucket
    assert bucket["command"] == "server /data" and "bucketdata:/data" in bucket["volumes"]
    assert "ready" in bucket["healthcheck"]["test"]
    assert init["image"].startswith("minio/mc:RELEASE.")
    assert init["depends_on"] == {"bucket": {"condition": "service_healthy"}}
    script = "\n".join(init["command"])
    for step in ("mc mb --ignore-existing bucket/portal-documents", "mc anonymous set none", "mc admin user add"):
        assert step in script
    assert '"s3:GetObject", "s3:PutObject"' in script and "s3:DeleteObject" not in script
    for secret in (bucket["environment"]["MINIO_ROOT_PASSWORD"], init["environment"]["STORAGE_S3_SECRET_ACCESS_KEY"]):
        assert secret.startswith("${") and ":?" in secret
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["STORAGE_BACKEND"] == "s3"
        assert env["STORAGE_S3_BUCKET"] == "portal-documents"
        assert env["STORAGE_S3_ENDPOINT_URL"] == "http://bucket:9000"
        assert env["STORAGE_S3_ADDRESSING_STYLE"] == "path"
        assert env["STORAGE_S3_ACCESS_KEY_ID"] == "portal"
        assert env["STORAGE_S3_SECRET_ACCESS_KEY"].startswith("${STORAGE_S3_SECRET_ACCESS_KEY:?")
        assert "MEDIA_ROOT" not in env and "volumes" not in services[name]
    assert services["web"]["depends_on"]["bucket-init"] == {"condition": "service_completed_successfully"}
    # The secrets may be kept in .env (compose reads it): never copied into the image, never committed.
    assert ".env" in (ROOT / ".dockerignore").read_text().split()
    assert ".env" in (ROOT / ".gitignore").read_text().split()


def test_compose_restarts_services_and_keeps_them_light():
    """Every long-running service comes back after a crash or a reboot (not after a stop);
    the one-shot bucket set-up does not run again. Memory limits on every service, two
    gunicorn workers and two Celery processes; health checks for the web and the worker."""
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    for name, service in services.items():
        assert service["restart"] == ("no" if name == "bucket-init" else "unless-stopped"), name
        assert service["mem_limit"].endswith("m") and int(service["mem_limit"][:-1]) <= 768, name
    assert services["web"]["environment"]["WEB_CONCURRENCY"] == "2"
    assert "--concurrency 2" in services["worker"]["command"]
    assert "inspect ping" in str(services["worker"]["healthcheck"]["test"])


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


SECRETS = ("SECRET_KEY", "MINIO_ROOT_PASSWORD", "STORAGE_S3_SECRET_ACCESS_KEY")
needs_docker_compose = pytest.mark.skipif(
    not shutil.which("docker-compose") and not os.environ.get("CI"), reason="docker-compose is not installed"
)


def _compose_config(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@needs_docker_compose
def test_compose_file_is_what_docker_compose_reads():
    """``docker-compose config`` (CI installs it) checks the file as compose reads it."""
    env = {**os.environ, **dict.fromkeys(SECRETS, "compose-config-check-only")}
    result = _compose_config(env)
    assert result.returncode == 0, result.stderr


@needs_docker_compose
@pytest.mark.parametrize("missing", SECRETS)
def test_compose_refuses_to_start_without_each_secret(missing):
    """No secret has a default: without any one of them compose refuses the file."""
    env = {k: v for k, v in os.environ.items() if k not in SECRETS}
    env.update({name: "compose-config-check-only" for name in SECRETS if name != missing})
    result = _compose_config(env)
    assert result.returncode != 0 and missing in result.stderr
