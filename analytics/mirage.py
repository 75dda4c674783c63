"""The value-mirage checks: each asks one question a rigorous analyst asks before calling a
pre/post improvement real, and answers with a named reason code (`CheckResult.name`).

`sign` is +1 when higher is better and -1 when lower is better, so `sign * change > 0` always
means "moved the good way". The trend, season, control and mix checks attribute an apparent
improvement that the counterfactual does not confirm; the spike and novelty checks can overturn
a significant one (the effect is a rebound, or it fades).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import integrate, special

from analytics.estimate import Estimate
from analytics.frequency import as_days
from analytics.its import RHO_MAX, ar1_mean_variance
from analytics.levels import ALPHA, critical_t
from analytics.mix import Kitagawa
from analytics.results import CheckResult

NAIVE_SHARE = 0.5  # a cause must explain at least half the naive change to be named
PLACEBO_T = 3.0
NOVELTY_KEEP = 0.4  # the late window must keep 40% of the early effect


@dataclass(frozen=True)
class Significance:
    """The effect's interval read in the metric's good direction."""

    low: float
    high: float
    improved: bool  # the whole interval is on the good side of zero
    worsened: bool  # the whole interval is on the bad side of zero
    naive_improved: bool  # a Welch pre/post test would call it an improvement


def significance(est: Estimate, sign: float) -> Significance:
    """The interval read in the metric's good direction. A deterioration against controls at
    another level counts only if it also shows in proportion to their level (an improvement
    that does not is named by the control check instead)."""
    half = critical_t(est.df) * est.se_abs
    low, high = est.effect_abs - half, est.effect_abs + half
    good_low, good_high = sorted((sign * low, sign * high))
    robust = est.single_control is None  # one control unit alone carries it: not the pilot's
    return Significance(
        low=low,
        high=high,
        improved=good_low > 0 and robust,
        worsened=good_high < 0 and _in_proportion(est, -sign) and robust,
        naive_improved=sign * est.naive_diff > 0 and est.naive_p < ALPHA,
    )


def _explains(part: float, naive: float, sign: float) -> bool:
    """`part` moved the good way and accounts for at least half of an improving naive change."""
    return sign * naive > 0 and sign * part >= NAIVE_SHARE * sign * naive and sign * part > 0


def check_noise(est: Estimate, sig: Significance) -> CheckResult:
    passed = sig.improved or sig.worsened
    text = (
        "The 95% interval excludes no change."
        if passed
        else "The 95% interval (autocorrelation-robust) includes no change."
    )
    z = est.effect_abs / est.se_abs if est.se_abs > 0 else None
    return CheckResult("noise", passed, True, text, statistic=z)


def check_pre_trend(est: Estimate, sig: Significance, sign: float) -> CheckResult:
    trend_explains = (
        abs(est.trend_t) > 2
        and _explains(est.trend_contribution, est.naive_diff, sign)
        and not sig.improved
    )
    placebo_fails = (
        est.placebo_t is not None
        and est.placebo_effect is not None
        and sign * est.placebo_t > PLACEBO_T
        and abs(est.placebo_effect) >= NAIVE_SHARE * abs(est.effect_abs)
    )
    if trend_explains:
        text = (
            "The metric was already moving this way before go-live; the trend explains the change."
        )
    elif placebo_fails:
        text = "A fake go-live in the pre-period shows a similar effect: the baseline is unstable."
    elif est.placebo_t is None:
        text = "No pre-existing trend explains the change."
    else:
        text = "No pre-existing trend explains the change, and a placebo go-live shows none."
    return CheckResult(
        "pre_trend",
        not (trend_explains or placebo_fails),
        True,
        text,
        statistic=est.trend_t,
        # two-sided normal p-value of the placebo effect: 2 * scipy.stats.norm.sf(|t|)
        p_value=None if est.placebo_t is None else math.erfc(abs(est.placebo_t) / math.sqrt(2)),
    )


def check_seasonality(est: Estimate, sig: Significance, sign: float) -> CheckResult:
    if est.method != "its" and est.annual_season:
        text = (
            "The pilot's season differs from its controls'; the comparison models the difference."
        )
        return CheckResult("seasonality", True, False, text)
    if est.method != "its":
        return CheckResult("seasonality", True, False, "The controls share the season.")
    if not est.annual_season:
        if est.frequency == "Y":
            return CheckResult(
                "seasonality", True, False, "Yearly data: there is no season within the year."
            )
        swing = visible_swing(est)
        apparent = sig.improved or sign * est.naive_diff > 0
        if swing is not None and apparent and abs(est.effect_abs) <= swing:
            pct = f" ({100 * swing / abs(est.baseline):.0f}%)" if est.baseline else ""
            return CheckResult(
                "seasonality",
                False,
                True,
                f"{_unmodelled(est)} is too short to rule out the season: the level already "
                f"swung by as much{pct} within the pre-period.",
                statistic=swing,
            )
        return CheckResult(
            "seasonality", True, False, f"{_unmodelled(est)}: the season is not modelled."
        )
    explains = _explains(est.seasonal_contribution, est.naive_diff, sign) and not sig.improved
    text = (
        "The post window sits in a better season; the seasonal pattern explains the change."
        if explains
        else "The change is not a seasonal swing (annual pattern modelled)."
    )
    return CheckResult("seasonality", not explains, True, text, statistic=est.seasonal_contribution)


# points per block over which a short pre-period's swing is read: about a month
SWING_BLOCK = {"D": 30, "W": 4, "M": 1, "Q": 1}


def _unmodelled(est: Estimate) -> str:
    """Why the model holds no annual season, as the start of a sentence."""
    if est.regime_start is not None:
        return "The history since the break the model is fitted on"
    return "Less than a year of history"


def visible_swing(est: Estimate) -> float | None:
    """Where the model holds no annual season (less than a year of pre-period, or a model fitted
    on the regime after a break), how far the level swung within the whole pre-period beyond a
    straight line and noise, in the metric's unit: the range of its detrended monthly means
    less the range noise alone gives them (the expected range of that many normal means, times
    the standard deviation of a month's mean under AR(1) noise read within the months, or from
    month-to-month differences for monthly data). A break the model was cut at is held as a
    step where a step fits the pre-period better than an annual wave (`_detrended`).
    A season the model does not hold can move the level at least that far. None where the
    model holds the annual season, or with fewer than three monthly blocks."""
    pre = est.observed[: est.n_pre]
    block = SWING_BLOCK.get(est.frequency, 0)
    if est.annual_season or not block or len(pre) < 3 * block:
        return None
    n_blocks = len(pre) // block
    t = np.arange(len(pre), dtype=float)
    pre = _detrended(est, pre, t)
    blocks = pre[len(pre) - n_blocks * block :].reshape(n_blocks, block)
    means = blocks.mean(axis=1)
    # the noise within the months, so that the swing between them is not counted as noise
    within = (blocks - means[:, None]).ravel()
    denom = float(within @ within)
    if block < 2:  # one point a month: the month-to-month differences carry the noise
        within = np.diff(pre) / np.sqrt(2)
        denom = float(within @ within)
    rho = float(np.clip(within[1:] @ within[:-1] / denom, 0.0, RHO_MAX)) if denom > 0 else 0.0
    dof = max(len(within) - (n_blocks if block >= 2 else 0), 1)
    sigma2 = np.array([denom / dof])
    noise = float(np.sqrt(ar1_mean_variance(sigma2, np.array([rho]), block)[0]))
    expected_range = _expected_range(n_blocks) * noise
    return max(float(np.ptp(means)) - expected_range, 0.0)


def _detrended(est: Estimate, pre: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The pre-period `pre` (n,) less its least-squares straight line (the trend the model may
    project, not a season), and less the step at the break the model was cut at (`regime_start`)
    where that step fits the pre-period better than an annual wave does: a level that fell for
    good eight months ago has not swung by as much, but half a season read as a break has.
    Both fits have the line; the wave is one annual sine-cosine pair (one column more than the
    step, so a tie goes to the season)."""
    start = 0
    if est.regime_start is not None:
        start = int(np.searchsorted(np.asarray(est.dates), np.datetime64(est.regime_start)))
    lined: np.ndarray = pre - np.polyval(np.polyfit(t, pre, 1), t)
    if not 0 < start < len(pre):
        return lined
    days = as_days(np.asarray(est.dates[: len(pre)], dtype="datetime64[ns]"))
    angle = 2 * np.pi * (days - days[0]) / 365.25
    step = np.column_stack([np.ones_like(t), t, (t >= start).astype(float)])
    wave = np.column_stack([np.ones_like(t), t, np.sin(angle), np.cos(angle)])
    stepped: np.ndarray = pre - step @ np.linalg.lstsq(step, pre, rcond=None)[0]
    waved = pre - wave @ np.linalg.lstsq(wave, pre, rcond=None)[0]
    return stepped if float(stepped @ stepped) < float(waved @ waved) else lined


