"""Independent known-truth pilots for pilotproof.

Written without reading the estimation engine (`analytics/`) or the other truth generators
(`tests/analytics/`, `tests/hostile/truth.py`). Every pilot is one `cycle_time` series (lower is
better) in the long CSV format of the README, optionally with control units, and a truth:

* `truth`: "improved", "worsened" or "none" (the class the verdict is scored against);
* `true_effect_pct`: 100 * mean(d_t) / mean(c_t) over the post window, where c_t is the true
  counterfactual (what the series would have done without the pilot, noise excluded) and d_t
  the pilot's own effect; signed as the metric moves (negative = cycle time fell);
* `cf_post_mean`: mean(c_t) over the post window;
* `oracle_halfwidth_pct`: the half-width of the 95% interval an analyst gets who knows the true
  form of the counterfactual (which design columns: level, trend, step, annual sinusoid, ...)
  and the exact noise covariance, but not the coefficients: see `oracle_gls_halfwidth_pct` and
  `oracle_kriging_halfwidth_pct`. None where no such oracle is well-defined.

Observed treated series: y_t = c_t + d_t + e_t, e_t additive noise (AR(1), stationary start,
marginal sd given as a share of the base level). `build(family, seed)` gives one `Pilot`;
`write_portfolio(family, seeds, folder)` writes `metrics.csv` and `pilots.csv` for one family.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

METRIC = "cycle_time"
Z95 = 1.959963984540054
YEAR_DAYS = 365.25
EPOCH = pd.Timestamp("1970-01-01")

#: Readiness answers given in full, so a pilot with a real effect above threshold can be `scale`.
READINESS = {
    "workflow": "Requests arrive in the queue; the assistant drafts, a person checks and sends",
    "decision_owner": "Head of operations owns the routing rules",
    "execution_owner": "Team lead runs the daily queue",
    "exception_path": "Anything the assistant flags goes to the senior queue the same day",
    "escalation_path": "Open more than 3 days: escalated to the head of operations",
    "control_points": "Weekly sample audit; full audit trail; rollback to manual routing",
    "value_metric": METRIC,
}


@dataclass
class Pilot:
    pilot_id: str
    family: str
    seed: int
    frequency: str
    go_live: date
    rows: pd.DataFrame  # pilot_id, date, metric, value, group, unit
    truth: str  # improved | worsened | none
    true_effect_pct: float
    cf_post_mean: float
    oracle_halfwidth_pct: float | None
    n_pre: int
    n_post: int
    params: dict[str, Any] = field(default_factory=dict)

    def truth_record(self) -> dict[str, Any]:
        return {
            "pilot_id": self.pilot_id,
            "family": self.family,
            "seed": self.seed,
            "frequency": self.frequency,
            "go_live": self.go_live.isoformat(),
            "n_pre": self.n_pre,
            "n_post": self.n_post,
            "truth": self.truth,
            "true_effect_pct": self.true_effect_pct,
            "cf_post_mean": self.cf_post_mean,
            "oracle_halfwidth_pct": self.oracle_halfwidth_pct,
            "params": self.params,
        }


# ---------------------------------------------------------------------------------------------
# noise, covariances and the oracle intervals


def ar1_noise(rng: np.random.Generator, n: int, sd: float, rho: float) -> np.ndarray:
    """Stationary AR(1) noise with marginal standard deviation `sd` and lag-one correlation rho."""
    z = rng.standard_normal(n)
    e = np.empty(n)
    e[0] = sd * z[0]
    innov = sd * np.sqrt(1.0 - rho * rho)
    for i in range(1, n):
        e[i] = rho * e[i - 1] + innov * z[i]
    return e


def ar1_cov(n: int, sd: float, rho: float) -> np.ndarray:
    """Exact covariance of `ar1_noise`: sd^2 * rho^|i-j|."""
    idx = np.arange(n)
    lag = np.abs(idx[:, None] - idx[None, :])
    if rho == 0.0:
        return sd * sd * (lag == 0).astype(float)
    return sd * sd * np.power(rho, lag)


def oracle_gls_halfwidth_pct(
    x_pre: np.ndarray, x_post: np.ndarray, cov: np.ndarray, cf_post_mean: float
) -> float:
    """Half-width (% of the counterfactual post mean) of the oracle 95% interval.

    The oracle knows the design of the counterfactual (columns of `x_pre`/`x_post`: level, trend,
    step, annual sin/cos, day of week, ...) and the exact noise covariance `cov` of the whole series
    (pre rows first), not the coefficients. It fits beta by GLS on the pre-period,
        beta_hat = (X' S^-1 X)^-1 X' S^-1 y_pre   (S = pre block of cov),
    projects the counterfactual over the post window and estimates the effect as
        mean(y_post) - mean(x_post) @ beta_hat.
    Its error is a'e with a = [-(mean(x_post) @ (X'S^-1X)^-1 X'S^-1), 1/m, ..., 1/m], so
        Var = a' cov a
    exactly: Var(mean of post noise) + Var(projected pre fit) - 2 Cov(the two), the last term
    being the (small, positive for rho > 0) correlation between the end of the pre-period noise
    and the post window. Normal reference (the noise model is known).
    """
    n_pre = x_pre.shape[0]
    m = x_post.shape[0]
    s = cov[:n_pre, :n_pre]
    chol = np.linalg.cholesky(s)
    w = np.linalg.solve(chol, x_pre)  # L^-1 X
    xtsx = w.T @ w
    xbar = x_post.mean(axis=0)
    # weights of y_pre in the projection: xbar (X'S^-1X)^-1 X' S^-1
    g = np.linalg.solve(xtsx, xbar)
    lam = np.linalg.solve(chol.T, w @ g)  # S^-1 X g
    a = np.concatenate([-lam, np.full(m, 1.0 / m)])
    var = float(a @ cov @ a)
    return 100.0 * Z95 * np.sqrt(max(var, 0.0)) / cf_post_mean


def oracle_kriging_halfwidth_pct(
    x_pre: np.ndarray, x_post: np.ndarray, cov: np.ndarray, cf_post_mean: float
) -> float:
    """Half-width of the oracle interval when the noise is not stationary (random-walk level).

    Universal kriging: the best linear unbiased predictor lambda' y_pre of mean(y_post) without
    the pilot, with lambda' X_pre = mean(X_post) (unknown mean coefficients), solved from
        [S11 X1; X1' 0] [lambda; mu] = [S12 a; X2' a],   a = (1/m, ..., 1/m),
    error variance a'S22a - 2 lambda'S12 a + lambda'S11 lambda. Normal reference.
    """
    n_pre = x_pre.shape[0]
    m = x_post.shape[0]
    k = x_pre.shape[1]
    s11 = cov[:n_pre, :n_pre]
    s12 = cov[:n_pre, n_pre:]
    s22 = cov[n_pre:, n_pre:]
    a = np.full(m, 1.0 / m)
    lhs = np.zeros((n_pre + k, n_pre + k))
    lhs[:n_pre, :n_pre] = s11
    lhs[:n_pre, n_pre:] = x_pre
    lhs[n_pre:, :n_pre] = x_pre.T
    rhs = np.concatenate([s12 @ a, x_post.T @ a])
    sol = np.linalg.solve(lhs, rhs)
    lam = sol[:n_pre]
    var = float(a @ s22 @ a - 2.0 * lam @ s12 @ a + lam @ s11 @ lam)
    return 100.0 * Z95 * np.sqrt(max(var, 0.0)) / cf_post_mean


# ---------------------------------------------------------------------------------------------
# dates and design columns

FREQ_RULE = {"daily": "D", "weekly": "W-MON", "monthly": "MS", "yearly": "YS"}


def make_dates(freq: str, go_live: pd.Timestamp, n_pre: int, n_post: int) -> pd.DatetimeIndex:
    """n_pre dates before `go_live` and n_post from it (go_live is the first post date)."""
    rule = FREQ_RULE[freq]
    post = pd.date_range(go_live, periods=n_post, freq=rule)
    pre = pd.date_range(end=go_live - pd.Timedelta(days=1), periods=n_pre, freq=rule)
    return pre.append(post)


def random_go_live(rng: np.random.Generator, freq: str) -> pd.Timestamp:
    if freq == "yearly":
        raise ValueError("yearly go-lives are chosen by the family")
    day = pd.Timestamp("2023-01-02") + pd.Timedelta(days=int(rng.integers(0, 3 * 365)))
    if freq == "weekly":
        day = day - pd.Timedelta(days=day.weekday())  # a Monday
    elif freq == "monthly":
        day = day.replace(day=1)
    return day


def days_since_epoch(dates: pd.DatetimeIndex) -> np.ndarray:
    return np.asarray((dates - EPOCH) / pd.Timedelta(days=1), dtype=float)


def annual(dates: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    angle = 2.0 * np.pi * days_since_epoch(dates) / YEAR_DAYS
    return np.sin(angle), np.cos(angle)


def season_shape(dates: pd.DatetimeIndex, peak: pd.Timestamp) -> np.ndarray:
    """cos(2 pi (t - peak) / year): +1 at `peak`, -1 half a year away."""
    t = days_since_epoch(dates)
    t_peak = float((peak - EPOCH) / pd.Timedelta(days=1))
    return np.cos(2.0 * np.pi * (t - t_peak) / YEAR_DAYS)


def dow_design(dates: pd.DatetimeIndex) -> np.ndarray:
    """One column per weekday (no separate intercept)."""
    return np.eye(7)[np.asarray(dates.day_of_week)]


# ---------------------------------------------------------------------------------------------
# building one pilot

LENGTHS = {
    # (pre low, pre high, post low, post high)
    "daily": (90, 365, 30, 120),
    "weekly": (26, 104, 8, 26),
    "monthly": (18, 48, 6, 12),
}


def _lengths(rng: np.random.Generator, freq: str) -> tuple[int, int]:
    lo, hi, plo, phi = LENGTHS[freq]
    return int(rng.integers(lo, hi + 1)), int(rng.integers(plo, phi + 1))


def _level(rng: np.random.Generator) -> float:
    """A cycle time in hours: 4 to 120, log-uniform."""
    return float(np.exp(rng.uniform(np.log(4.0), np.log(120.0))))


def _frame(
    pilot_id: str,
    dates: pd.DatetimeIndex,
    values: np.ndarray,
    group: str,
    unit: str,
    yearly: bool,
) -> pd.DataFrame:
    fmt = "%Y" if yearly else "%Y-%m-%d"
    return pd.DataFrame(
        {
            "pilot_id": pilot_id,
            "date": dates.strftime(fmt),
            "metric": METRIC,
            "value": np.round(values, 4),
            "group": group,
            "unit": unit,
        }
    )


def _positive(values: np.ndarray, level: float) -> np.ndarray:
    """cycle_time cannot be negative; never reached with the noise used here, but guarded."""
    return np.maximum(values, 0.01 * level)


def _single(
    *,
    pilot_id: str,
    family: str,
    seed: int,
    freq: str,
    dates: pd.DatetimeIndex,
    n_pre: int,
    cf: np.ndarray,
    d: np.ndarray,
    noise: np.ndarray,
    truth: str,
    level: float,
    design: np.ndarray | None,
    cov: np.ndarray | None,
    oracle: str = "gls",
    params: dict[str, Any],
) -> Pilot:
    y = _positive(cf + d + noise, level)
    post = slice(n_pre, None)
    cf_post = float(cf[post].mean())
    true_eff = 100.0 * float(d[post].mean()) / cf_post
    half = None
    if design is not None and cov is not None:
        fn = oracle_gls_halfwidth_pct if oracle == "gls" else oracle_kriging_halfwidth_pct
        half = fn(design[:n_pre], design[n_pre:], cov, cf_post)
    rows = _frame(pilot_id, dates, y, "treatment", "", freq == "yearly")
    return Pilot(
        pilot_id=pilot_id,
        family=family,
        seed=seed,
        frequency=freq,
        go_live=dates[n_pre].date(),
        rows=rows,
        truth=truth,
        true_effect_pct=true_eff,
        cf_post_mean=cf_post,
        oracle_halfwidth_pct=half,
        n_pre=n_pre,
        n_post=len(dates) - n_pre,
        params=params,
    )


def _level_design(dates: pd.DatetimeIndex, dow: bool) -> np.ndarray:
    if dow:
        return dow_design(dates)
    return np.ones((len(dates), 1))


def _dow_pattern(rng: np.random.Generator, dates: pd.DatetimeIndex) -> tuple[np.ndarray, list]:
    """A mild day-of-week pattern (multiplicative, mean zero over the week)."""
    effects = rng.normal(0.0, 0.04, 7)
    effects -= effects.mean()
    return effects[np.asarray(dates.day_of_week)], [round(float(x), 4) for x in effects]


# ---- the issue families ---------------------------------------------------------------------


def fam_earlier_step(step: float) -> Callable[[np.random.Generator, str, int], Pilot]:
    def make(rng: np.random.Generator, pid: str, seed: int) -> Pilot:
        level = float(rng.uniform(36.0, 44.0))
        n_pre, n_post, rho, sd = 180, 60, 0.5, 0.03 * level
        dates = make_dates("daily", random_go_live(rng, "daily"), n_pre, n_post)
        n = n_pre + n_post
        after = (np.arange(n) >= n_pre - 120).astype(float)
        cf = level * (1.0 + step * after)
        design = np.column_stack([np.ones(n), after])
        return _single(
            pilot_id=pid,
            family="earlier_step_up" if step > 0 else "earlier_step_down",
            seed=seed,
            freq="daily",
            dates=dates,
            n_pre=n_pre,
            cf=cf,
            d=np.zeros(n),
            noise=ar1_noise(rng, n, sd, rho),
            truth="none",
            level=level,
            design=design,
            cov=ar1_cov(n, sd, rho),
            params={"level": level, "step": step, "rho": rho, "sd_pct": 3.0},
        )

    return make


def _bad_spell(
    rng: np.random.Generator,
    pid: str,
    seed: int,
    family: str,
    n_pre: int,
    n_post: int,
    spell_len: int,
    bump: float,
    rho: float,
    sd_pct: float,
) -> Pilot:
    level = _level(rng)
    sd = sd_pct / 100.0 * level
    n = n_pre + n_post
    dates = make_dates("daily", random_go_live(rng, "daily"), n_pre, n_post)
    idx = np.arange(n)
    spell = ((idx >= n_pre - spell_len) & (idx < n_pre)).astype(float)
    cf = level * (1.0 + bump * spell)
    # the true counterfactual after go-live is the baseline: the spell was ending anyway
    design = np.column_stack([np.ones(n), spell])
    return _single(
        pilot_id=pid,
        family=family,
        seed=seed,
        freq="daily",
        dates=dates,
        n_pre=n_pre,
        cf=cf,
        d=np.zeros(n),
        noise=ar1_noise(rng, n, sd, rho),
        truth="none",
        level=level,
        design=design,
        cov=ar1_cov(n, sd, rho),
        params={
            "level": level,
            "spell_len": spell_len,
            "bump": bump,
            "rho": rho,
            "sd_pct": sd_pct,
        },
    )


def fam_bad_spell_month(rng: np.random.Generator, pid: str, seed: int) -> Pilot:
    return _bad_spell(
        rng,
        pid,
        seed,
        "bad_spell_month",
        n_pre=120,
        n_post=90,
        spell_len=30,
        bump=float(rng.uniform(0.45, 0.60)),
        rho=float(rng.uniform(0.3, 0.6)),
        sd_pct=float(rng.uniform(3.0, 6.0)),
    )


def fam_bad_spell_various(rng: np.random.Generator, pid: str, seed: int) -> Pilot:
    n_pre = int(rng.integers(90, 241))
    return _bad_spell(
        rng,
        pid,
        seed,
        "bad_spell_various",
        n_pre=n_pre,
        n_post=int(rng.integers(30, 91)),
        spell_len=int(rng.integers(5, n_pre // 3 + 1)),
        bump=float(rng.uniform(0.30, 0.60)),
        rho=float(rng.uniform(0.2, 0.6)),
        sd_pct=float(rng.uniform(3.0, 6.0)),
    )


def fam_short_weekly_shift(rng: np.random.Generator, pid: str, seed: int) -> Pilot:
    level = _level(rng)
    n_pre, n_post, rho, sd = 30, 20, 0.4, 0.08 * level
    n = n_pre + n_post
    dates = make_dates("weekly", random_go_live(rng, "weekly"), n_pre, n_post)
    cf = np.full(n, level)
    d = np.where(np.arange(n) >= n_pre, -0.20 * level, 0.0)
    return _single(
        pilot_id=pid,
        family="short_weekly_shift",
        seed=seed,
        freq="weekly",
        dates=dates,
        n_pre=n_pre,
        cf=cf,
        d=d,
        noise=ar1_noise(rng, n, sd, rho),
        truth="improved",
        level=level,
        design=np.ones((n, 1)),
        cov=ar1_cov(n, sd, rho),
        params={"level": level, "effect": -0.20, "rho": rho, "sd_pct": 8.0},
    )


def fam_short_season(rng: np.random.Generator, pid: str, seed: int) -> Pilot:
    level = _level(rng)
    freq = "daily" if rng.random() < 0.5 else "weekly"
    if freq == "daily":
        n_pre, n_post = int(rng.integers(120, 301)), int(rng.integers(30, 91))
    else:
        n_pre, n_post = int(rng.integers(20, 46)), int(rng.integers(8, 17))
    n = n_pre + n_post
    amp = float(rng.uniform(0.10, 0.20))
    rho, sd_pct = float(rng.uniform(0.2, 0.6)), float(rng.uniform(3.0, 6.0))
    sd = sd_pct / 100.0 * level
    dates = make_dates(freq, random_go_live(rng, freq), n_pre, n_post)
    mid_post = dates[n_pre] + (dates[-1] - dates[n_pre]) / 2
    peak = mid_post - pd.Timedelta(days=YEAR_DAYS / 2)  # the post window sits in the trough
    cf = level * (1.0 + amp * season_shape(dates, peak))
    s, c = annual(dates)
    return _single(
        pilot_id=pid,
        family="short_season",
        seed=seed,
        freq=freq,
        dates=dates,
        n_pre=n_pre,
        cf=cf,
        d=np.zeros(n),
        noise=ar1_noise(rng, n, sd, rho),
        truth="none",
        level=level,
        design=np.column_stack([np.ones(n), s, c]),
        cov=ar1_cov(n, sd, rho),
        params={"level": level, "amp": amp, "rho": rho, "sd_pct": sd_pct},
    )


# ---- general families ------------------------------------------------------------------------


def _simple(
    rng: np.random.Generator,
    pid: str,
    seed: int,
    family: str,
    effect_shape: Callable[[int], np.ndarray],
    truth: str,
    freqs: Sequence[str] = ("daily", "weekly", "monthly"),
    rho_range: tuple[float, float] = (0.0, 0.6),
    sd_range: tuple[float, float] = (2.0, 8.0),
    trend_total: tuple[float, float] | None = None,
    allow_dow: bool = True,
) -> Pilot:
    """Level (+ optional day-of-week, + optional linear trend) with AR(1) noise; the pilot's own
    effect is `effect_shape(n_post)` (relative to the counterfactual) over the post window."""
    freq = str(rng.choice(list(freqs)))
    level = _level(rng)
    n_pre, n_post = _lengths(rng, freq)
    n = n_pre + n_post
    rho = float(rng.uniform(*rho_range))
    sd_pct = float(rng.uniform(*sd_range))
    sd = sd_pct / 100.0 * level
    dates = make_dates(freq, random_go_live(rng, freq), n_pre, n_post)
    params: dict[str, Any] = {"level": level, "rho": rho, "sd_pct": sd_pct}
    dow = allow_dow and freq == "daily" and rng.random() < 0.5
    mult = np.ones(n)
    if dow:
        pattern, effects = _dow_pattern(rng, dates)
        mult = mult + pattern
        params["dow"] = effects
    design = _level_design(dates, dow)
    if trend_total is not None:
        total = float(rng.uniform(*trend_total))
        if trend_total[0] > 0 and rng.random() < 0.5:  # magnitudes given: choose the sign
            total = -total
        t = np.arange(n) / (n - 1)
        # trend as a share of the level over the whole series (not multiplied into the DOW)
        cf = level * (mult + total * t)
        design = np.column_stack([design, t])
        params["trend_total"] = total
    else:
        cf = level * mult
    shape = np.concatenate([np.zeros(n_pre), effect_shape(n_post)])
    d = shape * cf
    params["effect_shape_mean"] = float(shape[n_pre:].mean())
    return _single(
        pilot_id=pid,
        family=family,
        seed=seed,
        freq=freq,
        dates=dates,
        n_pre=n_pre,
        cf=cf,
        d=d,
        noise=ar1_noise(rng, n, sd, rho),
        truth=truth,
        level=level,
        design=design,
        cov=ar1_cov(n, sd, rho),
        params=params,
    )


def fam_null_ar1(rng: np.random.Generator, pid: str, seed: int) -> Pilot:
    return _simple(rng, pid, seed, "null_ar1", lambda m: np.zeros(m), "none", rho_range=(0.0, 0.8))


def fam_level_shift(rng: np.random.Generator, pid: str, seed: int) -> Pilot:
    eff = float(rng.uniform(-0.25, -0.05))
    return _simple(rng, pid, seed, "level_shift", lambda m: np.full(m, eff), "improved")


def _ramp(m: int) -> np.ndarray:
    k = max(1, round(m / 3))
    return -0.20 * np.minimum((np.arange(m) + 1) / k, 1.0)


def fam_ramp(rng: np.random.Generator, pid: str, seed: int) -> Pilot:
    return _simple(rng, pid, seed, "ramp", _ramp, "improved")


def _fade(m: int) -> np.ndarray:
    """-20% on the first post date, falling linearly to 0 at 60% of the window, 0 after: the
    whole late third carries no effect."""
    gone = 0.6 * m
    return -0.20 * np.maximum(0.0, 1.0 - np.arange(m) / gone)


def fam_fade(rng: np.random.Generator, pid: str, seed: int) -> Pilot:
    return _simple(rng, pid, seed, "fade", _fade, "none", freqs=("daily", "weekly"))


def fam_pre_trend_mirage(rng: np.random.Generator, pid: str, seed: int) -> Pilot:
    # a steady improvement (falling cycle time) over the whole series, continuing after go-live
    return _simple(
        rng,
        pid,
        seed,
        "pre_trend_mirage",
        lambda m: np.zeros(m),
        "none",
        sd_range=(2.0, 6.0),
        trend_total=(-0.40, -0.15),
    )


def fam_trend_plus_effect(rng: np.random.Generator, pid: str, seed: int) -> Pilot:
    return _simple(
        rng,
        pid,
        seed,
        "trend_plus_effect",
        lambda m: np.full(m, -0.15),
        "improved",
        sd_range=(2.0, 6.0),
        trend_total=(0.10, 0.30),  # magnitude; the sign is drawn (rising hides, falling flatters)
    )


def fam_worse(rng: np.random.Generator, pid: str, seed: int) -> Pilot:
    return _simple(rng, pid, seed, "worse", lambda m: np.full(m, 0.15), "worsened")


def fam_seasonal_hidden_win(rng: np.random.Generator, pid: str, seed: int) -> Pilot:
    freq = str(rng.choice(["daily", "weekly", "monthly"]))
    level = _level(rng)
    years = float(rng.uniform(2.0, 3.0))
    n_pre = {"daily": int(years * 365), "weekly": int(years * 52), "monthly": int(years * 12)}[freq]
    n_post = {
        "daily": int(rng.integers(60, 121)),
        "weekly": int(rng.integers(8, 17)),
        "monthly": int(rng.integers(4, 7)),
    }[freq]
    n = n_pre + n_post
    amp = float(rng.uniform(0.10, 0.20))
    rho = float(rng.uniform(0.0, 0.6))
    sd_pct = float(rng.uniform(2.0, 6.0))
    sd = sd_pct / 100.0 * level
    dates = make_dates(freq, random_go_live(rng, freq), n_pre, n_post)
    peak = dates[n_pre] + (dates[-1] - dates[n_pre]) / 2  # post window in the heavy season
    cf = level * (1.0 + amp * season_shape(dates, peak))
    d = np.where(np.arange(n) >= n_pre, -0.12, 0.0) * cf
    s, c = annual(dates)
    return _single(
        pilot_id=pid,
        family="seasonal_hidden_win",
        seed=seed,
        freq=freq,
        dates=dates,
        n_pre=n_pre,
        cf=cf,
        d=d,
        noise=ar1_noise(rng, n, sd, rho),
        truth="improved",
        level=level,
        design=np.column_stack([np.ones(n), s, c]),
        cov=ar1_cov(n, sd, rho),
        params={"level": level, "amp": amp, "rho": rho, "sd_pct": sd_pct, "years_pre": years},
    )


def fam_null_random_walk_small(rng: np.random.Generator, pid: str, seed: int) -> Pilot:
    """A slowly wandering level: random walk with step sd q plus AR(1) measurement noise. The
    'true counterfactual' is the realised wandering level (noise excluded); true effect 0. The
    oracle is the kriging predictor (it knows the walk and noise variances)."""
    freq = str(rng.choice(["daily", "weekly", "monthly"]))
    level = _level(rng)
    n_pre, n_post = _lengths(rng, freq)
    n = n_pre + n_post
    wander_pct = float(rng.uniform(2.0, 6.0))  # sd of the walk's total drift over the series
    q = wander_pct / 100.0 * level / np.sqrt(n)
    rho = float(rng.uniform(0.0, 0.4))
    sd_pct = float(rng.uniform(2.0, 5.0))
    sd = sd_pct / 100.0 * level
    dates = make_dates(freq, random_go_live(rng, freq), n_pre, n_post)
    walk = np.cumsum(q * rng.standard_normal(n))
    cf = level + walk
    idx = np.arange(n)
    cov = q * q * (np.minimum(idx[:, None], idx[None, :]) + 1.0) + ar1_cov(n, sd, rho)
    return _single(
        pilot_id=pid,
        family="null_random_walk_small",
        seed=seed,
        freq=freq,
        dates=dates,
        n_pre=n_pre,
        cf=cf,
        d=np.zeros(n),
        noise=ar1_noise(rng, n, sd, rho),
        truth="none",
        level=level,
        design=np.ones((n, 1)),
        cov=cov,
        oracle="kriging",
        params={"level": level, "wander_pct": wander_pct, "rho": rho, "sd_pct": sd_pct},
    )


def _yearly(rng: np.random.Generator, pid: str, seed: int, family: str, eff: float) -> Pilot:
    level = _level(rng)
    n = int(rng.integers(25, 61))
    n_post = int(rng.integers(3, max(4, round(0.3 * n)) + 1))
    n_pre = n - n_post
    start = int(rng.choice([1870, 1885, 1900, 1920, 1950, 1970]))
    start = min(start, 2025 - n)
    go_live = pd.Timestamp(year=start + n_pre, month=1, day=1)
    dates = make_dates("yearly", go_live, n_pre, n_post)
    rho = float(rng.uniform(0.0, 0.5))
    sd_pct = float(rng.uniform(3.0, 8.0))
    sd = sd_pct / 100.0 * level
    cf = np.full(n, level)
    d = np.where(np.arange(n) >= n_pre, eff * level, 0.0)
    return _single(
        pilot_id=pid,
        family=family,
        seed=seed,
        freq="yearly",
        dates=dates,
        n_pre=n_pre,
        cf=cf,
        d=d,
        noise=ar1_noise(rng, n, sd, rho),
        truth="improved" if eff < 0 else "none",
        level=level,
        design=np.ones((n, 1)),
        cov=ar1_cov(n, sd, rho),
        params={"level": level, "start": start, "effect": eff, "rho": rho, "sd_pct": sd_pct},
    )


def fam_yearly_null(rng: np.random.Generator, pid: str, seed: int) -> Pilot:
    return _yearly(rng, pid, seed, "yearly_null", 0.0)


def fam_yearly_shift(rng: np.random.Generator, pid: str, seed: int) -> Pilot:
    return _yearly(rng, pid, seed, "yearly_shift", float(rng.uniform(-0.30, -0.15)))


def fam_monthly_long_null(rng: np.random.Generator, pid: str, seed: int) -> Pilot:
    level = _level(rng)
    n = 120
    n_post = int(rng.integers(12, 25))
    n_pre = n - n_post
    rho = float(rng.uniform(0.0, 0.6))
    sd_pct = float(rng.uniform(3.0, 6.0))
    sd = sd_pct / 100.0 * level
    dates = make_dates("monthly", random_go_live(rng, "monthly"), n_pre, n_post)
    design = np.ones((n, 1))
    cf = np.full(n, level)
    amp = 0.0
    if rng.random() < 0.5:
        amp = float(rng.uniform(0.05, 0.15))
        peak = pd.Timestamp("2000-01-01") + pd.Timedelta(days=int(rng.integers(0, 365)))
        cf = level * (1.0 + amp * season_shape(dates, peak))
        s, c = annual(dates)
        design = np.column_stack([design, s, c])
    return _single(
        pilot_id=pid,
        family="monthly_long_null",
        seed=seed,
        freq="monthly",
        dates=dates,
        n_pre=n_pre,
        cf=cf,
        d=np.zeros(n),
        noise=ar1_noise(rng, n, sd, rho),
        truth="none",
        level=level,
        design=design,
        cov=ar1_cov(n, sd, rho),
        params={"level": level, "amp": amp, "rho": rho, "sd_pct": sd_pct},
    )


# ---- control families ------------------------------------------------------------------------


def _ctrl_frame(
    pid: str,
    dates: pd.DatetimeIndex,
    treated: np.ndarray,
    controls: Sequence[np.ndarray],
) -> pd.DataFrame:
    parts = [_frame(pid, dates, treated, "treatment", "pilot-site", False)]
    parts += [
        _frame(pid, dates, values, "control", f"ctrl-{k + 1:02d}", False)
        for k, values in enumerate(controls)
    ]
    return pd.concat(parts, ignore_index=True)


def _ctrl_setup(rng: np.random.Generator) -> dict[str, Any]:
    freq = "daily" if rng.random() < 0.6 else "weekly"
    if freq == "daily":
        n_pre, n_post = int(rng.integers(90, 181)), int(rng.integers(30, 61))
    else:
        n_pre, n_post = int(rng.integers(52, 79)), int(rng.integers(12, 21))
    dates = make_dates(freq, random_go_live(rng, freq), n_pre, n_post)
    return {
        "freq": freq,
        "n_pre": n_pre,
        "n_post": n_post,
        "n": n_pre + n_post,
        "dates": dates,
        "level": _level(rng),
        "rho": float(rng.uniform(0.3, 0.5)),
        "common_sd_pct": float(rng.uniform(3.0, 5.0)),
        "own_sd_pct": float(rng.uniform(1.5, 3.0)),
    }


def _ctrl_pilot(
    pid: str,
    family: str,
    seed: int,
    setup: dict[str, Any],
    treated_cf: np.ndarray,
    treated_d: np.ndarray,
    treated_noise: np.ndarray,
    controls: Sequence[np.ndarray],
    truth: str,
    oracle_k: int | None,
    params: dict[str, Any],
) -> Pilot:
    n_pre, level = setup["n_pre"], setup["level"]
    y = _positive(treated_cf + treated_d + treated_noise, level)
    controls = [_positive(c, level) for c in controls]
    post = slice(n_pre, None)
    cf_post = float(treated_cf[post].mean())
    half = None
    if oracle_k:
        # DiD oracle: the treated-minus-mean-of-clean-controls gap is a constant plus AR(1) noise
        # with variance own_sd^2 (1 + 1/K) (independent own noise, equal sd and rho)
        n = setup["n"]
        sd_gap = setup["own_sd_pct"] / 100.0 * level * np.sqrt(1.0 + 1.0 / oracle_k)
        half = oracle_gls_halfwidth_pct(
            np.ones((n_pre, 1)),
            np.ones((n - n_pre, 1)),
            ar1_cov(n, sd_gap, setup["rho"]),
            cf_post,
        )
    params = {
        **{k: v for k, v in setup.items() if k not in ("dates",)},
        "n_controls": len(controls),
        **params,
    }
    return Pilot(
        pilot_id=pid,
        family=family,
        seed=seed,
        frequency=setup["freq"],
        go_live=setup["dates"][n_pre].date(),
        rows=_ctrl_frame(pid, setup["dates"], y, controls),
        truth=truth,
        true_effect_pct=100.0 * float(treated_d[post].mean()) / cf_post,
        cf_post_mean=cf_post,
        oracle_halfwidth_pct=half,
        n_pre=n_pre,
        n_post=setup["n_post"],
        params=params,
    )


def _additive_panel(
    rng: np.random.Generator, setup: dict[str, Any], k: int, shock: float
) -> tuple[np.ndarray, list[np.ndarray], np.ndarray, list[np.ndarray]]:
    """Units at levels within +-10% of the treated one, one common factor (shared AR(1) noise
    plus a shock of `shock` x level from go-live), own AR(1) noise per unit. Returns the treated
    counterfactual (its level + the realised common factor), the controls' counterfactuals, the
    treated's own noise and the controls' own noise."""
    n, n_pre, level, rho = setup["n"], setup["n_pre"], setup["level"], setup["rho"]
    common = ar1_noise(rng, n, setup["common_sd_pct"] / 100.0 * level, rho)
    common += np.where(np.arange(n) >= n_pre, shock * level, 0.0)
    own_sd = setup["own_sd_pct"] / 100.0 * level
    treated_cf = level + common
    controls_cf = [level * (1.0 + rng.uniform(-0.10, 0.10)) + common for _ in range(k)]
    return (
        treated_cf,
        controls_cf,
        ar1_noise(rng, n, own_sd, rho),
        [ar1_noise(rng, n, own_sd, rho) for _ in range(k)],
    )


def fam_ctrl_common_shock(rng: np.random.Generator, pid: str, seed: int) -> Pilot:
    setup = _ctrl_setup(rng)
    k = int(rng.integers(3, 7))
    shock = float(rng.uniform(-0.25, -0.15))
    tcf, ccf, tnoise, cnoise = _additive_panel(rng, setup, k, shock)
    controls = [c + e for c, e in zip(ccf, cnoise, strict=True)]
    return _ctrl_pilot(
        pid,
        "ctrl_common_shock",
        seed,
        setup,
        tcf,
        np.zeros(setup["n"]),
        tnoise,
        controls,
        "none",
        k,
        {"shock": shock},
    )


def fam_ctrl_real(rng: np.random.Generator, pid: str, seed: int) -> Pilot:
    setup = _ctrl_setup(rng)
    k = int(rng.integers(3, 7))
    shock = float(rng.choice([0.0, -0.10, 0.10]))
    tcf, ccf, tnoise, cnoise = _additive_panel(rng, setup, k, shock)
    d = np.where(np.arange(setup["n"]) >= setup["n_pre"], -0.15, 0.0) * tcf
    controls = [c + e for c, e in zip(ccf, cnoise, strict=True)]
    return _ctrl_pilot(
        pid, "ctrl_real", seed, setup, tcf, d, tnoise, controls, "improved", k, {"shock": shock}
    )


def fam_ctrl_one_donor_jumps(rng: np.random.Generator, pid: str, seed: int) -> Pilot:
    setup = _ctrl_setup(rng)
    jump = (0.45, 0.30, -0.30)[seed % 3]
    tcf, ccf, tnoise, cnoise = _additive_panel(rng, setup, 3, 0.0)
    which = int(rng.integers(0, 3))
    post = np.arange(setup["n"]) >= setup["n_pre"]
    controls = []
    for i, (c, e) in enumerate(zip(ccf, cnoise, strict=True)):
        base = float(c[: setup["n_pre"]].mean())
        controls.append(c + e + (jump * base * post if i == which else 0.0))
    return _ctrl_pilot(
        pid,
        "ctrl_one_donor_jumps",
        seed,
        setup,
        tcf,
        np.zeros(setup["n"]),
        tnoise,
        controls,
        "none",
        2,  # the oracle knows which donor jumped and leaves it out
        {"jump": jump, "jumping_control": f"ctrl-{which + 1:02d}"},
    )


def _mult_panel(
    rng: np.random.Generator, setup: dict[str, Any], scales: Sequence[float], factor: np.ndarray
) -> tuple[np.ndarray, list[np.ndarray], np.ndarray, list[np.ndarray]]:
    """Units at `scales` x the treated level sharing a multiplicative factor (trend, shock,
    common noise); own AR(1) noise proportional to each unit's level."""
    n, level, rho = setup["n"], setup["level"], setup["rho"]
    own = setup["own_sd_pct"] / 100.0
    treated_cf = level * factor
    controls_cf = [s * level * factor for s in scales]
    return (
        treated_cf,
        controls_cf,
        ar1_noise(rng, n, own * level, rho),
        [ar1_noise(rng, n, own * s * level, rho) for s in scales],
    )


