"""Plotly figures shared by the app and the exports.

One palette, one meaning per colour, everywhere: the Okabe-Ito colours, which stay apart for
the common forms of colour blindness. Green is proven value or a scale, orange a mirage, blue a
fix to make, vermillion a deterioration or a stop, grey not enough evidence yet, sky blue no
change. A fix is never drawn in the mirage's orange: a fix is real value with something to
repair, a mirage is none.
Figures carry no theme of their own so Streamlit can render them in light or dark;
`for_print` gives them a white theme for static exports.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import pandas as pd
import plotly.graph_objects as go

from analytics.results import POINTS_PER_UNIT, Decision, MetricEffect, PilotResult, Verdict
from pilotproof.history import HistoryWindow
from pilotproof.plaintext import NAME_LIMIT, shown
from pilotproof.store.catalog import RATE_UNITS
from pilotproof.words import (
    EXPECTED_BAND,
    EXPECTED_LINE,
    metric_name,
    threshold_words,
    verdict_label,
)

VERDICT_COLORS: dict[Verdict, str] = {
    "real": "#009E73",
    "mirage": "#E69F00",
    "inconclusive": "#999999",
    "worse": "#D55E00",
    "no_change": "#56B4E9",
}
DECISION_COLORS: dict[Decision, str] = {
    "scale": "#009E73",
    "fix": "#0072B2",  # Okabe-Ito blue: real value to repair, not the mirage's orange
    "extend": "#999999",
    "stop": "#D55E00",
}
# activity metrics (AI usage, adoption): tracked, never value, so never the green of real impact
ACTIVITY_COLOR = "#7E6BAF"  # a muted violet, as the app's activity badge; no good or bad meaning
OBSERVED_COLOR = "#0072B2"
COUNTERFACTUAL_COLOR = "#6B6B6B"
CONTROL_COLOR = "#CC79A7"
THRESHOLD_COLOR = "#8C8C8C"  # mid-tones read on light and dark themes alike
REFERENCE_LINE_COLOR = "#8C8C8C"
EVENT_COLOR = "#CC79A7"

# mid-grey at a third: visible on the light and the dark theme alike
_BAND_FILL = "rgba(128, 128, 128, 0.34)"
_FONT = {"family": "Inter, Segoe UI, Helvetica, Arial, sans-serif", "size": 13}


def verdict_color(verdict: str, kind: str = "value") -> str:
    """The colour of a verdict; an activity metric's is the neutral `ACTIVITY_COLOR`."""
    if kind == "activity":
        return ACTIVITY_COLOR
    return VERDICT_COLORS.get(verdict, "#999999")  # type: ignore[call-overload]


@dataclass(frozen=True)
class ValueAxis:
    """How a chart writes a metric's own values: on its value axis, its tick labels and its
    hovers. A fraction (a rate: 0.25) is written as a percentage (25%), anything else as the
    number it is. Built by `value_axis`; read by the app's figures, the HTML page, the PDF's
    drawings and the deck's and workbook's native charts alike."""

    percent: bool = False

    @property
    def tickformat(self) -> str:
        """plotly's (d3-format) tick format: '~%' (25%, 2.5%: no trailing zeros), else ''."""
        return "~%" if self.percent else ""

    @property
    def hoverformat(self) -> str:
        """plotly's hover format: '.1%' (25.0%), else '' (plotly's own)."""
        return ".1%" if self.percent else ""

    @property
    def factor(self) -> float:
        """What a value is multiplied by to be written: 100 for a percentage, else 1."""
        return 100.0 if self.percent else 1.0

    @property
    def suffix(self) -> str:
        """What follows a written value: '%' for a percentage, else ''."""
        return "%" if self.percent else ""

    def unit_words(self, unit: str) -> str:
        """The unit an axis title names: '%' for a fraction, else `unit` ('hours')."""
        return "%" if self.percent else unit

    def excel_format(self, step: float | None = None) -> str:
        """An Excel/PowerPoint number format for the value axis: for a fraction '0%', or as
        many decimals as a tick `step` (a fraction, 0.005) needs ('0.0%'), '0.0%' without one;
        else the plain '#,##0.###'."""
        if not self.percent:
            return "#,##0.###"
        digits = 1
        if step is not None and math.isfinite(step) and step > 0:
            points = step * 100.0
            digits = 0
            while digits < 3 and abs(round(points, digits) - points) > 1e-9 * points:
                digits += 1
        return "0%" if digits == 0 else f"0.{'0' * digits}%"

    def style(self, fig: go.Figure, **position: int) -> go.Figure:
        """`fig` with its value (y) axis, or the subplot's at `row`/`col`, in this format."""
        if self.percent:
            fig.update_yaxes(tickformat=self.tickformat, hoverformat=self.hoverformat, **position)
        return fig