@lru_cache(maxsize=64)
def _expected_range(n: int) -> float:
    """The expected range of n standard normal draws (Tippett 1925), by quadrature. The normal
    CDF is scipy's `special.ndtr`, which `stats.norm.cdf` calls after a hundred times its cost in
    argument checks: the same numbers, 0.1 ms a quadrature instead of 19 ms."""

    def integrand(x: float) -> float:
        return float(1 - special.ndtr(x) ** n - (1 - special.ndtr(x)) ** n)

    return float(integrate.quad(integrand, -np.inf, np.inf)[0])


def check_regression_to_mean(est: Estimate, sig: Significance, sign: float) -> CheckResult:
    apparent = sign * est.naive_diff > 0 or sig.improved
    # the post level must beat the longer-run baseline, not only the spell-robust model
    holds = sig.improved and est.beats_baseline is not False
    fails = est.spike_detected and apparent and not holds
    if fails:
        text = (
            "The pre-period ended on an unusually bad spell; the post level is the usual baseline."
        )
    elif est.spike_detected:
        text = (
            "The pre-period ended on a bad spell, but the effect holds against the longer baseline."
        )
    else:
        text = "The pre-period did not end on an unusual spell."
    return CheckResult("regression_to_mean", not fails, True, text, statistic=est.spike_t)


