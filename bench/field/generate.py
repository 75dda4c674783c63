"""Field-shaped known-truth pilots: families modelled on the quirks of real operational exports.

Written without reading the estimation engine (`analytics/`) or the other truth generators
(`tests/analytics/`, `tests/hostile/truth.py`, `bench/independent/generate.py`): only the README's
input formats and `analyze --format json` contract are used. Each family is a function
`seed -> FieldPilot`; `write_portfolio` writes one long metrics CSV and one pilots CSV in the
forms the README documents, and `FieldPilot.truth_record` is what `bench/independent/score.py`
scores against. The families, their truth and why each is realistic: `bench/field/README.md`.

Units: `true_effect_pct` is in the metric's terms: percent of the true counterfactual's post mean
(`100 * sum(d_t) / sum(c_t)` over the post points, d the pilot's own effect, c the counterfactual
without noise) for relative metrics, percentage points for a rate (`effect_scale == "points"`).
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from dateutil.easter import easter

Z95 = 1.959963984540054
#: The metric a family scores when it says nothing else (the first generator's default).
METRIC = "cycle_time"
#: Go-lives cluster here (a Monday), moved back by a few weeks per seed; every series ends
#: before 2026-11 (the tool may compare dates with today).
ANCHOR = dt.date(2026, 3, 2)

READINESS = {
    "workflow": "Requests arrive by email and the portal; an agent drafts, a person approves.",
    "decision_owner": "Head of operations",
    "execution_owner": "Operations team lead",
    "exception_path": "Low-confidence cases go to the manual queue.",
    "escalation_path": "Team lead, then the process owner.",
    "control_points": "Weekly sample review of 50 cases.",
}


# --- the oracle ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Oracle:
    """What an analyst who knows the counterfactual's form and the exact noise covariance
    (not the coefficients) would estimate: GLS of `y` on `design` over the `fit` points, projected
    over the `post` points; effect = `w' y_post - w' X_post beta_hat` (w = `post_weights`,
    uniform by default). Its error is `a' e`, so its variance is `a' cov a` exactly.

    Shapes: `y` (n,), `design` (n, p), `cov` (n, n), `fit` / `post` bool (n,). `kind` says how the
    level-scale effect becomes the metric's terms: `relative` (divided by `cf_post_mean`, the
    true counterfactual's post mean, in %), `points` (a fraction, x100) or `log` (y is a log or a
    log gap: 100 (exp(delta) - 1), its interval mapped through exp).
    """

    y: np.ndarray
    design: np.ndarray
    cov: np.ndarray
    fit: np.ndarray
    post: np.ndarray
    kind: str
    cf_post_mean: float = 1.0
    post_weights: np.ndarray | None = None

    def _weights(self) -> np.ndarray:
        """The linear weights a (n,) with estimate = a' y."""
        x_f = self.design[self.fit]
        s_ff = self.cov[np.ix_(self.fit, self.fit)]
        si_x = np.linalg.solve(s_ff, x_f)
        beta_op = np.linalg.solve(x_f.T @ si_x, si_x.T)  # (p, n_fit): beta_hat = op @ y_fit
        w = self.post_weights
        m = int(self.post.sum())
        w = np.full(m, 1.0 / m) if w is None else w / w.sum()
        x_bar = w @ self.design[self.post]
        a = np.zeros(len(self.y))
        a[self.fit] = -x_bar @ beta_op
        a[self.post] += w
        return a

    def sd(self) -> float:
        """Standard deviation of the level-scale (or log-scale) effect estimate."""
        a = self._weights()
        return float(np.sqrt(a @ self.cov @ a))

    def estimate(self) -> float:
        """The oracle's effect in the metric's terms (% or points)."""
        delta = float(self._weights() @ self.y)
        return self._to_metric(delta)

    def _to_metric(self, delta: float) -> float:
        if self.kind == "relative":
            return 100.0 * delta / self.cf_post_mean
        if self.kind == "points":
            return 100.0 * delta
        return 100.0 * (np.exp(delta) - 1.0)

    def interval(self) -> tuple[float, float]:
        """The oracle's own 95% interval (normal reference) around its estimate."""
        delta, sd = float(self._weights() @ self.y), self.sd()
        return self._to_metric(delta - Z95 * sd), self._to_metric(delta + Z95 * sd)

    def halfwidth(self, true_effect: float) -> float:
        """95% half-width in the metric's terms; for `log`, half the exp-mapped width around
        the true effect (so it does not depend on this draw's noise)."""
        sd = self.sd()
        if self.kind == "log":
            centre = np.log1p(true_effect / 100.0)
            return float(50.0 * (np.exp(centre + Z95 * sd) - np.exp(centre - Z95 * sd)))
        return self._to_metric(Z95 * sd) - self._to_metric(0.0)


# --- the pilot ------------------------------------------------------------------------------