def value_axis(unit: str | None = "", scale: str = "relative") -> ValueAxis:
    """How a chart writes a metric's values, from the metric's catalog facts: a percentage when
    its unit is a fraction's (`RATE_UNITS`: rate, share; values 0..1) or its effect is read in
    percentage points (`scale == "points"`, which only a fraction is), else plain numbers."""
    fraction = (unit or "").strip().lower() in RATE_UNITS or scale == "points"
    return ValueAxis(percent=fraction)


def metric_label(metric: str, unit: str = "") -> str:
    """`cycle_time`, `hours` -> `Cycle time (hours)`; names from a file shown as plain text."""
    words = metric_name(metric)
    name = shown(words[:1].upper() + words[1:])
    return f"{name} ({shown(unit, 40)})" if unit else name


def value_title(effect: MetricEffect, unit: str = "") -> str:
    """A value axis' title: `Cycle time (hours)`, or `Rework rate (%)` for a fraction, whose
    values the axis writes as percentages (`value_axis`)."""
    return metric_label(effect.metric, value_axis(unit, effect.scale).unit_words(unit))


def series_chart(
    effect: MetricEffect,
    go_live: pd.Timestamp | str | None,
    *,
    unit: str = "",
    events: pd.DataFrame | None = None,
    control: bool = True,
    title: str | None = None,
    weekly: bool = False,
    window: HistoryWindow | None = None,
) -> go.Figure:
    """The observed series against its counterfactual, with go-live, interval band and threshold.

    `events` (optional) has columns `date, label` and is drawn as dotted markers on the timeline.
    The threshold is the level the metric must reach over the post window to meet its scaling
    threshold: the post window's mean counterfactual moved by `threshold_pct` in the good
    direction, drawn flat so it is never mistaken for the counterfactual. `weekly` draws daily
    data as weekly means (7-day weeks counted from go-live), which a day-to-day zig-zag
    otherwise hides. `window` (`pilotproof.history.history_window`) draws only its dates and
    says, above the plot, from when the history is shown and from when the model read it.
    """
    fig = go.Figure()
    axis = value_axis(unit, effect.scale)
    y_title = value_title(effect, unit)
    series = effect.series
    if window is not None and series is not None:
        series = window.frame(series)
        fig.add_annotation(
            text=html.escape(window.words()), showarrow=False, x=0, xref="paper", xanchor="left",
            y=1.0, yref="paper", yanchor="bottom", font={"size": 11, "color": COUNTERFACTUAL_COLOR},
        )  # fmt: skip
    if weekly and series is not None and effect.frequency == "D" and not series.empty:
        series = weekly_means(series, go_live)
    if series is None or series.empty:
        fig.add_annotation(text="No series to show", showarrow=False, x=0.5, y=0.5, xref="paper")
        return _style(fig, title, y_title)

    dates = pd.to_datetime(series["date"])
    has_band = series["cf_low"].notna().any() and series["cf_high"].notna().any()
    if has_band:
        band = series["cf_low"].notna() & series["cf_high"].notna()
        fig.add_trace(
            go.Scatter(
                x=pd.concat([dates[band], dates[band][::-1]]),
                y=pd.concat([series.loc[band, "cf_high"], series.loc[band, "cf_low"][::-1]]),
                fill="toself",
                fillcolor=_BAND_FILL,
                line={"width": 0},
                hoverinfo="skip",
                name=EXPECTED_BAND,
            )
        )
    if series["counterfactual"].notna().any():
        fig.add_trace(
            go.Scatter(
                x=dates,
                y=series["counterfactual"],
                mode="lines",
                line={"color": COUNTERFACTUAL_COLOR, "dash": "dash", "width": 2},
                name=EXPECTED_LINE,
            )
        )
    if control and "control" in series and series["control"].notna().any():
        fig.add_trace(
            go.Scatter(
                x=dates,
                y=series["control"],
                mode="lines",
                line={"color": CONTROL_COLOR, "dash": "dot", "width": 1.5},
                name="Control group",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=dates,
            y=series["observed"],
            mode="lines+markers" if len(series) <= 60 else "lines",
            line={"color": OBSERVED_COLOR, "width": 2},
            marker={"size": 5},
            name="Observed",
        )
    )

    go_live_ts = pd.Timestamp(go_live) if go_live is not None else None
    threshold = _threshold_line(effect, series["counterfactual"], dates, go_live_ts)
    if threshold is not None:
        fig.add_trace(
            go.Scatter(
                x=threshold.index,
                y=threshold.to_numpy(),
                mode="lines",
                line={"color": THRESHOLD_COLOR, "dash": "dot", "width": 3.5},
                name=threshold_words(effect.threshold_pct or 0.0, effect.points),
            )
        )
    if go_live_ts is not None:
        fig.add_vline(x=go_live_ts, line={"color": REFERENCE_LINE_COLOR, "width": 2})
        fig.add_annotation(
            x=go_live_ts, y=1.0, yref="paper", text="Go-live", showarrow=False, yanchor="bottom"
        )
    for day, label in _event_rows(events):
        fig.add_vline(x=day, line={"color": EVENT_COLOR, "width": 1, "dash": "dot"})
        fig.add_annotation(
            x=day, y=0.02, yref="paper", text=label, showarrow=False, yanchor="bottom",
            xanchor="left", font={"size": 11, "color": EVENT_COLOR},
        )  # fmt: skip
    return axis.style(_style(fig, title, y_title))


