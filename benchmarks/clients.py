"""The benchmarks' load generator: a fixed number of threads, each sending its next job
back to back until the jobs run out (or more than ten answers were wrong)."""

import threading
import time


def drive(jobs, concurrency: int, send, label: str) -> tuple[list[float], float]:
    """Run ``send(job)`` for every job of the iterable ``jobs`` from ``concurrency``
    threads. ``send`` returns None for a right answer, or a short description of a wrong
    one (an ``OSError`` counts as wrong). Returns the right answers' latencies (s) and the
    wall time; raises when any answer was wrong."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    todo = iter(jobs)

    def worker():
        while True:
            with lock:
                job = next(todo, None)
                if job is None or len(errors) > 10:
                    return
            started = time.perf_counter()
            try:
                wrong = send(job)
            except OSError as exc:
                wrong = repr(exc)
            elapsed = time.perf_counter() - started
            with lock:
                if wrong is None:
                    latencies.append(elapsed)
                else:
                    errors.append(wrong)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    wall = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - wall
    if errors:
        raise RuntimeError(f"{label}: {len(errors)} bad answers, e.g. {errors[0]}")
    return latencies, wall