def check_novelty_decay(est: Estimate, sign: float) -> CheckResult:
    if len(est.segment_effect) < 3:
        return CheckResult(
            "novelty_decay", True, False, "The post window is too short to split early from late."
        )
    tcrit = critical_t(est.df)
    early, late = sign * est.segment_effect[0], sign * est.segment_effect[-1]
    early_sig = early - tcrit * est.segment_se[0] > 0
    late_sig = late - tcrit * est.segment_se[-1] > 0
    fails = early_sig and not late_sig and late < NOVELTY_KEEP * early
    text = (
        "The effect fades: the late post window shows no real effect."
        if fails
        else "The effect holds into the late post window."
    )
    return CheckResult(
        "novelty_decay", not fails, True, text, statistic=float(late / early) if early else None
    )


def check_control_moved(
    est: Estimate, sig: Significance, sign: float, note: str = ""
) -> CheckResult:
    """Did the comparison units improve as much? With modelled controls (difference-in-
    differences, synthetic control) the estimate is already net of them, so only a change the
    model cannot confirm is laid at their door; control units too sparse to model are compared
    before/after on their own, and fail the check when they explain half the naive change."""
    suffix = f" {note}" if note else ""
    if est.single_control is not None:
        unit, effect, se = est.single_control
        change = "no change" if abs(effect) <= critical_t(est.df) * se else "the opposite change"
        pct = f" ({100 * effect / abs(est.baseline):+.1f}%)" if est.baseline else ""
        return CheckResult(
            "control_moved",
            False,
            True,
            f"{unit} moved on its own at go-live; without it the pilot shows {change}{pct}."
            + suffix,
            statistic=effect,
        )
    if est.control_diff is None or est.control_p is None:
        return CheckResult("control_moved", True, bool(note), "No control group." + suffix)
    moved = sign * est.control_diff > 0 and est.control_p < ALPHA
    if est.method == "its":  # the controls are not in the model
        fails = moved and _explains(est.control_diff, est.naive_diff, sign)
        text = (
            "The control units improved as much: the change is not the pilot's."
            if fails
            else "The control units did not improve as much as the pilot."
        )
    else:
        fails = moved and sign * est.naive_diff > 0 and not sig.improved
        text = (
            "The control group improved as much: the change is not the pilot's."
            if fails
            else "The pilot moved beyond the control group."
        )
        if sig.improved and not _in_proportion(est, sign):
            fails = True
            text = (
                "The controls run at another level than the pilot, and in proportion to their "
                "level they improved as much: the gain holds only if changes come in equal "
                "amounts, not equal shares."
            )
    return CheckResult(
        "control_moved",
        not fails,
        True,
        text + _design_sentence(est) + suffix,
        statistic=est.control_diff,
        p_value=est.control_p,
    )