def forest_plot(
    results: Iterable[PilotResult],
    metric: str | None = None,
    *,
    labels: dict[str, str] | None = None,
    title: str | None = None,
) -> go.Figure:
    """Effects with their 95% intervals, one row per (pilot, metric), against each threshold.

    The x axis is the improvement in percent (positive is better whatever the metric's
    direction) so that metrics of both directions line up against their thresholds. With no
    `metric`, each pilot's value metrics are shown.
    """
    rows = _forest_rows(results, metric, labels or {})
    fig = go.Figure()
    if not rows:
        fig.add_annotation(text="No effects to compare", showarrow=False, x=0.5, y=0.5)
        return _style(fig, title, "")
    frame = pd.DataFrame(rows)
    for (label, color), part in frame.groupby(["verdict_label", "color"], sort=False):
        fig.add_trace(
            go.Scatter(
                x=part["improvement"],
                y=part["label"],
                mode="markers",
                marker={"color": color, "size": 11, "symbol": "diamond"},
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": part["high"] - part["improvement"],
                    "arrayminus": part["improvement"] - part["low"],
                    "color": color,
                    "thickness": 2,
                },
                name=label,
                customdata=part[["effect_pct", "scale_words", "interval_words"]].to_numpy(),
                hovertemplate=(
                    "%{y}<br>effect %{customdata[0]:.1f}%{customdata[1]}%{customdata[2]}"
                    "<extra></extra>"
                ),
            )
        )
    with_threshold = frame.dropna(subset=["threshold"])
    if not with_threshold.empty:
        fig.add_trace(
            go.Scatter(
                x=with_threshold["threshold"],
                y=with_threshold["label"],
                mode="markers",
                marker={"color": THRESHOLD_COLOR, "symbol": "line-ns-open", "size": 16},
                name="Scaling threshold",
                customdata=with_threshold["scale_words"],
                hovertemplate="threshold %{x:.1f}%{customdata} better<extra></extra>",
            )
        )
    fig.add_vline(x=0, line={"color": REFERENCE_LINE_COLOR, "width": 1})
    fig = _style(fig, title, "")
    fig.update_xaxes(
        title_text="Improvement against expected without the pilot (%, right is better)"
    )
    fig.update_yaxes(autorange="reversed", type="category", title_text="", automargin=True)
    legend_below(fig)
    per_row = 44 if frame["label"].str.contains("<br>").any() else 34
    fig.update_layout(height=max(300, 130 + per_row * frame["label"].nunique()))
    return fig


def extremes(
    results: Sequence[PilotResult], metric: str | None = None, n: int = 20
) -> list[PilotResult]:
    """The `n` pilots with the best and the `n` with the worst improvement on `metric` (or on
    their first value metric), best first; pilots with no estimate are left out."""

    def improvement(result: PilotResult) -> float | None:
        found = (e.improvement for e in result.effects_of(metric) if e.improvement is not None)
        return next(found, None)

    scored = [(improvement(r), r) for r in results]
    ranked = [r for score, r in sorted((p for p in scored if p[0] is not None),
                                       key=lambda p: -p[0])]  # fmt: skip
    if len(ranked) <= 2 * n:
        return ranked
    return ranked[:n] + ranked[-n:]


