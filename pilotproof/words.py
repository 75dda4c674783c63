"""The words people read for pilotproof's codes: one place, so the app, the charts and every
export call a verdict, a decision, a reason or a check by the same name."""

from __future__ import annotations

import math
import re

import pandas as pd

from analytics.governance import scaled_amount
from analytics.narrative import REASON_PHRASES, is_multiple, multiple, points
from analytics.results import DECISION_ACTIONS as DECISION_ACTIONS  # re-exported: one table
from analytics.results import DECISION_LABELS as DECISION_LABELS
from analytics.results import DECISION_WORDS as DECISION_WORDS
from analytics.results import (
    READINESS_QUESTIONS,
    Method,
    MetricEffect,
    PilotResult,
    Reason,
    Verdict,
)

VERDICT_LABELS: dict[Verdict, str] = {
    "real": "Real impact",
    "mirage": "Value mirage",
    "inconclusive": "Inconclusive",
    "worse": "Worse",
    "no_change": "No change",
}
# A decision's words (analytics.results.DECISION_WORDS, both forms in one table): the label a
# list, a chip or a count names it by ("Fix"), the action a board report names it by ("Fix
# before scaling").
# "scale, fix, extend or stop": the decisions as a caption lists them
DECISIONS_IN_WORDS = (
    ", ".join(w.lower() for w in list(DECISION_LABELS.values())[:-1])
    + f" or {list(DECISION_LABELS.values())[-1].lower()}"
)
# the same words as the action titles (analytics.narrative), so a reason reads alike everywhere
REASON_LABELS: dict[Reason, str] = REASON_PHRASES
CHECK_LABELS: dict[Reason, str] = {
    "noise": "Noise",
    "pre_trend": "Pre-existing trend",
    "seasonality": "Seasonality",
    "regression_to_mean": "Rebound after a bad spell",
    "novelty_decay": "Novelty wearing off",
    "control_moved": "Control group moved",
    "mix_shift": "Mix shift",
    "insufficient_data": "Enough data",
    "outlier": "Typo-like values",
}
READINESS_LABELS: dict[str, str] = {q.field: q.label for q in READINESS_QUESTIONS}

# What a chart's legend calls the counterfactual: a board says "expected without the pilot"
# (method notes keep the word "counterfactual"). One name per line, so a legend lookup by
# name finds it in every writer.
EXPECTED_LINE = "Expected without the pilot"
EXPECTED_BAND = "Expected without the pilot, 95% range"
EXPECTED_BAND_LOW = "Expected without the pilot, 95% low"
EXPECTED_BAND_HIGH = "Expected without the pilot, 95% high"
# What the footer's method line calls each way of estimating it.
METHOD_SUMMARY: dict[Method, str] = {
    "its": "from its own history",
    "did": "compared with the control sites",
    "synthetic_control": "compared with a blend of the control sites",
    "none": "not estimated",
}
# The maturity stages as a board says them (analytics.portfolio_health.Stage).
STAGE_LABELS: dict[str, str] = {
    "experimenting": "Experimenting",
    "expanding": "Expanding",
    "coordinating": "Coordinating",
    "orchestrating": "Running as a portfolio",
}
# The Success plans form's guardrail field: nice names, a tolerance in each metric's scale.
GUARDRAIL_FIELD = "Guardrails (metric: tolerance in % or points; separate with ;)"

# ---- activity metrics, guardrails and large changes ---------------------------------------
# Activity metrics (AI usage, adoption) are tracked, never value: whatever their verdict, they
# are named as activity, in a neutral colour (pilotproof.charts.ACTIVITY_COLOR), never as impact.
ACTIVITY_LABEL = "Activity, not value"
# A guardrail is a metric that must not get worse; the mirage checks ask whether an improvement
# is real, so for a guardrail there is one line: it held, or it worsened beyond its tolerance;
# or, where its 95% interval still reaches past that tolerance, that it is not yet shown within
# it (`analytics.decision.guardrail_unproven`: what holds back a pilot that extends for it).
GUARDRAIL_HELD = "held"
GUARDRAIL_WORSENED = "worsened beyond tolerance"
GUARDRAIL_WITHIN = "worsened, within tolerance"
GUARDRAIL_UNPROVEN = "not yet shown within tolerance"
GUARDRAIL_WORSE_UNPROVEN = "worsened, not yet shown within tolerance"
# Metric names as people say them, where replacing "_" with a space is not enough.
METRIC_NAMES: dict[str, str] = {"ai_usage": "AI usage"}


