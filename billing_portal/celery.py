"""Celery application. Configuration comes from Django settings (CELERY_* names)."""

import os

from celery import Celery

from . import observability  # noqa: F401 - request ids in task headers, task runs counted

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billing_portal.settings")

app = Celery("billing_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="billing_portal.ping")
def ping(value: str = "pong") -> str:
    """Round-trip check used by the worker test and operators."""
    return value
