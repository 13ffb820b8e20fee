"""The load test (``make load`` = ``python -m benchmarks.load``), not part of the tests:
locust against gunicorn in production mode, every scenario with the ratio of its
requests/s to a bare logged-in view in the same run. See docs/benchmarks.md."""