def metric_name(metric: str) -> str:
    """`cycle_time` -> 'cycle time'; `ai_usage` -> 'AI usage'."""
    return METRIC_NAMES.get(metric, str(metric).replace("_", " "))


def verdict_label(verdict: str, kind: str = "value") -> str:
    """The verdict as people read it; an activity metric's is always `ACTIVITY_LABEL`."""
    if kind == "activity":
        return ACTIVITY_LABEL
    return VERDICT_LABELS.get(verdict, verdict)  # type: ignore[call-overload]


def guardrail_status(verdict: str, beyond_tolerance: bool, unproven: bool = False) -> str:
    """A guardrail's one line: 'held' unless its deterioration is significant; then 'worsened
    beyond tolerance' or 'worsened, within tolerance' as `beyond_tolerance` says
    (`analytics.decision.guardrail_breached`, the rule the decision applies). A guardrail whose
    95% interval still reaches past its tolerance (`unproven`,
    `analytics.decision.guardrail_unproven`) is 'not yet shown within tolerance' (or 'worsened,
    not yet shown within tolerance'), never 'held': it is what keeps a win from scaling."""
    if beyond_tolerance and verdict == "worse":
        return GUARDRAIL_WORSENED
    if unproven:
        return GUARDRAIL_WORSE_UNPROVEN if verdict == "worse" else GUARDRAIL_UNPROVEN
    return GUARDRAIL_HELD if verdict != "worse" else GUARDRAIL_WITHIN


def guardrail_words(effect: MetricEffect) -> str:
    """`guardrail_status` of a guardrail's effect, by the decision's own tolerance rules."""
    from analytics.decision import guardrail_breached, guardrail_unproven

    return guardrail_status(effect.verdict, guardrail_breached(effect), guardrail_unproven(effect))


def change_text(pct: float | None, digits: int = 1) -> str:
    """A signed relative change: '-21.3%', or '42x' beyond ±300%; 'n/a' when there is none."""
    if pct is None or not isinstance(pct, int | float) or pct != pct or abs(pct) == float("inf"):
        return "n/a"
    return multiple(pct) if is_multiple(pct) else f"{pct:+.{digits}f}%"


def scaled_change(value: float | None, is_points: bool, digits: int = 1) -> str:
    """A signed change in a metric's scale: '+2.0 points' for a point-scale metric (a
    fraction), else as `change_text` ('-21.3%', '42x'); 'n/a' when there is none."""
    if not is_points:
        return change_text(value, digits)
    if value is None or not isinstance(value, int | float) or value != value:
        return "n/a"
    return "n/a" if abs(value) == float("inf") else points(value)


def scaled_interval(low: float | None, high: float | None, is_points: bool, digits: int = 1) -> str:
    """A 95% interval in a metric's scale, low to high: '+1.6 to +2.4 points', '-25.0% to
    -17.0%' ('-25% to -17%' with `digits=0`); 'n/a' without one."""
    ends = [scaled_change(v, is_points, digits) for v in sorted((low, high))] if None not in (
        low, high) else ["n/a"]  # fmt: skip
    if "n/a" in ends:
        return "n/a"
    if is_points:
        return f"{ends[0].removesuffix(' points').removesuffix(' point')} to {ends[1]}"
    return f"{ends[0]} to {ends[1]}"


def effect_change_words(effect: MetricEffect) -> str:
    """A metric's change with its 95% interval, in its scale: 'cycle time -30% (-35% to
    -25%)', 'rework rate +4.5 points (+3.9 to +5.1 points)'."""
    digits = 1 if effect.points else 0
    change = scaled_change(effect.headline, effect.points, digits)
    low, high = effect.headline_interval
    interval = (
        "" if low is None or high is None else scaled_interval(low, high, effect.points, digits)
    )
    interval = "" if interval == "n/a" else interval
    return f"{metric_name(effect.metric)} {change}" + (f" ({interval})" if interval else "")


def bar_words(kind: str, threshold: float | None, tolerance: float | None, is_points: bool) -> str:
    """The bar a metric is held to, in its scale and in words: 'at least 10% better', 'at most
    0.5 points worse'; '' when it has none."""
    if kind == "guardrail" and tolerance is not None:
        return f"at most {scaled_amount(tolerance, is_points)} worse"
    if kind == "value" and threshold is not None:
        return f"at least {scaled_amount(threshold, is_points)} better"
    return ""