def _common_factor(
    rng: np.random.Generator, setup: dict[str, Any], trend: float, shock: float
) -> np.ndarray:
    n, n_pre = setup["n"], setup["n_pre"]
    t = np.arange(n) / (n - 1)
    noise = ar1_noise(rng, n, setup["common_sd_pct"] / 100.0, setup["rho"])
    return (1.0 + trend * t + noise) * np.where(np.arange(n) >= n_pre, 1.0 + shock, 1.0)


def fam_ctrl_other_levels(rng: np.random.Generator, pid: str, seed: int) -> Pilot:
    setup = _ctrl_setup(rng)
    k = int(rng.integers(3, 7))
    scales = [float(np.exp(rng.uniform(np.log(0.5), np.log(2.0)))) for _ in range(k)]
    trend = float(rng.uniform(0.10, 0.20)) * float(rng.choice([-1.0, 1.0]))
    factor = _common_factor(rng, setup, trend, 0.0)
    tcf, ccf, tnoise, cnoise = _mult_panel(rng, setup, scales, factor)
    d = np.where(np.arange(setup["n"]) >= setup["n_pre"], -0.10, 0.0) * tcf
    controls = [c + e for c, e in zip(ccf, cnoise, strict=True)]
    return _ctrl_pilot(
        pid,
        "ctrl_other_levels",
        seed,
        setup,
        tcf,
        d,
        tnoise,
        controls,
        "improved",
        None,
        {"scales": [round(s, 3) for s in scales], "trend_total": trend},
    )


