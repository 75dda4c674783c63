"""Results turned into the tables and sentences the app shows: pure pandas, no Streamlit.

Kept apart from the pages so the wording and the table shapes are tested on their own and the
pages stay thin.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from analytics.portfolio_health import Headline, SprawlGroup, standing_decision
from analytics.results import READINESS_FIELDS, MetricEffect, PilotResult
from pilotproof.charts import extremes  # noqa: F401  (pages and tests read it here)
from pilotproof.claims import LOWERED_BAR, bar_caveat, override_words, scaling_words
from pilotproof.plaintext import TITLE_LIMIT, shown, visible
from pilotproof.totals import (
    PortfolioValue,
    StopSavings,
    amounts_words,
    booked,
    net_value_words,
    noise_interval,
    per_currency,
    unbooked_words,
)
from pilotproof.totals import stop_savings as totals_stop_savings
from pilotproof.words import (
    ACTIVITY_LABEL,
    DECISION_LABELS,
    DIRECTION_LABELS,
    NOT_SET,
    READINESS_LABELS,
    REASON_LABELS,
    VERDICT_LABELS,
    burden_words,
    causes,
    change_text,
    data_up_to,
    effect_change_words,
    is_multiple,
    level_words,
    metric_name,
    money,
    multiple,
    no_value_words,
    running_cost_words,
    scaled_change,
    scaled_interval,
    unproven_words,
    verdict_label,
    with_burden,
)
from pilotproof.words import missing_cost_words as words_missing_cost

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=])")
# Where GitHub-flavoured markdown turns bare text into a link: "scheme://", "www." and the "@"
# of an e-mail address. Streamlit finds these after escapes are resolved, so escaping alone
# leaves "https://x.test" a live link; an invisible word joiner in each breaks the pattern.
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?i:(?<=www)(?=\.))|(?<=@)")
WORD_JOINER = "\u2060"


def md(text: object) -> str:
    """User text made inert for Streamlit markdown: control characters shown as visible codes,
    every markdown character escaped, and no bare URL or e-mail address turned into a link."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ""
    plain = _AUTOLINK.sub(WORD_JOINER, visible(text))
    return _MARKDOWN_SPECIAL.sub(r"\\\1", plain)


def nice(name: str) -> str:
    """`cycle_time` -> `cycle time`, `ai_usage` -> `AI usage`."""
    return metric_name(str(name))


def pilot_labels(pilots: pd.DataFrame) -> dict[str, str]:
    """pilot_id -> "name (company)", unique even if two pilots share a name; names shown as
    plain text (control characters visible, cut with "…")."""
    labels: dict[str, str] = {}
    for row in pilots.itertuples(index=False):
        name = shown(_text(row.pilot_name) or row.pilot_id)
        company = shown(_text(row.company), 60)
        labels[row.pilot_id] = f"{name} ({company})" if company else name
    seen: dict[str, int] = {}
    for label in labels.values():
        seen[label] = seen.get(label, 0) + 1
    return {
        pid: (f"{label} [{shown(pid, 40)}]" if seen[label] > 1 else label)
        for pid, label in labels.items()
    }


def effect_sentence(effect: MetricEffect) -> str:
    """The effect in plain words, e.g.
    "cycle time 21% lower than it would have been (95% interval 17% to 25% lower)";
    beyond ±300% as a multiple ("4.5x what it would have been"); an activity metric as
    activity ("AI usage up 42x (95% interval 40x to 44x): activity, not value")."""
    name = shown(nice(effect.metric))
    pct = effect.effect_pct
    if effect.points and effect.effect_points is not None:
        # a fraction (margin, a rate) moves in percentage points: "margin +2.0 points"
        moved = scaled_change(effect.effect_points, True)
        low, high = effect.headline_interval
        interval = "" if low is None else f" (95% interval {scaled_interval(low, high, True)})"
        tail = ": activity, not value" if effect.kind == "activity" else ""
        return f"{name} {moved} against what it would have been{interval}{tail}"
    if pct is None or not math.isfinite(pct):
        why = ", ".join(REASON_LABELS.get(r, nice(r)) for r in effect.reasons) or "no estimate"
        return f"{name}: no effect estimated ({why})"
    if effect.kind == "activity":
        amount = multiple(pct) if is_multiple(pct) else f"{abs(pct):.0f}%"
        moved = "unchanged" if abs(pct) < 0.5 else f"{'up' if pct > 0 else 'down'} {amount}"
        levels = level_words(effect) if is_multiple(pct) else ""
        if levels:  # "AI usage up 28.7x" is no board's word: the levels, without multiples
            moved = f"{'up' if pct > 0 else 'down'} from {levels.replace(' → ', ' to ')}"
            return f"{name} {moved}: activity, not value"
        return f"{name} {moved}{_interval_words(effect)}: activity, not value"
    if abs(pct) < 0.5:
        sentence = f"{name} about the same as it would have been"
    elif is_multiple(pct):
        sentence = f"{name} {multiple(pct)} what it would have been"
    else:
        moved = "lower" if pct < 0 else "higher"
        sentence = f"{name} {abs(pct):.0f}% {moved} than it would have been"
    return sentence + _interval_words(effect)


def _interval_words(effect: MetricEffect) -> str:
    """ " (95% interval 17% to 25% lower)", or "" without an interval."""
    low, high = effect.ci_low_pct, effect.ci_high_pct
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return ""
    low, high = sorted((low, high))
    if is_multiple(low) or is_multiple(high):
        interval = f"{change_text(low, 0)} to {change_text(high, 0)}"
    elif low < 0 < high:
        interval = f"{abs(low):.0f}% lower to {high:.0f}% higher"
    elif high <= 0:
        interval = f"{abs(high):.0f}% to {abs(low):.0f}% lower"
    else:
        interval = f"{low:.0f}% to {high:.0f}% higher"
    return f" (95% interval {interval})"