@dataclass
class FieldPilot:
    """One pilot: its rows (long form, one per date/metric/unit), its truth and its oracle.

    `rows` holds columns date (datetime.date), metric, value, group, unit and optionally volume.
    `true_effect` is in the scored metric's terms (% or points, see the module docstring).
    """

    family: str
    seed: int
    go_live: dt.date
    truth: str
    true_effect: float
    rows: pd.DataFrame
    metric: str = METRIC
    effect_scale: str = "relative"
    oracle: Oracle | None = None
    value_metric: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def pilot_id(self) -> str:
        """`<family>-s<seed>`, e.g. `small_counts-s07`."""
        return f"{self.family}-s{self.seed:02d}"

    def truth_record(self) -> dict[str, Any]:
        """The record `bench/independent/score.py` scores (its keys plus `metric`,
        `effect_scale`); for a points metric the `_pct` names hold percentage points."""
        half = None if self.oracle is None else self.oracle.halfwidth(self.true_effect)
        return {
            "pilot_id": self.pilot_id,
            "family": self.family,
            "seed": self.seed,
            "truth": self.truth,
            "metric": self.metric,
            "effect_scale": self.effect_scale,
            "true_effect_pct": float(self.true_effect),
            "oracle_halfwidth_pct": half,
            "go_live": self.go_live.isoformat(),
            "n_rows": len(self.rows),
            "params": self.params,
        }


# --- building blocks ------------------------------------------------------------------------


def _rng(family: str, seed: int) -> np.random.Generator:
    return np.random.default_rng([zlib.crc32(family.encode()), seed, 20261201])


def _go_live(rng: np.random.Generator, weekday: int = 0) -> dt.date:
    """A go-live 0-20 weeks before ANCHOR, on the given weekday (0 = Monday)."""
    return ANCHOR - dt.timedelta(weeks=int(rng.integers(0, 21))) + dt.timedelta(days=weekday)


def ar1(rng: np.random.Generator, n: int, rho: float, sd: float) -> np.ndarray:
    """Stationary AR(1) noise of marginal sd `sd` and lag-one correlation `rho`, shape (n,)."""
    z = rng.standard_normal(n)
    e = np.empty(n)
    e[0] = z[0]
    root = np.sqrt(1.0 - rho * rho)
    for i in range(1, n):
        e[i] = rho * e[i - 1] + root * z[i]
    return sd * e


def ar1_on_times(rng: np.random.Generator, times: np.ndarray, rho: float, sd: float) -> np.ndarray:
    """AR(1) sampled at integer times with gaps (a continuous-time AR: corr rho^|lag|)."""
    e = np.empty(len(times))
    e[0] = rng.standard_normal()
    for i in range(1, len(times)):
        r = rho ** float(times[i] - times[i - 1])
        e[i] = r * e[i - 1] + np.sqrt(1.0 - r * r) * rng.standard_normal()
    return sd * e


def ar1_cov(times: np.ndarray, rho: float, sd: float | np.ndarray) -> np.ndarray:
    """Covariance of `ar1_on_times` (sd a scalar or per point: D R D), shape (n, n)."""
    lag = np.abs(np.subtract.outer(times, times)).astype(float)
    s = np.broadcast_to(np.asarray(sd, dtype=float), (len(times),))
    return np.outer(s, s) * rho**lag


def dow_profile(rng: np.random.Generator, amp: float) -> np.ndarray:
    """Seven day-of-week multipliers (Monday first) averaging 1, spread about `amp`."""
    raw = np.array([1.0, 0.4, 0.2, 0.0, -0.4, -0.6, -0.6]) + rng.normal(0, 0.15, 7)
    raw -= raw.mean()
    return 1.0 + amp * raw / np.abs(raw).max()


def dow_dummies(dates: Iterable[dt.date], days: Iterable[int] = range(1, 7)) -> np.ndarray:
    """Day-of-week indicator columns for the given weekdays (Monday = 0 is the base)."""
    wd = np.array([d.weekday() for d in dates])
    return np.column_stack([(wd == k).astype(float) for k in days])


def _days(start: dt.date, n: int) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range(n)]


def _frame(
    dates: list[dt.date], values: np.ndarray, metric: str = METRIC, **cols: Any
) -> pd.DataFrame:
    out = pd.DataFrame({"date": dates, "metric": metric, "value": values})
    out["group"] = cols.pop("group", "treatment")
    out["unit"] = cols.pop("unit", "pilot-site")
    for name, val in cols.items():
        out[name] = val
    return out


def _effect_pct(d: np.ndarray, c: np.ndarray, post: np.ndarray) -> float:
    return float(100.0 * d[post].sum() / c[post].sum())


def _level(rng: np.random.Generator, lo: float = 4.0, hi: float = 120.0) -> float:
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


@dataclass(frozen=True)
class Draw:
    """One level-scale draw of a treated series, each array shaped (n,): `c` the counterfactual
    without noise, `d` the pilot's own effect, `y` what the export holds (c + d + noise, or an
    outage day in its place), `post` the points on or after go-live."""

    dates: list[dt.date]
    c: np.ndarray
    d: np.ndarray
    y: np.ndarray
    post: np.ndarray


def _level_pilot(
    family: str,
    seed: int,
    go: dt.date,
    draw: Draw,
    design: np.ndarray,
    cov: np.ndarray,
    params: dict[str, Any],
    *,
    skip: np.ndarray | None = None,
    metric: str = METRIC,
    digits: int = 3,
) -> FieldPilot:
    """A pilot whose oracle is `relative` on the level scale; `skip` (bool, (n,)) marks points
    the oracle knows are contaminated (left out of its fit and its post mean). The truth follows
    the effect's sign: improved below zero, none at zero (lower is better here)."""
    keep = np.ones(len(draw.y), dtype=bool) if skip is None else ~skip
    oracle = Oracle(
        draw.y,
        design,
        cov,
        ~draw.post & keep,
        draw.post & keep,
        "relative",
        float(draw.c[draw.post].mean()),
    )
    effect = _effect_pct(draw.d, draw.c, draw.post)
    truth = "improved" if effect < 0 else "none"
    rows = _frame(draw.dates, np.round(draw.y, digits), metric)
    return FieldPilot(family, seed, go, truth, effect, rows, metric, oracle=oracle, params=params)


