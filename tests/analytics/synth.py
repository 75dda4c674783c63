"""Synthetic pilots with known truth, one family per way a pre/post comparison can mislead.

Every family is a pilot with a `cycle_time` value metric (lower is better, level 100); some add a
guardrail (`rework_rate`), an activity metric (`ai_usage`), control units or segments. `CASES`
maps each family to the truth: whether the improvement is real, the verdict and reason the
analysis should give, and the decision(s) acceptable for the pilot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import signal

GO_LIVE = pd.Timestamp("2025-03-03")
LEVEL = 100.0
READY = {
    "workflow": "ticket triage",
    "decision_owner": "support lead",
    "execution_owner": "operations",
    "exception_path": "route to senior agent",
    "escalation_path": "duty manager",
    "control_points": "weekly audit, rollback switch",
    "value_metric": "cycle_time",
}


@dataclass(frozen=True)
class Truth:
    real: bool
    verdicts: tuple[str, ...]  # acceptable verdicts for cycle_time
    reason: str | None  # a reason code that must be among the metric's reasons
    decisions: tuple[str, ...]
    pilot_reason: str | None = None


NOT_REAL = ("mirage", "no_change", "inconclusive")
CASES: dict[str, Truth] = {
    "real_level": Truth(True, ("real",), None, ("scale",)),
    "real_ramp": Truth(True, ("real",), None, ("scale",)),
    "real_break_beyond_trend": Truth(True, ("real",), None, ("scale",)),
    "real_control_win": Truth(True, ("real",), None, ("scale",)),
    "real_seasonal_hidden": Truth(True, ("real",), None, ("scale",)),
    "real_trend_hidden": Truth(True, ("real",), None, ("scale",)),
    "real_brynjolfsson": Truth(True, ("real",), None, ("scale",)),
    "mirage_pre_trend": Truth(False, ("mirage",), "pre_trend", ("stop",), "no_real_value"),
    "mirage_seasonality": Truth(False, ("mirage",), "seasonality", ("stop",), "no_real_value"),
    "mirage_regression_to_mean": Truth(
        False, ("mirage",), "regression_to_mean", ("stop",), "no_real_value"
    ),
    "mirage_novelty_decay": Truth(False, ("mirage",), "novelty_decay", ("stop",), "no_real_value"),
    "mirage_control_moved": Truth(False, ("mirage",), "control_moved", ("stop",), "no_real_value"),
    "mirage_mix_shift": Truth(False, ("mirage",), "mix_shift", ("stop",), "no_real_value"),
    # persistent noise may also drift the wrong way; a null may fool the naive test (a mirage)
    "mirage_noise": Truth(False, (*NOT_REAL, "worse"), None, ("stop", "extend")),
    "null": Truth(False, NOT_REAL, None, ("stop", "extend")),
    "worse": Truth(False, ("worse",), None, ("stop",), "no_real_value"),
    "burden_shift": Truth(True, ("real",), None, ("fix",), "burden_shift"),
    "readiness_gap": Truth(True, ("real",), None, ("fix",), "readiness_gap"),
    "activity_only": Truth(False, NOT_REAL, None, ("stop", "extend"), "activity_without_outcome"),
}

# (pre points, post points, seasonal pre points, seasonal post points, noise AR coefficient)
LAYOUT = {"D": (180, 90, 450, 100, 0.5), "W": (78, 26, 110, 16, 0.3), "M": (36, 12, 36, 5, 0.2)}
STEP = {"D": pd.Timedelta(days=1), "W": pd.Timedelta(weeks=1)}


def catalog() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "metric": ["cycle_time", "rework_rate", "ai_usage"],
            "direction": ["lower_is_better", "lower_is_better", "higher_is_better"],
            "unit": ["minutes", "share", "share"],
            "kind": ["value", "guardrail", "activity"],
            "threshold_pct": [10.0, 10.0, 10.0],
            "tolerance_pct": [5.0, 5.0, 5.0],
            "builtin": [True, True, True],
        }
    )


def dates_for(freq: str, n_pre: int, n_post: int) -> pd.DatetimeIndex:
    if freq == "M":
        start = GO_LIVE.to_period("M").to_timestamp() - pd.DateOffset(months=n_pre)
        return pd.date_range(start, periods=n_pre + n_post, freq="MS")
    start = GO_LIVE - n_pre * STEP[freq]
    return pd.DatetimeIndex([start + i * STEP[freq] for i in range(n_pre + n_post)])


def ar1(rng: np.random.Generator, n: int, phi: float, sd: float) -> np.ndarray:
    """AR(1) noise with marginal standard deviation `sd`."""
    e = rng.normal(scale=sd * np.sqrt(1 - phi**2), size=n)
    e[0] = rng.normal(scale=sd)
    return signal.lfilter([1.0], [1.0, -phi], e)


def observation_rows(
    pilot, metric, dates, values, group="treatment", unit="", segment="", volume=None
):
    n = len(dates)
    return pd.DataFrame(
        {
            "pilot_id": pilot,
            "metric": metric,
            "date": dates,
            "group": group,
            "unit": unit,
            "segment": segment,
            "value": values,
            "volume": np.full(n, np.nan) if volume is None else volume,
        }
    )


def family_series(
    family: str, freq: str, rng: np.random.Generator, pilot: str
) -> list[pd.DataFrame]:
    seasonal = family in ("real_seasonal_hidden", "mirage_seasonality")
    n_pre, n_post, s_pre, s_post, phi = LAYOUT[freq]
    if seasonal:
        n_pre, n_post = s_pre, s_post
    dates = dates_for(freq, n_pre, n_post)
    n = n_pre + n_post
    post = np.arange(n) >= n_pre
    k = np.arange(n_post)
    frac = np.arange(n) / n  # position in the whole window, 0..1
    noise_sd = 0.04 * LEVEL
    base = np.full(n, LEVEL)
    effect = np.zeros(n)
    rows: list[pd.DataFrame] = []
    if family in (
        "real_level",
        "real_control_win",
        "burden_shift",
        "readiness_gap",
        "real_break_beyond_trend",
        "real_trend_hidden",
        "real_seasonal_hidden",
    ):
        effect[post] = -0.15 * LEVEL
    elif family == "real_ramp":
        ramp = np.minimum(1.0, (k + 1) / max(n_post / 3, 1))
        effect[post] = -0.22 * LEVEL * ramp
    elif family == "real_brynjolfsson":
        # Brynjolfsson, Li & Raymond (2023): +14% issues resolved per hour with the assistant.
        effect[post] = -LEVEL * (1 - 1 / 1.14)
    elif family == "worse":
        effect[post] = 0.15 * LEVEL
    elif family == "mirage_novelty_decay":
        early = k < max(n_post // 4, 2)
        effect[post] = np.where(early, -0.25 * LEVEL, 0.0)
    if family in ("mirage_pre_trend", "real_break_beyond_trend"):
        base = LEVEL * (1.25 - 0.45 * frac)
    if family == "real_trend_hidden":
        base = LEVEL * (0.85 + 0.3 * frac)
    if seasonal:
        doy = dates.day_of_year.to_numpy(dtype=float)
        centre = (GO_LIVE + (dates[-1] - GO_LIVE) / 2).day_of_year
        wave = np.cos(2 * np.pi * (doy - centre) / 365.25)
        base = LEVEL * (1 + (0.15 if family == "real_seasonal_hidden" else -0.15) * wave)
    if family == "mirage_regression_to_mean":
        spell = max(2, round(0.1 * n_pre))
        base = base.copy()
        base[n_pre - spell : n_pre] += 0.3 * LEVEL
    sd = noise_sd * (2.0 if family == "mirage_noise" else 1.0)
    rho = 0.93 if family == "mirage_noise" else phi
    if family == "mirage_mix_shift":
        share = np.where(post, 0.75, 0.5)
        total = 1000.0
        for segment, rate, vol in (("simple", 60.0, share), ("complex", 140.0, 1 - share)):
            values = rate * (1 + ar1(rng, n, phi, 0.03))
            rows.append(
                observation_rows(
                    pilot, "cycle_time", dates, values, segment=segment, volume=total * vol
                )
            )
        return rows
    common = (
        ar1(rng, n, phi, noise_sd)
        if family in ("real_control_win", "mirage_control_moved")
        else 0.0
    )
    values = base + effect + common + ar1(rng, n, rho, sd)
    rows.append(observation_rows(pilot, "cycle_time", dates, values))
    if family in ("real_control_win", "mirage_control_moved"):
        shift = np.where(post, -0.15 * LEVEL, 0.0) if family == "mirage_control_moved" else 0.0
        if family == "mirage_control_moved":
            rows[0] = observation_rows(
                pilot, "cycle_time", dates, base + shift + common + ar1(rng, n, phi, sd)
            )
        for unit, level in (("team_a", 0.9), ("team_b", 1.0), ("team_c", 1.1)):
            control = level * LEVEL + shift + common + ar1(rng, n, phi, sd * 0.7)
            rows.append(
                observation_rows(pilot, "cycle_time", dates, control, group="control", unit=unit)
            )
    if family == "burden_shift":
        rework = 0.10 * (1 + np.where(post, 0.3, 0.0)) + ar1(rng, n, phi, 0.004)
        rows.append(observation_rows(pilot, "rework_rate", dates, rework))
    if family == "activity_only":
        usage = np.where(post, 0.6, 0.05) + ar1(rng, n, phi, 0.02)
        rows.append(observation_rows(pilot, "ai_usage", dates, usage))
    return rows


def portfolio(
    freq: str, seed: int, families=None
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """One portfolio holding a pilot per family; returns observations, pilots, pilot -> family."""
    rng = np.random.default_rng(seed)
    frames, pilots, family_of = [], [], {}
    for family in families or CASES:
        pilot = f"{family}-{freq}-{seed}"
        frames.extend(family_series(family, freq, rng, pilot))
        answers = dict(READY)
        if family == "readiness_gap":
            answers["exception_path"] = None
            answers["escalation_path"] = ""
        pilots.append(
            {
                "pilot_id": pilot,
                "pilot_name": family.replace("_", " "),
                "company": "Synth Co",
                "function": "support",
                "vendor": "v",
                "go_live": GO_LIVE if freq != "M" else GO_LIVE.to_period("M").to_timestamp(),
                "monthly_cost": 1000.0,
                "annual_volume": 10000.0,
                **answers,
            }
        )
        family_of[pilot] = family
    return pd.concat(frames, ignore_index=True), pd.DataFrame(pilots), family_of


def empty_thresholds() -> pd.DataFrame:
    return pd.DataFrame(columns=["pilot_id", "metric", "threshold_pct", "tolerance_pct"])


def analyse_live(frames: list[pd.DataFrame], go_live: pd.Timestamp) -> tuple:
    """`analyze_portfolio` of the observation rows `frames`, every pilot in them live on
    `go_live` and ready (`READY`), with the default catalog and no thresholds: the pilots'
    results in order of first appearance."""
    from analytics.portfolio import analyze_portfolio

    obs = pd.concat(frames, ignore_index=True)
    ids = obs["pilot_id"].unique().tolist()
    rows = [{"pilot_id": p, "pilot_name": p, "go_live": go_live, **READY} for p in ids]
    return analyze_portfolio(obs, pd.DataFrame(rows), catalog(), empty_thresholds())
