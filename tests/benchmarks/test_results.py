"""The one report format of `make bench`: a RESULT line per figure and a closing table."""

import re

from benchmarks.results import Result, at_least, at_most, info, table

LINE = re.compile(r"^RESULT [a-z0-9_.]+ [-0-9.]+ \S+ ratio=(-|[-0-9.]+) budget=\S+ (met|missed|info)$")


def test_result_line_has_the_documented_shape():
    rows = [
        at_most("billing.run_100000", 48.25, "s", 60, ratio=2.7),
        at_least("list.html_list", 140.0, "req/s", 0.5, ratio=0.41, on_ratio=True),
        info("pdf.bare_render_median", 9.87, "ms"),
    ]
    lines = [r.line() for r in rows]
    assert all(LINE.match(line) for line in lines), lines
    assert lines[0] == "RESULT billing.run_100000 48.2 s ratio=2.70 budget=<=60s met"
    assert lines[1] == "RESULT list.html_list 140 req/s ratio=0.41 budget=>=0.5x missed"
    assert lines[2] == "RESULT pdf.bare_render_median 9.87 ms ratio=- budget=- info"


def test_budget_on_the_ratio_is_checked_against_the_ratio_not_the_value():
    assert at_least("x.ratio", 10.0, "req/s", 0.5, ratio=0.6, on_ratio=True).met is True
    assert at_most("x.ratio", 0.1, "s", 3, ratio=3.5, on_ratio=True).met is False
    assert at_most("x.value", 101, "ms", 100).met is False
    assert at_most("x.value", 100, "ms", 100).met is True


def test_table_lists_every_row_counts_verdicts_and_ends_with_the_result_lines():
    rows = [at_most("a.one", 1, "s", 2), at_most("a.two", 3, "s", 2), Result("a.three", 4, "ms")]
    text = table(rows, load_before="0.50 0.40 0.30", load_after="1.00 0.60 0.40")
    assert "| a.two | 3.00 | s | - | <=2s | missed |" in text
    assert "before 0.50 0.40 0.30, after 1.00 0.60 0.40; 1 met, 1 missed" in text
    assert text.splitlines()[-3:] == [r.line() for r in rows]


def test_machine_speed_is_an_info_row_in_ms():
    from benchmarks.results import machine_speed

    row = machine_speed()
    assert LINE.match(row.line()) and row.name == "machine.python_loop" and row.unit == "ms"
    assert row.met is None and 0 < row.value < 10_000
