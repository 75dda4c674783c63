"""The PDF's per-pilot charts drawn as vector graphics (reportlab), in the app's look.

A whole-portfolio PDF of 1,000 pilots needs 2,000 charts. Rendered as images through a
headless browser (plotly and kaleido) each cost 0.1-0.3 s of browser time, which made such a
PDF take ten minutes or more; drawn here they cost a few milliseconds each, print sharp at any
zoom and add kilobytes, not megabytes. They draw what the app's figures draw
(`pilotproof.charts.series_chart` and `value_bridge` on the print theme): the same colours, line
styles, go-live line, threshold level, counterfactual band and legend below; long daily series
as weekly means, as the deck does (`content.display_series`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from reportlab.graphics.shapes import Circle, Drawing, Group, Line, Polygon, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

from pilotproof import charts
from pilotproof.export import pdf_fonts
from pilotproof.export.content import PREREGISTERED_COLOR, PilotSection, display_series
from pilotproof.plaintext import shown
from pilotproof.words import EXPECTED_BAND, EXPECTED_LINE, threshold_words

GRID = colors.HexColor("#EBF0F8")  # plotly_white's grid lines
TICK_INK = colors.HexColor("#2A3F5F")  # plotly_white's axis text
# the app's band, rgba(128, 128, 128, 0.34), as the solid grey it makes on white paper
BAND = colors.HexColor("#D4D4D4")
TICK_SIZE = 6.5
LEGEND_SIZE = 6.5


def series_drawing(p: PilotSection, width: float, height: float, font: str) -> Drawing | None:
    """The headline metric's observed series against its counterfactual, in points: the band,
    the counterfactual (dashed), the control group (dotted), the observed series, the scaling
    threshold as one flat dotted level after go-live, go-live and the pilot's events; the legend
    below. None when the pilot has no series."""
    effect = p.headline
    if effect is None or not p.has_series:
        return None
    series, _ = display_series(effect, p.go_live, p.preregistered)
    x = _days(series["date"])
    columns = (
        "observed", "counterfactual", "cf_low", "cf_high", "threshold", "preregistered", "control",
    )  # fmt: skip
    values = {c: series[c].to_numpy(dtype=float) for c in columns if c in series}
    legend: list[tuple[str, dict]] = []
    has_band = bool(np.isfinite(values["cf_low"]).any() and np.isfinite(values["cf_high"]).any())
    if has_band:
        legend.append((EXPECTED_BAND, {"band": True}))
    if np.isfinite(values["counterfactual"]).any():
        counterfactual = {"color": charts.COUNTERFACTUAL_COLOR, "width": 1.0, "dash": (3, 2)}
        legend.append((EXPECTED_LINE, counterfactual))
    has_control = "control" in values and np.isfinite(values["control"]).any()
    if has_control:
        legend.append(
            ("Control group", {"color": charts.CONTROL_COLOR, "width": 0.8, "dash": (1, 1.5)})
        )
    markers = len(series) <= 60
    legend.append(("Observed", {"color": charts.OBSERVED_COLOR, "width": 1.0, "marker": markers}))
    has_threshold = np.isfinite(values["threshold"]).any()
    if has_threshold:
        threshold_style = {"color": charts.THRESHOLD_COLOR, "width": 1.7, "dash": (1.2, 2)}
        words = threshold_words(effect.threshold_pct or 0.0, effect.points)
        if p.preregistered is not None:
            words += ", lowered after the results"
        legend.append((words, threshold_style))
    if np.isfinite(values["preregistered"]).any():  # the bar as agreed, before it was lowered
        was = threshold_words(p.preregistered or 0.0, effect.points)
        legend.append(
            (was.replace("Scaling", "Pre-registered", 1),
             {"color": PREREGISTERED_COLOR, "width": 1.5, "dash": (0.8, 1.6), "column":
              "preregistered"})
        )  # fmt: skip

    drawn = [
        values[c] for c in ("observed", "counterfactual", "threshold", "preregistered")
        if c in values
    ]  # fmt: skip
    if has_band:
        drawn += [values["cf_low"], values["cf_high"]]
    if has_control:
        drawn.append(values["control"])
    y_low, y_high = _span(np.concatenate(drawn))
    x_low, x_high = float(np.nanmin(x)), float(np.nanmax(x))
    if p.go_live is not None:
        go_live_x = _days(pd.Series([p.go_live]))[0]
        x_low, x_high = min(x_low, go_live_x), max(x_high, go_live_x)
    else:
        go_live_x = None

    drawing = Drawing(width, height)
    legend_group, legend_height = _legend(legend, width - 8, font)
    plot = _Plot(
        left=32,
        bottom=legend_height + 14,
        right=width - 6,
        top=height - 9,
        x_range=(x_low, x_high if x_high > x_low else x_low + 1),
        y_range=(y_low, y_high),
    )
    unit = p.units.get(effect.metric, "")
    y_ticks = _ticks(y_low, y_high)
    _grid_and_y_axis(drawing, plot, y_ticks, font, charts.value_axis(unit, effect.scale))
    for tick, label in _date_ticks(x_low, x_high):
        drawing.add(_text(plot.x(tick), plot.bottom - 8, label, font, TICK_SIZE, "middle"))
    _y_title(drawing, plot, charts.value_title(effect, unit), font)

    if has_band:
        both = np.isfinite(values["cf_low"]) & np.isfinite(values["cf_high"])
        upper = [
            (plot.x(a), plot.y(b)) for a, b in zip(x[both], values["cf_high"][both], strict=True)
        ]
        lower = [
            (plot.x(a), plot.y(b)) for a, b in zip(x[both], values["cf_low"][both], strict=True)
        ]
        points = [v for xy in upper + lower[::-1] for v in xy]
        drawing.add(Polygon(points, fillColor=BAND, strokeColor=None, strokeWidth=0))
    for name, style in legend:
        if style.get("band"):
            continue
        column = style.get("column") or {
            "Observed": "observed",
            "Control group": "control",
            EXPECTED_LINE: "counterfactual",
        }.get(name, "threshold")
        _lines(drawing, plot, x, values[column], style)
    if go_live_x is not None:
        gx = plot.x(go_live_x)
        drawing.add(
            Line(
                gx,
                plot.bottom,
                gx,
                plot.top,
                strokeColor=_hex(charts.REFERENCE_LINE_COLOR),
                strokeWidth=1.0,
            )
        )
        drawing.add(_text(gx, plot.top + 2, "Go-live", font, TICK_SIZE, "middle"))
    for day, label in _events(p):
        ex = plot.x(day)
        if plot.left <= ex <= plot.right:
            ink = _hex(charts.EVENT_COLOR)
            drawing.add(
                Line(
                    ex,
                    plot.bottom,
                    ex,
                    plot.top,
                    strokeColor=ink,
                    strokeWidth=0.5,
                    strokeDashArray=(1, 1.5),
                )
            )
            drawing.add(_text(ex + 1.5, plot.bottom + 2, label, font, 5.5, "start", ink))
    legend_group.translate(plot.left - 28, 2)
    drawing.add(legend_group)
    return drawing


def mix_drawing(p: PilotSection, width: float, height: float, font: str) -> Drawing | None:
    """A mix-shift mirage's apparent change beside its rate part and its mix part (Kitagawa's
    split), as horizontal bars in % from zero with their values: the app's `charts.mix_split`.
    None for a pilot without the split."""
    parts = p.mix_parts
    if not parts:
        return None
    labels = [label for label, _, _ in parts]
    gutter = max(stringWidth(label, font, TICK_SIZE) for label in labels) + 6
    span = max([abs(v) for _, v, _ in parts] + [1.0]) * 1.35
    low = -span if min(v for _, v, _ in parts) < 0 else 0.0
    high = span if max(v for _, v, _ in parts) > 0 else 0.0
    drawing = Drawing(width, height)
    plot = _Plot(left=gutter, bottom=12, right=width - 6, top=height - 2,
                 x_range=(low, high), y_range=(0.0, float(len(parts))))  # fmt: skip
    for tick in _ticks(low, high, 4):
        x = plot.x(tick)
        ink = colors.HexColor("#444444") if tick == 0 else GRID
        drawing.add(Line(x, plot.bottom, x, plot.top, strokeColor=ink, strokeWidth=0.5))
        drawing.add(_text(x, plot.bottom - 8, f"{_number(tick, 1, abs(tick))}%", font,
                          TICK_SIZE, "middle"))  # fmt: skip
    for i, (label, value, color) in enumerate(parts):
        row = len(parts) - 1 - i  # the apparent change on top, as the app lists it
        bottom, top = plot.y(row + 0.2), plot.y(row + 0.8)
        zero, end = plot.x(0.0), plot.x(value)
        drawing.add(Rect(min(zero, end), bottom, abs(end - zero), top - bottom,
                         fillColor=_hex(color), strokeColor=None, strokeWidth=0))  # fmt: skip
        middle = (bottom + top) / 2 - 2.2
        drawing.add(_text(plot.left - 3, middle, label, font, TICK_SIZE, "end"))
        text = f"{value:+.1f}%".replace("-", "\u2212")
        outside = end + 2 if value >= 0 else end - 2
        drawing.add(_text(outside, middle, text, font, TICK_SIZE, "start" if value >= 0 else "end"))
    return drawing


def bridge_drawing(p: PilotSection, width: float, height: float, font: str) -> Drawing | None:
    """The annualised bridge from gross value, less running cost, to net value, with the net
    value's 95% interval: three bars as the app's waterfall draws them. None without a net
    value."""
    net = p.net_value
    if net is None:
        return None
    steps = (
        ("Gross value", 0.0, net.annual_gross, p.money(net.annual_gross)),
        (
            "Running cost",
            net.annual_gross,
            net.annual_gross - net.annual_cost,
            p.money(-net.annual_cost),
        ),
        ("Net value", 0.0, net.annual_net, p.money(net.annual_net)),
    )
    ends = [0.0, net.annual_gross, net.annual_gross - net.annual_cost, net.annual_net]
    ends += [v for v in (net.ci_low, net.ci_high) if v is not None and math.isfinite(v)]
    low, high = min(ends), max(ends)
    pad = 0.14 * ((high - low) or abs(high) or 1.0)
    y_low, y_high = _drawable(low - (pad if low < 0 else 0.0), high + pad)
    drawing = Drawing(width, height)
    plot = _Plot(
        left=34,
        bottom=16,
        right=width - 6,
        top=height - 6,
        x_range=(0.0, 3.0),
        y_range=(y_low, y_high),
    )
    _grid_and_y_axis(drawing, plot, _ticks(y_low, y_high), font)
    currency = p.currency or ""
    _y_title(drawing, plot, f"Per year ({currency})" if currency else "Per year", font)
    bar = 0.6
    for i, (label, start, end, text) in enumerate(steps):
        left, right = plot.x(i + 0.5 - bar / 2), plot.x(i + 0.5 + bar / 2)
        if i == 2:
            color = charts.OBSERVED_COLOR  # the total
        else:
            color = charts.VERDICT_COLORS["real" if end >= start else "worse"]
        bottom, top = plot.y(min(start, end)), plot.y(max(start, end))
        drawing.add(
            Rect(
                left,
                bottom,
                right - left,
                max(top - bottom, 0.3),
                fillColor=_hex(color),
                strokeColor=None,
                strokeWidth=0,
            )
        )
        drawing.add(_text((left + right) / 2, plot.bottom - 9, label, font, TICK_SIZE, "middle"))
        middle = (left + right) / 2
        if i == 2 and top - bottom > 12:  # the total's amount inside its bar
            drawing.add(
                _text(middle, (top + bottom) / 2 - 2, text, font, TICK_SIZE, "middle", colors.white)
            )
        elif end >= start:
            drawing.add(_text(middle, top + 2, text, font, TICK_SIZE, "middle"))
        else:
            drawing.add(_text(middle, bottom - 7, text, font, TICK_SIZE, "middle"))
        if i < 2:  # the dotted connector to the next bar
            level = plot.y(end)
            drawing.add(
                Line(
                    right,
                    level,
                    plot.x(i + 1.5 - bar / 2),
                    level,
                    strokeColor=colors.HexColor("#888888"),
                    strokeWidth=0.5,
                    strokeDashArray=(1, 1.5),
                )
            )
    interval = (net.ci_low, net.ci_high)
    if all(v is not None and math.isfinite(v) for v in interval):
        cx, ink = plot.x(2.5), colors.HexColor("#333333")
        y1, y2 = plot.y(net.ci_low), plot.y(net.ci_high)
        drawing.add(Line(cx, y1, cx, y2, strokeColor=ink, strokeWidth=1))
        for level in (y1, y2):
            drawing.add(Line(cx - 3, level, cx + 3, level, strokeColor=ink, strokeWidth=1))
    return drawing


# ---- the frame: axes, grid, ticks, legend ---------------------------------------------------


class _Plot:
    """The plotting area in points and the mapping of data onto it."""

    def __init__(self, *, left, bottom, right, top, x_range, y_range) -> None:
        self.left, self.bottom, self.right, self.top = left, bottom, right, top
        self.x_low, self.x_high = x_range
        self.y_low, self.y_high = y_range

    def x(self, value: float) -> float:
        share = (value - self.x_low) / ((self.x_high - self.x_low) or 1.0)
        return self.left + share * (self.right - self.left)

    def y(self, value: float) -> float:
        share = (value - self.y_low) / ((self.y_high - self.y_low) or 1.0)
        return self.bottom + share * (self.top - self.bottom)


def _grid_and_y_axis(
    drawing: Drawing,
    plot: _Plot,
    ticks: Sequence[float],
    font: str,
    axis: charts.ValueAxis | None = None,
) -> None:
    """Grid lines at `ticks` and their labels, written as `axis` says (a fraction in %)."""
    axis = axis or charts.ValueAxis()
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    k = axis.factor
    for tick in ticks:
        level = plot.y(tick)
        ink = colors.HexColor("#444444") if tick == 0 else GRID
        drawing.add(Line(plot.left, level, plot.right, level, strokeColor=ink, strokeWidth=0.5))
        label = _number(tick * k, step * k, max(abs(t) for t in ticks) * k) + axis.suffix
        drawing.add(_text(plot.left - 3, level - 2.2, label, font, TICK_SIZE, "end"))


def _y_title(drawing: Drawing, plot: _Plot, title: str, font: str) -> None:
    text = _text(0, 0, title, font, TICK_SIZE, "middle")
    group = Group(text)
    group.rotate(90)
    group.translate((plot.bottom + plot.top) / 2, -7)
    drawing.add(group)


def _legend(items: Sequence[tuple[str, dict]], width: float, font: str) -> tuple[Group, float]:
    """The legend's entries side by side, wrapped onto further rows when they do not fit."""
    group = Group()
    rows: list[list[tuple[str, dict, float]]] = [[]]
    used = 0.0
    for name, style in items:
        size = 14 + stringWidth(name, font, LEGEND_SIZE) + 8
        if rows[-1] and used + size > width:
            rows.append([])
            used = 0.0
        rows[-1].append((name, style, size))
        used += size
    line_height = 9.0
    for r, row in enumerate(rows):
        y = (len(rows) - 1 - r) * line_height + 3
        x = 0.0
        for name, style, size in row:
            if style.get("band"):
                group.add(Rect(x, y - 1, 11, 4, fillColor=BAND, strokeColor=None, strokeWidth=0))
            else:
                group.add(_styled(Line(x, y + 1, x + 11, y + 1), style))
                if style.get("marker"):
                    group.add(_dot(x + 5.5, y + 1, style["color"]))
            group.add(_text(x + 14, y - 1, name, font, LEGEND_SIZE, "start"))
            x += size
    return group, len(rows) * line_height


