"""Settings of the test suite (pytest-django's DJANGO_SETTINGS_MODULE): the portal's
own settings, with what differs under test said here rather than detected by the
production settings.

Worker processes that tests start (tests/workers.py) and the production-mode checks
use ``billing_portal.settings`` itself.
"""

from billing_portal.env import env_bool
from billing_portal.settings import *  # noqa: F403

# Error pages and template errors as in production.
DEBUG = env_bool("DEBUG", False)
# One cache per test process: the Redis of REDIS_URL carries the broker, and tests of
# the Redis cache configure it themselves.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Tasks run in-process; tests that need a real worker start one with eager mode off.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", True)
