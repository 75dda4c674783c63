"""What a team would claim for a mirage and what survives (issue 13): the plain before/after
change since go-live, beside the change against what would have happened anyway. Shared by the
explorer and the exports."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from analytics.results import MetricEffect, PilotResult
from pilotproof.plaintext import shown
from pilotproof.words import (
    DECISION_LABELS,
    is_multiple,
    metric_name,
    multiple,
    scaled_interval,
)


def claimed_change(effect: MetricEffect) -> float | None:
    """What the team would report: the plain before/after change since go-live, in the
    metric's scale (percent, or points for a fraction), the post period against as many
    periods just before go-live. None without a series on both sides."""
    import numpy as np

    chart = effect.chart
    if chart is None or effect.n_pre < 1 or effect.n_post < 1:
        return None
    observed = np.asarray(chart.observed, dtype=float)
    before = observed[: effect.n_pre][-effect.n_post :]
    after = observed[effect.n_pre : effect.n_pre + effect.n_post]
    if not np.isfinite(before).any() or not np.isfinite(after).any():
        return None
    level, now = float(np.nanmean(before)), float(np.nanmean(after))
    if effect.points:
        return (now - level) * 100.0
    return None if level == 0 else (now / level - 1.0) * 100.0


def _moved(value: float, is_points: bool) -> str:
    """'down 25%', 'up 2.0 points', 'about the same'."""
    if abs(value) < 0.05:
        return "about the same"
    word = "down" if value < 0 else "up"
    if not is_points and abs(value) < 1:
        return f"{word} {abs(value):.1f}%"
    if is_points:
        return f"{word} {abs(value):.1f} point{'' if f'{abs(value):.1f}' == '1.0' else 's'}"
    return f"{word} {multiple(value) if is_multiple(value) else f'{abs(value):.0f}%'}"


def claim_sentence(effect: MetricEffect) -> str:
    """For a mirage, what the team would report beside what survives: "The team sees cycle
    time down 25% since go-live; against what would have happened anyway, it is down 1% (-5%
    to +3%)." A mix shift says what the same mix of work would show. '' when there is no
    claim to set right (not a mirage, or no estimate)."""
    claim = claimed_change(effect)
    if effect.verdict != "mirage" or effect.kind != "value" or claim is None:
        return ""
    if effect.headline is None:
        return ""
    name = shown(metric_name(effect.metric))
    sees = f"The team sees {name} {_moved(claim, effect.points)} since go-live"
    rate = effect.rate_effect_pct
    if "mix_shift" in effect.reasons and rate is not None and effect.mix_effect_pct is not None:
        mix = effect.mix_effect_pct
        low, high = effect.rate_ci_low_pct, effect.rate_ci_high_pct
        within = ""
        if low is not None and high is not None:  # the rate part's own interval (Jann 2008)
            # tenths beside a change under 1% ("down 0.3% (-1.1% to +0.6%)")
            digits = 1 if abs(rate) < 1 or min(abs(low), abs(high)) < 0.5 else 0
            within = f" ({scaled_interval(low, high, False, digits)})"
        return (
            f"{sees}; at the same mix of work, it is {_moved(rate, False)}{within}: "
            f"{_moved(mix, False).replace('down', 'a fall of').replace('up', 'a rise of')} "
            "comes from the mix of work shifting, not from the pilot."
        )
    low, high = effect.headline_interval
    interval = ""
    if low is not None and high is not None:
        # whole percents, unless an end would read "-0%"
        digits = 1 if effect.points or min(abs(low), abs(high)) < 0.5 else 0
        interval = f" ({scaled_interval(low, high, effect.points, digits)})"
    sentence = (
        f"{sees}; against what would have happened anyway, it is "
        f"{_moved(effect.headline, effect.points)}{interval}"
    )
    fades = next((c for c in effect.checks if c.name == "novelty_decay" and not c.passed), None)
    if fades is not None and low is not None and high is not None and low * high > 0:
        # the average survives, but not to the end: say so, or the sentence reads as a win
        return f"{sentence}, but it fades: late in the pilot there is no real effect."
    return sentence + "."


def bar_caveat(result: PilotResult) -> str:
    """A recommendation that holds only because the criteria changed after the results were
    visible, said on the recommendation itself: 'Scale, but only under the threshold lowered
    after the results (25% → 15%); pre-registered: Fix'; '' when the pre-registered plan gives
    the same decision (or nothing changed)."""
    g = result.governance
    if g is None or not g.changed or g.original is None or g.current is None:
        return ""
    if g.would_have_been is None or g.would_have_been == result.decision:
        return ""
    was, now = g.original.plan, g.current.plan
    if was.threshold_pct != now.threshold_pct and was.criteria[0] == now.criteria[0]:
        moved = "lowered" if (now.threshold_pct or 0) < (was.threshold_pct or 0) else "raised"
        bar = f"the threshold {moved} after the results ({_pct(was.threshold_pct)} → "
        bar += f"{_pct(now.threshold_pct)})"
    else:
        bar = f"the success plan changed after the results (version {g.current.version})"
    decision, before = DECISION_LABELS[result.decision], DECISION_LABELS[g.would_have_been]
    return f"{decision}, but only under {bar}; pre-registered: {before}"


# The one rule for a pilot counted under a decision that holds only because the criteria moved
# after the results (`lowered_only`), as every count and list of pilots says it: the words beside
# the count ('Scale (4, 1 only under a bar lowered after the results)'), the mark on its row.
LOWERED_BAR = "only under a bar lowered after the results"
LOWERED_MARK = "bar lowered after the results"


def lowered_only(result: PilotResult) -> bool:
    """Whether the pilot counts under pilotproof's recommendation (no logged decision overrides
    it) and that recommendation holds only under criteria changed after the results, the
    pre-registered plan giving another decision (`bar_caveat`). The analysis judges on the
    current plan; this is how a count or a list says so."""
    from analytics.portfolio_health import standing_decision

    return bool(bar_caveat(result)) and standing_decision(result) == result.decision


def lowered_note(results: Iterable[PilotResult]) -> str:
    """How many of the pilots stand only under a lowered bar (`lowered_only`): '1 only under a
    bar lowered after the results'; '' when none does."""
    lowered = sum(1 for r in results if lowered_only(r))
    return f"{lowered} {LOWERED_BAR}" if lowered else ""