def lock_words(locked_at: object, has_plan: bool) -> str:
    """What the lock means for the plan form, dated (`locked_at`, a timestamp): a plan in
    force needs a reason to change; with none, a plan set now is not pre-registered, and the
    sentence must not speak of a plan that never existed."""
    when = f"{locked_at:%Y-%m-%d}"
    if has_plan:
        return f"The plan locked on {when}: a change needs a reason."
    return (
        f"No plan was set before go-live or the first results ({when}): a plan set now is "
        "recorded as set after the results, and needs a reason."
    )


def threshold_words(threshold: float, is_points: bool) -> str:
    """A chart legend's threshold: 'Scaling threshold (10% better)', '(1 point better)'."""
    return f"Scaling threshold ({scaled_amount(threshold, is_points)} better)"


# ---- plain words for what the analysis writes -------------------------------------------
DIRECTION_LABELS: dict[str, str] = {
    "lower_is_better": "lower is better",
    "higher_is_better": "higher is better",
}
# How the counterfactual was built, as a column of a table ("Compared with").
METHOD_PLAIN: dict[str, str] = {
    "its": "its own history",
    "did": "a control group",
    "synthetic_control": "a blend of control groups",
    "none": "-",
}
FREQUENCY_WORDS: dict[str, str] = {
    "D": "daily",
    "W": "weekly",
    "M": "monthly",
    "Q": "quarterly",
    "Y": "yearly",
}
# Phrases in the analysis' explanations that a partner does not say, and what to say instead.
# (The analysis should say it this way itself; until it does, every view shows it through here.)
_PLAIN: tuple[tuple[str, str], ...] = (
    ("The 95% interval (autocorrelation-robust) includes no change.",
     "The 95% interval includes no change: the move is within normal variation."),
    (" (autocorrelation-robust)", ""),
    ("a placebo go-live shows none",
     "the same test run at an earlier date, when nothing changed, shows none"),
    ("The 95% interval excludes no change.",
     "The change is larger than noise explains: the 95% interval lies entirely on one side of "
     "zero."),
    ("A fake go-live in the pre-period", "The same test run at an earlier date, when nothing "
     "changed,"),
    ("a blend of the pre-period's level and its trend, each weighted by how well it forecast "
     "the pre-period",
     "a blend of its level and its trend before go-live, each weighted by how well it "
     "forecast the past"),
    ("the pre-period's level and trend", "its level and trend before go-live"),
    ("the pre-period's level", "its level before go-live"),
    ("the pre-period's typical variation", "the typical variation before go-live"),
    ("within the pre-period", "before go-live"),
    ("No segments with volumes.",
     "No volumes by segment in the data, so a shift in the mix of work cannot be checked."),
    ("the late post window", "the later part of the time since go-live"),
    ("The post window sits in", "The time since go-live sits in"),
    ("The post window is too short to split early from late.",
     "The time since go-live is too short to compare its early and later part."),
    ("the post level", "the level since go-live"),
    (" (exchangeable units); leave-one-out needs 3 units and placebo tests 5.",
     ". Checking that no single unit carries the result needs 3 units, and testing each unit "
     "as if it had gone live needs 5."),
    ("leans on the cross-section", "leans on how the units compare with one another"),
    ("control units", "comparison units"),
    ("one control unit", "one comparison unit"),
    ("No minimum detectable effect", "No smallest detectable change"),
    ("there is no pre/post split to size it on", "there is no go-live to size it on"),
    (" (80% power, 5% level)",
     " (a real change that size is found 4 times in 5, with a 1-in-20 risk of a false alarm)"),
    ("The pre-period", "The time before go-live"),
    ("the pre-period", "the time before go-live"),
)  # fmt: skip
_FREQUENCY_CODE = re.compile(r"\((D|W|M|Q|Y)\)")
_PERIOD_NAMES: dict[str, tuple[str, str]] = {
    "D": ("day", "days"),
    "W": ("week", "weeks"),
    "M": ("month", "months"),
    "Q": ("quarter", "quarters"),
    "Y": ("year", "years"),
}
# "52 pre-period and 3 post-period points (W)." opens the data check's explanation
_HISTORY = re.compile(r"(\d+) pre-period and (\d+) post-period points \(([DWMQY])\)\.")
_SIZING = re.compile(
    r"With these (\d+) pre-period and (\d+) post-period points, a pre/post comparison could "
    r"detect a change of about ([0-9.]+%) at best"
)
_NEEDS = re.compile(
    r"(at least|Needs at least) (\d+) pre-period and (\d+) post-period points( at this "
    r"frequency)?"
)
_NO_POST = re.compile(r"there are no post-period points; with (\d+) of them")
_AN_ITS_NEEDS = re.compile(r"\(an interrupted time series needs (\d+) and (\d+)\)")
_TESTED = re.compile(
    r"tested on the pre-period, its forecasts were off by ([0-9.]+(?:%| points?)) on average"
)
_RANK = re.compile(
    r"Each of the (\d+) control units analysed as if it had gone live: the pilot's change ranks "
    r"(\d+) of (\d+) \(permutation\s+p = ([0-9.]+)\)"
)