def _headline_label(result: PilotResult) -> str:
    """The words for the verdict of the pilot's headline metric; a pilot measured only on
    activity shows as activity, one with no value metric as inconclusive."""
    lead = result.headline
    if lead is not None:
        return verdict_label(lead.verdict, lead.kind)
    if result.metrics and all(e.kind == "activity" for e in result.metrics):
        return ACTIVITY_LABEL
    return VERDICT_LABELS["inconclusive"]


def portfolio_table(
    results: Sequence[PilotResult],
    pilots: pd.DataFrame,
    currencies: dict[str, str | None] | None = None,
    as_of: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """One row per pilot, scale first then fix, extend, stop: name, company, function,
    decision (the standing one, `standing_decision`: logged, else recommended; an override
    says what pilotproof recommends), value verdict, annualised net value with its currency
    (or what is missing for one), and why, in a few plain words never cut (with its caveat
    when the decision holds only under criteria changed after the results)."""
    by_id = {r.pilot_id: r for r in results}
    currencies = currencies or {}
    rows = []
    for row in pilots.itertuples(index=False):
        result = by_id.get(row.pilot_id)
        standing = standing_decision(result) if result else None
        rows.append(
            {
                "pilot_id": row.pilot_id,
                "pilot": shown(_text(row.pilot_name) or row.pilot_id),
                "company": shown(_text(row.company)),
                "function": shown(_text(row.function)),
                "decision": decision_words(result) if result else "Not analysed",
                "verdict": _headline_label(result) if result else "",
                "annual net value": value_text(result, row, currencies.get(row.pilot_id)),
                "why": "; ".join(w for w in (bar_caveat(result), pilot_why(result, as_of)) if w)
                if result
                else "",
                "_order": DECISION_ORDER.index(standing) if standing else 4,
            }
        )
    columns = ["pilot_id", "pilot", "company", "function", "decision", "verdict",
               "annual net value", "why", "_order"]  # fmt: skip
    table = pd.DataFrame(rows, columns=columns)
    return table.sort_values(["_order", "pilot"], ignore_index=True).drop(columns="_order")


def compare_table(
    results: Iterable[PilotResult],
    labels: dict[str, str],
    metric: str | None = None,
    currencies: dict[str, str | None] | None = None,
    pilots: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per (pilot, metric) with effect, interval, threshold and decision, sortable.

    With no `metric`, each pilot's value metrics. `rank` marks the best and worst improvement
    (positive is better whatever the metric's direction) among the rows of each metric. With
    `pilots` (the pilots frame: monthly_cost, annual_volume), a pilot without a net value says
    what it lacks in the words of every other view (`words.no_value_words`).
    """
    costs = {} if pilots is None else {row.pilot_id: row for row in pilots.itertuples()}
    rows = []
    for result in results:
        for effect in result.effects_of(metric):
            rows.append(
                {
                    "pilot": labels.get(result.pilot_id, result.pilot_id),
                    "metric": nice(effect.metric),
                    "verdict": verdict_label(effect.verdict, effect.kind),
                    "effect": scaled_change(effect.headline, effect.points),
                    "interval": _interval(*effect.headline_interval, effect.points),
                    # in the metric's scale, as the threshold: percent, or percentage points
                    "improvement_pct": effect.improvement,
                    "threshold_pct": effect.threshold_pct,
                    "annual net value": _compared_value(
                        result, (currencies or {}).get(result.pilot_id), costs.get(result.pilot_id)
                    ),
                    "decision": decision_words(result, brief=True),
                    "rank": "",
                }
            )
    columns = [
        "rank", "pilot", "metric", "verdict", "effect", "interval", "improvement_pct",
        "threshold_pct", "annual net value", "decision",
    ]  # fmt: skip
    table = pd.DataFrame(rows, columns=columns)
    if table.empty:
        return table
    table["improvement_pct"] = pd.to_numeric(table["improvement_pct"], errors="coerce")
    for _, part in table.groupby("metric"):
        scored = part["improvement_pct"].dropna()
        if len(scored) < 2:
            continue
        table.loc[scored.idxmax(), "rank"] = "best"
        table.loc[scored.idxmin(), "rank"] = "worst"
    return table.sort_values("improvement_pct", ascending=False, ignore_index=True)


def short(text: object, limit: int = 28) -> str:
    """Text cut to `limit` characters with an ellipsis, for chart titles."""
    return shown(_text(text), limit)


def pilot_title(summary: str, name: object, pilot_id: str = "") -> str:
    """A pilot's action title as the app shows it: the name inside it as `pilot_labels` shows
    names, the whole cut at TITLE_LIMIT, so a long name never hides the decision."""
    name = _text(name) or pilot_id
    title = summary.strip() or name
    if name and shown(name) != name:
        title = title.replace(name, shown(name))
    return shown(title, TITLE_LIMIT)


#: Pilots the Portfolio lists under each decision before "Show all".
DECISION_LIST_MOST = 12
#: Past this many company and function rows, the decision board counts by company instead.
BOARD_ROWS = 12
#: The most companies the board draws; the rest share one "other companies" bar.
BOARD_COMPANIES = 15


def board_by_company(board: pd.DataFrame, most: int = BOARD_COMPANIES) -> pd.DataFrame:
    """The decision board (`portfolio_health.decision_board`) counted by company: the `most`
    companies with the most pilots (ties by name), then one row for all the others ("3 other
    companies"), so the chart stays one screen tall at any size. Columns: `company`, the four
    decisions, `pilots`, and `functions` (how many functions the row spans)."""
    decisions = [c for c in ("scale", "fix", "extend", "stop") if c in board]
    grouped = board.groupby("company", sort=False).agg(
        **{d: (d, "sum") for d in decisions},
        pilots=("pilots", "sum"),
        functions=("function", "nunique"),
    )
    grouped = grouped.reset_index().sort_values(
        ["pilots", "company"], ascending=[False, True], ignore_index=True
    )
    grouped["rest"] = False
    if len(grouped) <= most:
        return grouped
    kept, rest = grouped.head(most), grouped.iloc[most:]
    other: dict[str, object] = {d: int(rest[d].sum()) for d in [*decisions, "pilots", "functions"]}
    other["company"] = f"{len(rest)} other companies"
    other["rest"] = True
    return pd.concat([kept, pd.DataFrame([other])], ignore_index=True)


def board_rest_words(by_company: pd.DataFrame) -> str:
    """The companies a `board_by_company` chart leaves out, in a sentence ("" if none):
    '129 other companies: 889 pilots (412 scale, 300 fix, 77 extend, 100 stop)'."""
    rest = by_company[by_company["rest"]]
    if rest.empty:
        return ""
    row = rest.iloc[0]
    counts = ", ".join(
        f"{int(row[d])} {d}" for d in ("scale", "fix", "extend", "stop") if row.get(d)
    )
    return (
        f"{row['company']}: {int(row['pilots'])} pilots ({counts}); choose one below to see them."
    )


def decision_board_chart(board: pd.DataFrame):
    """The decision board as stacked horizontal bars, one per company and function (or one
    per company, for a `board_by_company` frame), coloured by decision with the app's
    palette."""
    import plotly.graph_objects as go

    from pilotproof.charts import DECISION_COLORS, legend_below, safe_text

    if "function" in board:
        pairs = zip(board["company"], board["function"], strict=True)
        rows = [safe_text(f"{company} · {function}") for company, function in pairs]
    else:
        rows = [safe_text(company) for company in board["company"]]
    fig = go.Figure()
    for decision, color in DECISION_COLORS.items():
        fig.add_trace(
            go.Bar(
                y=rows, x=board[decision], name=DECISION_LABELS[decision], orientation="h",
                marker={"color": color},
                hovertemplate="%{y}: %{x} to " + decision + "<extra></extra>",
            )
        )  # fmt: skip
    most = int(board["pilots"].max()) if len(board) else 1
    fig.update_layout(
        barmode="stack",
        height=max(260, 110 + 26 * len(rows)),
        margin={"t": 10, "l": 10, "r": 10},
        legend={"traceorder": "normal"},
        xaxis={"title": {"text": "pilots"}, "dtick": 1 if most <= 20 else None},
        yaxis={"autorange": "reversed"},
    )
    return legend_below(fig, room=80)


def board_pilots(
    results: Sequence[PilotResult],
    pilots: pd.DataFrame,
    labels: dict[str, str],
    company: str,
    decision: str | None = None,
) -> pd.DataFrame:
    """The pilots behind one company's bar of the decision board (and one decision's, if
    given): pilot, function and standing decision, by function then name."""
    from analytics.portfolio_health import standing_decision

    standing = {r.pilot_id: standing_decision(r) for r in results}
    frame = pilots[pilots["company"].fillna("").astype(str) == company]
    rows = [
        {
            "pilot": labels.get(pid, shown(pid)),
            "function": shown(function or ""),
            "decision": DECISION_LABELS[standing[pid]],
        }
        for pid, function in zip(frame["pilot_id"], frame["function"], strict=True)
        if pid in standing and (decision is None or standing[pid] == decision)
    ]
    table = pd.DataFrame(rows, columns=["pilot", "function", "decision"])
    return table.sort_values(["function", "pilot"], ignore_index=True)


def readiness_table(pilots: pd.DataFrame) -> pd.DataFrame:
    """The readiness answers per pilot, for the editor: pilot_id, pilot, then each field."""
    pairs = zip(pilots["pilot_id"], pilots["pilot_name"], strict=True)
    names = [shown(_text(name) or pid) for pid, name in pairs]  # shown as every view shows it
    table = pd.DataFrame({"pilot_id": pilots["pilot_id"], "pilot": names})
    for field in READINESS_FIELDS:
        table[field] = pilots[field].map(_text) if field in pilots else ""
    return table.reset_index(drop=True)


def readiness_gaps(table: pd.DataFrame) -> pd.DataFrame:
    """Pilots whose team cannot yet name every readiness item: pilot, missing (words)."""
    rows = []
    for row in table.itertuples(index=False):
        missing = [nice(f) for f in READINESS_FIELDS if not _text(getattr(row, f))]
        if missing:
            rows.append({"pilot": row.pilot, "missing": ", ".join(missing), "gaps": len(missing)})
    return pd.DataFrame(rows, columns=["pilot", "missing", "gaps"])


Answers = dict[str, str | None]


def changed_readiness(before: pd.DataFrame, after: pd.DataFrame) -> dict[str, Answers]:
    """Rows of the readiness editor whose answers changed: pilot_id -> answers (None = blank)."""
    changed: dict[str, Answers] = {}
    old = before.set_index("pilot_id")
    for row in after.itertuples(index=False):
        answers = {f: (_text(getattr(row, f)) or None) for f in READINESS_FIELDS}
        previous = {f: (_text(old.at[row.pilot_id, f]) or None) for f in READINESS_FIELDS}
        if answers != previous:
            changed[row.pilot_id] = answers
    return changed


def _interval(low: float | None, high: float | None, is_points: bool = False) -> str:
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return ""
    return scaled_interval(low, high, is_points)  # beyond ±300%: multiples


def _text(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def upload_history_table(history: pd.DataFrame) -> pd.DataFrame:
    """The upload history (`Store.uploads()` shape) as people read it, narrow enough to wrap
    inside a laptop's width: upload number, file, kind, rows, pilots, the dates it covers
    ('2024-07-01 to 2026-10-31', '' for a pilots file: never 'None'), who, when, and the
    outcome with its message ('ok: saved 14 pilots'). Newest first as given."""

    def day(value: object) -> str:
        return "" if pd.isna(value) else f"{pd.Timestamp(value):%Y-%m-%d}"

    spans = [
        f"{day(a)} to {day(b)}" if day(a) and day(b) else day(a) or day(b)
        for a, b in zip(history["date_min"], history["date_max"], strict=True)
    ]
    outcomes = [
        f"{_text(o)}: {_text(m)}" if _text(m) else _text(o)
        for o, m in zip(history["outcome"], history["message"], strict=True)
    ]
    return pd.DataFrame(
        {
            "upload": history["upload_id"].astype(int),
            "file": history["file_name"].map(lambda f: shown(_text(f))),
            "kind": history["kind"].map(_text),
            "rows": history["rows"],
            "pilots": history["pilots"],
            "dates": spans,
            "by": history["user"].map(lambda u: shown(_text(u))),
            "uploaded": [f"{pd.Timestamp(t):%Y-%m-%d %H:%M}" for t in history["uploaded_at"]],
            "outcome": outcomes,
        }
    )


def csv_headers(data: bytes) -> list[str]:
    """The header row of an uploaded CSV, for the column-mapping step (empty if unreadable).
    A header with `;` (or a tab) and no `,` is read with that delimiter, as the ingest does."""
    import csv

    first = data.split(b"\n", 1)[0].decode("utf-8-sig", errors="replace").rstrip("\r")
    delimiter = ","
    for candidate in (";", "\t"):
        if candidate in first and "," not in first:
            delimiter = candidate
    try:
        row = next(csv.reader([first], delimiter=delimiter), [])
    except csv.Error:
        return []
    return [h.strip() for h in row if h.strip()]


def catalog_editor_frame(catalog: pd.DataFrame) -> pd.DataFrame:
    """The catalog as the Settings editor shows it: the metric in words beside its code (the
    code stays, hidden, as the row's key), the direction in words ('higher is better'), and
    threshold and tolerance as text, an empty one 'not set' (never 'None')."""
    frame = catalog[["metric", "kind", "direction", "unit", "scale"]].copy()
    frame.insert(1, "name", frame["metric"].map(nice))
    frame["direction"] = frame["direction"].map(lambda d: DIRECTION_LABELS.get(d, nice(d)))
    frame["unit"] = frame["unit"].map(_text)
    for column in ("threshold_pct", "tolerance_pct"):
        frame[column] = catalog[column].map(lambda v: NOT_SET if _number(v) is None else f"{v:g}")
    return frame.reset_index(drop=True)


#: What a threshold or tolerance cell accepts: 0 to 100, blank, or 'not set'.
SETTING_PATTERN = r"^(|not set|100(\.0*)?|\d{1,2}(\.\d*)?)$"


def overrides_table(overrides: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    """Per-pilot overrides as people read them: pilot, metric, threshold, tolerance ('not
    set' when empty)."""
    return pd.DataFrame(
        {
            "pilot": [labels.get(p, shown(p)) for p in overrides["pilot_id"]],
            "metric": overrides["metric"].map(nice),
            "threshold": overrides["threshold_pct"].map(_setting),
            "tolerance": overrides["tolerance_pct"].map(_setting),
        }
    )


def _setting(value: object) -> str:
    number = _number(value)
    return NOT_SET if number is None else f"{number:g}"


def sprawl_table(
    groups: Sequence[SprawlGroup], pilots: pd.DataFrame, currencies: dict[str, str | None]
) -> pd.DataFrame:
    """AI sprawl groups (`portfolio_health.SprawlGroup`) as people read them: the monthly
    cost in its currency ('USD 19,400 a month'), a total per currency when the pilots of a
    group state costs in several, never one number across currencies."""
    frame = pilots.assign(
        company=pilots["company"].map(_text), function=pilots["function"].map(_text)
    )
    rows = []
    for g in groups:
        part = frame[(frame["company"] == g.company) & (frame["function"] == g.function)]
        cost_text = monthly_cost_words(part, currencies)
        rows.append(
            {
                "company": g.company,
                "function": g.function,
                "pilots": g.pilots,
                "vendors": g.vendors,
                "pilot names": list(g.pilot_names),
                "monthly cost": f"{cost_text} a month" if cost_text else NOT_SET,
                "rule": g.rule,
            }
        )
    # the cost before the names, so a laptop-wide table shows it without scrolling
    columns = ["company", "function", "pilots", "vendors", "monthly cost", "pilot names", "rule"]
    return pd.DataFrame(rows, columns=columns)


def monthly_costs(
    pilots: pd.DataFrame, currencies: dict[str, str | None]
) -> dict[str | None, float]:
    """The pilots' monthly running cost (`monthly_cost`) summed per currency (None: not
    known), the pilots with no cost left out; never one number across currencies
    (`totals.per_currency`)."""
    costs = [_number(c) for c in pilots["monthly_cost"]]
    return per_currency(zip([currencies.get(p) for p in pilots["pilot_id"]], costs, strict=True))


def monthly_cost_words(pilots: pd.DataFrame, currencies: dict[str, str | None]) -> str:
    """`monthly_costs` in words, every digit, one amount per currency: 'EUR 14,500 + GBP
    21,000' ('' when no pilot has a cost); an unknown currency says so."""
    return amounts_words(monthly_costs(pilots, currencies), full=True)


def stop_savings(
    results: Sequence[PilotResult], pilots: pd.DataFrame, currencies: dict[str, str | None]
) -> StopSavings:
    """What stopping saves, for the pilots whose standing decision (`standing_decision`) is
    stop: each one's monthly running cost from the pilots file, in its currency, and their
    total per currency (`totals.stop_savings`); 'no cost data' where a pilot states no cost."""
    stopped = {r.pilot_id for r in results if standing_decision(r) == "stop"}
    frame = pilots[pilots["pilot_id"].isin(stopped)]
    return totals_stop_savings(
        (p, _number(c), currencies.get(p))
        for p, c in zip(frame["pilot_id"], frame["monthly_cost"], strict=True)
    )


def changed_thresholds(
    before: pd.DataFrame, after: pd.DataFrame
) -> list[tuple[str, float | None, float | None]]:
    """Catalog rows whose threshold or tolerance was edited: (metric, threshold_pct,
    tolerance_pct), blank as None. A blank cell that stays blank is no change."""
    merged = after.merge(before, on="metric", suffixes=("", "_was"))
    changed = pd.Series(False, index=merged.index)
    for column in ("threshold_pct", "tolerance_pct"):
        now = pd.to_numeric(merged[column], errors="coerce")
        was = pd.to_numeric(merged[f"{column}_was"], errors="coerce")
        changed |= ~((now == was) | (now.isna() & was.isna()))
    rows = merged.loc[changed, ["metric", "threshold_pct", "tolerance_pct"]]
    return [(m, _number(t), _number(o)) for m, t, o in rows.itertuples(index=False)]


def _number(value: object) -> float | None:
    number = pd.to_numeric(value, errors="coerce")
    return None if pd.isna(number) else float(number)


def valid_metric_name(name: str) -> bool:
    """Custom metric names are snake_case words: letters, digits and underscores."""
    return bool(re.fullmatch(r"[a-z][a-z0-9_]{0,39}", name))


# ---- success plans and the decision log (issue 15) ---------------------------------------


def plan_versions_table(result: PilotResult) -> pd.DataFrame:
    """A pilot's plan versions, oldest first: version, set_at, set_by, the criteria, reason,
    and whether the version came after the lock. User text stays plain (never markdown)."""
    g = result.governance
    columns = ["version", "set", "by", "after lock", "threshold %", "reason", "value metric",
               "guardrails", "window (days)", "decision owner", "recorded"]  # fmt: skip
    rows = []
    for v in g.versions if g is not None else ():
        rows.append([
            v.version, f"{v.set_at:%Y-%m-%d %H:%M}", shown(v.set_by),
            "yes" if v in g.changes() else "",
            v.plan.threshold_pct, shown(v.reason or "", 200), nice(v.plan.value_metric or ""),
            shown(g.guardrails_words(v)), v.plan.evaluation_days,
            shown(v.plan.decision_owner or ""),
            f"{v.recorded_at:%Y-%m-%d %H:%M}" + (" (dated earlier)" if v in g.backdated() else ""),
        ])  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def decision_log_table(result: PilotResult) -> pd.DataFrame:
    """A pilot's logged decisions, newest first, beside what pilotproof recommended then."""
    g = result.governance
    rows = [
        {
            "when": f"{d.decided_at:%Y-%m-%d %H:%M}",
            "decision": DECISION_LABELS.get(d.decision, d.decision),
            "recommended then": DECISION_LABELS.get(d.recommended, "") if d.recommended else "",
            "by": shown(d.decided_by),
            "note": shown(d.note, 200),
        }
        for d in reversed(g.decisions if g is not None else ())
    ]
    return pd.DataFrame(rows, columns=["when", "decision", "recommended then", "by", "note"])


def governance_table(results: Sequence[PilotResult], labels: dict[str, str]) -> pd.DataFrame:
    """Pilots whose criteria were not pre-registered or changed after the results were
    visible: pilot, status, what happened, the decision now and under the original plan."""
    rows = []
    for result in results:
        g = result.governance
        if g is None or not (g.gap or g.changed):
            continue
        rows.append(
            {
                "pilot": labels.get(result.pilot_id, shown(result.pilot_id)),
                "status": g.status_label,
                "decision now": DECISION_LABELS[result.decision],
                "under the original plan": DECISION_LABELS.get(g.would_have_been or "", ""),
                "what happened": shown(g.warning(), 400),
            }
        )
    columns = ["pilot", "status", "decision now", "under the original plan", "what happened"]
    return pd.DataFrame(rows, columns=columns)


def overdue_table(results: Sequence[PilotResult], labels: dict[str, str]) -> pd.DataFrame:
    """Decisions overdue against the evaluation window: pilot, due date, days late, what
    pilotproof recommends, the last decision logged (if any)."""
    rows = []
    today = pd.Timestamp.now().normalize()
    for result in results:
        g = result.governance
        if g is None or not g.overdue or g.due is None:
            continue
        last = g.latest_decision
        rows.append(
            {
                "pilot": labels.get(result.pilot_id, shown(result.pilot_id)),
                "due": f"{g.due:%Y-%m-%d}",
                "days late": int((today - g.due).days),
                "recommended": DECISION_LABELS[result.decision],
                "last logged": DECISION_LABELS.get(last.decision, "") if last else "none",
            }
        )
    return pd.DataFrame(
        rows, columns=["pilot", "due", "days late", "recommended", "last logged"]
    ).sort_values("days late", ascending=False, ignore_index=True)


def disagreement_table(results: Sequence[PilotResult], labels: dict[str, str]) -> pd.DataFrame:
    """Pilots whose latest logged decision differs from what pilotproof recommends now."""
    rows = []
    for result in results:
        g = result.governance
        last = g.latest_decision if g is not None else None
        if last is None or last.decision == result.decision:
            continue
        rows.append(
            {
                "pilot": labels.get(result.pilot_id, shown(result.pilot_id)),
                "decision taken": DECISION_LABELS.get(last.decision, last.decision),
                "pilotproof recommends": DECISION_LABELS[result.decision],
                "by": shown(last.decided_by),
                "when": f"{last.decided_at:%Y-%m-%d}",
                "note": shown(last.note, 200),
            }
        )
    columns = ["pilot", "decision taken", "pilotproof recommends", "by", "when", "note"]
    return pd.DataFrame(rows, columns=columns)


# ---- the portfolio's answer: what to scale, fix, extend or stop, and why (issue 13) --------

DECISION_ORDER = ("scale", "fix", "extend", "stop")


def decide_by_words(result: PilotResult, as_of: pd.Timestamp | None) -> str:
    """When a pilot that is too early can be decided, by the forecast the exports' 'Decide by
    ~…' reads: 'decide by ~26 October 2026'; 'more data needed: the next upload' when that
    date is already past at `as_of` (the data stopped before it); '' without a forecast."""
    found = result.governance.forecast if result.governance is not None else None
    if found is None:
        return ""
    when = getattr(found, "decide_by", None)
    if when is None:
        return f"no date: too noisy to prove the {found.threshold_pct:g}% threshold"
    if as_of is not None and when < pd.Timestamp(as_of):
        return "more data needed: the next upload"
    return f"decide by ~{when.day} {when:%B %Y}"


def pilot_why(result: PilotResult, as_of: pd.Timestamp | None = None) -> str:
    """Why the pilot got its decision, in a few plain words and never cut: the headline
    change of a pilot to scale, what to fix, how early an extended pilot is and when to
    decide it (`decide_by_words` at `as_of`), and a stopped pilot's specific cause
    ('pre-existing trend', 'season, within normal variation')."""
    lead = result.headline
    parts: list[str] = []
    if result.decision in ("scale", "fix") and lead is not None and lead.headline is not None:
        change = effect_change_words(lead)
        burden = burden_words(result)
        parts.append(f"{change}, but {burden}" if burden else change)
        if "below_threshold" in result.reasons and lead.threshold_pct is not None:
            bar = f"{lead.threshold_pct:g}{' points' if lead.points else '%'}"
            parts.append(f"under the {bar} needed to scale")
        if "guardrail_unproven" in result.reasons:
            parts.append(unproven_words(result))
    elif result.decision == "extend" and "guardrail_unproven" in result.reasons:
        if lead is not None and lead.headline is not None:
            parts.append(effect_change_words(lead))
        parts.append(unproven_words(result))
    elif result.decision == "extend":
        frequency = FREQUENCY_PERIODS.get(lead.frequency or "", "periods") if lead else "periods"
        n_post = lead.n_post if lead is not None else 0
        # counted in the data, so to the data's last date, which says so (not to today)
        early = f"too early: {n_post} {frequency} since go-live" if n_post else "too early"
        end = data_end([result])
        parts.append(f"{early} ({data_up_to(end, starts=False)})" if n_post and end else early)
        parts.append(decide_by_words(result, as_of))
    elif lead is not None:
        if lead.verdict == "mirage":
            parts.append(causes(lead.reasons) or REASON_LABELS["no_real_value"])
        elif lead.verdict == "worse":
            parts.append(f"{effect_change_words(lead)}, the wrong way")
        elif lead.verdict == "no_change":
            parts.append(f"no change in {nice(lead.metric)}")
        else:
            parts.append(f"{nice(lead.metric)} unclear")
        if result.decision == "stop" and "burden_shift" in result.reasons:
            parts.append(burden_words(result))
    else:
        parts.append(REASON_LABELS["no_value_metric"])
    if "activity_without_outcome" in result.reasons:
        parts.append("usage up, no outcome")
    if result.decision == "fix" and result.readiness_missing:
        missing = ", ".join(READINESS_LABELS[m].lower() for m in result.readiness_missing)
        parts.append(f"missing {missing}")
    return "; ".join(p for p in parts if p)


FREQUENCY_PERIODS: dict[str, str] = {
    "D": "days",
    "W": "weeks",
    "M": "months",
    "Q": "quarters",
    "Y": "years",
}


def missing_cost_words(pilot: object) -> str:
    """What a pilot (a pilots-frame row) without a net value lacks, and where to add it."""
    return words_missing_cost(
        _number(getattr(pilot, "monthly_cost", None)),
        _number(getattr(pilot, "annual_volume", None)),
    )


def _compared_value(result: PilotResult, currency: str | None, pilot: object = None) -> str:
    """A pilot's annual net value in the Compare table's one short cell: the amount, 'within
    noise' where its gross value is not told apart from zero (`totals.noise_interval`, the rule
    every other view words at length), or what it lacks (`words.no_value_words` of its pilots
    row: 'value not in money: ...' where its running cost is known; 'no cost data' without a
    row)."""
    if result.net_value is None:
        if pilot is None:
            return "no cost data"
        return no_value_words(
            _number(getattr(pilot, "monthly_cost", None)),
            _number(getattr(pilot, "annual_volume", None)),
        )
    if noise_interval(result) is not None:
        return "within noise"
    return money(result.net_value.annual_net, currency)


def value_text(
    result: PilotResult | None, pilot: object, currency: str | None, *, full: bool = False
) -> str:
    """A pilot's annualised net value with its currency ('EUR 480k a year'; a pilot to stop
    that loses money 'costs EUR 108k a year, net'; a change within noise its interval and the
    running cost: `totals.net_value_words`), or what is missing for one; never 'None'."""
    words = "" if result is None else net_value_words(result, currency, full=full)
    return words or missing_cost_words(pilot)


@dataclass(frozen=True)
class DecisionEntry:
    """One pilot in a decision list: its label, why, and its value (or 'no cost data');
    `caveat` when the decision holds only under criteria changed after the results
    (`bar_caveat`), `logged` when the decision taken overrides the recommendation
    (`override_words`)."""

    pilot_id: str
    pilot: str
    why: str
    value: str
    net: float | None
    caveat: str = ""
    logged: str = ""


def caveat_count(entries: Sequence[DecisionEntry]) -> str:
    """How many of a decision's pilots stand on a caveat, in a line under its count ('2 of
    the 4 with a caveat: 1 decided by override, 1 only under a threshold lowered after the
    results'); '' when none. A partner counted four pilots to scale where pilotproof would
    scale two without reservation."""
    override = sum(bool(e.logged) for e in entries)
    lowered = sum(bool(e.caveat) and not e.logged for e in entries)
    if not override and not lowered:
        return ""
    parts = [
        f"{override} decided by override" if override else "",
        f"{lowered} {LOWERED_BAR}" if lowered else "",
    ]
    return f"{override + lowered} of the {len(entries)} with a caveat: " + ", ".join(
        p for p in parts if p
    )


def decision_lists(
    results: Sequence[PilotResult],
    pilots: pd.DataFrame,
    currencies: dict[str, str | None] | None = None,
    as_of: pd.Timestamp | None = None,
) -> dict[str, list[DecisionEntry]]:
    """decision -> its pilots, in the order scale, fix, extend, stop, each under its standing
    decision (`standing_decision`: the one logged, else pilotproof's), as the decision board
    and the maturity stages count them; within a list the largest net value first, then by
    name. Every decision is present, possibly empty."""
    labels = pilot_labels(pilots)
    rows = {row.pilot_id: row for row in pilots.itertuples(index=False)}
    currencies = currencies or {}
    lists: dict[str, list[DecisionEntry]] = {d: [] for d in DECISION_ORDER}
    for result in results:
        if result.pilot_id not in rows:
            continue
        net = result.net_value.annual_net if result.net_value is not None else None
        net = net if net is not None and math.isfinite(net) else None
        currency = currencies.get(result.pilot_id)
        row = rows[result.pilot_id]
        cost = _number(getattr(row, "monthly_cost", None))
        missing = no_value_words(cost, _number(getattr(row, "annual_volume", None)))
        missing = "; ".join(w for w in (missing, running_cost_words(cost, currency)) if w)
        value = missing if net is None else value_text(result, None, currency)
        lists[standing_decision(result)].append(
            DecisionEntry(
                result.pilot_id, labels.get(result.pilot_id, shown(result.pilot_id)),
                pilot_why(result, as_of), value, net, bar_caveat(result), override_words(result),
            )
        )  # fmt: skip
    for entries in lists.values():
        entries.sort(key=lambda e: (e.net is None, -(e.net or 0.0), e.pilot))
    return lists


def data_end(results: Iterable[PilotResult]) -> pd.Timestamp | None:
    """The last date any metric of `results` has data for (their chart series' newest period,
    the date the analysis read to); None when none has a series."""
    ends = [
        e.chart.dates.max() for r in results for e in r.metrics
        if e.chart is not None and len(e.chart.dates)
    ]  # fmt: skip
    return pd.Timestamp(max(ends)) if ends else None


def decision_words(result: PilotResult, *, brief: bool = False) -> str:
    """The decision a table shows for a pilot: its standing decision (`standing_decision`),
    with the override spelled out when it is not pilotproof's ('Scale (override: pilotproof
    recommends Fix; Scale decided by VP Support, 2026-08-17)'). `brief` names only what was
    overridden ('Scale (override of Fix)'), for a table too narrow for the rest, which then
    states who and when beside it (`override_notes`)."""
    standing = DECISION_LABELS[standing_decision(result)]
    override = override_words(result)
    if override and brief:
        return f"{standing} (override of {DECISION_LABELS[result.decision]})"
    return f"{standing} ({override})" if override else standing


def override_notes(results: Iterable[PilotResult], labels: dict[str, str]) -> list[str]:
    """One line per overridden pilot among `results`, for under a table whose decision column
    is `decision_words(brief=True)`: 'Support reply assistant: override: pilotproof recommends
    Fix; Scale decided by VP Support, 2026-08-17'. Plain text; a page passes it through `md`."""
    notes = {}
    for result in results:
        override = override_words(result)
        if override:
            notes[result.pilot_id] = f"{labels.get(result.pilot_id, result.pilot_id)}: {override}"
    return list(notes.values())


def scaling_caption(
    to_scale: Sequence[PilotResult],
    pilots: pd.DataFrame,
    currencies: dict[str, str | None],
    scaling: PortfolioValue,
) -> str:
    """The line under the Portfolio's headline figures, on a laptop's first screen: how many
    are to scale (those only under a lowered bar marked, `claims.scaling_words`), how many the
    net value covers, and what the others are and cost to run (`totals.unbooked_words`):
    'Scaling 4 pilots (1 only under a bar lowered after the results): 1 with a net value;
    the other 3 (value not in money: no cost per transaction): running them costs GBP 462k +
    USD 144k a year.'"""
    if not to_scale:
        return ""
    rows = {row.pilot_id: row for row in pilots.itertuples(index=False)}
    others = [
        (
            _number(getattr(rows.get(r.pilot_id), "monthly_cost", None)),
            _number(getattr(rows.get(r.pilot_id), "annual_volume", None)),
            currencies.get(r.pilot_id),
        )
        for r in to_scale
        if r.net_value is None
    ]
    if not others:
        return f"{scaling_words(to_scale)}."
    return (
        f"{scaling_words(to_scale)}: {scaling.pilots} with a net value; {unbooked_words(others)}."
    )


def headline_caption(
    figures: Headline,
    to_scale: Sequence[PilotResult],
    scaling: PortfolioValue,
    everything: PortfolioValue,
) -> str:
    """The line under the Portfolio's headline figures, so they reconcile: the three counts
    adding up to the pilots, the value of what to scale as a range (`scaling`), and the net of
    every pilot with a net value, those to fix and stop included (`everything`), beside it."""
    plural = "" if figures.mirages == 1 else "s"
    parts = [
        f"{figures.real_value} real value, {figures.mirages} mirage{plural}, "
        f"{figures.not_proven} not proven: {figures.pilots} pilots"
        + (f" ({figures.both} with one value metric real and another a mirage count in both)"
           if figures.both else "")
        + "."
    ]  # fmt: skip
    n = len(to_scale)
    if n and scaling.pilots:
        shown_totals = [scaling.converted] if scaling.converted else scaling.per_currency
        ranges = " and ".join(f"{money(t.low, t.currency)}–{money(t.high)}" for t in shown_totals)
        # what the others are and cost is said under the figures (`scaling_caption`)
        known = f" (from {scaling.pilots} of the {n})" if n > scaling.pilots else ""
        parts.append(f"Scaling {n} pilot{'' if n == 1 else 's'}: {ranges} a year{known}.")
    if everything.pilots > scaling.pilots:
        parts.append(
            f"Every pilot with a net value, those to fix and stop included ({everything.pilots}"
            f" pilots): {everything.headline()} a year."
        )
    parts += [everything.noise_words(), everything.detail()]
    return " ".join(p for p in parts if p)


# ---- money settings (issue 13) -------------------------------------------------------------


def company_currency_table(
    pilots: pd.DataFrame, currencies: dict[str, str], pilot_currencies: dict[str, str | None]
) -> pd.DataFrame:
    """One row per company for the Settings editor: company, its currency ('' when not set),
    and the currencies its pilots state themselves or inherit ('USD (3 pilots)', 'not set (2
    pilots)')."""
    frame = pd.DataFrame(
        {
            "company": pilots["company"].map(_text),
            "code": [pilot_currencies.get(p) or "not set" for p in pilots["pilot_id"]],
        }
    )
    frame = frame[frame["company"] != ""]
    rows = []
    for company, part in frame.groupby("company", sort=True):
        counts = part["code"].value_counts().sort_index()
        own = ", ".join(f"{code} ({n} pilot{'s' if n != 1 else ''})" for code, n in counts.items())
        rows.append(
            {"company": company, "currency": currencies.get(company, ""), "pilots' currencies": own}
        )
    return pd.DataFrame(rows, columns=["company", "currency", "pilots' currencies"])


def changed_currencies(before: pd.DataFrame, after: pd.DataFrame) -> dict[str, str | None]:
    """company -> its new currency (None: cleared) for the rows the editor changed."""
    old = dict(zip(before["company"], before["currency"].map(_text), strict=True))
    changed: dict[str, str | None] = {}
    for company, currency in zip(after["company"], after["currency"].map(_text), strict=True):
        if old.get(company, "") != currency:
            changed[company] = currency or None
    return changed


def rate_table(currencies: Iterable[str | None], reporting: str | None, rates) -> pd.DataFrame:
    """The rates editor's rows: each currency in use other than the reporting one, with the
    rate entered as text ('0.86'; 'not set' when none, never 'None'): 1 unit of `currency` in
    the reporting currency. `entered_rates` reads the edited table back."""
    codes = sorted({c for c in currencies if c and c != reporting})
    # text even when empty (an empty frame would read as float, which a text cell cannot edit)
    return pd.DataFrame(
        {"currency": codes, "rate": [_setting(rates.get(c)) for c in codes]},
        columns=["currency", "rate"],
        dtype=object,
    )


#: What a rate cell accepts: a positive number, blank, or 'not set'.
RATE_PATTERN = r"^(|not set|\d+(\.\d*)?|\.\d+)$"


def entered_rates(table: pd.DataFrame) -> dict[str, float | None]:
    """currency -> the rate in the edited rates table, None where blank or 'not set'."""
    return {c: _number(r) for c, r in zip(table["currency"], table["rate"], strict=True)}


# ---- explanations a board member accepts (issue 13) ----------------------------------------


def summary_with_numbers(result: PilotResult, name: object) -> str:
    """The pilot's action title as the app shows it, with the worsened guardrail's number in
    it (`pilotproof.words.with_burden`)."""
    return with_burden(pilot_title(result.summary, name, result.pilot_id), result)


def gross_value_words(result: PilotResult, currency: str | None, volume: object) -> str:
    """The value bridge in words: 'Gross value EUR 654k: the saving per transaction on cost
    per transaction times 310,000 transactions a year (only the part from the rates, not
    from the mix). Running cost EUR 174k: twelve months of the pilot. Net value: EUR 480k a
    year.' A gross value within noise is never booked as a point: its interval and the running
    cost, in the words of every other view (`totals.net_value_words`)."""
    net = result.net_value
    if net is None:
        return ""
    value = net_value_words(result, currency)
    if not booked(result):
        return (
            f"{value[:1].upper()}{value[1:]}: the change in {nice(net.metric)} cannot be told "
            "apart from zero, so no net value is booked."
        )
    count = _number(volume)
    per_year = f"{count:,.0f} transactions a year" if count is not None else "the annual volume"
    return (
        f"Gross value {money(net.annual_gross, currency)}: the change in "
        f"{nice(net.metric)} times {per_year} (only the part from the rates, not from the mix "
        f"of work). Running cost {money(net.annual_cost, currency)}: twelve months of the "
        f"pilot's monthly cost. Net value: {value}."
    )


def left_out(
    results: Sequence[PilotResult],
    plotted: Sequence[PilotResult],
    labels: dict[str, str],
    metric: str | None = None,
    ends: int = 20,
) -> list[str]:
    """The pilots a forest plot leaves out, each with why: 'Collections call prioritisation
    (Northwind Supply): no estimate yet (not enough data)'."""
    drawn = {r.pilot_id for r in plotted}
    out = []
    for result in results:
        if result.pilot_id in drawn:
            continue
        wanted = result.effects_of(metric)
        if not wanted:
            why = f"does not measure {nice(metric)}" if metric else "no value metric"
        elif all(e.improvement is None for e in wanted):
            reasons = {r for e in wanted for r in e.reasons} or {"insufficient_data"}
            why = "no estimate yet (" + ", ".join(REASON_LABELS[r] for r in sorted(reasons)) + ")"
        else:
            why = f"between the {ends} best and the {ends} worst"
        out.append(f"{labels.get(result.pilot_id, shown(result.pilot_id))}: {why}")
    return out


def left_out_caption(missing: Sequence[str], plotted: int, shown: int, most: int = 12) -> str:
    """The forest plot's caption: how many pilots it draws and each left out with why, or, for
    a fund's hundreds, how many for each reason with the first few named."""
    from pilotproof.store.errors import counted

    head = f"{plotted} of {counted(shown, 'pilot')} plotted. Left out: "
    if len(missing) <= most:
        return head + "; ".join(missing) + "."
    reasons: dict[str, list[str]] = {}
    for entry in missing:
        name, _, why = entry.rpartition(": ")
        reasons.setdefault(why, []).append(name)
    parts = []
    for why, names in reasons.items():
        named = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        parts.append(f"{len(names)} {why} ({named})")
    return head + "; ".join(parts) + "."


def wrong_value_metrics(
    changes: dict[str, Answers], measured: dict[str, list[str]], labels: dict[str, str]
) -> list[str]:
    """A message per changed pilot whose value metric is not one it measures (the value
    metric decides the pilot's headline: a typo there silently changed it)."""
    messages = []
    for pilot_id, answers in changes.items():
        chosen = answers.get("value_metric")
        own = measured.get(pilot_id, [])
        if chosen and own and chosen not in own:
            names = ", ".join(nice(m) for m in own)
            messages.append(
                f"{labels.get(pilot_id, pilot_id)} does not measure {nice(chosen)}: choose one "
                f"of {names}."
            )
    return messages
