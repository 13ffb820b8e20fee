"""Publishing Celery tasks from services.

Tasks import services (a task is a thin wrapper that calls one service); services never
import tasks. A service that needs work done later publishes the task by its registered
name (the ``name=`` of its ``@shared_task``), after its transaction commits. Every app
imports its own ``tasks`` module in ``AppConfig.ready()``, so the name is known in
every process, and ``delay`` keeps its meaning (eager mode in tests included).
"""

from django.db import transaction

from billing_portal.celery import app


def publish(name: str, *args) -> None:
    """Send the task called ``name`` now."""
    app.tasks[name].delay(*args)


def publish_on_commit(name: str, *args) -> None:
    """Send the task called ``name`` once the current transaction commits (at once
    outside a transaction)."""
    transaction.on_commit(lambda: publish(name, *args))