def legend_below(fig: go.Figure, room: int = 110) -> go.Figure:
    """The legend at the bottom of the figure, below the x axis' tick labels and title, in a
    bottom margin of `room` pixels: placed as a fraction of the plot height it ran into the
    axis title on short figures."""
    fig.update_layout(
        legend={"orientation": "h", "yref": "container", "y": 0.0, "yanchor": "bottom", "x": 0},
        margin={"b": room},
    )
    return fig


def value_bridge(
    result: PilotResult, *, currency: str = "", title: str | None = None
) -> go.Figure | None:
    """Annualised bridge from gross value on the value metric, less running cost, to net value.

    Returns None when the pilot has no net value (no cost or volume known).
    """
    net = result.net_value
    if net is None:
        return None
    fig = go.Figure(
        go.Waterfall(
            x=[
                f"Gross value ({safe_text(net.metric.replace('_', ' '))})",
                "Pilot running cost",
                "Net value",
            ],
            measure=["relative", "relative", "total"],
            y=[net.annual_gross, -net.annual_cost, 0],
            text=[
                _money(net.annual_gross, currency),
                _money(-net.annual_cost, currency),
                _money(net.annual_net, currency),
            ],
            textposition=["outside", "outside", "inside"],
            increasing={"marker": {"color": VERDICT_COLORS["real"]}},
            decreasing={"marker": {"color": VERDICT_COLORS["worse"]}},
            totals={"marker": {"color": OBSERVED_COLOR}},
            connector={"line": {"color": "#888888", "dash": "dot"}},
            name="Annualised value",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=["Net value"],
            y=[net.annual_net],
            mode="markers",
            marker={"color": "rgba(0,0,0,0)"},
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [net.ci_high - net.annual_net],
                "arrayminus": [net.annual_net - net.ci_low],
                "color": "#333333",
                "thickness": 2,
            },
            name="95% interval",
            hovertemplate="95% interval %{customdata[0]} to %{customdata[1]}<extra></extra>",
            customdata=[[_money(net.ci_low, currency), _money(net.ci_high, currency)]],
        )
    )
    fig = _style(fig, title, f"Per year ({currency})" if currency else "Per year")
    fig.update_layout(showlegend=False)
    return fig


def mix_split(effect: MetricEffect, *, title: str | None = None) -> go.Figure | None:
    """The apparent change split into a rate part (segments got cheaper: the pilot's) and a
    mix part (the mix of work moved: not the pilot's), Kitagawa's decomposition, as three
    horizontal bars in percent from zero. None without a decomposition."""
    rate, mix = effect.rate_effect_pct, effect.mix_effect_pct
    if rate is None or mix is None:
        return None
    name = safe_text(effect.metric.replace("_", " "))
    rows = [
        (f"Apparent change in {name}", rate + mix, OBSERVED_COLOR),
        ("Rate part: within each segment (the pilot's)", rate, VERDICT_COLORS["real"]),
        ("Mix part: more of the cheaper work (not the pilot's)", mix, VERDICT_COLORS["mirage"]),
    ]
    fig = go.Figure(
        go.Bar(
            x=[v for _, v, _ in rows],
            y=[label for label, _, _ in rows],
            orientation="h",
            marker={"color": [c for _, _, c in rows]},
            text=[f"{v:+.1f}%" for _, v, _ in rows],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: %{x:+.1f}%<extra></extra>",
        )
    )
    fig.add_vline(x=0, line={"color": REFERENCE_LINE_COLOR, "width": 1})
    fig = _style(fig, title, "")
    span = max(abs(rate + mix), abs(rate), abs(mix), 1.0) * 1.35
    fig.update_xaxes(title_text="Change since go-live (%)", range=[-span, span], zeroline=False)
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_layout(height=220, showlegend=False, margin={"l": 10, "r": 20, "t": 20, "b": 50})
    return fig