def _lines(drawing: Drawing, plot: _Plot, x: np.ndarray, y: np.ndarray, style: dict) -> None:
    """A line broken at every gap (NaN), as plotly draws it; dots at each point when asked."""
    finite = np.isfinite(y) & np.isfinite(x)
    runs: list[list[float]] = []
    current: list[float] = []
    for ok, a, b in zip(finite, x, y, strict=True):
        if ok:
            current += [plot.x(float(a)), plot.y(float(b))]
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    for run in runs:
        if len(run) >= 4:
            drawing.add(_styled(PolyLine(run), style))
        if style.get("marker") or len(run) == 2:
            for i in range(0, len(run), 2):
                drawing.add(_dot(run[i], run[i + 1], style["color"]))


def _styled(shape, style: dict):
    shape.strokeColor = _hex(style["color"])
    shape.strokeWidth = style["width"]
    shape.strokeLineJoin = 1
    if style.get("dash"):
        shape.strokeDashArray = style["dash"]
    return shape


def _dot(x: float, y: float, color: str) -> Circle:
    return Circle(x, y, 1.2, fillColor=_hex(color), strokeColor=None, strokeWidth=0)


def _text(x, y, text, font, size, anchor, ink=TICK_INK) -> String | Group:
    if not text.isascii():  # a name in Chinese, Japanese, Korean: runs in a fallback font
        return pdf_fonts.shape(x, y, text, font, size, anchor, ink)
    return String(x, y, text, fontName=font, fontSize=size, fillColor=ink, textAnchor=anchor)


