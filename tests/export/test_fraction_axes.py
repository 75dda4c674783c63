"""A fraction (a rate, 0..1) is written as a percentage on every export chart's value axis: the
PDF's drawn ticks, the deck's and the workbook's native axes, the HTML page's plotly axis; a
metric in hours keeps its plain numbers."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import replace

import pytest
from pptx import Presentation
from pptx.enum.chart import XL_CHART_TYPE
from reportlab.graphics.shapes import String

from analytics.results import ChartSeries
from pilotproof.export import html, pdf_charts, pptx, xlsx


@pytest.fixture(scope="module")
def rated(report):
    """The report with its first pilot's headline a utilization of about 60% (0.6), in points."""
    first = report.pilots[0]
    series = first.headline.series.copy()
    for column in ("observed", "counterfactual", "cf_low", "cf_high", "control"):
        series[column] = series[column] / 16.0  # a level of 10 becomes 0.625
    headline = replace(
        first.headline, metric="utilization", direction="higher_is_better", scale="points",
        effect_points=2.0, ci_low_points=1.0, ci_high_points=3.0, threshold_pct=3.0,
        chart=ChartSeries.of(series),
    )  # fmt: skip
    pilot = replace(first, headline=headline, units={**first.units, "utilization": "rate"})
    return replace(report, pilots=(pilot, *report.pilots[1:]))


def _strings(node) -> list[str]:
    found = []
    for child in getattr(node, "contents", []):
        if isinstance(child, String):
            found.append(child.text)
        found += _strings(child)
    return found


def test_the_pdf_draws_a_fractions_ticks_in_percent(rated, report):
    texts = _strings(pdf_charts.series_drawing(rated.pilots[0], 400, 200, "Helvetica"))
    ticks = [t for t in texts if re.fullmatch(r"[\d.]+%", t)]
    assert len(ticks) >= 3 and "60%" in ticks, texts
    assert "Utilization (%)" in texts
    plain = _strings(pdf_charts.series_drawing(report.pilots[0], 400, 200, "Helvetica"))
    assert "Cycle time (hours)" in plain
    assert not any(t.endswith("%") and t[:-1].replace(".", "").isdigit() for t in plain)


def _series_chart(deck, index):
    return next(
        shape.chart
        for shape in deck.slides[index].shapes
        if shape.has_chart and shape.chart.chart_type == XL_CHART_TYPE.XY_SCATTER_LINES_NO_MARKERS
    )


def test_the_decks_value_axis_is_in_percent_for_a_fraction_only(rated, report):
    chart = _series_chart(Presentation(io.BytesIO(pptx.render(rated))), 3)
    assert re.fullmatch(r"0(\.0+)?%", chart.value_axis.tick_labels.number_format)
    plain = _series_chart(Presentation(io.BytesIO(pptx.render(report))), 3)
    assert plain.value_axis.tick_labels.number_format == "#,##0.###"


def test_the_workbooks_value_axis_is_in_percent_for_a_fraction(rated):
    with zipfile.ZipFile(io.BytesIO(xlsx.render(rated))) as book:
        charts = [book.read(n).decode() for n in book.namelist() if n.startswith("xl/charts/")]
    assert any("<c:valAx>" in c and 'formatCode="0.0%"' in c for c in charts)


def test_the_html_pages_plotly_axis_is_in_percent_for_a_fraction(rated, report):
    page = html.render(rated).decode("utf-8")
    assert '"tickformat":"~%"' in page and '"hoverformat":".1%"' in page
    assert '"tickformat":"~%"' not in html.render(report).decode("utf-8")  # hours, euros
