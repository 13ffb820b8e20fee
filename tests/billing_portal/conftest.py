import os
import secrets
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


@pytest.fixture
def production_env(tmp_path):
    """Environment for a subprocess in production mode, on a throw-away SQLite file and
    static folder, without the services of the developer's shell."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "REDIS_URL",
            "DJANGO_SETTINGS_MODULE",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
            "DEBUG",
            "PAYMENT_GATEWAY",
            "STORAGE_BACKEND",
        }
    }
    env.update(
        PORTAL_MODE="production",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="example.com",
        PAYMENT_GATEWAY="sandbox",
        SQLITE_PATH=str(tmp_path / "prod.sqlite3"),
        STATIC_ROOT=str(tmp_path / "static"),
        MEDIA_ROOT=str(tmp_path / "media"),
        DJANGO_SETTINGS_MODULE="billing_portal.settings",
        PYTHONPATH=str(ROOT),
    )
    return env
