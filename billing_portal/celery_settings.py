"""Celery settings (the ``CELERY_*`` names of ``billing_portal.celery``), read from the
environment; billing_portal/settings.py imports them.

* The broker and result backend are ``REDIS_URL`` unless ``CELERY_BROKER_URL`` /
  ``CELERY_RESULT_BACKEND`` say otherwise; without a broker tasks run in the process
  that publishes them (eager: the embedded default and the test suite).
* **One scheduler across nodes.** With Redis, ``celery beat`` uses RedBeat
  (``redbeat.RedBeatScheduler``): the schedule lives in Redis, and a beat holds a lock
  there (``CELERY_REDBEAT_LOCK_TIMEOUT``) that it renews at every tick (at most
  ``CELERY_BEAT_MAX_LOOP_INTERVAL``). Any number of beat processes may run, on any
  nodes: one sends the periodic tasks, the others wait for the lock and take over within
  the lock timeout when it stops. Each periodic task is sent once per period
  (docs/operations.md, "Celery"; tests/billing_portal/test_beat.py).
"""

from celery.schedules import crontab

from .env import env_bool, env_int, env_str

REDIS_URL = env_str("REDIS_URL")

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", REDIS_URL or "cache+memory://")
# Without a broker, tasks execute in-process (as in the test suite; tests that need a real worker start one).
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 600)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 540)
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing from a request never waits long for the broker (billing_portal/queue.py):
# no publish retry, a one-second connect timeout; a failed publish is left to the sweeper.
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_CONNECTION_TIMEOUT = 1
# A message taken by a worker that died is delivered again after the visibility timeout: just longer than
# the longest task may run. The sweeper takes over sooner (stuck billing chunks after a minute).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_TASK_TIME_LIMIT + 60,
    "socket_connect_timeout": 1,
    # Longer than the transport's one-second BRPOP poll of an idle worker.
    "socket_timeout": 3,
}
# Workers log through the portal's LOGGING (request ids, JSON lines, card numbers masked).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_DEFAULT_QUEUE = "default"
# Tasks are routed by name: billing_* to "billing", render_* to "pdf", send_* to "email".
CELERY_TASK_ROUTES = {
    "*.tasks.billing_*": {"queue": "billing"},
    "*.tasks.render_*": {"queue": "pdf"},
    "*.tasks.send_*": {"queue": "email"},
}
CELERY_BEAT_SCHEDULE = {
    "start-billing-for-closed-periods": {
        "task": "invoices.tasks.billing_start_closed_periods",
        "schedule": crontab(minute=15, hour="*/6"),
    },
    "mark-invoices-past-due": {
        "task": "invoices.tasks.invoices_mark_past_due",
        "schedule": crontab(minute=30, hour=3),
    },
    # Every 30 s: stuck billing chunks are taken over after a minute, so a run whose
    # worker died finishes within two minutes (invoices/services/sweeper.py).
    "sweep-unfinished-work": {
        "task": "invoices.tasks.sweep_unfinished_work",
        "schedule": 30.0,
    },
    "charge-missed-automatic-charges": {
        "task": "payments.tasks.payments_charge_missed",
        "schedule": 300.0,
    },
    "reconcile-pending-payments": {
        "task": "payments.tasks.payments_reconcile_pending",
        "schedule": 900.0,
    },
    # Stored Stripe webhook events whose processing was lost or failed (payments/services/webhooks.py).
    "process-stored-webhook-events": {"task": "payments.tasks.payments_process_webhook_events", "schedule": 60.0},
    "retry-declined-card-charges": {
        "task": "payments.tasks.payments_retry_declined",
        "schedule": crontab(minute=0),
    },
}

# --- The periodic schedule's scheduler: one beat at a time, whatever the number of nodes ---------
if REDIS_URL:
    CELERY_BEAT_SCHEDULER = "redbeat.RedBeatScheduler"
    CELERY_REDBEAT_REDIS_URL = env_str("CELERY_REDBEAT_REDIS_URL", REDIS_URL)
    CELERY_REDBEAT_REDIS_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 3, "retry_period": 10}
    CELERY_REDBEAT_KEY_PREFIX = env_str("CELERY_REDBEAT_KEY_PREFIX", "billing_portal:redbeat:")
    # A standby beat takes over at most this long after the active one stopped.
    CELERY_REDBEAT_LOCK_TIMEOUT = env_int("CELERY_REDBEAT_LOCK_TIMEOUT", 60)
    # The active beat renews its lock at least this often (well inside the timeout).
    CELERY_BEAT_MAX_LOOP_INTERVAL = env_int("CELERY_BEAT_MAX_LOOP_INTERVAL", 10)

__all__ = [name for name in dir() if name.startswith("CELERY_")]