def _log_pilot(
    family: str,
    seed: int,
    go: dt.date,
    effect: float,
    rows: pd.DataFrame,
    oracle: Oracle,
    params: dict[str, Any],
    metric: str = METRIC,
) -> FieldPilot:
    """A pilot with a constant multiplicative effect (a fraction: -0.12 is -12%), so its true
    effect is exactly that; truth improved below zero, none at zero."""
    truth = "improved" if effect < 0 else "none"
    return FieldPilot(
        family, seed, go, truth, 100.0 * effect, rows, metric, oracle=oracle, params=params
    )


# --- families -------------------------------------------------------------------------------


def _seasonal_growth(family: str, seed: int, effect: float) -> FieldPilot:
    """Airline-passenger shape: multiplicative annual season (two harmonics) on a growing level,
    log-scale AR(1) noise; monthly (even seeds) or weekly (odd seeds)."""
    rng = _rng(family, seed)
    weekly = seed % 2 == 1
    if weekly:
        n_pre, n_post, period = int(rng.integers(104, 157)), int(rng.integers(13, 27)), 365.25 / 7
        go = _go_live(rng)
        dates = [go + dt.timedelta(weeks=int(k)) for k in range(-n_pre, n_post)]
        sd, rho = rng.uniform(0.025, 0.04), rng.uniform(0.3, 0.6)
    else:
        n_pre, n_post, period = int(rng.integers(48, 85)), 12, 12.0
        go = dt.date(2025, int(rng.integers(1, 8)), 1)
        base = go.year * 12 + go.month - 1
        dates = [dt.date((base + k) // 12, (base + k) % 12 + 1, 1) for k in range(-n_pre, n_post)]
        sd, rho = rng.uniform(0.02, 0.035), rng.uniform(0.3, 0.6)
    n = n_pre + n_post
    t = np.arange(n, dtype=float) - n_pre
    growth = rng.uniform(0.03, 0.10)
    a1, a2 = rng.uniform(0.08, 0.15), rng.uniform(0.02, 0.06)
    p1, p2 = rng.uniform(0, 2 * np.pi, 2)
    w = 2 * np.pi * t / period
    design = np.column_stack([np.ones(n), t, np.cos(w), np.sin(w), np.cos(2 * w), np.sin(2 * w)])
    log_c = np.log(_level(rng, 2, 40)) + np.log1p(growth) * t / period
    log_c += a1 * np.cos(w + p1) + a2 * np.cos(2 * w + p2)
    post = t >= 0
    e = ar1(rng, n, rho, sd)
    log_y = log_c + np.log1p(effect) * post + e
    times = np.arange(n)
    oracle = Oracle(log_y, design, ar1_cov(times, rho, sd), ~post, post, "log")
    rows = _frame(dates, np.round(np.exp(log_y), 4), "cost_per_transaction")
    params = {
        "freq": "W" if weekly else "M",
        "n_pre": n_pre,
        "n_post": n_post,
        "growth": growth,
        "season_amp": a1,
        "sd": sd,
        "rho": rho,
    }
    return _log_pilot(family, seed, go, effect, rows, oracle, params, "cost_per_transaction")


def seasonal_growth_null(seed: int) -> FieldPilot:
    """Multiplicative season with 3-10% a year growth, no pilot effect (truth none)."""
    return _seasonal_growth("seasonal_growth_null", seed, 0.0)


def seasonal_growth_effect(seed: int) -> FieldPilot:
    """The same with a real -12% from go-live (truth improved)."""
    return _seasonal_growth("seasonal_growth_effect", seed, -0.12)


def holidays(year: int) -> set[dt.date]:
    """Public holidays and a year-end shutdown of a European back office."""
    e = easter(year)
    days = {
        dt.date(year, 1, 1),
        e - dt.timedelta(days=2),
        e + dt.timedelta(days=1),
        dt.date(year, 5, 1),
        e + dt.timedelta(days=39),
        e + dt.timedelta(days=50),
    }
    days |= {dt.date(year, 12, d) for d in range(24, 32)}
    return days


def business_days(seed: int) -> FieldPilot:
    """Weekdays only, public holidays and the year-end shutdown absent, a Monday and an
    after-holiday backlog; real -15% (truth improved)."""
    family = "business_days"
    rng = _rng(family, seed)
    go = _go_live(rng, weekday=int(rng.integers(0, 5)))
    while go in holidays(go.year):
        go += dt.timedelta(days=1)
    cal_pre, cal_post = int(rng.integers(270, 550)), int(rng.integers(90, 183))
    first = go - dt.timedelta(days=cal_pre)
    off = set().union(*(holidays(y) for y in range(first.year, go.year + 2)))
    dates = [d for d in _days(first, cal_pre + cal_post) if d.weekday() < 5 and d not in off]
    n = len(dates)
    lags = np.diff([d.toordinal() for d in dates], prepend=dates[0].toordinal() - 1)
    weekdays = np.array([d.weekday() for d in dates])
    # the first working day after a holiday or the shutdown (a plain weekend is not a gap)
    after_gap = ((lags > 1) & ~((weekdays == 0) & (lags == 3))).astype(float)
    dow = np.array([1.10, 1.03, 1.0, 0.98, 0.94])[[d.weekday() for d in dates]]
    bump = rng.uniform(0.10, 0.20)
    c = _level(rng, 8, 60) * dow * (1 + bump * after_gap)
    post = np.array([d >= go for d in dates])
    d_eff = -0.15 * c * post
    sd, rho = rng.uniform(0.04, 0.07), rng.uniform(0.3, 0.6)
    scale = c[~post].mean()
    e = ar1(rng, n, rho, sd * scale)
    design = np.column_stack([np.ones(n), dow_dummies(dates, range(1, 5)), after_gap])
    times = np.arange(n)  # work happens on business days: the noise steps by them
    params = {"n_days": n, "after_gap_bump": bump, "sd": sd, "rho": rho}
    draw = Draw(dates, c, d_eff, c + d_eff + e, post)
    return _level_pilot(family, seed, go, draw, design, ar1_cov(times, rho, sd * scale), params)


def _heavy_tail(
    family: str, seed: int, effect: float, tails: bool = True, outages: bool = True
) -> FieldPilot:
    """Student t(3) noise (`tails`; else normal noise of the same sd) on top of mild AR(1)
    noise, and (`outages`) system-outage days at 5x: 2-3 before go-live, one after for even
    seeds."""
    rng = _rng(family, seed)
    go = _go_live(rng)
    n_pre, n_post = int(rng.integers(150, 271)), int(rng.integers(60, 91))
    n = n_pre + n_post
    dates = _days(go - dt.timedelta(days=n_pre), n)
    c = _level(rng) * dow_profile(rng, 0.05)[[d.weekday() for d in dates]]
    post = np.arange(n) >= n_pre
    scale = c[~post].mean()
    s_ar, rho, s_t = 0.02, rng.uniform(0.3, 0.5), rng.uniform(0.03, 0.05)
    e = ar1(rng, n, rho, s_ar * scale)
    e += s_t * scale * (rng.standard_t(3, n) / np.sqrt(3.0) if tails else rng.standard_normal(n))
    d_eff = effect * c * post
    y = c + d_eff + e
    days = list(rng.choice(np.arange(5, n_pre - 5), size=int(rng.integers(2, 4)), replace=False))
    if seed % 2 == 0:
        days.append(int(n_pre + rng.integers(5, n_post - 5)))
    if not outages:
        days = []
    clean = np.ones(n, dtype=bool)
    for i in days:
        y[i] = 5.0 * c[i] * (1 + effect * post[i])
        clean[i] = False
    cov = ar1_cov(np.arange(n), rho, s_ar * scale) + np.eye(n) * (s_t * scale) ** 2
    design = np.column_stack([np.ones(n), dow_dummies(dates)])
    params = {
        "n_pre": n_pre,
        "n_post": n_post,
        "outages": [dates[i].isoformat() for i in days],
        "t_sd": s_t,
    }
    draw = Draw(dates, c, d_eff, y, post)
    return _level_pilot(family, seed, go, draw, design, cov, params, skip=~clean)


def heavy_tail_null(seed: int) -> FieldPilot:
    """t(3) noise and outage days (one in the post window for even seeds); truth none."""
    return _heavy_tail("heavy_tail_null", seed, 0.0)


def heavy_tail_effect(seed: int) -> FieldPilot:
    """The same with a real -15% (truth improved)."""
    return _heavy_tail("heavy_tail_effect", seed, -0.15)


def outage_days_null(seed: int) -> FieldPilot:
    """Outage days at 5x as in `heavy_tail_null`, normal noise otherwise (truth none): does an
    outage alone widen the interval?"""
    return _heavy_tail("outage_days_null", seed, 0.0, tails=False)


def t3_noise_effect(seed: int) -> FieldPilot:
    """t(3) noise as in `heavy_tail_effect`, no outage day, a real -15% (truth improved)."""
    return _heavy_tail("t3_noise_effect", seed, -0.15, outages=False)


def irregular_reporting(seed: int) -> FieldPilot:
    """Daily export with 10% of days absent at random and a two-week reporting gap (in the
    pre-period for even seeds, in the post window for odd); real -15% (truth improved)."""
    family = "irregular_reporting"
    rng = _rng(family, seed)
    go = _go_live(rng)
    n_pre, n_post = int(rng.integers(180, 301)), int(rng.integers(60, 121))
    n = n_pre + n_post
    keep = rng.random(n) >= 0.10
    start = (
        int(rng.integers(20, n_pre - 30))
        if seed % 2 == 0
        else int(n_pre + rng.integers(10, n_post - 34))
    )
    keep[start : start + 14] = False
    keep[n_pre] = True  # the go-live day itself reported
    idx = np.flatnonzero(keep)
    all_dates = _days(go - dt.timedelta(days=n_pre), n)
    dates = [all_dates[i] for i in idx]
    amp = 0.06 if seed % 4 < 2 else 0.0
    c = _level(rng) * dow_profile(rng, amp)[[d.weekday() for d in dates]]
    post = idx >= n_pre
    sd, rho = rng.uniform(0.03, 0.06), rng.uniform(0.3, 0.6)
    scale = c[~post].mean()
    e = ar1_on_times(rng, idx, rho, sd * scale)
    d_eff = -0.15 * c * post
    design = (
        np.column_stack([np.ones(len(idx)), dow_dummies(dates)]) if amp else np.ones((len(idx), 1))
    )
    params = {
        "n_pre": n_pre,
        "n_post": n_post,
        "gap_start": all_dates[start].isoformat(),
        "reported": len(idx),
        "sd": sd,
        "rho": rho,
    }
    draw = Draw(dates, c, d_eff, c + d_eff + e, post)
    return _level_pilot(family, seed, go, draw, design, ar1_cov(idx, rho, sd * scale), params)


def _daily_level(
    family: str,
    seed: int,
    n_pre: tuple[int, int],
    n_post: tuple[int, int],
    sd_range: tuple[float, float],
    rho_range: tuple[float, float],
    dow_amp: float,
    effect_path: Callable[[np.ndarray, int], np.ndarray],
    truth: str,
    sd_post_factor: float = 1.0,
) -> FieldPilot:
    """A daily level with a day-of-week pattern, AR(1) noise (its sd may change at go-live) and
    a relative effect `effect_path(k, n_post)` on post day k (k = 0 at go-live)."""
    rng = _rng(family, seed)
    go = _go_live(rng)
    pre, pst = int(rng.integers(*n_pre)), int(rng.integers(*n_post))
    n = pre + pst
    dates = _days(go - dt.timedelta(days=pre), n)
    c = _level(rng) * dow_profile(rng, dow_amp)[[d.weekday() for d in dates]]
    post = np.arange(n) >= pre
    sd, rho = rng.uniform(*sd_range), rng.uniform(*rho_range)
    scale = c[~post].mean()
    sds = sd * scale * np.where(post, sd_post_factor, 1.0)
    e = sds * ar1(rng, n, rho, 1.0)
    d_eff = np.zeros(n)
    d_eff[post] = effect_path(np.arange(pst), pst) * c[post]
    design = np.column_stack([np.ones(n), dow_dummies(dates)])
    params = {"n_pre": pre, "n_post": pst, "sd": sd, "rho": rho, "sd_post_factor": sd_post_factor}
    draw = Draw(dates, c, d_eff, c + d_eff + e, post)
    pilot = _level_pilot(family, seed, go, draw, design, ar1_cov(np.arange(n), rho, sds), params)
    pilot.truth = truth
    return pilot


def rollout_6w(seed: int) -> FieldPilot:
    """Site-by-site rollout: the effect ramps linearly from 0 to -20% over the first 42 days
    after go-live, then holds (truth improved)."""
    return _daily_level(
        "rollout_6w",
        seed,
        (150, 301),
        (90, 151),
        (0.03, 0.06),
        (0.3, 0.6),
        0.06,
        lambda k, m: -0.20 * np.minimum(k / 42.0, 1.0),
        "improved",
    )


def small_effect_long(seed: int) -> FieldPilot:
    """Two years of a quiet daily series (sd 2-3%), a real -5% over 5-6 months (truth improved):
    power."""
    return _daily_level(
        "small_effect_long",
        seed,
        (700, 761),
        (150, 181),
        (0.02, 0.03),
        (0.2, 0.4),
        0.05,
        lambda k, m: np.full(len(k), -0.05),
        "improved",
    )


def variance_change(seed: int) -> FieldPilot:
    """No change in the mean; the noise sd is x2.5 (even seeds: the AI handles easy cases,
    the rest get erratic) or x0.4 (odd: standardised work) from go-live (truth none)."""
    factor = 2.5 if seed % 2 == 0 else 0.4
    return _daily_level(
        "variance_change",
        seed,
        (150, 271),
        (60, 121),
        (0.03, 0.05),
        (0.3, 0.5),
        0.05,
        lambda k, m: np.zeros(len(k)),
        "none",
        sd_post_factor=factor,
    )


def novelty_fade(seed: int) -> FieldPilot:
    """Novelty: -20 to -30% at go-live fading as (1 - k/T)^2 to nothing at T = half the post
    window, nothing after (truth none; the true effect is the whole-window mean)."""
    amp = float(_rng("novelty_fade-amp", seed).uniform(0.20, 0.30))

    def path(k: np.ndarray, m: int) -> np.ndarray:
        return -amp * np.clip(1.0 - k / (0.5 * m), 0.0, None) ** 2

    pilot = _daily_level(
        "novelty_fade", seed, (150, 271), (90, 121), (0.03, 0.05), (0.3, 0.5), 0.05, path, "none"
    )
    pilot.params["amp"] = amp
    return pilot


def _small_counts(family: str, seed: int, effect: float) -> FieldPilot:
    """Daily counts of manual interventions, Poisson with mean 3 a day (odd seeds: weekdays 3.6,
    weekends 1.5, still 3 on average), many zeros."""
    rng = _rng(family, seed)
    go = _go_live(rng)
    pre, pst = int(rng.integers(120, 241)), int(rng.integers(60, 91))
    n = pre + pst
    dates = _days(go - dt.timedelta(days=pre), n)
    weekly = seed % 2 == 1
    prof = np.array([3.6] * 5 + [1.5] * 2) if weekly else np.full(7, 3.0)
    lam = prof[[d.weekday() for d in dates]]
    post = np.arange(n) >= pre
    mean = lam * (1 + effect * post)
    y = rng.poisson(mean).astype(float)
    design = (
        np.column_stack([np.ones(n), dow_dummies(dates, [5, 6])]) if weekly else np.ones((n, 1))
    )
    oracle = Oracle(y, design, np.diag(mean), ~post, post, "relative", float(lam[post].mean()))
    truth = "improved" if effect < 0 else "none"
    d_eff = effect * lam * post
    rows = _frame(dates, y.astype(int), "manual_touches")
    params = {
        "n_pre": pre,
        "n_post": pst,
        "weekday_pattern": weekly,
        "zeros": float(np.mean(y == 0)),
    }
    return FieldPilot(
        family,
        seed,
        go,
        truth,
        _effect_pct(d_eff, lam, post),
        rows,
        "manual_touches",
        oracle=oracle,
        params=params,
    )


def small_counts_effect(seed: int) -> FieldPilot:
    """Poisson counts, mean 3 a day, real -30% (truth improved)."""
    return _small_counts("small_counts_effect", seed, -0.30)


def small_counts_null(seed: int) -> FieldPilot:
    """Poisson counts, mean 3 a day, no effect (truth none)."""
    return _small_counts("small_counts_null", seed, 0.0)


def _rework(family: str, seed: int, rise: float, speedup: float) -> FieldPilot:
    """A rework share (6-10%) from daily volumes (weekdays 200-600 items, weekends 10-25% of
    that): binomial noise plus a day-level AR(1) of 0.4 points; the `volume` column is
    the day's item count. The pilot also reports cycle time, down by `speedup`: its value metric."""
    rng = _rng(family, seed)
    go = _go_live(rng)
    pre, pst = int(rng.integers(150, 241)), int(rng.integers(60, 91))
    n = pre + pst
    dates = _days(go - dt.timedelta(days=pre), n)
    wd = np.array([d.weekday() for d in dates])
    weekday_vol = rng.uniform(200, 600)
    vol = np.where(wd < 5, weekday_vol, weekday_vol * rng.uniform(0.10, 0.25))
    vol = np.maximum(5, rng.poisson(vol)).astype(int)
    post = np.arange(n) >= pre
    p0 = rng.uniform(0.06, 0.10)
    extra_sd, rho = 0.004, 0.5
    p = p0 + rise * post + ar1(rng, n, rho, extra_sd)
    y = rng.binomial(vol, np.clip(p, 0.001, 0.999)) / vol
    p_mean = p0 + rise * post
    binom_var = p_mean * (1 - p_mean) / vol
    cov = ar1_cov(np.arange(n), rho, extra_sd) + np.diag(binom_var)
    oracle = Oracle(
        y,
        np.ones((n, 1)),
        cov,
        ~post,
        post,
        "points",
        post_weights=1.0 / (binom_var[post] + extra_sd**2),
    )
    ct_level = _level(rng, 8, 40)
    ct = ct_level * (1 - speedup * post) + ar1(rng, n, 0.4, 0.04 * ct_level)
    rows = pd.concat(
        [
            _frame(dates, np.round(y, 6), "rework_rate", volume=vol),
            _frame(dates, np.round(ct, 3), "cycle_time", volume=vol),
        ],
        ignore_index=True,
    )
    truth = "worsened" if rise > 0 else "none"
    params = {
        "n_pre": pre,
        "n_post": pst,
        "p0": p0,
        "weekday_volume": weekday_vol,
        "speedup": speedup,
    }
    return FieldPilot(
        family,
        seed,
        go,
        truth,
        100.0 * rise,
        rows,
        "rework_rate",
        "points",
        oracle=oracle,
        value_metric="cycle_time",
        params=params,
    )


def rework_guardrail(seed: int) -> FieldPilot:
    """Rework share up 3 points while cycle time falls 10% (truth for rework: worsened)."""
    return _rework("rework_guardrail", seed, 0.03, 0.10)


def rework_null(seed: int) -> FieldPilot:
    """Rework share unchanged (noisy low-volume weekend days) and cycle time unchanged: nothing
    to scale (truth none)."""
    return _rework("rework_null", seed, 0.0, 0.0)


def _controls(family: str, seed: int, common: float, own: float, noisy: bool) -> FieldPilot:
    """Treated site against 4-6 control sites at 0.6-1.5x its level, on a log scale: a shared
    AR(1) factor (and, daily, a shared weekday pattern), own AR(1) noise; every unit moves by
    `common` at go-live (an organisation-wide change), the treated one by `own` beyond it.
    `noisy`: one control (a small site) has 4x the own noise."""
    rng = _rng(family, seed)
    daily = seed % 2 == 0
    go = _go_live(rng)
    if daily:
        pre, pst = int(rng.integers(120, 181)), int(rng.integers(45, 61))
        dates = _days(go - dt.timedelta(days=pre), pre + pst)
    else:
        pre, pst = int(rng.integers(52, 79)), int(rng.integers(12, 21))
        dates = [go + dt.timedelta(weeks=k) for k in range(-pre, pst)]
    n = pre + pst
    k_ctrl = 4 if noisy else int(rng.integers(4, 7))
    post = np.arange(n) >= pre
    f = ar1(rng, n, rng.uniform(0.5, 0.8), rng.uniform(0.03, 0.05))
    if daily:
        f += np.log(dow_profile(rng, 0.06))[[d.weekday() for d in dates]]
    rho, s_own = rng.uniform(0.3, 0.5), rng.uniform(0.015, 0.03)
    sds = np.full(k_ctrl + 1, s_own)
    noisy_unit = int(rng.integers(1, k_ctrl + 1)) if noisy else None
    if noisy_unit is not None:
        sds[noisy_unit] *= 4.0
    level = _level(rng)
    frames, logs = [], []
    for u in range(k_ctrl + 1):
        lvl = level if u == 0 else level * rng.uniform(0.6, 1.5)
        log_y = np.log(lvl) + f + np.log1p(common) * post + ar1(rng, n, rho, sds[u])
        if u == 0:
            log_y += np.log1p(own) * post
        logs.append(log_y)
        grp, unit = ("treatment", "pilot-site") if u == 0 else ("control", f"ctrl-{u:02d}")
        frames.append(_frame(dates, np.round(np.exp(log_y), 3), group=grp, unit=unit))
    w = 1.0 / sds[1:] ** 2
    w /= w.sum()
    gap = logs[0] - sum(wk * lg for wk, lg in zip(w, logs[1:], strict=True))
    gap_sd = float(np.sqrt(sds[0] ** 2 + np.sum(w**2 * sds[1:] ** 2)))
    oracle = Oracle(gap, np.ones((n, 1)), ar1_cov(np.arange(n), rho, gap_sd), ~post, post, "log")
    params = {
        "freq": "D" if daily else "W",
        "n_pre": pre,
        "n_post": pst,
        "controls": k_ctrl,
        "common": common,
        "own_sd": s_own,
        "noisy_unit": noisy_unit,
    }
    return _log_pilot(family, seed, go, own, pd.concat(frames, ignore_index=True), oracle, params)


def org_wide_controls(seed: int) -> FieldPilot:
    """Everyone, the controls too, improves 10-15% at go-live (an organisation-wide programme);
    the pilot adds nothing (truth none)."""
    common = -float(_rng("org_wide_controls-common", seed).uniform(0.10, 0.15))
    return _controls("org_wide_controls", seed, common, 0.0, noisy=False)


def noisy_control_real(seed: int) -> FieldPilot:
    """A real -12% against 4 controls, one of them 4x noisier; the controls move 0 or +-5%
    (truth improved)."""
    common = float(_rng("noisy_control_real-common", seed).choice([0.0, -0.05, 0.05]))
    return _controls("noisy_control_real", seed, common, -0.12, noisy=True)


def old_shift_effect(seed: int) -> FieldPilot:
    """An unrelated level shift (+-10 to 25%, a new product line) 8 months before go-live, then
    a real -15% at go-live (truth improved)."""
    family = "old_shift_effect"
    rng = _rng(family, seed)
    go = _go_live(rng)
    pre, pst = int(rng.integers(330, 421)), int(rng.integers(60, 91))
    n = pre + pst
    dates = _days(go - dt.timedelta(days=pre), n)
    shift_at = pre - 243
    size = float(rng.uniform(0.10, 0.25) * rng.choice([-1.0, 1.0]))
    step = (np.arange(n) >= shift_at).astype(float)
    c = _level(rng) * (1 + size * step)
    post = np.arange(n) >= pre
    sd, rho = rng.uniform(0.03, 0.05), rng.uniform(0.3, 0.6)
    e = ar1(rng, n, rho, sd * c[:shift_at].mean())
    d_eff = -0.15 * c * post
    design = np.column_stack([np.ones(n), step])
    params = {
        "n_pre": pre,
        "n_post": pst,
        "old_shift": size,
        "old_shift_date": dates[shift_at].isoformat(),
    }
    cov = ar1_cov(np.arange(n), rho, sd * c[:shift_at].mean())
    return _level_pilot(
        family, seed, go, Draw(dates, c, d_eff, c + d_eff + e, post), design, cov, params
    )


def _weekly(
    family: str,
    seed: int,
    n_pre: tuple[int, int],
    n_post: tuple[int, int],
    sd_range: tuple[float, float],
    effect: float,
    golive_weekday: int = 0,
    label_sunday: bool = False,
) -> FieldPilot:
    """A weekly export, one value per week (the week's mean), AR(1) noise; the effect starts on
    the go-live day, so a week holding go-live is blended by the share of its days after it.
    Weeks are labelled by their Monday, or (`label_sunday`) by their closing Sunday."""
    rng = _rng(family, seed)
    monday = _go_live(rng)
    go = monday + dt.timedelta(days=golive_weekday)
    pre_weeks, pst = int(rng.integers(*n_pre)), int(rng.integers(*n_post))
    starts = [monday + dt.timedelta(weeks=k) for k in range(-pre_weeks, pst)]
    n = len(starts)
    share = np.array(
        [(7 - golive_weekday) / 7 if s == monday else float(s > monday) for s in starts]
    )
    labels = [s + dt.timedelta(days=6) for s in starts] if label_sunday else starts
    post = np.array([d >= go for d in labels])
    level = _level(rng)
    c = np.full(n, level)
    d_eff = effect * c * share
    sd, rho = rng.uniform(*sd_range), rng.uniform(0.2, 0.4)
    e = ar1(rng, n, rho, sd * level)
    params = {
        "n_pre": int((~post).sum()),
        "n_post": int(post.sum()),
        "sd": sd,
        "rho": rho,
        "go_live_weekday": golive_weekday,
        "label": "sunday" if label_sunday else "monday",
    }
    draw = Draw(labels, c, d_eff, c + d_eff + e, post)
    cov = ar1_cov(np.arange(n), rho, sd * level)
    # the oracle knows which pre week is part-treated
    skip = ~post & (share > 0)
    return _level_pilot(family, seed, go, draw, np.ones((n, 1)), cov, params, skip=skip)


def short_post_weekly(seed: int) -> FieldPilot:
    """Weekly, 1-2 years of history, only 3 post weeks, a real -25% (truth improved; a sensible
    tool may say inconclusive: see the README)."""
    return _weekly("short_post_weekly", seed, (52, 105), (3, 4), (0.05, 0.08), -0.25)


def midweek_golive_weekly(seed: int) -> FieldPilot:
    """Weekly export, go-live on a Wednesday or Thursday, so one week is half treated; weeks
    labelled by Monday (even seeds) or closing Sunday (odd); real -15% (truth improved)."""
    return _weekly(
        "midweek_golive_weekly",
        seed,
        (52, 105),
        (13, 27),
        (0.04, 0.06),
        -0.15,
        golive_weekday=2 + seed % 4 // 2,
        label_sunday=seed % 2 == 1,
    )


def month_end_null(seed: int) -> FieldPilot:
    """Daily cost per transaction with a month-end close bump (last 3 days +15-25%, quarter-end
    months another +15%), no pilot effect (truth none)."""
    family = "month_end_null"
    rng = _rng(family, seed)
    go = _go_live(rng, weekday=int(rng.integers(0, 7)))
    pre, pst = int(rng.integers(180, 366)), int(rng.integers(60, 121))
    n = pre + pst
    dates = _days(go - dt.timedelta(days=pre), n)
    month_end = np.array([(d + dt.timedelta(days=3)).month != d.month for d in dates], dtype=float)
    quarter_end = month_end * np.array([d.month % 3 == 0 for d in dates])
    b1, b2 = rng.uniform(0.15, 0.25), 0.15
    c = _level(rng, 2, 40) * (1 + b1 * month_end + b2 * quarter_end)
    post = np.arange(n) >= pre
    sd, rho = rng.uniform(0.03, 0.05), rng.uniform(0.3, 0.6)
    scale = c[~post].mean()
    e = ar1(rng, n, rho, sd * scale)
    design = np.column_stack([np.ones(n), month_end, quarter_end])
    params = {
        "n_pre": pre,
        "n_post": pst,
        "month_end_bump": b1,
        "sd": sd,
        "rho": rho,
        "post_quarter_end_days": int(quarter_end[post].sum()),
    }
    draw = Draw(dates, c, np.zeros(n), c + e, post)
    cov = ar1_cov(np.arange(n), rho, sd * scale)
    return _level_pilot(
        family, seed, go, draw, design, cov, params, metric="cost_per_transaction", digits=4
    )


FAMILIES: dict[str, Callable[[int], FieldPilot]] = {
    f.__name__: f
    for f in (
        seasonal_growth_null,
        seasonal_growth_effect,
        business_days,
        heavy_tail_null,
        heavy_tail_effect,
        outage_days_null,
        t3_noise_effect,
        irregular_reporting,
        rollout_6w,
        small_counts_effect,
        small_counts_null,
        rework_guardrail,
        rework_null,
        org_wide_controls,
        noisy_control_real,
        small_effect_long,
        variance_change,
        old_shift_effect,
        short_post_weekly,
        novelty_fade,
        midweek_golive_weekly,
        month_end_null,
    )
}
#: Printed as a separate subset by the scorer.
ISSUE_FAMILIES = frozenset({"org_wide_controls", "noisy_control_real"})
SUBSET_NAMES = ("control families", "single-series families")
NAME = "field"


def write_portfolio(family: str, seeds: Iterable[int], folder: Path) -> list[FieldPilot]:
    """Write `folder/metrics.csv` (long: pilot_id,date,metric,value,group,unit[,volume]) and
    `folder/pilots.csv` (pilot_id,go_live,pilot_name, the seven readiness answers) for one
    family; returns the pilots with their truth."""
    pilots = [FAMILIES[family](s) for s in seeds]
    frames = []
    for p in pilots:
        rows = p.rows.copy()
        rows.insert(0, "pilot_id", p.pilot_id)
        rows["date"] = [d.isoformat() for d in rows["date"]]
        frames.append(rows)
    metrics = pd.concat(frames, ignore_index=True)
    metrics.to_csv(folder / "metrics.csv", index=False)
    registry = pd.DataFrame(
        [
            {
                "pilot_id": p.pilot_id,
                "go_live": p.go_live.isoformat(),
                "pilot_name": f"{p.family} seed {p.seed}",
                **READINESS,
                "value_metric": p.value_metric or p.metric,
            }
            for p in pilots
        ]
    )
    registry.to_csv(folder / "pilots.csv", index=False)
    return pilots
