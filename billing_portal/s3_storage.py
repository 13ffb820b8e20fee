"""Documents in an S3-compatible bucket: django-storages' ``S3Storage`` with what the
portal needs of it (``STORAGE_BACKEND=s3``, billing_portal/storage_settings.py).

* **Private.** No ACL is sent (the bucket's own policy applies: keep it private); the
  portal never hands out the bucket's addresses. Downloads go through the portal's
  permission checks and are streamed from the bucket by the portal.
* **Streamed.** ``open(name, "rb")`` is one GET whose body is read as the response is
  sent (``StreamedObject``), never the whole file at once into memory or onto disk
  (django-storages' own ``S3File`` downloads it all first).
* **Quick to fail.** Short connect and read timeouts and at most ``max_attempts``
  attempts per request; every error but "no such key" is ``StorageUnavailable``
  (``FileNotFoundError`` for that one), so a download answers 503 within seconds when the
  bucket cannot be reached.
* **Never overwritten.** A stored document keeps its key: a name that is taken gets
  another (``file_overwrite=False``, as files on disk).
"""

import functools
import logging
import threading

from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.core.files.base import File
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

from .storage import StorageUnavailable

logger = logging.getLogger(__name__)

ERRORS = (BotoCoreError, ClientError, Boto3Error)
# Seconds the health check waits for the bucket (one attempt).
HEALTH_TIMEOUT = 1.0


def _unavailable(method):
    """``StorageUnavailable`` for whatever boto3 raises (``FileNotFoundError`` passes)."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except ERRORS as exc:
            logger.warning("document storage: %s failed: %s: %s", method.__name__, type(exc).__name__, exc)
            raise StorageUnavailable(f"the document storage did not answer ({type(exc).__name__})") from exc

    return wrapper


def _no_such_key(exc: ClientError) -> bool:
    """The bucket answered that it has no such object (not that there is no such bucket:
    that is an outage, and a document's name must not be forgotten for it)."""
    return exc.response.get("Error", {}).get("Code") == "NoSuchKey"


class StreamedObject(File):
    """An object of the bucket being read: the body of one GET, read as it arrives. Its
    size is the answer's Content-Length."""

    def __init__(self, body, name: str, size: int):
        super().__init__(body, name)
        self.size = size


class DocumentStorage(S3Storage):
    def get_default_settings(self):
        return {**super().get_default_settings(), "connect_timeout": 2, "read_timeout": 5, "max_attempts": 2}

    def __init__(self, **settings):
        super().__init__(**settings)
        # Timeouts and retries on the client (and the addressing style S3Storage puts there).
        self.client_config = self.client_config.merge(
            Config(
                connect_timeout=self.connect_timeout,
                read_timeout=self.read_timeout,
                retries={"total_max_attempts": self.max_attempts, "mode": "standard"},
            )
        )
        # A document is one small PUT: no transfer threads in web and worker processes.
        self.transfer_config = TransferConfig(use_threads=False)
        self.default_acl = None
        self.file_overwrite = False
        self._health = threading.local()

    @_unavailable
    def _open(self, name, mode="rb"):
        if mode not in ("r", "rb"):
            return super()._open(name, mode)
        key = self._normalize_name(clean_name(name))
        try:
            answer = self.connection.meta.client.get_object(Bucket=self.bucket_name, Key=key)
        except ClientError as exc:
            if _no_such_key(exc):
                raise FileNotFoundError(f"no such document in the bucket: {key}") from exc
            raise
        return StreamedObject(answer["Body"], clean_name(name), answer["ContentLength"])

    _save = _unavailable(S3Storage._save)
    exists = _unavailable(S3Storage.exists)
    delete = _unavailable(S3Storage.delete)
    size = _unavailable(S3Storage.size)

    def check_reachable(self) -> bool:
        """Whether the bucket answers a HEAD within ``HEALTH_TIMEOUT`` (one attempt)."""
        client = getattr(self._health, "client", None)
        if client is None:
            quick = Config(
                connect_timeout=HEALTH_TIMEOUT, read_timeout=HEALTH_TIMEOUT, retries={"total_max_attempts": 1}
            )
            client = self._health.client = self._create_session().client(
                "s3",
                region_name=self.region_name,
                use_ssl=self.use_ssl,
                endpoint_url=self.endpoint_url,
                config=self.client_config.merge(quick),
                verify=self.verify,
            )
        try:
            client.head_bucket(Bucket=self.bucket_name)
        except ERRORS as exc:
            logger.warning("health: document storage unreachable: %s: %s", type(exc).__name__, exc)
            return False
        return True