def _span(values: np.ndarray) -> tuple[float, float]:
    """The y range: the data's, padded a little so no line touches the frame."""
    finite = values[np.isfinite(values)]
    if not len(finite):
        return 0.0, 1.0
    low, high = float(finite.min()), float(finite.max())
    pad = 0.05 * ((high - low) or abs(high) or 1.0)
    return _drawable(low - pad, high + pad)


def _drawable(low: float, high: float) -> tuple[float, float]:
    """An axis range a page can hold; values near the float limit are no chart (the caller
    notes why in its place)."""
    if not (math.isfinite(low) and math.isfinite(high) and math.isfinite(high - low)):
        raise ValueError("values too large to chart")
    return low, high


def _ticks(low: float, high: float, most: int = 6) -> list[float]:
    """Round tick values inside [low, high], at most about `most` of them."""
    span = high - low
    if not math.isfinite(span) or span <= 0:
        return [low]
    raw = span / most
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step) * step
    count = math.floor((high - first) / step + 1e-9) + 1
    return [round(first + i * step, 12) for i in range(count)]


def _number(value: float, step: float, largest: float) -> str:
    """A tick label as plotly writes it: 12, 2.25, 0.05, 250k, 1.5M (no trailing zeros)."""
    if value == 0:
        return "0"
    suffix, size = "", 1.0
    for scale, name in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if largest >= 10_000 and largest >= scale:
            suffix, size = name, scale
            break
    scaled, unit = value / size, step / size
    digits = 0
    while digits < 6 and abs(round(unit, digits) - unit) > 1e-9 * max(abs(unit), 1e-12):
        digits += 1
    text = f"{scaled:,.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace("-", "\u2212") + suffix