def fam_ctrl_outside_hull(rng: np.random.Generator, pid: str, seed: int) -> Pilot:
    setup = _ctrl_setup(rng)
    k = int(rng.integers(3, 7))
    scales = [float(rng.uniform(0.5, 0.85)) for _ in range(k)]
    trend = float(rng.uniform(-0.15, 0.0))
    shock = float(rng.uniform(-0.20, -0.10))
    factor = _common_factor(rng, setup, trend, shock)
    tcf, ccf, tnoise, cnoise = _mult_panel(rng, setup, scales, factor)
    controls = [c + e for c, e in zip(ccf, cnoise, strict=True)]
    return _ctrl_pilot(
        pid,
        "ctrl_outside_hull",
        seed,
        setup,
        tcf,
        np.zeros(setup["n"]),
        tnoise,
        controls,
        "none",
        None,
        {"scales": [round(s, 3) for s in scales], "trend_total": trend, "shock": shock},
    )


def fam_ctrl_other_season(rng: np.random.Generator, pid: str, seed: int) -> Pilot:
    """Treated has an annual season with the post window in its low (good) season; donors have
    the same kind of season shifted by 2-6 months; shared AR(1) noise; no effect."""
    freq = "daily" if rng.random() < 0.5 else "weekly"
    if freq == "daily":
        n_pre, n_post = int(rng.integers(200, 401)), int(rng.integers(30, 61))
    else:
        n_pre, n_post = int(rng.integers(52, 105)), int(rng.integers(8, 17))
    dates = make_dates(freq, random_go_live(rng, freq), n_pre, n_post)
    setup = {
        "freq": freq,
        "n_pre": n_pre,
        "n_post": n_post,
        "n": n_pre + n_post,
        "dates": dates,
        "level": _level(rng),
        "rho": float(rng.uniform(0.3, 0.5)),
        "common_sd_pct": float(rng.uniform(3.0, 5.0)),
        "own_sd_pct": float(rng.uniform(1.5, 3.0)),
    }
    k = int(rng.integers(3, 7))
    amp = float(rng.uniform(0.10, 0.20))
    mid_post = dates[n_pre] + (dates[-1] - dates[n_pre]) / 2
    peak = mid_post - pd.Timedelta(days=YEAR_DAYS / 2)
    shifts = [int(rng.integers(60, 183)) * int(rng.choice([-1, 1])) for _ in range(k)]
    n, level, rho = setup["n"], setup["level"], setup["rho"]
    common = ar1_noise(rng, n, setup["common_sd_pct"] / 100.0, rho)
    own = setup["own_sd_pct"] / 100.0
    tcf = level * (1.0 + amp * season_shape(dates, peak) + common)
    controls = []
    for shift in shifts:
        scale = float(rng.uniform(0.85, 1.15))
        shape = season_shape(dates, peak + pd.Timedelta(days=shift))
        cf = scale * level * (1.0 + amp * shape + common)
        controls.append(cf + ar1_noise(rng, n, own * scale * level, rho))
    return _ctrl_pilot(
        pid,
        "ctrl_other_season",
        seed,
        setup,
        tcf,
        np.zeros(n),
        ar1_noise(rng, n, own * level, rho),
        controls,
        "none",
        None,
        {"amp": amp, "season_shift_days": shifts},
    )