def data_up_to(last: object, *, starts: bool = True) -> str:
    """The last date the data reach, as every app page says it: 'Data up to 2026-10-31' (the
    exports' footers say 'Data as of' the same date); 'No data yet' without one. Counts made
    from the data (periods since go-live) run to this date, not to today. `starts=False` for
    inside a sentence ('data up to 2026-10-31')."""
    day = pd.Timestamp(last) if last is not None else None  # type: ignore[arg-type]
    words = "No data yet" if day is None or pd.isna(day) else f"Data up to {day:%Y-%m-%d}"
    return words if starts else words[0].lower() + words[1:]


def count_words(n: int, frequency: str | None) -> str:
    """How many periods, named: (52, 'W') -> '52 weeks', (1, 'D') -> '1 day'; without a
    frequency, readings ('12 readings')."""
    one, many = _PERIOD_NAMES.get(frequency or "", ("reading", "readings"))
    return f"{n} {one if n == 1 else many}"


def span_words(n: int, frequency: str | None) -> str:
    """How long `n` periods of `frequency` last, as a partner says it: (52, 'W') -> 'a year',
    (182, 'D') -> 'about 6 months', (196, 'W') -> 'about 4 years', (3, 'W') -> '3 weeks'
    (short spans are counted); without a frequency, `count_words`."""
    from analytics.frequency import DAYS_PER_PERIOD

    per = DAYS_PER_PERIOD.get(frequency or "")  # type: ignore[call-overload]
    if per is None or frequency == "Y":
        return count_words(n, frequency)
    days = n * per
    years = days / 365.25
    if years >= 0.92:
        rounded = round(years * 2) / 2
        about = "" if abs(years - rounded) < 0.04 else "about "
        return f"{about}{'a year' if rounded == 1 else f'{rounded:g} years'}"
    if days >= 56 and frequency != "M":
        return f"about {round(days / 30.4375)} months"
    return count_words(n, frequency)


def _both(n: int, frequency: str | None) -> str:
    """'a year (52 weeks)', or '3 weeks' when the span is the count itself."""
    span, count = span_words(n, frequency), count_words(n, frequency)
    return count if span == count else f"{span} ({count})"


def _history(match: re.Match[str]) -> str:
    """'52 pre-period and 3 post-period points (W).' -> 'A year of weekly history before
    go-live (52 weeks) and 3 weeks after.'"""
    n_pre, n_post, code = int(match.group(1)), int(match.group(2)), match.group(3)
    span, count = span_words(n_pre, code), count_words(n_pre, code)
    before = f"{span} of {FREQUENCY_WORDS[code]} history before go-live"
    before += "" if span == count else f" ({count})"
    sentence = f"{before} and {_both(n_post, code)} after."
    return sentence[:1].upper() + sentence[1:]


def plain_words(text: str, frequency: str | None = None) -> str:
    """An explanation from the analysis in a partner's words, its numbers kept: no "(D)", no
    "autocorrelation-robust", no "placebo go-live", no "pre-period" or "post window"; "52
    pre-period and 3 post-period points (W)" becomes "A year of weekly history before go-live
    (52 weeks) and 3 weeks after", a placebo rank says what it ranks, a forecast error and a
    minimum detectable effect say what they measure. `frequency` (the metric's 'D', 'W', ...)
    names the periods a sentence counts without saying them ('readings' without it)."""
    text = _HISTORY.sub(_history, text)
    text = _SIZING.sub(
        lambda m: (
            f"With {_both(int(m.group(1)), frequency)} before go-live and "
            f"{_both(int(m.group(2)), frequency)} after, a before/after comparison could tell "
            f"a change apart from normal variation only from about {m.group(3)}"
        ),
        text,
    )
    text = _NEEDS.sub(
        lambda m: (
            f"{m.group(1)} {count_words(int(m.group(2)), frequency)} before go-live and "
            f"{count_words(int(m.group(3)), frequency)} after"
        ),
        text,
    )
    text = _NO_POST.sub(
        lambda m: (
            f"there is no data since go-live yet; with {count_words(int(m.group(1)), frequency)}"
        ),
        text,
    )
    text = _AN_ITS_NEEDS.sub(
        lambda m: f"(a pilot judged on its own history alone needs {m.group(1)} and {m.group(2)})",
        text,
    )
    text = _TESTED.sub(
        lambda m: (
            "checked by forecasting stretches of the history before go-live whose outcome was "
            f"known, this projection missed by {m.group(1)} on average (the typical error in "
            "what would have happened anyway)"
        ),
        text,
    )
    text = _RANK.sub(_rank_words, text)
    for jargon, plain in _PLAIN:
        text = text.replace(jargon, plain)
    return _FREQUENCY_CODE.sub(lambda m: f"({FREQUENCY_WORDS[m.group(1)]})", text)


