"""Optional error reporting (``SENTRY_DSN``, billing_portal/observability_settings.py):
unhandled errors of the web and of Celery tasks go to Sentry or a service speaking its
protocol. Nothing personal is sent (``send_default_pii`` off: no cookies, no user, no
request body), and ``scrub`` masks card numbers anywhere in an event before it leaves."""

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration

from .card_numbers import mask_card_numbers


def _masked(value):
    if isinstance(value, str):
        return mask_card_numbers(value)
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(item) for item in value]
    return value


def scrub(event, _hint=None):
    """Every string of the event with card numbers masked (messages, exception values,
    local variables, breadcrumbs)."""
    return _masked(event)


def start_error_reporting(*, dsn: str, environment: str, traces_sample_rate: float) -> None:
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        traces_sample_rate=traces_sample_rate,
        before_send=scrub,
        before_breadcrumb=scrub,
    )