# ---------------------------------------------------------------------------------------------

ISSUE_FAMILIES = (
    "earlier_step_up",
    "earlier_step_down",
    "bad_spell_month",
    "short_weekly_shift",
    "bad_spell_various",
    "short_season",
)

FAMILIES: dict[str, Callable[[np.random.Generator, str, int], Pilot]] = {
    "earlier_step_up": fam_earlier_step(0.30),
    "earlier_step_down": fam_earlier_step(-0.20),
    "bad_spell_month": fam_bad_spell_month,
    "short_weekly_shift": fam_short_weekly_shift,
    "bad_spell_various": fam_bad_spell_various,
    "short_season": fam_short_season,
    "null_ar1": fam_null_ar1,
    "null_random_walk_small": fam_null_random_walk_small,
    "level_shift": fam_level_shift,
    "ramp": fam_ramp,
    "fade": fam_fade,
    "pre_trend_mirage": fam_pre_trend_mirage,
    "trend_plus_effect": fam_trend_plus_effect,
    "seasonal_hidden_win": fam_seasonal_hidden_win,
    "worse": fam_worse,
    "yearly_null": fam_yearly_null,
    "yearly_shift": fam_yearly_shift,
    "monthly_long_null": fam_monthly_long_null,
    "ctrl_common_shock": fam_ctrl_common_shock,
    "ctrl_real": fam_ctrl_real,
    "ctrl_one_donor_jumps": fam_ctrl_one_donor_jumps,
    "ctrl_other_levels": fam_ctrl_other_levels,
    "ctrl_other_season": fam_ctrl_other_season,
    "ctrl_outside_hull": fam_ctrl_outside_hull,
}