def _rank_words(match: re.Match[str]) -> str:
    """The placebo-in-space rank said as what it ranks: rank r of n + 1 (1 the largest) is a
    change after go-live larger than n + 1 - r of the n comparison units' own."""
    units, rank, chance = int(match.group(1)), int(match.group(2)), float(match.group(4))
    beaten = units + 1 - rank
    if beaten >= units:
        than = f"larger than each of the {units} comparison units' own"
    elif beaten <= 0:
        than = f"no larger than any of the {units} comparison units' own"
    else:
        than = f"larger than {beaten} of the {units} comparison units' own"
    return (
        f"Each of the {units} comparison units was analysed as if it had gone live: the pilot's "
        f"change after go-live is {than} (a change this large turns up in "
        f"{_in_ten(chance)} units without the pilot)"
    )


def _in_ten(share: float) -> str:
    """A share of units as a count a board reads: 0.83 -> 'about 8 in 10', 0.03 -> 'fewer
    than 1 in 10'."""
    tenths = round(share * 10)
    if tenths <= 0:
        return "fewer than 1 in 10"
    return "all" if tenths >= 10 else f"about {tenths} in 10"


# What a board report leaves out of an explanation: statistics' names and an operator's next
# step (the app keeps them for the people who act on them).
_NOT_FOR_THE_BOARD: tuple[re.Pattern[str], ...] = (
    re.compile(r" \(permutation\s+p = [0-9.]+\)"),
    re.compile(r" Check the source\."),
    re.compile(r" \(\d+% power, \d+% level\)"),
    re.compile(r" \(a real change that size is found 4 times in 5, with a 1-in-20 risk of a "
               r"false alarm\)"),
    re.compile(r" \(a change this large turns up in [^)]* units without the pilot\)"),
)  # fmt: skip


def board_words(text: str) -> str:
    """An explanation as a board reads it: `plain_words`, without a p-value's name or an
    instruction to the person who loads the data ('Check the source.')."""
    text = plain_words(text)
    for pattern in _NOT_FOR_THE_BOARD:
        text = pattern.sub("", text)
    return text


# ---- why a pilot got its decision, in a few words -----------------------------------------
# The specific cause of a value mirage, as a partner would say it in a list ("season, within
# normal variation"): shorter than REASON_LABELS, which reads as a sentence's noun phrase.
CAUSE_WORDS: dict[Reason, str] = {
    "pre_trend": "pre-existing trend",
    "seasonality": "season",
    "regression_to_mean": "a rebound after an unusually bad spell",
    "novelty_decay": "novelty that faded",
    "control_moved": "comparison teams improved as much",
    "mix_shift": "mix shift: more cheap work, same rates",
    "noise": "within normal variation",
    "insufficient_data": "not enough data",
    "outlier": "a likely typo set aside",
}
# noise is the least specific cause: named last, after the cause that explains the move
CAUSE_ORDER: tuple[Reason, ...] = (
    "pre_trend", "seasonality", "regression_to_mean", "novelty_decay", "control_moved",
    "mix_shift", "noise", "insufficient_data",
)  # fmt: skip


def causes(reasons: tuple[str, ...] | list[str]) -> str:
    """A mirage's causes in a few words, the specific one first: ('noise', 'seasonality') ->
    'season, within normal variation'; '' when none of them is a mirage cause."""
    ordered = [r for r in CAUSE_ORDER if r in reasons]
    return ", ".join(CAUSE_WORDS[r] for r in ordered)