def lowered_count(results: Sequence[PilotResult]) -> str:
    """A decision's count as a list heads it: '4, 1 only under a bar lowered after the results'
    (`lowered_note`), or '4'."""
    note = lowered_note(results)
    return f"{len(results)}, {note}" if note else str(len(results))


def scaling_words(to_scale: Sequence[PilotResult]) -> str:
    """The pilots to scale counted as a headline says it: 'Scaling 4 pilots (1 only under a bar
    lowered after the results)' (`lowered_note`), 'Scaling 1 pilot'."""
    n = len(to_scale)
    note = lowered_note(to_scale)
    return f"Scaling {n} pilot{'' if n == 1 else 's'}" + (f" ({note})" if note else "")


def _pct(value: float | None) -> str:
    return "none" if value is None else f"{value:g}%"


def override_words(result: PilotResult) -> str:
    """An override (a logged decision that differs from pilotproof's recommendation) in
    words, as the app and the board exports say it: 'override: pilotproof recommends Fix;
    Scale decided by VP Support, 2026-08-17'; '' when none is logged or it agrees."""
    found = _override(result)
    if found is None:
        return ""
    taken, by, on = found
    return (
        f"override: pilotproof recommends {DECISION_LABELS[result.decision]}; {taken} decided "
        f"by {by}, {on}"
    )


def logged_override_words(result: PilotResult) -> str:
    """A logged decision that overrides pilotproof's recommendation, said where a board reads
    the decision, from the decision log (`Governance.latest_decision`, whose sentence is
    `Governance.decision_sentence`): 'Scale (logged by VP Support on 2026-08-17); pilotproof
    recommends Fix'; '' when none is logged or it agrees."""
    found = _override(result)
    if found is None:
        return ""
    taken, by, on = found
    recommended = DECISION_LABELS[result.decision]
    return f"{taken} (logged by {by} on {on}); pilotproof recommends {recommended}"


def _override(result: PilotResult) -> tuple[str, str, str] | None:
    """(decision taken, by whom, on which day) of a logged decision that differs from
    pilotproof's recommendation; None when none is logged or it agrees."""
    last = result.governance.latest_decision if result.governance is not None else None
    if last is None or last.decision == result.decision:
        return None
    taken = DECISION_LABELS.get(last.decision, last.decision)
    return taken, shown(last.decided_by), f"{last.decided_at:%Y-%m-%d}"
