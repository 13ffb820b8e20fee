"""Logs, metrics and error reporting, read from the environment; billing_portal/settings.py
imports them (docs/operations.md, "Observability").

* ``LOG_FORMAT``: ``plain`` (default) or ``json`` (one JSON object per line, for a log
  collector); ``LOG_LEVEL`` (INFO). Every line carries the request id and has card
  numbers masked (billing_portal.observability.PortalLogFilter).
* ``METRICS_TOKEN``: turns ``/metrics`` on for a scraper that sends it as a bearer
  token (at least 32 characters in production mode). ``PROMETHEUS_MULTIPROC_DIR``
  (read by prometheus-client itself): the directory where every process of the machine
  writes its metrics, so that one scrape adds them up.
* ``SENTRY_DSN``: error reporting to Sentry (or a compatible service) from the web and the
  workers; ``SENTRY_ENVIRONMENT`` (default the portal mode), ``SENTRY_TRACES_SAMPLE_RATE``
  (default 0). No personal data is sent, and card numbers are masked in every event.
"""

from django.core.exceptions import ImproperlyConfigured

from .env import env_str

__all__ = ["LOGGING", "METRICS_TOKEN", "SENTRY_DSN"]

_MODE = env_str("PORTAL_MODE", "development")

LOG_FORMAT = env_str("LOG_FORMAT", "plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured("LOG_FORMAT must be plain or json")
_FIELDS = "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"portal": {"()": "billing_portal.observability.PortalLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": _FIELDS,
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["portal"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # WeasyPrint logs each step of every render at INFO (seven lines a PDF): noise in the
        # PDF workers' logs; its warnings (a CSS rule it ignores, a missing image) still show.
        "weasyprint.progress": {"level": "WARNING"},
    },
}

METRICS_TOKEN = env_str("METRICS_TOKEN")
if METRICS_TOKEN and _MODE == "production" and len(METRICS_TOKEN) < 32:
    raise ImproperlyConfigured("METRICS_TOKEN must be at least 32 characters in production mode")

SENTRY_DSN = env_str("SENTRY_DSN")
if SENTRY_DSN:
    from .error_reporting import start_error_reporting

    start_error_reporting(
        dsn=SENTRY_DSN,
        environment=env_str("SENTRY_ENVIRONMENT", _MODE),
        traces_sample_rate=float(env_str("SENTRY_TRACES_SAMPLE_RATE", "0")),
    )
