"""How long until we know: the date at which a pilot still extending can be decided.

For a value metric that is still `inconclusive`, the minimum detectable effect (MDE, 80% power,
5% two-sided) shrinks as post-go-live data accrue. The forecast finds the number of further
periods after which the MDE falls to the scaling threshold:

- the noise is the pre-period's standard deviation and its lag-one autocorrelation (Kendall
  bias-corrected, clipped to [0, 0.97]); each window's mean has the variance of a mean of AR(1)
  points (`analytics.its.ar1_mean_variance`, the long-run variance of the window), which gives
  each window its effective sample size n / inflation;
- the standardised MDE for those effective sizes comes from statsmodels'
  `NormalIndPower().solve_power(effect_size=None, nobs1, alpha=0.05, power=0.8, ratio)`
  (Cohen 1988, two-sample comparison of means), times the noise, in % of the pre-period level;
- that level formula is the floor no model can beat: when even three years of post-period data
  leave it above the threshold, the metric is too noisy to prove that gain at any horizon;
- the date itself is read from the analysis' own counterfactual model
  (`analytics.estimate.estimate_its`: breaks, level/trend candidates, rolling-origin backtests,
  calibrated interval), run on the pre-period followed by a post window of the candidate
  length held at the pre-period mean: the model's standard error of the effect for that
  window length times z_0.975 + z_0.8 (2.80; `NormalIndPower().solve_power(nobs1=1, ratio=0)`),
  so the forecast MDE is the MDE the analysis will report, as long as the post-period is no
  noisier than the pre-period. The shortest window whose MDE is at most the threshold is found
  by bisection (the MDE falls as the window grows);
- the range comes from the 80% uncertainty of the noise estimate itself (a chi-square interval
  on the variance with the effective degrees of freedom, and the autocorrelation's +-1.28
  standard errors): less noise reaches the threshold sooner, more noise later.

When even an unlimited post-period (the pre-period mean's own uncertainty alone) or three years
of data cannot bring the MDE to the threshold, the metric is too noisy to prove that gain.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.power import NormalIndPower

from analytics.estimate import estimate_its, power_of_two_scale
from analytics.inputs import timestamp
from analytics.its import MIN_POST, RHO_MAX, ar1_mean_variance, kendall_rho
from analytics.levels import ALPHA, MDE_FACTOR, POWER
from analytics.results import Frequency, MetricEffect, PilotResult

RANGE_Z = float(stats.norm.ppf(0.9))  # 80% range: 1.2816
#: The longest wait worth forecasting: three years of data after go-live.
HORIZON: dict[Frequency, int] = {"D": 3 * 365, "W": 3 * 52, "M": 36, "Q": 12, "Y": 3}
STEP: dict[Frequency, pd.DateOffset] = {
    "D": pd.DateOffset(days=1),
    "W": pd.DateOffset(weeks=1),
    "M": pd.DateOffset(months=1),
    "Q": pd.DateOffset(months=3),
    "Y": pd.DateOffset(years=1),
}
PERIOD_WORDS: dict[Frequency, str] = {
    "D": "day",
    "W": "week",
    "M": "month",
    "Q": "quarter",
    "Y": "year",
}
_POWER = NormalIndPower()


@dataclass(frozen=True)
class Forecast:
    """When the MDE of `metric` reaches `threshold_pct`.

    `periods_more` (central), `periods_low` and `periods_high` count further periods of the
    series' frequency after `last_date`; None where the threshold is out of reach within
    `HORIZON`. `floor_pct` is the MDE with unlimited post-period data; `mde_now_pct` the MDE at
    the current post window; `inflation` the long-run variance factor of the pre-period noise.
    """

    metric: str
    threshold_pct: float
    frequency: Frequency
    last_date: pd.Timestamp
    n_pre: int
    n_post: int
    rho: float
    inflation: float
    mde_now_pct: float | None
    floor_pct: float
    periods_more: int | None
    periods_low: int | None
    periods_high: int | None

    @property
    def reachable(self) -> bool:
        return self.periods_more is not None

    def date_after(self, periods: int | None) -> pd.Timestamp | None:
        """The day the data of `periods` more periods after `last_date` are complete: the
        last day the last of them covers (`period_end`); None for None."""
        if periods is None:
            return None
        return period_end(pd.Timestamp(self.last_date) + periods * STEP[self.frequency],
                          self.frequency)  # fmt: skip

    @property
    def decide_by(self) -> pd.Timestamp | None:
        return self.date_after(self.periods_more)

    @property
    def decide_low(self) -> pd.Timestamp | None:
        return self.date_after(self.periods_low)

    @property
    def decide_high(self) -> pd.Timestamp | None:
        return self.date_after(self.periods_high)

    @property
    def sentence(self) -> str:
        """ "Decide by ~12 March 2027 (8-14 weeks more data)", or why no date will come."""
        if not self.reachable:
            return (
                f"This metric ({self.metric.replace('_', ' ')}) is too noisy to prove a "
                f"{self.threshold_pct:g}% gain; add control sites or choose a less noisy value "
                "metric."
            )
        when = self.decide_by
        assert when is not None  # reachable
        return f"Decide by ~{when.day} {when:%B %Y} ({self.span} more data)."

    @property
    def span(self) -> str:
        """How much more data the decision needs, in periods: '8\u201314 weeks', '1 week',
        '6 months or more'."""
        word = PERIOD_WORDS[self.frequency]
        low, high = self.periods_low, self.periods_high
        if high is None:
            return f"{low} {word}s or more"
        if low == high:
            return f"{low} {word}{'s' if low != 1 else ''}"
        return f"{low}\u2013{high} {word}s"


def period_end(date: pd.Timestamp, freq: Frequency) -> pd.Timestamp:
    """The last day a point dated `date` covers. A point dated by the first day of its period
    covers the whole period: a weekly point dated by its Monday covers Monday to Sunday (as the
    sample data and the app's weekly means date weeks), a monthly, quarterly or yearly point
    dated the 1st runs to the day before the next period starts. A point dated any other day
    (a daily point, a week or a month dated by its end) covers up to that day.

    >>> period_end(pd.Timestamp("2026-04-27"), "W")  # a Monday
    Timestamp('2026-05-03 00:00:00')
    """
    stamp = pd.Timestamp(date).normalize()
    starts = (freq == "W" and stamp.day_of_week == 0) or (
        freq in ("M", "Q", "Y") and stamp.day == 1
    )
    if not starts:
        return stamp
    return stamp + STEP[freq] - pd.Timedelta(days=1)


def forecast(effect: MetricEffect, go_live: object) -> Forecast | None:
    """How long until `effect`'s MDE falls to its threshold (see the module docstring).

    Needs the effect's chart series (dates and observed values), its frequency and at least
    three pre-period points with some variation; returns None otherwise. The threshold is the
    effect's own (10% when it has none, as the decision uses)."""
    chart = effect.chart
    start = timestamp(go_live)
    if chart is None or effect.frequency is None or start is None:
        return None
    dates = pd.DatetimeIndex(chart.dates)
    values = np.asarray(chart.observed, dtype=float)
    ok = np.isfinite(values)
    dates, values = dates[ok], values[ok]
    post = np.asarray(dates >= start)
    pre = values[~post]
    if len(pre) < 3 or len(dates) == 0:
        return None
    level = float(pre.mean())
    centred = pre - level
    denom = float(centred @ centred)
    if denom <= 0 or level == 0 or not math.isfinite(level):
        return None
    n_pre, n_post = len(pre), int(post.sum())
    raw = float(centred[1:] @ centred[:-1]) / denom
    rho = float(np.clip(kendall_rho(raw, n_pre), 0.0, RHO_MAX))
    sigma = math.sqrt(denom / (n_pre - 1))
    threshold = effect.threshold_pct if effect.threshold_pct is not None else 10.0
    freq: Frequency = effect.frequency
    n_eff = n_pre / _inflation(rho, n_pre)
    df = max(n_eff - 1.0, 1.0)
    ratios = {
        "low": math.sqrt(df / stats.chi2.ppf(0.9, df)),
        "central": 1.0,
        "high": math.sqrt(df / stats.chi2.ppf(0.1, df)),
    }
    floor = float(_mde_pct(sigma, rho, n_pre, HORIZON[freq], level) or math.inf)
    model = _ModelMde(pd.DatetimeIndex(dates[~post]), pre, start, freq, effect.sign)
    minimum = max(MIN_POST[freq], n_post + 1)
    found: dict[str, int | None] = {}
    for name, ratio in ratios.items():
        if floor * ratio > threshold:
            found[name] = None
            continue
        found[name] = _periods(partial(_reached, model, ratio, threshold), freq, minimum)
    central, low, high = found["central"], found["low"], found["high"]
    if central is None:
        low = high = None
    else:
        low = central if low is None else min(low, central)
        high = None if high is None else max(high, central)
    more = {name: None if v is None else v - n_post for name, v in
            (("central", central), ("low", low), ("high", high))}  # fmt: skip
    now = model(n_post) if n_post > 0 else None
    return Forecast(
        metric=effect.metric,
        threshold_pct=float(threshold),
        frequency=freq,
        last_date=pd.Timestamp(dates.max()),
        n_pre=n_pre,
        n_post=n_post,
        rho=rho,
        inflation=_inflation(rho, n_pre),
        mde_now_pct=None if now is None or not math.isfinite(now) else now,
        floor_pct=floor,
        periods_more=more["central"],
        periods_low=more["low"],
        periods_high=more["high"],
    )


def mde_pct(sigma: float, rho: float, n_pre: int, n_post: int, level: float) -> float | None:
    """The MDE (80% power, 5% two-sided) of a pre/post comparison of means of AR(1) noise with
    standard deviation `sigma` and lag-one autocorrelation `rho`, in % of `level`: statsmodels'
    `NormalIndPower` effect size for the windows' effective sample sizes, times `sigma`."""
    return _mde_pct(sigma, rho, n_pre, n_post, level)


def _inflation(rho: float, n: int) -> float:
    """Var(mean of n AR(1) points) / (sigma^2 / n): the long-run variance factor."""
    return float(ar1_mean_variance(np.array([1.0]), np.array([rho]), np.array([n]))[0] * n)


def _mde_pct(sigma: float, rho: float, n_pre: int, n_post: int, level: float) -> float | None:
    if n_post < 1 or n_pre < 2:
        return None
    n1 = n_pre / _inflation(rho, n_pre)
    n2 = n_post / _inflation(rho, n_post)
    d = _POWER.solve_power(effect_size=None, nobs1=n1, alpha=ALPHA, power=POWER, ratio=n2 / n1)
    return float(d) * sigma / abs(level) * 100.0


def _periods(reached: Callable[[int], bool], freq: Frequency, minimum: int) -> int | None:
    """The smallest post-window length from `minimum` on at which `reached(length)` holds;
    None when no length up to the horizon does. The model's MDE first falls as the window
    grows, but a projected trend's uncertainty grows with the horizon, so it may rise again:
    lengths are scanned on a geometric grid and the first crossing is bisected."""
    horizon = max(HORIZON[freq], minimum)
    grid = sorted({round(minimum * 1.4**k) for k in range(40) if minimum * 1.4**k < horizon})
    grid.append(horizon)
    previous = None
    for length in grid:
        if reached(length):
            break
        previous = length
    else:
        return None
    if previous is None:
        return length
    lo, hi = previous, length
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if reached(mid):
            hi = mid
        else:
            lo = mid
    return hi


def _reached(model: _ModelMde, ratio: float, threshold: float, length: int) -> bool:
    """Does the model's MDE at this post-window length, times `ratio`, reach `threshold`?"""
    return model(length) * ratio <= threshold


class _ModelMde:
    """The analysis' MDE (%) for a post window of a given length: `estimate_its` on the
    pre-period followed by that many periods at the pre-period mean. Cached per length."""

    def __init__(
        self,
        dates: pd.DatetimeIndex,
        pre: np.ndarray,
        go_live: pd.Timestamp,
        freq: Frequency,
        sign: float,
    ) -> None:
        self.pre_dates = pd.DatetimeIndex(dates)
        self.pre = np.asarray(pre, dtype=float)
        self.go_live = go_live
        self.freq = freq
        self.sign = sign
        self.cache: dict[int, float] = {}

    def __call__(self, length: int) -> float:
        if length not in self.cache:
            self.cache[length] = self._mde(length)
        return self.cache[length]

    def _mde(self, length: int) -> float:
        start = max(self.go_live, self.pre_dates[-1] + STEP[self.freq])
        post = pd.date_range(start, periods=length, freq=STEP[self.freq])
        dates = pd.DatetimeIndex(self.pre_dates.append(post))
        values = np.concatenate([self.pre, np.full(length, self.pre.mean())])
        scale = power_of_two_scale(self.pre)
        with np.errstate(all="ignore"):
            (est,) = estimate_its(
                dates, self.go_live, self.freq, (values / scale)[:, None], np.array([self.sign])
            )
        if est is None or not est.baseline:
            return math.inf
        mde = MDE_FACTOR * est.se_abs / abs(est.baseline) * 100.0
        return float(mde) if math.isfinite(mde) else math.inf


def pilot_forecast(result: PilotResult, go_live: object) -> Forecast | None:
    """The forecast of a pilot that extends: over its value metrics
    still `inconclusive`, the one that can be decided soonest; when none can, the first one
    (its sentence says it is too noisy). None for other decisions or when none can be sized,
    and for a pilot extended because a guardrail is not yet shown within its tolerance
    (`guardrail_unproven`): its value is proven, and when another value metric can be decided
    says nothing about when the guardrail will be."""
    if result.decision != "extend" or "guardrail_unproven" in result.reasons:
        return None
    found = [
        f
        for e in result.value_effects
        if e.verdict == "inconclusive"
        for f in [forecast(e, go_live)]
        if f is not None
    ]
    reachable = [f for f in found if f.reachable]
    if reachable:
        return min(reachable, key=_decide_by)
    return found[0] if found else None


def _decide_by(forecast: Forecast) -> pd.Timestamp:
    when = forecast.decide_by
    assert when is not None  # only reachable forecasts are compared
    return when
