"""Performance benchmarks (``make bench`` = ``python -m benchmarks``), not part of the tests.

Each benchmark prints its figure and the ratio to a baseline measured in the same run,
because absolute times drift on a machine that runs other work. See docs/benchmarks.md.
"""
