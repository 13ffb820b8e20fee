"""gunicorn's settings for the portal, read from the working directory by every start of
the web process: the Dockerfile, docker-compose.yml, docs/operations.md and the
benchmarks (which give ``--bind`` and ``--workers`` on the command line).

Threaded workers (``gthread``): a portal request spends much of its time waiting, on
PostgreSQL (a payment commits twice), on Redis (publishing its e-mail) and on the card
processor (a charge may take seconds); a thread that waits leaves the worker's other
threads to run, so a slow processor answer never holds up a whole worker. Each thread
has its own database connection (``DB_CONN_MAX_AGE`` keeps it open): at most
``workers x threads`` connections per machine.

``WEB_CONCURRENCY`` (workers per machine, default 3) and ``WEB_THREADS`` (threads per
worker, default 4) tune it; docs/operations.md, "Processes".
"""

import os

wsgi_app = "billing_portal.wsgi:application"
bind = os.environ.get("WEB_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "4"))
# A worker silent for longer is restarted (the card processor's timeout, 10 s, is shorter).
timeout = 30
graceful_timeout = 30
# No control socket (gunicorn 25.1 on makes one by default, in $XDG_RUNTIME_DIR or
# ~/.gunicorn/, for its gunicornc tool): the container is managed by its signals and
# its orchestrator, the portal user's home is no place for a socket, and two web
# processes of one user (the benchmarks, the load test) would remove each other's.
control_socket_disable = True


def child_exit(server, worker):
    """A worker that exits leaves its metrics files for the scrape to add up as dead:
    prometheus-client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR, docs/operations.md)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
