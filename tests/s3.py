"""moto's S3 server, for the tests of documents in object storage (tests marked ``s3``).

* ``moto_s3`` (session): starts moto in server mode (``python -m moto.server``) on a
  free port of 127.0.0.1 in a subprocess, waits until it answers and stops it at the
  end. It keeps its buckets in memory. Outside CI a missing moto skips the tests that
  need it; under ``CI=true`` it must be there (requirements-dev.txt).
* ``s3_bucket``: a new bucket for the test, and the portal's document storage pointed
  at it through the ``STORAGE_*`` variables (``billing_portal.storage_settings``), with a
  key prefix; ``s3_bucket.keys()`` lists its objects' keys with boto3, ``body(key)``
  reads one, ``delete(key)`` removes one.
* ``closed_port_endpoint``: the address of a port of 127.0.0.1 where nothing listens.
"""

import itertools
import os
import sys

import pytest

from tests.servers import free_port, require, server_process

ACCESS_KEY = "portal-test-key"
SECRET_KEY = "portal-test-secret"
REGION = "eu-west-1"
PREFIX = "portal-docs"
_names = itertools.count(1)


def s3_client(endpoint: str):
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(connect_timeout=2, read_timeout=5, retries={"total_max_attempts": 1}),
    )


class Bucket:
    def __init__(self, endpoint: str, name: str):
        self.endpoint, self.name = endpoint, name
        self.client = s3_client(endpoint)

    def keys(self) -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def key_of(self, field_file) -> str:
        """The object key of a stored document (the prefix, then the name)."""
        return f"{PREFIX}/{field_file.name}"

    def body(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.name, Key=key)


@pytest.fixture(scope="session")
def moto_s3():
    """The address of moto's S3 server of this session."""
    require("moto.server", "moto[server]", "the object storage tests")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with server_process(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], url + "/moto-api/", "moto's server"
    ):
        yield url


def point_storage_at(settings, monkeypatch, endpoint: str, bucket: str, **variables) -> None:
    """The portal's document storage as ``STORAGE_BACKEND=s3`` with these variables."""
    from billing_portal import storage_settings

    env = {
        "STORAGE_BACKEND": "s3",
        "STORAGE_S3_BUCKET": bucket,
        "STORAGE_S3_ENDPOINT_URL": endpoint,
        "STORAGE_S3_REGION": REGION,
        "STORAGE_S3_ACCESS_KEY_ID": ACCESS_KEY,
        "STORAGE_S3_SECRET_ACCESS_KEY": SECRET_KEY,
        "STORAGE_S3_PREFIX": PREFIX,
        "STORAGE_S3_ADDRESSING_STYLE": "path",
        **variables,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings.STORAGES = {**settings.STORAGES, "default": storage_settings.document_storage()}


@pytest.fixture
def s3_bucket(moto_s3, settings, monkeypatch):
    """A new bucket, the portal's document storage pointed at it."""
    bucket = Bucket(moto_s3, f"portal-documents-{os.getpid()}-{next(_names)}")
    bucket.client.create_bucket(Bucket=bucket.name, CreateBucketConfiguration={"LocationConstraint": REGION})
    point_storage_at(settings, monkeypatch, moto_s3, bucket.name)
    return bucket


@pytest.fixture
def closed_port_endpoint():
    return f"http://127.0.0.1:{free_port()}"
