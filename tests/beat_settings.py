"""Settings for the beat processes of tests/billing_portal/test_beat.py: the portal's, with
one periodic task every second sent to the test's own queue instead of the real
schedule (whose tasks would run against the test database's neighbours)."""

import os

from billing_portal.settings import *  # noqa: F403

CELERY_BEAT_SCHEDULE = {
    "ping-every-second": {
        "task": "billing_portal.ping",
        "schedule": 1.0,
        "options": {"queue": os.environ["BEAT_TEST_QUEUE"]},
    }
}
if os.environ.get("BEAT_TEST_DEFAULT_SCHEDULER"):
    # The contrast: celery's own scheduler, which knows nothing of other beats.
    CELERY_BEAT_SCHEDULER = "celery.beat:PersistentScheduler"