# ---- the glossary: every term the app and the exports use, in a partner's words ---------
GLOSSARY: dict[str, str] = {
    "Scale": "The pilot proved real value above its threshold, every guardrail is shown within "
    "its tolerance and the team can name every readiness item: roll it out.",
    "Fix": "Real value, but something must be fixed first: a readiness gap, a guardrail that "
    "worsened, or an improvement below the threshold.",
    "Extend": "Too early to tell, or real value whose guardrail is not yet shown within its "
    "tolerance (its 95% interval still allows more harm than tolerated): keep the pilot running "
    "until the data can show the threshold, or the guardrail within its tolerance.",
    "Stop": "No real value proven: the apparent improvement is a mirage, no change, or worse.",
    "Real value": "Pilots with at least one value metric whose improvement is real: proven "
    "against what would have happened anyway.",
    "Not proven": "Pilots that are neither real value nor a mirage: no change, worse, "
    "inconclusive, too early to tell, or not analysed yet.",
    "Value mirage": "The metric moved, but something other than the pilot explains the move "
    "(a trend, the season, a rebound after an unusually bad spell, a shift in the mix of work...).",
    "What would have happened anyway": "The counterfactual: the metric projected from its own "
    "history, or from comparison teams that did not get the pilot, over the same weeks.",
    "95% interval": "The range the true effect lies in, 19 times out of 20.",
    "Gross value": "What the change in cost per transaction is worth in a year: the saving per "
    "transaction times the annual volume (only the part from the rates, not from the mix).",
    "Running cost": "Twelve months of the pilot's monthly cost.",
    "Annualised net value": "Gross value minus running cost, per year.",
    "Guardrail": "A metric that must not get worse while the value metric improves (rework, "
    "quality, leakage); its tolerance is how much worse it may get.",
    "Burden shift": "The value metric improved while a guardrail worsened: the work moved "
    "downstream rather than away.",
    "Shown within its tolerance": "A guardrail's whole 95% interval stays inside the "
    "deterioration it may show (a non-inferiority test): a guardrail that could still be worse "
    "than that holds a pilot back from scaling until more data settle it.",
    "Mix shift": "The average moved because the mix of work changed (more of the cheap "
    "kind), not because each kind got cheaper: the rate part is the pilot's, the mix part "
    "is not.",
    "Points": "A change in a rate or a share, in percentage points: 18% to 20% is +2 points.",
    "Pre-registered": "The success plan (value metric, threshold, guardrails, window) was "
    "agreed before go-live or before the first results were seen.",
}


# The one rule for which decision a pilot counts under, as the Portfolio's tiles, decision
# lists, board, purgatory and maturity stages all say it (analytics.portfolio_health's
# `standing_decision`).
STANDING_DECISION = (
    "Each pilot counts under the decision taken where one is logged (an override says what "
    "pilotproof recommends), else under what pilotproof recommends."
)

# From an upload to a decision, for a partner: the Portfolio's "How to use".
HOW_TO_USE = """\
1. **Upload** each pilot's metrics (a CSV or Excel file: one row per date and metric) and the
   pilots file (go-live date, company, function, monthly cost, annual volume) on the
   **Upload** page. The sample portfolio shows what they look like.
2. **Check readiness** on the **Readiness** page: a pilot is not ready to scale until its team
   can name the workflow, who owns the decision logic, who runs it, the exception and
   escalation paths, the control points and the value metric. Fill the gaps there.
3. **Read the verdict** here: each pilot under **Scale**, **Fix**, **Extend** or **Stop**, with
   why and what it is worth a year. Open a pilot in the **Pilot explorer** to see its metric
   against what would have happened anyway, and which mirage checks it passed.
4. **Record the decision** on the **Success plans** page (who decided, and why), then
   **Export** the board pack (PowerPoint, PDF or Excel) on the **Export** page.
"""

# ---- money ---------------------------------------------------------------------------------


NBSP = "\u00a0"  # between a currency and its amount: 'EUR 480k' never breaks across lines


def money(amount: float | None, currency: str | None = None, *, full: bool = False) -> str:
    """Money as people read it: 'EUR 480k', 'GBP -1.25M', or with `full` every digit with
    separators ('EUR 480,337'); no code when the currency is not known; 'n/a' without an
    amount. The code and the amount are joined by a non-breaking space (`NBSP`)."""
    if amount is None or not isinstance(amount, int | float) or amount != amount:
        return "n/a"
    if abs(amount) == float("inf"):
        return "n/a"
    sign = "-" if amount < 0 else ""
    value = abs(amount)
    if full:
        text = f"{value:,.0f}"
    elif value >= 1e6:
        text = f"{value / 1e6:.2f}M"
    elif value >= 1e3:
        text = f"{value / 1e3:.0f}k"
    else:
        text = f"{value:,.0f}"
    return f"{currency}{NBSP}{sign}{text}" if currency else f"{sign}{text}"