def aligned_multiples(
    panels: Sequence[tuple[str, MetricEffect, pd.Timestamp]],
    *,
    columns: int = 3,
    units: Mapping[str, str] | None = None,
) -> go.Figure:
    """Small multiples of observed vs counterfactual, x = periods since go-live (0 = go-live).

    `panels` holds `(label, effect, go_live)` (a new line in the label starts a second title
    line: the pilot, then the metric and its unit); each panel keeps its own y scale, written
    as its metric's values are (`value_axis`: a fraction in %; `units` maps a metric to its
    catalog unit), and all share one x range so a day reads alike in every panel. Daily data is
    drawn as weekly means (`weekly_means`, as the explorer's weekly view), dated by each week's
    first day: at a panel's width, a day-to-day line and its dashed expected line zig-zag into
    hatching.
    """
    from plotly.subplots import make_subplots

    panels = [p for p in panels if p[1].series is not None and not p[1].series.empty]
    if not panels:
        fig = go.Figure()
        fig.add_annotation(text="No series to show", showarrow=False, x=0.5, y=0.5)
        return _style(fig, None, "")
    rows = -(-len(panels) // columns)
    fig = make_subplots(
        rows=rows,
        cols=columns,
        subplot_titles=[
            "<br>".join(safe_text(line, 60) for line in p[0].split("\n")) for p in panels
        ],
        shared_xaxes=False,
        vertical_spacing=min(0.12, 0.5 / rows),
    )
    for i, (_, effect, go_live) in enumerate(panels):
        series = effect.series
        if effect.frequency == "D":
            series = weekly_means(series, go_live)
        days = (pd.to_datetime(series["date"]) - pd.Timestamp(go_live)).dt.days
        position = {"row": i // columns + 1, "col": i % columns + 1}
        color = verdict_color(effect.verdict, effect.kind)
        fig.add_trace(
            go.Scatter(x=days, y=series["counterfactual"], mode="lines", showlegend=False,
                       line={"color": COUNTERFACTUAL_COLOR, "dash": "dash", "width": 1}),
            **position,
        )  # fmt: skip
        fig.add_trace(
            go.Scatter(x=days, y=series["observed"], mode="lines", showlegend=False,
                       line={"color": color, "width": 1.5},
                       name=verdict_label(effect.verdict, effect.kind)),
            **position,
        )  # fmt: skip
        fig.add_vline(x=0, line={"color": REFERENCE_LINE_COLOR, "width": 1}, **position)
        value_axis((units or {}).get(effect.metric, ""), effect.scale).style(fig, **position)
    spans = [(pd.to_datetime(p[1].series["date"]) - pd.Timestamp(p[2])).dt.days for p in panels]
    # one range for every panel: the longest post period, and twice as long before go-live
    # (a pilot with years of history would otherwise squeeze every other panel to a sliver)
    high = max(float(d.max()) for d in spans)
    low = max(min(float(d.min()) for d in spans), -2.0 * max(high, 1.0))
    fig.update_xaxes(range=[low, high])
    fig.update_annotations(font={"size": 12})
    fig.update_xaxes(title_text="Days since go-live", row=rows)
    fig.update_layout(height=230 * rows + 40, margin={"t": 50, "l": 40, "r": 20, "b": 40})
    fig.update_layout(font=_FONT)
    return fig


def safe_text(text: object, limit: int = NAME_LIMIT) -> str:
    """User text made inert for plotly, whose labels understand a subset of HTML (links too):
    escaped, control characters shown as visible codes, cut at `limit` with "…"."""
    return html.escape(shown(text, limit), quote=False)


def for_print(fig: go.Figure) -> go.Figure:
    """A copy of `fig` on a white theme, for static images and documents."""
    printable = go.Figure(fig)
    printable.update_layout(template="plotly_white", paper_bgcolor="white", plot_bgcolor="white")
    return printable


def _threshold_line(
    effect: MetricEffect, counterfactual: pd.Series, dates: pd.Series, go_live: pd.Timestamp | None
) -> pd.Series | None:
    """The scaling threshold over the post window: one flat level, the post window's mean
    counterfactual moved by the threshold in the good direction."""
    if effect.threshold_pct is None or go_live is None:
        return None
    sign = effect.sign
    frame = pd.Series(counterfactual.to_numpy(dtype=float), index=pd.DatetimeIndex(dates))
    post = frame[frame.index >= go_live].dropna()
    if post.empty:
        return None
    level = float(post.mean())
    if effect.points:  # percentage points of a fraction: 1 point is 0.01 on the metric
        target = level + sign * effect.threshold_pct / POINTS_PER_UNIT
    else:
        target = level * (1.0 + sign * effect.threshold_pct / 100.0)
    return pd.Series(target, index=post.index)


def weekly_means(series: pd.DataFrame, go_live: object | None = None) -> pd.DataFrame:
    """A daily chart frame (`date` and the chart columns) as weekly means by the analytics' one
    weekly rule (`analytics.frequency.weekly_means`): 7-day weeks counted from go-live (Monday
    to Sunday without one), dated by their first day; a week with no value stays NaN."""
    from analytics.frequency import weekly_means as by_week

    return by_week(series, "date", go_live)


def same_mix(effect: MetricEffect) -> float | None:
    """A mix-shift mirage's change at the same mix of work (the rate part, what survives), as
    the metric moved, in percent; None for any other effect."""
    rate = effect.rate_effect_pct
    mixed = effect.verdict == "mirage" and "mix_shift" in effect.reasons and not effect.points
    return rate if mixed and rate is not None and math.isfinite(rate) else None


def _finite_or_none(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def at_same_mix(
    results: Iterable[PilotResult], labels: dict[str, str]
) -> tuple[list[PilotResult], dict[str, str]]:
    """The pilots as a comparison draws them: a mix-shift mirage's value metric at the same mix
    of work (its rate part, what survives, with the rate part's own interval from the segment
    rates' noise, `analytics.mix.rate_part_se`; no interval where there is none, never the
    point repeated as one), never the mix's apparent gain, and its pilot's label saying
    '(same mix)'. The Compare page and the board exports draw the same numbers. `labels` is
    not modified."""
    drawn, named = [], dict(labels)
    for result in results:
        survives = {e.metric: same_mix(e) for e in result.value_effects}
        if not any(v is not None for v in survives.values()):
            drawn.append(result)
            continue
        metrics = tuple(
            e
            if survives.get(e.metric) is None
            else replace(
                e,
                effect_pct=survives[e.metric],
                ci_low_pct=_finite_or_none(e.rate_ci_low_pct),
                ci_high_pct=_finite_or_none(e.rate_ci_high_pct),
            )
            for e in result.metrics
        )
        drawn.append(replace(result, metrics=metrics))
        named[result.pilot_id] = f"{named.get(result.pilot_id, result.pilot_id)} (same mix)"
    return drawn, named


def _forest_rows(
    results: Iterable[PilotResult], metric: str | None, labels: dict[str, str]
) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for result in results:
        for effect in result.effects_of(metric):
            change = effect.headline  # in the metric's scale: percent, or points
            if change is None:
                continue
            low, high = effect.headline_interval
            words = " points" if effect.points else "%"  # what the numbers are
            # no interval (a same-mix rate part whose noise cannot be measured): a bare point,
            # never the point repeated as an interval
            interval = ""
            if low is None or high is None:
                low = high = change
            else:
                interval = f" (95% interval {low:.1f}{words} to {high:.1f}{words})"
            bounds = sorted((effect.sign * low, effect.sign * high))
            name = safe_text(labels.get(result.pilot_id, result.pilot_id), 80)
            metric_text = safe_text(metric_name(effect.metric), 40)
            if effect.points:
                metric_text += " (points)"
            # a long label takes two lines, so it is never cut at the figure's left edge
            joint = "<br>" if len(name) + len(metric_text) > 36 else " · "
            rows.append(
                {
                    "label": f"{name}{joint}{metric_text}",
                    "improvement": effect.sign * change,
                    "low": bounds[0],
                    "high": bounds[1],
                    "effect_pct": change,
                    "scale_words": words,
                    "interval_words": interval,
                    "threshold": effect.threshold_pct,
                    "verdict": effect.verdict,
                    "verdict_label": verdict_label(effect.verdict, effect.kind),
                    "color": verdict_color(effect.verdict, effect.kind),
                }
            )
    return rows


def _event_rows(events: pd.DataFrame | None) -> list[tuple[pd.Timestamp, str]]:
    if events is None or events.empty:
        return []
    return [
        (pd.Timestamp(day), safe_text(label))
        for day, label in zip(events["date"], events["label"], strict=True)
    ]


def _money(amount: float, currency: str) -> str:
    from pilotproof.words import money

    return money(amount, currency or None)


def _style(fig: go.Figure, title: str | None, y_title: str) -> go.Figure:
    fig.update_layout(
        title={"text": title} if title else None,
        font=_FONT,
        hovermode="x unified" if y_title else "closest",
        legend={"orientation": "h", "yanchor": "top", "y": -0.15, "x": 0},
        margin={"t": 60 if title else 30, "l": 60, "r": 20, "b": 40},
    )
    if y_title:
        fig.update_yaxes(title_text=y_title)
    return fig