_EPOCH = pd.Timestamp("1970-01-01")


def _days(dates: pd.Series) -> np.ndarray:
    return ((pd.to_datetime(dates) - _EPOCH) / pd.Timedelta(days=1)).to_numpy(dtype=float)


def _date_ticks(low: float, high: float, most: int = 9) -> list[tuple[float, str]]:
    """Date ticks on round dates (a month's first, a year's start, a Monday) between `low`
    and `high` (days since 1970), labelled as plotly labels them: 'Jan 2025', or 'Mar 3'."""
    start, end = _EPOCH + pd.Timedelta(days=low), _EPOCH + pd.Timedelta(days=high)
    span = high - low
    for months in (1, 2, 3, 6, 12, 24, 60):
        if span / (30.44 * months) <= most - 1:
            break
    if span < 75:  # under about ten weeks: weeks or days
        step = 1 if span <= most else 7 if span <= 7 * most else 14
        first = start.normalize() + pd.Timedelta(days=(-start.weekday()) % 7 if step > 1 else 0)
        days = pd.date_range(first, end, freq=f"{step}D")
        return [(_day(d), f"{d:%b} {d.day}") for d in days]
    first = pd.Timestamp(year=start.year, month=1, day=1)
    marks = pd.date_range(first, end + pd.Timedelta(days=1), freq=f"{months}MS")
    label = "%Y" if months >= 12 else "%b %Y"
    return [(_day(d), f"{d:{label}}") for d in marks if d >= start]


def _day(stamp: pd.Timestamp) -> float:
    return float((stamp - _EPOCH) / pd.Timedelta(days=1))


def _events(p: PilotSection) -> list[tuple[float, str]]:
    events = p.events
    if events is None or events.empty:
        return []
    out = []
    for day, label in zip(events["date"], events["label"], strict=True):
        out.append((_day(pd.Timestamp(day)), shown(label)))  # drawn as characters, never parsed
    return out


def _hex(color: str) -> colors.Color:
    return colors.HexColor(color)
