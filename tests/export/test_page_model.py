"""The report model holds what a slide or page draws, with one limit per thing (issue 17): the
deck and the PDF cut the same tables at the same place, and no writer reads the analysis."""

from __future__ import annotations

import ast
import io
from dataclasses import replace
from pathlib import Path

from pptx import Presentation

from pilotproof.export import pptx
from pilotproof.export.content import (
    MAX_CHECK_METRICS,
    MAX_EFFECT_ROWS,
    MAX_GUARDRAIL_ROWS,
    forest_axis,
)

WRITERS = ("pptx", "pptx_charts", "pdf", "pdf_charts", "html", "xlsx")
EXPORT = Path(__file__).resolve().parents[2] / "pilotproof" / "export"


def _wide(report):
    """P1 with many metrics: its checks, effects and guardrails copied under new names."""
    p = report.pilots[0]
    n = MAX_EFFECT_ROWS + 2
    checks = tuple(replace(c, metric=f"m{i}") for i in range(n) for c in p.checks)
    effects = tuple(replace(e, metric=f"m{i}") for i in range(n) for e in p.effects)
    return replace(p, checks=p.checks + checks, effects=p.effects + effects)


def test_one_limit_per_table_and_a_heading_that_says_what_is_left_out(report):
    wide = _wide(report)
    grid = wide.check_grid()
    assert len(grid.metrics) == MAX_CHECK_METRICS
    assert grid.hidden == len(wide.check_metrics) - MAX_CHECK_METRICS > 0
    assert (
        grid.heading
        == f"Value-mirage checks (first {MAX_CHECK_METRICS} metrics; all in the workbook)"
    )
    assert len(wide.check_grid(None).metrics) == len(wide.check_metrics)  # the HTML page
    assert len(wide.page_effects) == MAX_EFFECT_ROWS
    assert wide.more_effects_text == (
        f"+ {len(wide.effects) - MAX_EFFECT_ROWS} more metrics in the Excel appendix"
    )
    assert len(wide.page_guardrails) == MAX_GUARDRAIL_ROWS < len(wide.guardrails)
    assert wide.guardrail_heading.startswith(f"Guardrails (first {MAX_GUARDRAIL_ROWS};")
    narrow = report.pilots[0]
    assert narrow.check_grid().hidden == 0 and narrow.check_grid().heading == "Value-mirage checks"
    assert narrow.more_effects_text == "" and narrow.guardrail_heading == "Guardrails"


def test_the_deck_draws_the_models_check_grid(report):
    wide = _wide(report)
    deck = Presentation(io.BytesIO(pptx.render(replace(report, pilots=(wide,)))))
    tables = {s.name: s.table for slide in deck.slides for s in slide.shapes if s.has_table}
    assert len(tables["Checks table"].columns) == 1 + MAX_CHECK_METRICS
    assert len(tables["Effect table"].rows) == 1 + MAX_EFFECT_ROWS
    assert len(tables["Guardrail table"].rows) == 1 + MAX_GUARDRAIL_ROWS


def test_comparison_rows_read_improvement_right_is_better(report):
    rows = report.comparison
    assert [r.label for r in rows] == [
        "Support assistant · cycle time",
        '=HYPERLINK("http://x.test") · cost per invoice',
        "Triage <b>bot</b> · response time",
    ]
    first = rows[0]
    assert first.improvement == 21.34  # a fall in a lower-is-better metric, as a gain
    assert (round(first.minus, 2), round(first.plus, 2)) == (3.83, 3.68)
    # the table reads as the chart draws: a fall in a lower-is-better metric is a gain
    assert first.cells == ("Support assistant", "cycle time", "+21.3%", "+17.5% to +25.0%",
                           "Real impact")  # fmt: skip
    assert rows[2].improvement is None and rows[2].axis_values == ()
    low, high, _ = forest_axis(v for r in rows for v in r.axis_values)
    assert low == 0 and high >= 25.02  # from zero, past the widest interval


def test_no_writer_reaches_into_the_analysis():
    for name in WRITERS:
        tree = ast.parse((EXPORT / f"{name}.py").read_text(encoding="utf-8"))
        reads = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        assert not reads & {"result", "results"}, name
        imports = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        assert not [m for m in imports if m.startswith("analytics")], name
