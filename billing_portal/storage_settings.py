"""Storage settings (Django's ``STORAGES``), read from the environment;
billing_portal/settings.py imports them.

* ``STORAGE_BACKEND``: where invoice, credit-note and receipt PDFs are kept. ``local``
  (the default, the embedded one): files under ``MEDIA_ROOT``. ``s3``: a private bucket
  of an S3-compatible service (``billing_portal.s3_storage.DocumentStorage``), which every
  web and worker node reads; it needs ``STORAGE_S3_BUCKET`` and refuses to start without
  it, in any mode. Endpoint, region, keys, key prefix, addressing style, timeouts and
  attempts are the ``STORAGE_S3_*`` variables below (docs/operations.md, "Documents in
  object storage"). Without keys boto3 looks for its own (``AWS_*`` variables, an
  instance role).
* ``staticfiles``: whitenoise's manifest storage in production mode, Django's plain one
  in development; never in the bucket.
"""

from django.core.exceptions import ImproperlyConfigured

from .env import env_int, env_str

__all__ = ["STORAGES", "STORAGE_BACKEND"]

_PRODUCTION = env_str("PORTAL_MODE", "development") == "production"
_ADDRESSING_STYLES = ("auto", "path", "virtual")


def storage_backend() -> str:
    return env_str("STORAGE_BACKEND", "local").strip().lower() or "local"


def document_storage() -> dict:
    """The ``STORAGES["default"]`` entry that the environment asks for."""
    backend = storage_backend()
    if backend == "s3":
        return {"BACKEND": "billing_portal.s3_storage.DocumentStorage", "OPTIONS": s3_options()}
    if backend == "local":
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    raise ImproperlyConfigured(f"STORAGE_BACKEND must be local or s3, got {backend!r}")


def s3_options() -> dict:
    """The options of ``DocumentStorage`` from the ``STORAGE_S3_*`` variables."""
    bucket = env_str("STORAGE_S3_BUCKET", "").strip()
    if not bucket:
        raise ImproperlyConfigured("STORAGE_BACKEND=s3 needs STORAGE_S3_BUCKET")
    style = env_str("STORAGE_S3_ADDRESSING_STYLE", "auto").strip().lower() or "auto"
    if style not in _ADDRESSING_STYLES:
        raise ImproperlyConfigured(f"STORAGE_S3_ADDRESSING_STYLE must be one of {', '.join(_ADDRESSING_STYLES)}")
    options = {
        "bucket_name": bucket,
        "location": env_str("STORAGE_S3_PREFIX", "").strip().strip("/"),
        "addressing_style": None if style == "auto" else style,
        "connect_timeout": env_int("STORAGE_S3_CONNECT_TIMEOUT", 2),
        "read_timeout": env_int("STORAGE_S3_READ_TIMEOUT", 5),
        "max_attempts": env_int("STORAGE_S3_MAX_ATTEMPTS", 2),
    }
    if options["max_attempts"] < 1 or options["connect_timeout"] < 1 or options["read_timeout"] < 1:
        raise ImproperlyConfigured("STORAGE_S3_CONNECT_TIMEOUT, _READ_TIMEOUT and _MAX_ATTEMPTS must be at least 1")
    optional = {
        "endpoint_url": "STORAGE_S3_ENDPOINT_URL",
        "region_name": "STORAGE_S3_REGION",
        "access_key": "STORAGE_S3_ACCESS_KEY_ID",
        "secret_key": "STORAGE_S3_SECRET_ACCESS_KEY",
    }
    options.update({name: value for name, var in optional.items() if (value := env_str(var, "").strip())})
    if ("access_key" in options) != ("secret_key" in options):
        raise ImproperlyConfigured("STORAGE_S3_ACCESS_KEY_ID and STORAGE_S3_SECRET_ACCESS_KEY go together")
    return options


STORAGE_BACKEND = storage_backend()
STORAGES = {
    "default": document_storage(),
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if _PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