NO_CURRENCY = "currency not set"
NOT_SET = "not set"  # an empty setting (a threshold, a tolerance), never "None"
WHERE_TO_ADD_COST = "add them to the pilots file on the Upload page"


def _missing_cost_inputs(monthly_cost: float | None, annual_volume: float | None) -> list[str]:
    """Which of a net value's two inputs a pilot lacks (None or NaN), in words."""
    return [
        words
        for value, words in ((monthly_cost, "monthly cost"), (annual_volume, "annual volume"))
        if value is None or value != value
    ]


def lacks_words(monthly_cost: float | None) -> str:
    """'no cost data' only where the running cost itself is missing: a pilot whose monthly
    cost is known has cost data (the Stop list's savings count it), and lacks a net value."""
    known = monthly_cost is not None and monthly_cost == monthly_cost  # NaN is not known
    return "no net value" if known else "no cost data"


# A pilot whose running cost and volume are known but whose value metric is not cost per
# transaction has value, just not in money: the one wording for it on every surface.
NOT_IN_MONEY = "value not in money: no cost per transaction"


def no_value_words(monthly_cost: float | None, annual_volume: float | None) -> str:
    """What a pilot without a net value lacks, in a cell or a list: `NOT_IN_MONEY` when its
    monthly cost and annual volume are known (the value metric is what is not in money), 'no
    cost data' without a monthly cost, 'no net value' with only the volume missing."""
    if not _missing_cost_inputs(monthly_cost, annual_volume):
        return NOT_IN_MONEY
    return lacks_words(monthly_cost)


def running_cost_words(monthly_cost: float | None, currency: str | None) -> str:
    """'running cost GBP 252k a year': twelve months of the pilot's monthly cost; '' without
    one."""
    if monthly_cost is None or not math.isfinite(monthly_cost):
        return ""
    unknown = "" if currency else f" ({NO_CURRENCY})"
    return f"running cost {money(12 * monthly_cost, currency)} a year{unknown}"


def missing_cost_words(monthly_cost: float | None, annual_volume: float | None) -> str:
    """What a pilot without a net value lacks, and where to add it: 'no cost data: add
    monthly cost and annual volume to the pilots file on the Upload page', 'no net value: add
    annual volume ...' when only the volume is missing; with both known, the value metric is
    what is not in money (`NOT_IN_MONEY`)."""
    missing = _missing_cost_inputs(monthly_cost, annual_volume)
    if missing:
        lacks = lacks_words(monthly_cost)
        return f"{lacks}: {WHERE_TO_ADD_COST.replace('them', ' and '.join(missing))}"
    return NOT_IN_MONEY


def missing_value_words(monthly_cost: float | None, annual_volume: float | None) -> str:
    """What a board reads for a pilot without a net value, in one sentence and without an
    operator's instruction: 'Value not stated: no cost data (monthly cost and annual volume
    not given).', 'Value not stated: annual volume not given.' when the running cost is
    known, or 'Value not in money: no cost per transaction.' (`NOT_IN_MONEY`)."""
    missing = _missing_cost_inputs(monthly_cost, annual_volume)
    if missing and lacks_words(monthly_cost) == "no cost data":
        return f"Value not stated: no cost data ({' and '.join(missing)} not given)."
    if missing:
        return f"Value not stated: {' and '.join(missing)} not given."
    return f"{NOT_IN_MONEY[:1].upper()}{NOT_IN_MONEY[1:]}."


def unit_words(unit: object, currency: str | None) -> str:
    """A metric's unit as a chart shows it: a money unit ('currency') becomes the pilot's
    currency code, or 'money, currency not set'."""
    text = "" if unit is None or unit != unit else str(unit).strip()
    if text.lower() == "currency":
        return currency or f"money, {NO_CURRENCY}"
    return text


# ---- burden shift: the guardrail's number in the summary ---------------------------------


def worsened_guardrails(result: PilotResult) -> list[MetricEffect]:
    """Guardrails that got significantly worse (beyond their tolerance or not)."""
    return [e for e in result.metrics if e.kind == "guardrail" and e.verdict == "worse"]


