"""The document storage (invoice, credit-note and receipt PDFs) as the portal uses it.

Documents are ``FileField``\\s on the default storage of ``settings.STORAGES``
(billing_portal/storage_settings.py): files under ``MEDIA_ROOT`` (the embedded default) or
a private S3-compatible bucket (``billing_portal.s3_storage.DocumentStorage``).

* ``StorageUnavailable``: what the storage raises when it cannot answer (unreachable,
  timed out, a server error, refused credentials). A download that meets it answers 503
  with a clear page or the API's error shape (``billing_portal.middleware``), quickly:
  the S3 client has short timeouts and at most one retry. A missing file is not this: it
  is ``FileNotFoundError``, and the document is rendered again.
* ``open_document``: the stored file of a document, opened to be streamed (a local file,
  or the body of the bucket's answer read as it arrives: never the whole file in memory).
* ``storage_status``: the health check's word on the storage.
"""

from django.core.files.storage import default_storage


class StorageUnavailable(OSError):
    """The document storage did not answer, or answered with an error other than "no such
    file"."""


def open_document(field_file):
    """The file behind ``field_file`` (a document's ``pdf``), opened for reading from its
    storage. Raises ``FileNotFoundError`` when the storage has no such file and
    ``StorageUnavailable`` when it cannot be asked. Its ``size`` is known without another
    request."""
    return field_file.storage.open(field_file.name, "rb")


def storage_status() -> str:
    """``"local"`` for files on this node's disk (not checked: nothing to reach), else
    ``"ok"`` or ``"unreachable"`` from the storage's own quick check."""
    check = getattr(default_storage, "check_reachable", None)
    if check is None:
        return "local"
    return "ok" if check() else "unreachable"
