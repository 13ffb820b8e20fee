"""Where documents are kept, from the environment (billing_portal/storage_settings.py):
files under MEDIA_ROOT by default, a private S3 bucket with ``STORAGE_BACKEND=s3``, which
refuses to start without its bucket (production mode included) or with a malformed
variable; the S3 client's timeouts and attempts come from the variables."""

import subprocess

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import default_storage, storages

from billing_portal import storage_settings
from billing_portal.s3_storage import DocumentStorage

from .conftest import PYTHON, ROOT

S3_VARIABLES = (
    "STORAGE_BACKEND",
    "STORAGE_S3_BUCKET",
    "STORAGE_S3_ENDPOINT_URL",
    "STORAGE_S3_REGION",
    "STORAGE_S3_ACCESS_KEY_ID",
    "STORAGE_S3_SECRET_ACCESS_KEY",
    "STORAGE_S3_PREFIX",
    "STORAGE_S3_ADDRESSING_STYLE",
    "STORAGE_S3_CONNECT_TIMEOUT",
    "STORAGE_S3_READ_TIMEOUT",
    "STORAGE_S3_MAX_ATTEMPTS",
)


@pytest.fixture
def environ(monkeypatch):
    for name in S3_VARIABLES:
        monkeypatch.delenv(name, raising=False)

    def set_(**variables):
        for name, value in variables.items():
            monkeypatch.setenv(name, value)

    return set_


def test_local_files_are_the_default(environ):
    assert storage_settings.storage_backend() == "local"
    assert storage_settings.document_storage() == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    environ(STORAGE_BACKEND="LOCAL")
    assert storage_settings.document_storage()["BACKEND"] == "django.core.files.storage.FileSystemStorage"


def test_s3_options_from_the_environment(environ):
    environ(
        STORAGE_BACKEND="s3",
        STORAGE_S3_BUCKET="portal-docs",
        STORAGE_S3_ENDPOINT_URL="https://s3.example.net",
        STORAGE_S3_REGION="eu-central-1",
        STORAGE_S3_ACCESS_KEY_ID="key-id",
        STORAGE_S3_SECRET_ACCESS_KEY="key-secret",
        STORAGE_S3_PREFIX="/billing/",
        STORAGE_S3_ADDRESSING_STYLE="virtual",
        STORAGE_S3_CONNECT_TIMEOUT="3",
        STORAGE_S3_READ_TIMEOUT="7",
        STORAGE_S3_MAX_ATTEMPTS="1",
    )
    assert storage_settings.document_storage() == {
        "BACKEND": "billing_portal.s3_storage.DocumentStorage",
        "OPTIONS": {
            "bucket_name": "portal-docs",
            "endpoint_url": "https://s3.example.net",
            "region_name": "eu-central-1",
            "access_key": "key-id",
            "secret_key": "key-secret",
            "location": "billing",
            "addressing_style": "virtual",
            "connect_timeout": 3,
            "read_timeout": 7,
            "max_attempts": 1,
        },
    }


def test_without_keys_boto3_finds_its_own_and_auto_addressing_is_boto3s(environ):
    environ(STORAGE_BACKEND="s3", STORAGE_S3_BUCKET="portal-docs")
    options = storage_settings.document_storage()["OPTIONS"]
    assert "access_key" not in options and "secret_key" not in options and "endpoint_url" not in options
    assert options["addressing_style"] is None and options["location"] == ""
    assert (options["connect_timeout"], options["read_timeout"], options["max_attempts"]) == (2, 5, 2)


@pytest.mark.parametrize(
    "variables, message",
    [
        ({"STORAGE_BACKEND": "s3"}, "needs STORAGE_S3_BUCKET"),
        ({"STORAGE_BACKEND": "s3", "STORAGE_S3_BUCKET": "  "}, "needs STORAGE_S3_BUCKET"),
        ({"STORAGE_BACKEND": "ftp"}, "STORAGE_BACKEND must be local or s3"),
        ({"STORAGE_BACKEND": "s3", "STORAGE_S3_BUCKET": "b", "STORAGE_S3_ADDRESSING_STYLE": "dns"}, "one of auto"),
        ({"STORAGE_BACKEND": "s3", "STORAGE_S3_BUCKET": "b", "STORAGE_S3_ACCESS_KEY_ID": "k"}, "go together"),
        ({"STORAGE_BACKEND": "s3", "STORAGE_S3_BUCKET": "b", "STORAGE_S3_MAX_ATTEMPTS": "0"}, "at least 1"),
        ({"STORAGE_BACKEND": "s3", "STORAGE_S3_BUCKET": "b", "STORAGE_S3_READ_TIMEOUT": "soon"}, "must be an integer"),
    ],
)
def test_a_wrong_configuration_refuses_to_start(environ, variables, message):
    environ(**variables)
    with pytest.raises(ImproperlyConfigured, match=message):
        storage_settings.document_storage()


def _check(env):
    return subprocess.run(
        [PYTHON, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_mode_with_s3_refuses_to_start_without_a_bucket(production_env):
    env = {k: v for k, v in production_env.items() if k not in S3_VARIABLES}
    result = _check({**env, "STORAGE_BACKEND": "s3"})
    assert result.returncode != 0 and "STORAGE_BACKEND=s3 needs STORAGE_S3_BUCKET" in result.stderr
    result = _check({**env, "STORAGE_BACKEND": "s3", "STORAGE_S3_BUCKET": "portal-docs"})
    assert result.returncode == 0, result.stderr  # the bucket is not asked at start-up


def test_the_client_has_short_timeouts_few_attempts_and_sends_no_acl():
    options = {"bucket_name": "portal-docs", "endpoint_url": "http://127.0.0.1:9", "region_name": "eu-west-1"}
    options |= {"access_key": "k", "secret_key": "s", "addressing_style": "path"}
    options |= {"connect_timeout": 3, "read_timeout": 4, "max_attempts": 1}
    storage = DocumentStorage(**options, default_acl="public-read", file_overwrite=True)
    config = storage.connection.meta.client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (3, 4)
    assert config.retries == {"total_max_attempts": 1, "mode": "standard"}
    assert config.s3 == {"addressing_style": "path"}
    assert storage.default_acl is None and "ACL" not in storage._get_write_parameters("invoices/a.pdf")
    assert storage.file_overwrite is False  # a stored document is never replaced under its key
    assert storage.transfer_config.use_threads is False


def test_the_default_storage_follows_the_setting(settings, environ):
    environ(STORAGE_BACKEND="s3", STORAGE_S3_BUCKET="portal-docs", STORAGE_S3_REGION="eu-west-1")
    settings.STORAGES = {**settings.STORAGES, "default": storage_settings.document_storage()}
    assert isinstance(storages["default"], DocumentStorage) and default_storage.bucket_name == "portal-docs"
