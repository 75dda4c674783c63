"""One self-contained HTML file: plotly's JavaScript inlined once, interactive charts, no network.

Every piece of user text goes through `html.escape` before it reaches the page, and through
`charts.safe_text` before it reaches a plotly label (plotly renders a subset of HTML, links
included). Plotly serialises figure data with `<`, `>` and `/` escaped, so a name like
`</script>` cannot close the figure's script block.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from pilotproof import charts
from pilotproof.export.content import (
    CHANGE_HEADING,
    EffectRow,
    PilotSection,
    Report,
    bridge_figure,
    check_label,
    comparison_figure,
    decision_color,
    humanise,
    series_figure,
)

Progress = Callable[[float, str], None]
_CONFIG = {"displaylogo": False, "responsive": True}

_STYLE = """
body { font-family: Inter, "Segoe UI", Helvetica, Arial, sans-serif; color: #1d2733;
       margin: 0 auto; max-width: 1180px; padding: 24px 32px; line-height: 1.4; }
h1 { font-size: 28px; margin: 0 0 4px; }
h2 { font-size: 21px; margin: 0 0 6px; }
h3 { font-size: 15px; margin: 18px 0 6px; text-transform: uppercase; letter-spacing: .04em;
     color: #4a5a6a; }
.subtitle { color: #4a5a6a; margin-bottom: 16px; }
section { border-top: 3px solid #1d2733; padding-top: 14px; margin-top: 32px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 6px 0 10px; }
.scroll { overflow-x: auto; }
th, td { border-bottom: 1px solid #d8dee4; padding: 5px 8px; text-align: left;
         vertical-align: top; }
th { background: #eef2f6; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.chip { display: inline-block; padding: 2px 10px; border-radius: 10px; color: #fff;
        font-weight: 600; font-size: 12px; white-space: nowrap; }
.fail { color: #b04500; font-weight: 600; }
.gap { color: #b04500; font-weight: 600; }
.meta { color: #4a5a6a; font-size: 13px; }
.value { font-size: 17px; margin: 10px 0 4px; }
.warn { color: #a04000; font-weight: 600; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 18px; }
footer { color: #5a6a7a; font-size: 11px; border-top: 1px solid #d8dee4; margin-top: 14px;
         padding-top: 6px; }
@media print { section { break-before: page; } }
"""


def render(report: Report, progress: Progress | None = None) -> bytes:
    """The report as one self-contained HTML page, returned as UTF-8 bytes."""
    step = progress or (lambda fraction, text: None)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(report.title)}</title>",
        f"<style>{_STYLE}</style>",
        f'<script type="text/javascript">{get_plotlyjs()}</script>',
        "</head><body>",
        f"<h1>{escape(report.title)}</h1>",
        f'<div class="subtitle">{escape(report.subtitle)}</div>',
        _value(report),
        _summary(report),
    ]
    step(0.1, "Executive summary")
    if report.is_selection:
        parts.append(_comparison(report))
    for i, pilot in enumerate(report.pilots):
        step(0.15 + 0.8 * i / max(len(report.pilots), 1), f"Pilot {pilot.id_text}")
        parts.append(_pilot(pilot, report))
    parts.append(_about(report))
    parts.append("</body></html>")
    step(1.0, "Done")
    return "\n".join(parts).encode("utf-8")


def _summary(report: Report) -> str:
    rows = []
    for p in report.pilots:
        net = p.net_text
        rows.append(
            "<tr>"
            f"<td>{escape(p.label)}</td>"
            f"<td>{_chip(p.decision, p.decision_label)}{_mark(p)}</td>"
            f"<td><strong>{escape(p.action_title)}</strong></td>"
            f"<td>{escape(p.reasons_text) or '&mdash;'}</td>"
            f'<td class="num">{escape(net)}</td>'
            "</tr>"
        )
    return (
        '<section id="summary"><h2>Executive summary</h2>'
        '<div class="scroll">'
        "<table><thead><tr><th>Pilot</th><th>Decision</th><th>Action title</th>"
        "<th>Reasons</th><th>Annual net value</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div>"
        + _plan_warnings(report)
        + _footer(report)
        + "</section>"
    )


def _value(report: Report) -> str:
    """What the pilots to scale are worth a year, the line under it and what stopping saves,
    as the deck's first slide says them; '' for one pilot."""
    if len(report.pilots) < 2:
        return ""
    parts = [
        f'<p class="value"><strong>{escape(report.value_headline)}</strong></p>'
        if report.value_headline
        else "",
        f'<p class="meta">{escape(report.value_detail)}</p>' if report.value_detail else "",
        f"<p><strong>{escape(report.stop_saving)}</strong></p>" if report.stop_saving else "",
    ]
    return "".join(parts)


def _mark(p: PilotSection) -> str:
    """The mark of a pilot that counts only under a lowered bar, under its decision chip."""
    return f'<br><span class="warn">{escape(p.lowered_mark)}</span>' if p.lowered_mark else ""


def _plan_warnings(report: Report) -> str:
    """The portfolio's success-criteria warnings and overdue decisions, or nothing."""
    if not (report.plan_warnings or report.overdue):
        return ""
    items = [
        f'<li class="warn">{escape(name)}: {escape(warning)}</li>'
        for name, warning in report.plan_warnings
    ]
    if report.overdue:
        names = ", ".join(escape(n) for n in report.overdue)
        items.append(f"<li>Decisions overdue against their evaluation window: {names}</li>")
    return "<h3>Success criteria and decisions</h3><ul>" + "".join(items) + "</ul>"


def _plan(p: PilotSection) -> str:
    """The success plan's status, warning, plan, logged decision and forecast."""
    if not p.plan_status:
        return ""
    marked = ' class="warn"'
    lines = "".join(
        f"<li{marked if line in (p.plan_warning, p.plan_outcome) else ''}>{escape(line)}</li>"
        for line in p.plan_lines
    )
    return f"<h3>Success plan: {escape(p.plan_status)}</h3><ul>{lines}</ul>"


def _comparison(report: Report) -> str:
    figure = comparison_figure(report)
    rows = [
        _effect_cells(e, prefix=f"<td>{escape(p.name)}</td>")
        for p in report.pilots
        for e in p.value_rows
    ]
    return (
        '<section id="comparison"><h2>Side-by-side comparison</h2>'
        '<div class="meta">Improvement against what was expected without the pilot, with its '
        "95% interval; right is better whatever the metric's direction.</div>"
        + _figure(figure)
        + '<div class="scroll">'
        "<table><thead><tr><th>Pilot</th>"
        + _effect_header()
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div>"
        + _footer(report)
        + "</section>"
    )


def _pilot(p: PilotSection, report: Report) -> str:
    facts = [p.id_text, p.function, f"vendor {p.vendor}" if p.vendor else ""]
    if p.go_live is not None:
        facts.append(f"go-live {p.go_live:%Y-%m-%d}")
    meta = " &middot; ".join(escape(x) for x in facts if x)
    parts = [
        f'<section id="pilot-{escape(p.pilot_id, quote=True)}">',
        f"<h2>{escape(p.heading)}</h2>",
        f'<div class="meta">{_chip(p.decision, p.decision_label)} {escape(p.label)} &middot; '
        f"{meta}</div>",
    ]
    if p.reasons_text:
        parts.append(f'<div class="meta">Why: {escape(p.reasons_text)}</div>')
    if p.claim_text:  # a mix shift's says what is the rates' and what the mix's
        parts.append(f'<p class="fail">{escape(p.claim_text)}</p>')
    parts.append(_plan(p))
    series = series_figure(p, static=False)
    if series is not None:
        parts.append(_figure(series))
    split = charts.mix_split(p.mix_effect) if p.mix_effect is not None else None
    if split is not None:  # the app's rate/mix chart, as the explorer shows it
        parts.append(f"<h3>{escape(p.mix_title)}</h3>")
        parts.append(_figure(split))
    parts.append("<h3>Effects against what was expected without the pilot</h3>")
    parts.append(
        '<div class="scroll">'
        "<table><thead><tr>"
        + _effect_header()
        + "</tr></thead><tbody>"
        + "".join(_effect_cells(e) for e in p.effects)
        + "</tbody></table></div>"
    )
    if p.guardrails:
        parts.append("<h3>Guardrails</h3>")
        parts.append(_guardrails(p))
    parts.append("<h3>Value-mirage checks</h3>")
    parts.append(_checks(p))
    parts.append('<div class="grid"><div><h3>Readiness</h3>')
    parts.append(_readiness(p))
    parts.append("</div><div><h3>Annualised net value</h3>")
    bridge = bridge_figure(p)
    parts.append(f'<p class="meta">{escape(p.net_sentence)}</p>')
    if bridge is not None and p.value_booked:  # a point within noise is not drawn as money
        bridge.update_traces(cliponaxis=False, selector={"type": "waterfall"})
        bridge.update_layout(height=340, margin={"t": 40})
        parts.append(_figure(bridge))
    parts.append("</div></div>")
    parts.append(_footer(report))
    parts.append("</section>")
    return "\n".join(parts)


def _effect_header() -> str:
    return (
        f"<th>Metric</th><th>Kind</th><th>Verdict</th><th>{escape(CHANGE_HEADING)}</th>"
        "<th>95% interval</th>"
        "<th>Bar to clear</th><th>Compared with</th><th>Reasons</th>"
    )


def _effect_cells(e: EffectRow, prefix: str = "") -> str:
    verdict = e.verdict_label
    color = e.verdict_color
    return (
        f"<tr>{prefix}<td>{escape(humanise(e.metric))}</td><td>{escape(e.kind)}</td>"
        f'<td><span class="chip" style="background:{color}">{escape(verdict)}</span></td>'
        f'<td class="num">{escape(e.effect_text)}</td>'
        f'<td class="num">{escape(e.interval_text)}</td>'
        f"<td>{escape(e.bar_text)}</td><td>{escape(e.method_text)}</td>"
        f"<td>{escape(e.reasons_text)}</td></tr>"
    )


def _guardrails(p: PilotSection) -> str:
    rows = []
    for e in p.guardrails:
        breached = e.breached
        status = e.status_text
        rows.append(
            f"<tr><td>{escape(humanise(e.metric))}</td>"
            f'<td class="num">{escape(e.effect_text)}</td>'
            f'<td class="num">{escape(e.interval_text)}</td>'
            f"<td>{escape(e.bar_text)}</td>"
            f'<td class="{"fail" if breached else ""}">{status}</td></tr>'
        )
    return (
        '<div class="scroll">'
        f"<table><thead><tr><th>Guardrail</th><th>{escape(CHANGE_HEADING)}</th>"
        "<th>95% interval</th>"
        "<th>Tolerance</th><th>Status</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div>"
    )


def _checks(p: PilotSection) -> str:
    grid = p.check_grid(None)  # a web page has room for every metric
    if not grid.metrics:
        return '<p class="meta">No checks were run.</p>'
    head = "".join(f"<th>{escape(m)}</th>" for m in grid.metrics)
    rows = []
    for grid_row in grid.rows:
        cells = []
        for row in grid_row.cells:
            if row is None:
                cells.append("<td>&mdash;</td>")
                continue
            css = ' class="fail"' if row.outcome == "FAIL" else ""
            cells.append(f'<td{css} title="{escape(row.explanation)}">{row.outcome}</td>')
        rows.append(f"<tr><td>{escape(grid_row.label)}</td>{''.join(cells)}</tr>")
    failed = p.failed_checks
    notes = "".join(
        f"<li><strong>{escape(humanise(c.metric))}, {escape(check_label(c.check))}"
        f"</strong>: {escape(c.explanation)}</li>"
        for c in failed
    )
    return (
        '<div class="scroll">'
        f"<table><thead><tr><th>Check</th>{head}</tr></thead><tbody>{''.join(rows)}"
        "</tbody></table></div>" + (f"<ul>{notes}</ul>" if notes else "")
    )


def _readiness(p: PilotSection) -> str:
    rows = "".join(
        f"<tr><td>{escape(r.label)}</td>"
        + ('<td class="gap">missing</td>' if r.gap else f"<td>{escape(r.answer or '')}</td>")
        + "</tr>"
        for r in p.readiness
    )
    gaps = p.readiness_gaps
    summary = (
        f'<p class="gap">Gaps: {escape(", ".join(gaps))}</p>'
        if gaps
        else '<p class="meta">Every readiness question is answered.</p>'
    )
    return f"<table><tbody>{rows}</tbody></table>{summary}"


def _chip(decision: str, label: str) -> str:
    color = decision_color(decision)
    return f'<span class="chip" style="background:{color}">{escape(label)}</span>'


def _figure(figure: go.Figure) -> str:
    return figure.to_html(
        full_html=False, include_plotlyjs=False, include_mathjax=False, config=_CONFIG
    )


def _footer(report: Report) -> str:
    """A section's footer, one short line as the deck's and the PDF's: source and date."""
    return f'<footer class="report-footer">{escape(report.footer.line())}</footer>'


def _about(report: Report) -> str:
    """How the report was made, once, at the end: method, scope, version, data fingerprint."""
    rows = "".join(
        f"<tr><th>{escape(what)}</th><td>{escape(value)}</td></tr>"
        for what, value in report.footer.provenance
    )
    return (
        '<section id="about"><h2>About this report</h2>'
        f"<table><tbody>{rows}</tbody></table>"
        f'<footer class="report-footer">{escape(report.footer.text)}</footer></section>'
    )