def _design_sentence(est: Estimate) -> str:
    """What the comparison's inference rests on: with one or two control units, that they are
    exchangeable with the pilot; with enough for placebos, the pilot's rank among them."""
    n = est.n_controls
    if est.method == "its" or n is None:
        return ""
    if n <= 2:
        units, those = (
            ("one control unit", "that unit") if n == 1 else ("two control units", "those units")
        )
        return (
            f" With {units}, the interval assumes that without the pilot its metric would have"
            f" moved as {those} did (exchangeable units); leave-one-out needs 3 units and"
            " placebo tests 5."
        )
    if est.placebo_rank is None or est.placebo_units is None or est.permutation_p is None:
        return ""
    placebos = (
        f"Each of the {est.placebo_units} control units"
        if est.placebo_group <= 1
        else (
            f"The pilot is the mean of {est.placebo_group} units; {est.placebo_units} groups of"
            f" {est.placebo_group} control units, each"
        )
    )
    return (
        f" {placebos} analysed as if it had gone live: the pilot's change ranks"
        f" {est.placebo_rank} of {est.placebo_units + 1} (permutation p ="
        f" {est.permutation_p:.2f})."
    )


def _in_proportion(est: Estimate, sign: float) -> bool:
    """The change in the direction `sign` is also significant with the controls put on the
    treated level (or there is no such second comparison: the levels agree)."""
    if est.proportional_effect is None or est.proportional_se is None:
        return True
    half = critical_t(est.proportional_df or 1) * est.proportional_se
    return sign * est.proportional_effect - half > 0


def check_mix_shift(
    est: Estimate, sign: float, split: Kitagawa | None, standardised: Estimate | None
) -> CheckResult:
    if split is None or standardised is None:
        return CheckResult("mix_shift", True, False, "No segments with volumes.")
    rate_sig = significance(standardised, sign)
    rates_moved = _explains(split.rate, split.total, sign) and rate_sig.improved
    fails = _explains(split.composition, split.total, sign) and not rates_moved
    text = (
        "The mix of segments moved, not the rates within them."
        if fails
        else "The rates within segments moved, not just the mix."
    )
    return CheckResult("mix_shift", not fails, True, text, statistic=split.composition)


def insufficient(reason: str) -> CheckResult:
    return CheckResult("insufficient_data", False, True, reason)


def enough_data(text: str) -> CheckResult:
    return CheckResult("insufficient_data", True, True, text)


MODEL_WORDS = {
    "level": "the pre-period's level",
    "level_trend": "the pre-period's level and trend",
    "combined": (
        "a blend of the pre-period's level and its trend, each weighted by how well it "
        "forecast the pre-period"
    ),
}


def model_sentence(est: Estimate, points: bool = False) -> str:
    """How the counterfactual was built, in a partner's words: which model the backtests chose,
    from which date after a break, and how far off its test forecasts were (in percentage
    points for a point-scale metric, whose level may sit near zero). Empty for the designs with
    controls (their own checks say how the controls were used)."""
    base = est.model.removesuffix("_recent")
    if base not in MODEL_WORDS:
        return ""
    words = f" Without the pilot, the metric was projected from {MODEL_WORDS[base]}"
    if est.regime_start is not None:
        words += (
            f" since {est.regime_start:%d %b %Y}, when it shifted to a new level (the older"
            " history follows another level and was set aside)"
        )
    if est.annual_season:
        words += ", with its annual season"
    if est.backtest_rmse is not None and (est.baseline or points):
        error = 100 * est.backtest_rmse / (1.0 if points else abs(est.baseline))
        size = f"{error:.2f} points" if points else f"{error:.1f}%"
        words += f"; tested on the pre-period, its forecasts were off by {size} on average"
        if est.calibration > 1.05:
            words += ", and the interval is widened to match"
    return words + "."


def run_checks(
    est: Estimate,
    sign: float,
    split: Kitagawa | None = None,
    standardised: Estimate | None = None,
    control_note: str = "",
) -> tuple[Significance, tuple[CheckResult, ...]]:
    """Every mirage check on one estimate, in a fixed order. `control_note` says which control
    units were left out or filled in; the control check carries it."""
    sig = significance(est, sign)
    checks = (
        check_noise(est, sig),
        check_pre_trend(est, sig, sign),
        check_seasonality(est, sig, sign),
        check_regression_to_mean(est, sig, sign),
        check_novelty_decay(est, sign),
        check_control_moved(est, sig, sign, control_note),
        check_mix_shift(est, sign, split, standardised),
    )
    return sig, checks


def finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)