def pilot_id(family: str, seed: int) -> str:
    return f"{family}-s{seed:02d}"


def build(family: str, seed: int) -> Pilot:
    """One pilot of `family`; deterministic in (family, seed)."""
    rng = np.random.default_rng([zlib.crc32(family.encode()), seed])
    return FAMILIES[family](rng, pilot_id(family, seed), seed)


def write_portfolio(family: str, seeds: Sequence[int], folder: Path) -> list[Pilot]:
    """Write `metrics.csv` (long) and `pilots.csv` for `seeds` of `family` into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    pilots = [build(family, s) for s in seeds]
    metrics = pd.concat([p.rows for p in pilots], ignore_index=True)
    metrics.to_csv(folder / "metrics.csv", index=False)
    registry = pd.DataFrame(
        [
            {
                "pilot_id": p.pilot_id,
                "go_live": p.go_live.isoformat(),
                "pilot_name": f"{family} seed {p.seed}",
                **READINESS,
            }
            for p in pilots
        ]
    )
    registry.to_csv(folder / "pilots.csv", index=False)
    return pilots


__all__ = [
    "FAMILIES",
    "ISSUE_FAMILIES",
    "Pilot",
    "ar1_cov",
    "ar1_noise",
    "build",
    "oracle_gls_halfwidth_pct",
    "oracle_kriging_halfwidth_pct",
    "write_portfolio",
]