def level_words(effect: MetricEffect) -> str:
    """Where a metric would have been without the pilot and where it is, over the post
    window: '5.9% → 10.4%' for a point-scale metric (a fraction), '82.0 → 78.4' in the
    metric's unit otherwise; '' when either level is unknown."""
    if effect.baseline is None or effect.effect_abs is None:
        return ""
    before, after = effect.baseline, effect.baseline + effect.effect_abs
    if not all(isinstance(v, int | float) and abs(v) < float("inf") for v in (before, after)):
        return ""
    if effect.points:
        return f"{before:.1%} → {after:.1%}"
    return f"{_level(before)} → {_level(after)}"


def _level(value: float) -> str:
    """A level in its unit, to about three significant figures: 1,234; 82.0; 5.91."""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"


def burden_words(result: PilotResult) -> str:
    """The work pushed downstream, with its number: 'rework rate +3.1 points downstream';
    '' when no guardrail worsened. A worsening within the tolerance says so, with the level
    before and after, so a small tolerance in points is read beside what it allowed:
    'rework rate +4.5 points downstream (5.9% → 10.4%, within the 5 points tolerated)'."""
    from analytics.decision import guardrail_breached

    parts = []
    for g in worsened_guardrails(result):
        change = scaled_change(g.headline, g.points, 1 if g.points else 0)
        words = f"{metric_name(g.metric)} {change} downstream"
        if not guardrail_breached(g) and g.tolerance_pct is not None:
            levels = level_words(g)
            tolerated = f"within the {scaled_amount(g.tolerance_pct, g.points)} tolerated"
            words += f" ({levels}, {tolerated})" if levels else f" ({tolerated})"
        parts.append(words)
    return ", ".join(parts)


def unproven_guardrails(result: PilotResult) -> list[MetricEffect]:
    """Guardrails not yet shown within their tolerance (`analytics.decision.guardrail_unproven`)."""
    from analytics.decision import guardrail_unproven

    return [g for g in result.metrics if g.kind == "guardrail" and guardrail_unproven(g)]


def unproven_words(result: PilotResult) -> str:
    """The guardrails not yet shown within their tolerance, with how bad their data still allow
    (`guardrail_reach`), joined; '' when none."""
    return ", ".join(guardrail_reach(g) for g in unproven_guardrails(result))


def guardrail_reach(g: MetricEffect) -> str:
    """A guardrail with how bad its data still allow (the worse end of its 95% interval)
    against its tolerance: 'rework rate could be up to +4.7 points (0.5 points tolerated)',
    'quality score could be down to -6% (5% tolerated)'; 'quality score: not enough data to
    rule out a deterioration' without an interval."""
    from analytics.decision import tolerance_of, worse_end

    name = metric_name(g.metric)
    worst = worse_end(g)
    if worst is None:
        return f"{name}: not enough data to rule out a deterioration"
    amount = scaled_amount(tolerance_of(g), g.points)
    change = scaled_change(worst, g.points, 1 if g.points else 0)
    return f"{name} could be {'up' if worst >= 0 else 'down'} to {change} ({amount} tolerated)"


def unproven_wait_words(result: PilotResult) -> str:
    """What a pilot held back by a guardrail not yet shown within its tolerance waits for, in
    place of a 'decide by' (its value is proven; no forecast sizes a guardrail): 'Before it
    scales, more data must show rework rate within its tolerance: rework rate could be up to
    +1.5 points (0.5 points tolerated).'; '' for a pilot without `guardrail_unproven`."""
    unproven = unproven_guardrails(result) if "guardrail_unproven" in result.reasons else []
    if not unproven:
        return ""
    reach = ", ".join(guardrail_reach(g) for g in unproven)
    names = [metric_name(g.metric) for g in unproven]
    within = "within its tolerance" if len(names) == 1 else "within their tolerances"
    return f"Before it scales, more data must show {' and '.join(names)} {within}: {reach}."


def with_burden(title: str, result: PilotResult) -> str:
    """An action title with the worsened guardrail's number in it: 'a guardrail worsened'
    becomes 'rework rate +4.5 points downstream'; a guardrail that worsened within its
    tolerance is named after the headline ('..., but rework rate +4.5 points downstream'); a
    guardrail not yet shown within its tolerance is named with how bad its data still allow
    ('rework rate could be up to +4.7 points (0.5 points tolerated)')."""
    unproven = unproven_words(result)
    if unproven:
        title = title.replace(REASON_LABELS["guardrail_unproven"], unproven)
    burden = burden_words(result)
    if not burden:
        return title
    phrase = REASON_LABELS["burden_shift"]
    if phrase in title:
        return title.replace(phrase, burden)
    head, sep, tail = title.partition("; ")
    return f"{head}, but {burden}{sep}{tail}"
