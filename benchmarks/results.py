"""One way to report a benchmark figure: every benchmark's ``run()`` returns a list of
:class:`Result`; ``python -m benchmarks`` prints each as one line

    RESULT <name> <value> <unit> ratio=<x> budget=<y> <met|missed>

and ends with one table of all of them and the machine's load average before and after.

``ratio`` is always to a baseline measured in the same run (a bare INSERT, a bare render,
a bare view); ``budget`` says what is compared (``<=60s``, ``>=0.5x``, ``<=15q``) and
``met`` whether the figure keeps it. A figure without a budget (a baseline, a context
figure) says ``budget=- info``.
"""

import math
import os
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Result:
    name: str  # dotted, without spaces: "billing.run_100000", "list.html_ratio_layout"
    value: float
    unit: str  # "s", "ms", "req/s", "invoices/s", "x", "queries"
    ratio: float | None = None  # to the same run's baseline
    budget: str = "-"  # no spaces: "<=60s", ">=0.5x", "<=100ms"
    met: bool | None = None  # None: no budget (information)

    @property
    def verdict(self) -> str:
        if self.met is None:
            return "info"
        return "met" if self.met else "missed"

    def line(self) -> str:
        ratio = "-" if self.ratio is None else _number(self.ratio)
        return f"RESULT {self.name} {_number(self.value)} {self.unit} ratio={ratio} budget={self.budget} {self.verdict}"


def at_most(name: str, value: float, unit: str, limit: float, *, ratio: float | None = None, on_ratio=False) -> Result:
    """A figure that must not exceed ``limit`` (the value's, or with ``on_ratio`` the ratio's)."""
    checked = ratio if on_ratio else value
    suffix = "x" if on_ratio else unit
    return Result(name, value, unit, ratio, f"<={limit:g}{suffix}", checked is not None and checked <= limit)


def at_least(name: str, value: float, unit: str, limit: float, *, ratio: float | None = None, on_ratio=False) -> Result:
    """A figure that must reach ``limit`` (the value's, or with ``on_ratio`` the ratio's)."""
    checked = ratio if on_ratio else value
    suffix = "x" if on_ratio else unit
    return Result(name, value, unit, ratio, f">={limit:g}{suffix}", checked is not None and checked >= limit)


def info(name: str, value: float, unit: str, *, ratio: float | None = None) -> Result:
    return Result(name, value, unit, ratio)


def _number(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "nan"
    if value == int(value) and abs(value) >= 100:
        return str(int(value))
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def load_average() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:  # pragma: no cover - not on every platform
        return "n/a"
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def table(results: list[Result], *, load_before: str, load_after: str) -> str:
    """The closing table (Markdown, as kept in docs/benchmarks.md), then every RESULT line."""
    rows = [
        "| benchmark | value | unit | ratio | budget | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        ratio = "-" if r.ratio is None else _number(r.ratio)
        rows.append(f"| {r.name} | {_number(r.value)} | {r.unit} | {ratio} | {r.budget} | {r.verdict} |")
    missed = sum(1 for r in results if r.met is False)
    met = sum(1 for r in results if r.met)
    footer = f"load average (1, 5, 15 min): before {load_before}, after {load_after}; {met} met, {missed} missed"
    return "\n".join(["", "== results", *rows, "", footer, "", *(r.line() for r in results)])


def machine_speed() -> Result:
    """The machine's single-core Python speed: the best of five runs of a fixed loop
    (one million additions in a function), in ms. Absolute budgets (seconds, ms,
    payments/s) depend on it and ratios hardly do; it makes the figures of two machines
    comparable (docs/benchmarks.md)."""

    def loop():
        total = 0
        for i in range(1_000_000):
            total += i
        return total

    best = math.inf
    for _ in range(5):
        started = time.process_time()
        loop()
        best = min(best, time.process_time() - started)
    return info("machine.python_loop", best * 1000, "ms")
