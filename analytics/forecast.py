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
- where the analysis already reports a model-based MDE for the current post window, the level
  formula is scaled to agree with it there (the counterfactual model's own uncertainty, trend
  and calibration included), so the forecast continues from what the analysis says today;
- the range comes from the 80% uncertainty of the noise estimate itself (a chi-square interval
  on the variance with the effective degrees of freedom, and the autocorrelation's +-1.28
  standard errors): less noise reaches the threshold sooner, more noise later.

When even an unlimited post-period (the pre-period mean's own uncertainty alone) or three years
of data cannot bring the MDE to the threshold, the metric is too noisy to prove that gain.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.power import NormalIndPower

from analytics.its import MIN_POST, ar1_mean_variance
from analytics.results import Frequency, MetricEffect

POWER = 0.8
ALPHA = 0.05
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
        if periods is None:
            return None
        return pd.Timestamp(self.last_date) + periods * STEP[self.frequency]

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
        word = PERIOD_WORDS[self.frequency]
        low, high = self.periods_low, self.periods_high
        if high is None:
            span = f"{low} {word}s or more"
        elif low == high:
            span = f"{low} {word}{'s' if low != 1 else ''}"
        else:
            span = f"{low}\u2013{high} {word}s"
        when = self.decide_by
        return f"Decide by ~{when.day} {when:%B %Y} ({span} more data)."


def forecast(effect: MetricEffect, go_live: object) -> Forecast | None:
    """How long until `effect`'s MDE falls to its threshold (see the module docstring).

    Needs the effect's chart series (dates and observed values), its frequency and at least
    three pre-period points with some variation; returns None otherwise. The threshold is the
    effect's own (10% when it has none, as the decision uses)."""
    chart = effect.chart
    if chart is None or effect.frequency is None or go_live is None or pd.isna(go_live):
        return None
    dates = pd.DatetimeIndex(chart.dates)
    values = np.asarray(chart.observed, dtype=float)
    ok = np.isfinite(values)
    dates, values = dates[ok], values[ok]
    post = np.asarray(dates >= pd.Timestamp(go_live))
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
    rho = float(np.clip(raw + (1 + 3 * raw) / n_pre, 0.0, 0.97))  # Kendall's bias correction
    sigma = math.sqrt(denom / (n_pre - 1))
    threshold = effect.threshold_pct if effect.threshold_pct is not None else 10.0
    freq: Frequency = effect.frequency
    scale = 1.0
    level_now = _mde_pct(sigma, rho, n_pre, n_post, level)
    if effect.mde_pct is not None and level_now is not None and level_now > 0:
        scale = max(1.0, effect.mde_pct / level_now)
    n_eff = n_pre / _inflation(rho, n_pre)
    df = max(n_eff - 1.0, 1.0)
    sigma_low = sigma * math.sqrt(df / stats.chi2.ppf(0.9, df))
    sigma_high = sigma * math.sqrt(df / stats.chi2.ppf(0.1, df))
    rho_se = RANGE_Z * math.sqrt(max(1 - rho * rho, 0.0) / n_pre)
    rho_low, rho_high = max(rho - rho_se, 0.0), min(rho + rho_se, 0.97)
    floor = scale * _mde_pct(sigma, rho, n_pre, HORIZON[freq], level)
    minimum = max(MIN_POST[freq], n_post + 1)
    central = _periods(threshold, sigma, rho, n_pre, n_post, level, scale, freq, minimum)
    low = _periods(threshold, sigma_low, rho_low, n_pre, n_post, level, scale, freq, minimum)
    high = _periods(threshold, sigma_high, rho_high, n_pre, n_post, level, scale, freq, minimum)
    if central is None:
        low = high = None
    elif low is None or low > central:
        low = central
    return Forecast(
        metric=effect.metric,
        threshold_pct=float(threshold),
        frequency=freq,
        last_date=pd.Timestamp(dates.max()),
        n_pre=n_pre,
        n_post=n_post,
        rho=rho,
        inflation=_inflation(rho, n_pre),
        mde_now_pct=None if level_now is None or n_post == 0 else scale * level_now,
        floor_pct=float(floor),
        periods_more=central,
        periods_low=low,
        periods_high=high if high is None or central is None else max(high, central),
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


def _periods(
    threshold: float,
    sigma: float,
    rho: float,
    n_pre: int,
    n_post: int,
    level: float,
    scale: float,
    freq: Frequency,
    minimum: int,
) -> int | None:
    """Further periods until the scaled MDE is at most `threshold` (bisection: the MDE falls
    as the post window grows); None beyond the horizon."""
    horizon = max(HORIZON[freq], minimum)

    def reached(total: int) -> bool:
        value = _mde_pct(sigma, rho, n_pre, total, level)
        return value is not None and scale * value <= threshold

    if not reached(horizon):
        return None
    lo, hi = minimum, horizon
    if reached(lo):
        return lo - n_post
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if reached(mid):
            hi = mid
        else:
            lo = mid
    return hi - n_post


def pilot_forecast(result, go_live: object) -> Forecast | None:
    """The forecast of a pilot that extends: over its value metrics still `inconclusive`, the
    one that can be decided soonest; when none can, the first one (its sentence says it is too
    noisy). None for other decisions or when no value metric can be forecast."""
    if result.decision != "extend":
        return None
    found = [
        f
        for e in result.metrics
        if e.metric in result.value_metrics and e.verdict == "inconclusive"
        for f in [forecast(e, go_live)]
        if f is not None
    ]
    reachable = [f for f in found if f.reachable]
    if reachable:
        return min(reachable, key=lambda f: f.decide_by)
    return found[0] if found else None
