"""Write the pilotproof sample portfolio: 14 AI pilots at four portfolio companies.

Each pilot is one story with a known truth (a real win, or one of the value mirages the
analytics must catch); `expected.csv` records that truth and `README.md` tells each story.
The script is deterministic: every pilot draws from its own `numpy.random.default_rng(seed)`,
so running it twice writes byte-identical files.

    python data/sample/make_sample.py [--out DIR]

Files written (the store seeds from `catalog.csv`, `pilots.csv` and every `metrics_*.csv`):
    catalog.csv                     the custom metric, as a partner adds it in Settings (unit)
    pilots.csv                      registry, costs, volumes, readiness answers, success plans
    pilots_replan.csv               a success plan changed after the results came in
    decisions.csv                   decisions the partners logged (seeded, not ingested)
    metrics_daily.csv               long export: daily series, control units, segments
    metrics_weekly_harborline.csv   wide export: Harborline's weekly claims report
    metrics_weekly_meridian.csv     wide export: Meridian's weekly back-office report
    metrics_weekly_northwind.csv    wide export: Northwind's weekly collections report
    metrics_monthly.csv             long export: monthly finance figures
    expected.csv                    the truth built in, per pilot and metric
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analytics.results import READINESS_FIELDS

SEED = 20261031
END = pd.Timestamp("2026-10-31")
HERE = Path(__file__).resolve().parent

LONG_COLUMNS = ["pilot_id", "date", "metric", "value", "group", "unit", "segment", "volume"]
LONG_COLUMNS_WITH_DIRECTION = [*LONG_COLUMNS, "direction"]
PILOT_COLUMNS = [
    "pilot_id",
    "go_live",
    "pilot_name",
    "company",
    "function",
    "vendor",
    "monthly_cost",
    "annual_volume",
    "currency",
    *READINESS_FIELDS,
]
EXPECTED_COLUMNS = [
    "pilot_id",
    "metric",
    "expected_verdict",
    "expected_reason",
    "expected_decision",
]

# Decimal places per metric, so the files read like real exports.
DECIMALS = {
    "cycle_time": 2,
    "response_time": 2,
    "manual_touches": 2,
    "cost_per_transaction": 2,
    "rework_rate": 4,
    "quality_score": 4,
    "reply_rate": 4,
    "adoption_rate": 3,
    "ai_usage": 0,
    "leakage": 0,
    "margin": 4,
}


# --- building blocks -------------------------------------------------------------------------


def days(start: str, end: pd.Timestamp = END) -> pd.DatetimeIndex:
    return pd.date_range(start, end, freq="D")


def weeks(start: str, end: pd.Timestamp = END) -> pd.DatetimeIndex:
    """Week-starting Mondays from `start` up to the last full week before `end`."""
    return pd.date_range(start, end - pd.Timedelta(days=6), freq="W-MON")


def months(start: str, end: pd.Timestamp = END) -> pd.DatetimeIndex:
    return pd.date_range(start, end, freq="MS")


def ar1(rng: np.random.Generator, n: int, phi: float, sd: float) -> np.ndarray:
    """Stationary AR(1) noise with marginal standard deviation `sd`."""
    shocks = rng.normal(0.0, sd * np.sqrt(1.0 - phi**2), n)
    out = np.empty(n)
    out[0] = rng.normal(0.0, sd)
    for i in range(1, n):
        out[i] = phi * out[i - 1] + shocks[i]
    return out


def weekday_factor(dates: pd.DatetimeIndex, pattern: tuple[float, ...]) -> np.ndarray:
    """Multiplicative day-of-week pattern, Monday first."""
    return np.asarray(pattern)[dates.day_of_week]


# Monday backlog, lighter Friday, thin weekend staffing.
OFFICE_WEEK = (1.10, 1.03, 1.00, 0.98, 0.94, 0.96, 1.01)


def annual_log(dates: pd.DatetimeIndex, amplitude: float, peak: str) -> np.ndarray:
    """Log-scale annual cycle peaking on the month-day `peak` ("MM-DD")."""
    peak_doy = pd.Timestamp(f"2025-{peak}").day_of_year
    angle = 2.0 * np.pi * (dates.day_of_year.to_numpy() - peak_doy) / 365.25
    return amplitude * np.cos(angle)


def step(dates: pd.DatetimeIndex, go_live: str, ease_days: int = 0) -> np.ndarray:
    """0 before go-live, 1 after, with a linear ease-in over `ease_days`."""
    elapsed = (dates - pd.Timestamp(go_live)).days.to_numpy().astype(float)
    if ease_days <= 0:
        return (elapsed >= 0).astype(float)
    return np.clip((elapsed + 1.0) / ease_days, 0.0, 1.0)


def fade(dates: pd.DatetimeIndex, go_live: str, fade_days: int) -> np.ndarray:
    """1 on go-live day, falling linearly to 0 after `fade_days`; 0 before go-live."""
    elapsed = (dates - pd.Timestamp(go_live)).days.to_numpy().astype(float)
    return np.where(elapsed >= 0, np.clip(1.0 - elapsed / fade_days, 0.0, 1.0), 0.0)


def rate(values: np.ndarray) -> np.ndarray:
    return np.clip(values, 0.0005, 0.9995)


def ai_usage(
    rng: np.random.Generator, dates: pd.DatetimeIndex, go_live: str, before: float, after: float
) -> np.ndarray:
    """AI-assisted actions per period: a little general-assistant use before go-live, then
    the pilot's tool ramping up over four weeks. Poisson counts."""
    level = before + (after - before) * step(dates, go_live, ease_days=28)
    return rng.poisson(level).astype(float)


def long_rows(
    pilot_id: str,
    dates: pd.DatetimeIndex,
    metric: str,
    values: np.ndarray,
    *,
    group: str = "treatment",
    unit: str = "",
    segment: str = "",
    volume: np.ndarray | None = None,
    direction: str = "",
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "pilot_id": pilot_id,
            "date": dates,
            "metric": metric,
            "value": np.round(values, DECIMALS[metric]),
            "group": group,
            "unit": unit,
            "segment": segment,
            "volume": np.nan if volume is None else volume,
            "direction": direction,
        }
    )


# --- the pilots ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pilot:
    pilot_id: str
    go_live: str
    pilot_name: str
    company: str
    function: str
    vendor: str
    monthly_cost: float | None
    annual_volume: float | None
    readiness: dict[str, str]
    export: str  # "daily", "weekly_<company>", plus "monthly" for extra finance series
    story: Callable[[np.random.Generator, Pilot], pd.DataFrame]
    expected: tuple[tuple[str, str, str, str], ...]  # (metric, verdict, reason, decision)
    # An extra seed word, to pick a noise draw that shows the intended apparent change.
    draw: int | None = None


def nw_ap(rng: np.random.Generator, p: Pilot) -> pd.DataFrame:
    """Real win, level shift: invoice cycle time down about 31% from go-live day."""
    d = days("2025-11-03")
    wk = weekday_factor(d, OFFICE_WEEK)
    on = step(d, p.go_live, ease_days=5)
    return pd.concat(
        [
            long_rows(
                p.pilot_id,
                d,
                "cycle_time",
                46.0 * wk * (1 - 0.31 * on) * np.exp(ar1(rng, len(d), 0.5, 0.07)),
            ),
            long_rows(
                p.pilot_id,
                d,
                "manual_touches",
                3.4 * (1 - 0.38 * on) * np.exp(ar1(rng, len(d), 0.4, 0.06)),
            ),
            long_rows(
                p.pilot_id,
                d,
                "cost_per_transaction",
                7.80 * (1 - 0.27 * on) * np.exp(ar1(rng, len(d), 0.5, 0.05)),
            ),
            long_rows(p.pilot_id, d, "rework_rate", rate(0.045 + ar1(rng, len(d), 0.3, 0.005))),
            long_rows(p.pilot_id, d, "ai_usage", ai_usage(rng, d, p.go_live, 12, 610)),
        ]
    )


def nw_sales(rng: np.random.Generator, p: Pilot) -> pd.DataFrame:
    """Noise: no effect at all; strongly autocorrelated quote turnaround happens to sit a few
    percent lower after go-live, which a plain t-test would call significant."""
    d = days("2025-06-02")
    wk = weekday_factor(d, OFFICE_WEEK)
    return pd.concat(
        [
            long_rows(p.pilot_id, d, "cycle_time", 7.5 * wk * np.exp(ar1(rng, len(d), 0.8, 0.05))),
            long_rows(p.pilot_id, d, "quality_score", rate(0.91 + ar1(rng, len(d), 0.3, 0.012))),
            long_rows(p.pilot_id, d, "ai_usage", ai_usage(rng, d, p.go_live, 6, 140)),
        ]
    )


def nw_orders(rng: np.random.Generator, p: Pilot) -> pd.DataFrame:
    """Mix shift: a key account moved its simple replenishment orders onto the desk the month
    the assistant went live. Per-order cost within each segment never changed."""
    d = days("2025-09-01")
    n = len(d)
    orders = rng.poisson(1150 * weekday_factor(d, (1.15, 1.05, 1.0, 1.0, 0.95, 0.35, 0.2)))
    share_simple = np.clip(
        0.52 + 0.22 * step(d, p.go_live, ease_days=14) + ar1(rng, n, 0.6, 0.025), 0.05, 0.95
    )
    simple = np.round(orders * share_simple)
    complex_ = orders - simple
    frames = []
    for segment, volume, cost, touches in (
        ("simple", simple, 3.10, 1.2),
        ("complex", complex_, 12.40, 4.8),
    ):
        frames.append(
            long_rows(
                p.pilot_id,
                d,
                "cost_per_transaction",
                cost * np.exp(ar1(rng, n, 0.4, 0.04)),
                segment=segment,
                volume=volume,
            )
        )
        frames.append(
            long_rows(
                p.pilot_id,
                d,
                "manual_touches",
                touches * np.exp(ar1(rng, n, 0.4, 0.05)),
                segment=segment,
                volume=volume,
            )
        )
    frames.append(long_rows(p.pilot_id, d, "ai_usage", ai_usage(rng, d, p.go_live, 15, 520)))
    return pd.concat(frames)


def nw_collect(rng: np.random.Generator, p: Pilot) -> pd.DataFrame:
    """Too young to tell: four weeks after go-live, an early dip that may or may not hold."""
    w = weeks("2025-10-06")
    on = step(w, p.go_live)
    return pd.concat(
        [
            long_rows(
                p.pilot_id,
                w,
                "cost_per_transaction",
                14.20 * (1 - 0.12 * on) * np.exp(ar1(rng, len(w), 0.5, 0.05)),
            ),
            long_rows(
                p.pilot_id,
                w,
                "manual_touches",
                2.6 * (1 - 0.15 * on) * np.exp(ar1(rng, len(w), 0.4, 0.05)),
            ),
        ]
    )


def regional_panel(
    rng: np.random.Generator,
    dates: pd.DatetimeIndex,
    treated: tuple[str, float],
    controls: tuple[tuple[str, float], ...],
    common_log: np.ndarray,
    treated_log_effect: np.ndarray,
    idio_sd: float,
) -> list[tuple[str, str, np.ndarray]]:
    """Units sharing one common factor (season, shocks, company-wide changes) plus their own
    noise; the treated unit alone carries the pilot's effect. Returns (group, unit, values)."""
    out = []
    name, level = treated
    noise = ar1(rng, len(dates), 0.3, idio_sd)
    out.append(("treatment", name, level * np.exp(common_log + treated_log_effect + noise)))
    for name, level in controls:
        noise = ar1(rng, len(dates), 0.3, idio_sd)
        out.append(("control", name, level * np.exp(common_log + noise)))
    return out


def shock(dates: pd.DatetimeIndex, start: str, height: float, length_days: int) -> np.ndarray:
    """A surge that jumps to `height` (log scale) and decays linearly over `length_days`."""
    elapsed = (dates - pd.Timestamp(start)).days.to_numpy().astype(float)
    return np.where(elapsed >= 0, height * np.clip(1.0 - elapsed / length_days, 0.0, 1.0), 0.0)


def hb_triage(rng: np.random.Generator, p: Pilot) -> pd.DataFrame:
    """Real win, gradual ramp, with five control regions: triage time eases down 26% over eight
    weeks in the North while a June storm surge hits every region alike."""
    d = days("2025-09-01")
    common = (
        annual_log(d, 0.08, "01-15")
        + shock(d, "2025-12-08", 0.30, 14)
        + shock(d, "2026-06-15", 0.35, 21)
        + ar1(rng, len(d), 0.8, 0.05)
        + np.log(weekday_factor(d, OFFICE_WEEK))
    )
    ramp = step(d, p.go_live, ease_days=56)
    panel = regional_panel(
        rng,
        d,
        ("North", 30.0),
        (("South", 22.0), ("East", 26.0), ("West", 33.0), ("Midlands", 37.0), ("Coastal", 41.0)),
        common,
        np.log(1 - 0.26 * ramp),
        0.05,
    )
    frames = [
        long_rows(p.pilot_id, d, "cycle_time", values, group=group, unit=unit)
        for group, unit, values in panel
    ]
    frames += [
        long_rows(
            p.pilot_id, d, "rework_rate", rate(0.07 + ar1(rng, len(d), 0.3, 0.006)), unit="North"
        ),
        long_rows(
            p.pilot_id, d, "quality_score", rate(0.88 + ar1(rng, len(d), 0.3, 0.01)), unit="North"
        ),
        long_rows(p.pilot_id, d, "ai_usage", ai_usage(rng, d, p.go_live, 8, 260), unit="North"),
    ]
    return pd.concat(frames)


def hb_fnol(rng: np.random.Generator, p: Pilot) -> pd.DataFrame:
    """Real win hidden by a heavier season: claim set-up time fell 21% against the counterfactual,
    but go-live in July ran into hurricane season, so post-go-live weeks look no better than the
    year before them. Four years of weekly history show the season."""
    w = weeks("2022-10-03")
    on = step(w, p.go_live, ease_days=21)
    season = annual_log(w, 0.35, "09-15")
    return pd.concat(
        [
            long_rows(
                p.pilot_id,
                w,
                "cycle_time",
                18.0 * np.exp(season + ar1(rng, len(w), 0.5, 0.04)) * (1 - 0.21 * on),
            ),
            long_rows(p.pilot_id, w, "rework_rate", rate(0.05 + ar1(rng, len(w), 0.3, 0.004))),
            long_rows(p.pilot_id, w, "quality_score", rate(0.90 + ar1(rng, len(w), 0.3, 0.008))),
        ]
    )


def hb_service(rng: np.random.Generator, p: Pilot) -> pd.DataFrame:
    """Regression to the mean: a policy-admin migration left a five-week email backlog that
    cleared just as the assistant went live; response time simply went back to normal."""
    d = days("2025-09-01")
    backlog = np.where(
        (d >= pd.Timestamp("2026-01-26")) & (d < pd.Timestamp(p.go_live)),
        0.35 * np.clip((d - pd.Timestamp("2026-01-26")).days.to_numpy() / 7.0, 0.0, 1.0),
        0.0,
    ) + shock(d, p.go_live, 0.30, 10)
    return pd.concat(
        [
            long_rows(
                p.pilot_id,
                d,
                "response_time",
                19.0
                * weekday_factor(d, OFFICE_WEEK)
                * np.exp(backlog + ar1(rng, len(d), 0.5, 0.06)),
            ),
            long_rows(p.pilot_id, d, "quality_score", rate(0.90 + ar1(rng, len(d), 0.3, 0.01))),
            long_rows(p.pilot_id, d, "ai_usage", ai_usage(rng, d, p.go_live, 20, 480)),
        ]
    )


def hb_underwriting(rng: np.random.Generator, p: Pilot) -> pd.DataFrame:
    """Activity without outcome: underwriters adopted the copilot enthusiastically, quote
    turnaround and quality did not move."""
    d = days("2025-05-05")
    wk = weekday_factor(d, OFFICE_WEEK)
    adoption = 0.18 + 0.63 * step(d, p.go_live, ease_days=42)
    return pd.concat(
        [
            long_rows(p.pilot_id, d, "cycle_time", 30.0 * wk * np.exp(ar1(rng, len(d), 0.6, 0.05))),
            long_rows(p.pilot_id, d, "quality_score", rate(0.86 + ar1(rng, len(d), 0.3, 0.01))),
            long_rows(p.pilot_id, d, "adoption_rate", rate(adoption + ar1(rng, len(d), 0.5, 0.02))),
            long_rows(p.pilot_id, d, "ai_usage", ai_usage(rng, d, p.go_live, 25, 390)),
        ]
    )


def cb_assist(rng: np.random.Generator, p: Pilot) -> pd.DataFrame:
    """Burden shift: first replies 36% faster, but reopened tickets rose from 6% to 10.5%;
    the support floor is faster while second line inherits the rework."""
    d = days("2025-10-01")
    on = step(d, p.go_live, ease_days=7)
    return pd.concat(
        [
            long_rows(
                p.pilot_id,
                d,
                "response_time",
                1.6
                * weekday_factor(d, OFFICE_WEEK)
                * (1 - 0.36 * on)
                * np.exp(ar1(rng, len(d), 0.5, 0.07)),
            ),
            long_rows(
                p.pilot_id, d, "rework_rate", rate(0.06 + 0.045 * on + ar1(rng, len(d), 0.3, 0.006))
            ),
            long_rows(p.pilot_id, d, "quality_score", rate(0.89 + ar1(rng, len(d), 0.3, 0.01))),
            long_rows(p.pilot_id, d, "ai_usage", ai_usage(rng, d, p.go_live, 30, 900)),
        ]
    )


def cb_chat(rng: np.random.Generator, p: Pilot) -> pd.DataFrame:
    """Seasonality: chat response time is always lowest in summer (renewals and onboarding peak
    in January-February). The bot went live in June; the dip is the season, as every year."""
    d = days("2024-07-01")
    season = annual_log(d, 0.22, "02-01")
    return pd.concat(
        [
            long_rows(
                p.pilot_id,
                d,
                "response_time",
                0.70
                * weekday_factor(d, OFFICE_WEEK)
                * np.exp(season + ar1(rng, len(d), 0.6, 0.06)),
            ),
            long_rows(p.pilot_id, d, "rework_rate", rate(0.08 + ar1(rng, len(d), 0.3, 0.006))),
            long_rows(p.pilot_id, d, "ai_usage", ai_usage(rng, d, p.go_live, 20, 650)),
        ]
    )


def cb_sales(rng: np.random.Generator, p: Pilot) -> pd.DataFrame:
    """Novelty decay: AI-drafted outreach lifted reply rates 45% at first; prospects tuned out
    within twelve weeks while reps kept using the tool."""
    d = days("2025-11-03")
    lift = 0.45 * fade(d, p.go_live, 84)
    emails_per_day = weekday_factor(d, (1.1, 1.1, 1.05, 1.0, 0.85, 0.1, 0.05)) * 1400
    noise_sd = 0.041 * 0.08 / np.sqrt(emails_per_day / 1400)
    reply = (
        0.041 * (1 + lift) * np.exp(ar1(rng, len(d), 0.4, 0.05))
        + rng.normal(0, 1, len(d)) * noise_sd * 0.5
    )
    return pd.concat(
        [
            long_rows(p.pilot_id, d, "reply_rate", rate(reply), direction="higher_is_better"),
            long_rows(p.pilot_id, d, "ai_usage", ai_usage(rng, d, p.go_live, 40, 1100)),
        ]
    )


def mf_procurement(rng: np.random.Generator, p: Pilot) -> pd.DataFrame:
    """Pre-existing trend: a lean programme has cut PO cycle time steadily since mid-2024; the
    post-go-live weeks just continue the same line."""
    w = weeks("2024-06-03")
    t = np.arange(len(w), dtype=float)
    return pd.concat(
        [
            long_rows(
                p.pilot_id,
                w,
                "cycle_time",
                (9.2 - 0.032 * t) * 24 * np.exp(ar1(rng, len(w), 0.4, 0.03)),
            ),
            long_rows(
                p.pilot_id,
                w,
                "cost_per_transaction",
                (41.0 - 0.11 * t) * np.exp(ar1(rng, len(w), 0.4, 0.03)),
            ),
            long_rows(
                p.pilot_id,
                w,
                "manual_touches",
                (5.5 - 0.016 * t) * np.exp(ar1(rng, len(w), 0.4, 0.04)),
            ),
            long_rows(p.pilot_id, w, "rework_rate", rate(0.06 + ar1(rng, len(w), 0.3, 0.005))),
        ]
    )


def mf_dispatch(rng: np.random.Generator, p: Pilot) -> pd.DataFrame:
    """Control moved: the Leeds depot's cost per drop fell 16% at go-live, but the company-wide
    TMS upgrade the same week cut every depot's cost as much."""
    d = days("2025-09-01")
    common = (
        np.log(weekday_factor(d, (1.0, 0.97, 0.97, 0.98, 1.02, 1.15, 1.35)))
        + annual_log(d, 0.05, "12-10")
        + np.log(1 - 0.16 * step(d, p.go_live, ease_days=7))
        + ar1(rng, len(d), 0.85, 0.04)
    )
    panel = regional_panel(
        rng,
        d,
        ("Leeds", 6.40),
        (
            ("Bristol", 5.20),
            ("Coventry", 5.90),
            ("Glasgow", 6.80),
            ("Reading", 7.30),
            ("Warrington", 8.10),
        ),
        common,
        np.zeros(len(d)),
        0.035,
    )
    frames = [
        long_rows(p.pilot_id, d, "cost_per_transaction", values, group=group, unit=unit)
        for group, unit, values in panel
    ]
    frames += [
        long_rows(
            p.pilot_id, d, "quality_score", rate(0.94 + ar1(rng, len(d), 0.4, 0.008)), unit="Leeds"
        ),
        long_rows(p.pilot_id, d, "ai_usage", ai_usage(rng, d, p.go_live, 3, 160), unit="Leeds"),
    ]
    return pd.concat(frames)


def mf_audit(rng: np.random.Generator, p: Pilot) -> pd.DataFrame:
    """Real win with a readiness gap: audit cost per freight invoice down 34%, but nobody has
    written down what happens to disputed invoices or who signs off overrides. Finance's
    monthly margin on the audited lanes ran near zero (0.3% +- 0.4 points) and rose 1.5
    points: a fraction, read in percentage points (a percentage of a level near zero means
    nothing). One week of the invoice-audit report has a decimal slip (the cycle time of the week
    of 10 March 2025 typed 100 times too large): ingest warns about it by line, and the analysis
    sets it aside and names it."""
    w = weeks("2024-09-02")
    on = step(w, p.go_live, ease_days=14)
    m = months("2023-01-01")
    m_on = step(m, p.go_live)
    cost = 2.35 * (1 - 0.34 * on) * np.exp(ar1(rng, len(w), 0.4, 0.04))
    cycle = 98.0 * (1 - 0.40 * on) * np.exp(ar1(rng, len(w), 0.4, 0.05))
    cycle[w.get_loc(pd.Timestamp("2025-03-10"))] *= 100  # the decimal point lost
    return pd.concat(
        [
            long_rows(p.pilot_id, w, "cost_per_transaction", cost),
            long_rows(p.pilot_id, w, "cycle_time", cycle),
            long_rows(
                p.pilot_id,
                w,
                "manual_touches",
                2.2 * (1 - 0.45 * on) * np.exp(ar1(rng, len(w), 0.4, 0.05)),
            ),
            long_rows(p.pilot_id, w, "rework_rate", rate(0.03 + ar1(rng, len(w), 0.3, 0.003))),
            # Finance reports overbilling that slipped past audit once a month.
            long_rows(
                p.pilot_id,
                m,
                "leakage",
                18400 * (1 - 0.25 * m_on) * np.exp(ar1(rng, len(m), 0.3, 0.08)),
            ).assign(export="monthly"),
            long_rows(
                p.pilot_id, m, "margin", 0.003 + 0.015 * m_on + ar1(rng, len(m), 0.2, 0.004)
            ).assign(export="monthly"),
        ]
    )


# --- the portfolio ---------------------------------------------------------------------------

NORTHWIND = "Northwind Supply"  # B2B industrial distributor
HARBORLINE = "Harborline Insurance"  # regional P&C insurer
COBALT = "Cobalt Cloud"  # B2B SaaS
MERIDIAN = "Meridian Freight"  # road freight and logistics
# The currency each company states its costs in (the pilots file's `currency` column): costs
# in euros and in pounds must never be added up without a rate the user entered.
CURRENCY = {NORTHWIND: "EUR", HARBORLINE: "GBP", COBALT: "USD", MERIDIAN: "GBP"}


def readiness(*answers: str, **named: str) -> dict[str, str]:
    """A pilot's readiness answers, given in the order of READINESS_FIELDS or by field name;
    a question not given is unanswered ("")."""
    unknown = set(named) - set(READINESS_FIELDS)
    if len(answers) > len(READINESS_FIELDS) or unknown:
        raise ValueError(f"not readiness answers: {answers[len(READINESS_FIELDS) :]} {unknown}")
    given = dict(zip(READINESS_FIELDS, answers, strict=False)) | named
    return {field: given.get(field, "") for field in READINESS_FIELDS}


PILOTS: tuple[Pilot, ...] = (
    Pilot(
        "NW-AP",
        "2026-05-04",
        "Invoice capture and 3-way match",
        NORTHWIND,
        "Accounts payable",
        "Ledgerly",
        14500,
        310000,
        readiness(
            "Supplier invoices arrive by email and EDI; the assistant reads header and lines, "
            "matches them to PO and goods receipt, and queues them for approval and posting in SAP",
            "Group financial controller owns match tolerances and the auto-post limit",
            "AP operations lead runs the daily queue in Leipzig",
            "Price or quantity mismatch over 2%, or no PO: invoice goes to the AP exceptions "
            "queue, worked the same day",
            "Exceptions open more than 3 working days go to the financial controller; supplier "
            "disputes go to the category buyer",
            "Auto-post only under EUR 5,000 with a full 3-way match; weekly 5% sample audit by "
            "internal audit; SAP audit trail; rollback: switch the inbox rule back to manual "
            "entry",
            "cycle_time",
        ),
        "daily",
        nw_ap,
        (("cycle_time", "real", "", "scale"),),
    ),
    Pilot(
        "NW-SALES",
        "2026-05-04",
        "RFQ reply drafting",
        NORTHWIND,
        "Sales",
        "DraftWise",
        6200,
        48000,
        readiness(
            workflow="Inside sales gets an RFQ by email; the tool drafts the reply with price and "
            "stock from the ERP; the rep edits and sends",
            execution_owner="Head of inside sales",
            exception_path="Non-catalogue items and prices below floor are written by hand",
            escalation_path="Key accounts: the account manager reviews before sending",
        ),
        "daily",
        nw_sales,
        (("cycle_time", "mirage", "noise", "stop"),),
        # Draw 65: quote turnaround sits 2.2% lower after go-live; a plain t-test gives
        # p=0.001, Newey-West errors (30 lags) p=0.22, and the honest interval (-5.9% to +7.3%)
        # rules out the 10% a scale-up needs: a mirage, not merely too early to tell.
        draw=65,
    ),
    Pilot(
        "NW-ORDERS",
        "2026-04-06",
        "Order desk entry assistant",
        NORTHWIND,
        "Order management",
        "OrderSense",
        9800,
        420000,
        readiness(
            "Customer orders by email, PDF and phone notes are keyed into the ERP by the "
            "assistant; the desk checks and releases them",
            "Customer service director owns the release rules",
            "Order desk team leader, Leipzig and Lyon",
            "Orders with special pricing, hazardous goods or split deliveries stay manual",
            "",
            "Every order over EUR 20,000 is released by a person; daily reconciliation of keyed "
            "vs received orders",
            "cost_per_transaction",
        ),
        "daily",
        nw_orders,
        (("cost_per_transaction", "mirage", "mix_shift", "stop"),),
    ),
    Pilot(
        "NW-COLLECT",
        "2026-10-05",
        "Collections call prioritisation",
        NORTHWIND,
        "Collections",
        "CashCadence",
        None,
        None,
        readiness(
            workflow="Each morning the tool ranks overdue invoices by expected recovery; "
            "collectors work the list top down",
            value_metric="cost_per_transaction",
        ),
        "weekly_northwind",
        nw_collect,
        (("cost_per_transaction", "inconclusive", "too_early", "extend"),),
    ),
    Pilot(
        "HB-TRIAGE",
        "2026-04-13",
        "Claims triage, North region",
        HARBORLINE,
        "Claims",
        "ClaimSort",
        21000,
        96000,
        readiness(
            "New property claims are scored for complexity and fraud signals and routed to "
            "fast-track, desk adjuster or field adjuster",
            "Claims director owns routing rules and the fraud-score cut-off",
            "North region claims operations manager",
            "Claims the model cannot score, or scored in the grey zone, go to a senior "
            "handler for manual triage",
            "Suspected fraud to SIU within 24 hours; any complaint to the regional claims director",
            "Weekly sample of 50 routed claims re-triaged blind; model changes need claims "
            "director sign-off; kill switch returns all claims to manual triage",
            "cycle_time",
        ),
        "daily",
        hb_triage,
        (("cycle_time", "real", "", "scale"),),
    ),
    Pilot(
        "HB-FNOL",
        "2026-07-06",
        "First-notice-of-loss intake",
        HARBORLINE,
        "Claims",
        "IntakeIQ",
        17500,
        130000,
        readiness(
            "Policyholders report a loss by phone or web; the tool transcribes, fills the claim "
            "form, checks cover and opens the claim",
            "Head of claims operations owns which claims open without a handler",
            "FNOL contact-centre manager",
            "No cover match, injury, or total loss: handed to a handler while the customer is "
            "still on the line",
            "Vulnerable customers and complaints to the team leader on shift",
            "Every auto-opened claim is checked at the first handler touch; monthly QA of 100 "
            "calls; audit log of every field the tool filled",
            "cycle_time",
        ),
        "weekly_harborline",
        hb_fnol,
        (("cycle_time", "real", "", "scale"),),
    ),
    Pilot(
        "HB-SERVICE",
        "2026-03-02",
        "Policy servicing email replies",
        HARBORLINE,
        "Customer service",
        "ReplyMate",
        8800,
        210000,
        readiness(
            "Policyholder emails (address changes, documents, payment dates) get a drafted "
            "reply the agent approves",
            "Customer service director",
            "Servicing team leads, Bristol",
            "Cancellations, complaints and anything about a claim are routed to a person",
            "Complaints follow the FCA complaints procedure",
            "",
            "response_time",
        ),
        "daily",
        hb_service,
        (("response_time", "mirage", "regression_to_mean", "stop"),),
    ),
    Pilot(
        "HB-UW",
        "2026-02-02",
        "Commercial underwriting copilot",
        HARBORLINE,
        "Underwriting",
        "RiskLens",
        26000,
        None,
        readiness(
            "Underwriters ask the copilot to summarise submissions, loss runs and risk "
            "surveys before pricing a commercial property quote",
            "Chief underwriting officer owns appetite and referral limits",
            "Commercial underwriting managers",
            "Submissions outside appetite are declined or referred as before",
            "Referrals above authority go to the CUO's referral desk",
            "Copilot output is advisory only; the underwriter signs the quote; prompts and "
            "outputs are logged for peer review",
            "cycle_time",
        ),
        "daily",
        hb_underwriting,
        (("cycle_time", "no_change", "activity_without_outcome", "stop"),),
    ),
    Pilot(
        "CB-ASSIST",
        "2026-04-01",
        "Support reply assistant",
        COBALT,
        "Customer support",
        "HelpHive AI",
        12000,
        360000,
        readiness(
            "Tier-1 agents get a suggested first reply for every new ticket and send it with "
            "or without edits",
            "VP Support owns the macros and the policy content the assistant draws on",
            "Tier-1 support managers, Dublin and Austin",
            "",
            "",
            "Suggested replies are logged with the agent's edits; weekly review of 30 tickets",
            "response_time",
        ),
        "daily",
        cb_assist,
        (
            ("response_time", "real", "burden_shift", "fix"),
            ("rework_rate", "worse", "burden_shift", "fix"),
        ),
    ),
    Pilot(
        "CB-CHAT",
        "2026-06-01",
        "In-app chat deflection bot",
        COBALT,
        "Customer support",
        "ChatDeflect",
        7400,
        540000,
        readiness(
            "The in-app chat bot answers how-to questions from the help centre and hands over "
            "to an agent when it cannot",
            "Director of support operations",
            "Support tooling team",
            "Billing, outages and security questions hand over to an agent at once",
            "Hand-overs waiting more than 10 minutes page the tier-1 shift lead",
            "Deflected chats sampled daily; bot answers limited to published help-centre "
            "articles; off switch in the chat admin",
            "response_time",
        ),
        "daily",
        cb_chat,
        (("response_time", "mirage", "seasonality", "stop"),),
    ),
    Pilot(
        "CB-SALES",
        "2026-05-04",
        "Outbound email personalisation",
        COBALT,
        "Sales",
        "DraftWise",
        5600,
        900000,
        readiness(
            "SDRs generate a personalised first-touch email per prospect from the CRM and "
            "LinkedIn notes, review it and send it in the sequence",
            "VP Sales development owns messaging and the sending limits",
            "SDR team leads",
            "Prospects in regulated industries get the standard approved template",
            "Opt-out complaints go to marketing operations the same day",
            "Daily send cap per rep; opt-out rate monitored; template library approved by legal",
            "reply_rate",
        ),
        "daily",
        cb_sales,
        (("reply_rate", "mirage", "novelty_decay", "stop"),),
    ),
    Pilot(
        "MF-PROC",
        "2026-03-02",
        "Purchase request to PO",
        MERIDIAN,
        "Procurement",
        "ProcureFlow",
        None,
        52000,
        readiness(
            "Requesters describe what they need; the tool picks the catalogue item or "
            "framework supplier and raises the PO for buyer approval",
            "Procurement director owns supplier selection rules",
            "Procure-to-pay team lead",
            "Non-catalogue spend over GBP 10,000 goes to a category buyer",
            "Maverick spend and urgent requests go to the procurement director",
            "Buyer approves every PO; monthly spend-under-management report; audit trail in Coupa",
            "cycle_time",
        ),
        "weekly_meridian",
        mf_procurement,
        (("cycle_time", "mirage", "pre_trend", "stop"),),
        # Draw 11: every series sits within 2% of its extrapolated pre-period line.
        draw=11,
    ),
    Pilot(
        "MF-DISPATCH",
        "2026-04-06",
        "Route and load planning, Leeds depot",
        MERIDIAN,
        "Dispatch",
        "RouteMind",
        15800,
        1100000,
        readiness(
            "Each evening the tool proposes next-day routes and vehicle loads for the Leeds "
            "depot; the planner adjusts and publishes them",
            "Network operations director owns service levels and cost targets",
            "Leeds depot transport planner",
            "Tail-lift, ADR and timed deliveries are planned by hand",
            "Missed collection windows go to the duty manager, then the customer account lead",
            "Planner publishes every plan; plan-vs-actual report each morning; revert to the "
            "TMS standard plan with one switch",
            "cost_per_transaction",
        ),
        "daily",
        mf_dispatch,
        (("cost_per_transaction", "mirage", "control_moved", "stop"),),
    ),
    Pilot(
        "MF-AUDIT",
        "2026-02-02",
        "Freight invoice audit",
        MERIDIAN,
        "Finance",
        "FreightAudit.ai",
        11200,
        640000,
        readiness(
            workflow="Subcontractor freight invoices are checked against rate cards, fuel "
            "surcharge tables and proof of delivery; clean ones are approved for payment",
            decision_owner="Finance director owns rate-card tolerances",
            execution_owner="Freight payables supervisor",
            value_metric="cost_per_transaction",
        ),
        "weekly_meridian",
        mf_audit,
        (("cost_per_transaction", "real", "readiness_gap", "fix"), ("margin", "real", "", "fix")),
    ),
)


# --- writing ---------------------------------------------------------------------------------


def generate() -> dict[str, pd.DataFrame]:
    """Every output file as a DataFrame, keyed by file name."""
    series = []
    for index, pilot in enumerate(PILOTS):
        words = [SEED, index] if pilot.draw is None else [SEED, index, pilot.draw]
        rng = np.random.default_rng(words)
        frame = pilot.story(rng, pilot)
        if "export" not in frame.columns:
            frame = frame.assign(export=pilot.export)
        frame["export"] = frame["export"].fillna(pilot.export)
        series.append(frame)
    observations = pd.concat(series, ignore_index=True)
    observations = observations[observations["date"] <= END]

    files: dict[str, pd.DataFrame] = {
        "catalog.csv": pd.DataFrame(CUSTOM_METRICS, columns=CATALOG_COLUMNS),
        "pilots.csv": pilots_table(),
        "pilots_replan.csv": pd.DataFrame([REPLAN]),
        "decisions.csv": pd.DataFrame(DECISIONS, columns=DECISION_COLUMNS),
    }
    for export, rows in observations.groupby("export", sort=True):
        if export.startswith("weekly_"):
            files[f"metrics_{export}.csv"] = wide_table(rows)
        else:
            files[f"metrics_{export}.csv"] = long_table(rows)
    files["expected.csv"] = pd.DataFrame(
        [(p.pilot_id, *row) for p in PILOTS for row in p.expected], columns=EXPECTED_COLUMNS
    )
    return files


def pilots_table() -> pd.DataFrame:
    rows = []
    for p in PILOTS:
        rows.append(
            {
                "pilot_id": p.pilot_id,
                "go_live": p.go_live,
                "pilot_name": p.pilot_name,
                "company": p.company,
                "function": p.function,
                "vendor": p.vendor,
                "monthly_cost": p.monthly_cost,
                "annual_volume": p.annual_volume,
                "currency": CURRENCY[p.company],
                **p.readiness,
                **plan_cells(p),
            }
        )
    table = pd.DataFrame(rows, columns=PILOT_COLUMNS + PLAN_COLUMNS)
    for column in ("monthly_cost", "annual_volume", "plan_evaluation_days"):
        table[column] = table[column].astype("Int64")
    return table


# --- success plans and decisions (issue 15) --------------------------------------------------
# The plan columns are the pilots file's (pilotproof.store.plans.FILE_COLUMNS, without the change
# reason); written out here because the generator runs without pilotproof (of the package it
# reads only the readiness questions, from analytics.results).

PLAN_COLUMNS = [
    "plan_value_metric",
    "plan_threshold_pct",
    "plan_guardrails",
    "plan_evaluation_days",
    "plan_decision_owner",
    "plan_set_by",
    "plan_set_on",
]
# Guardrails each pilot's plan names, at the catalog's tolerances (so the plans move no verdict).
GUARDRAILS = {
    "NW-AP": "rework_rate:5",
    "NW-ORDERS": "",
    "NW-COLLECT": "",
    "HB-TRIAGE": "rework_rate:5; quality_score:2",
    "HB-FNOL": "rework_rate:5; quality_score:2",
    "HB-SERVICE": "quality_score:2",
    "HB-UW": "quality_score:2",
    "CB-ASSIST": "rework_rate:5; quality_score:2",
    "CB-CHAT": "rework_rate:5",
    "CB-SALES": "",
    "MF-PROC": "rework_rate:5",
    "MF-DISPATCH": "quality_score:2",
    "MF-AUDIT": "rework_rate:5",
}
# NW-SALES has no plan: its criteria were never pre-registered (a governance gap). HB-FNOL's
# plan asked for 25% before go-live; after the results showed about 20%, the threshold was
# lowered to 15% (pilots_replan.csv): the app and every export say so, and that the
# pre-registered plan would have meant "fix".
PLAN_THRESHOLD = {"HB-FNOL": 25.0}
REPLAN = {
    "pilot_id": "HB-FNOL",
    "go_live": "2026-07-06",
    "plan_threshold_pct": 15.0,
    "plan_set_by": "Head of claims operations",
    "plan_set_on": "2026-09-21",
    "plan_change_reason": "Results show about 20%; a peer insurer scaled at 15%, so 15% is "
    "enough to justify the roll-out",
}
# Decisions the partners logged (what pilotproof recommended when they did, and a note).
DECISIONS = [
    ("NW-AP", "scale", "scale", "Roll out to the Leipzig and Lyon AP teams in Q4",
     "Group financial controller", "2026-09-28"),
    ("CB-ASSIST", "scale", "fix", "Rework rise is temporary; the vendor's fix ships in December",
     "VP Support", "2026-08-17"),
    ("MF-PROC", "stop", "stop", "The fall predates the tool; contract not renewed",
     "Procurement director", "2026-08-03"),
    ("HB-UW", "stop", "stop", "Usage is high but cycle time did not move",
     "Chief underwriting officer", "2026-07-20"),
]  # fmt: skip
# The sample's own metric, as a partner adds it on the Settings page before the upload: an
# upload's `direction` column says which way is better, but not the unit, and without the unit
# `rate` every axis wrote 0.04 for 4%. Read as a percent change (a 10% better reply rate), as the
# success plan states it.
CATALOG_COLUMNS = [
    "metric", "direction", "unit", "kind", "threshold_pct", "tolerance_pct", "scale",
]  # fmt: skip
CUSTOM_METRICS = [("reply_rate", "higher_is_better", "rate", "value", 10.0, 5.0, "relative")]

DECISION_COLUMNS = ["pilot_id", "decision", "recommended", "note", "decided_by", "decided_at"]


def plan_cells(p: Pilot) -> dict[str, object]:
    """The pilot's success plan as agreed three weeks before go-live (empty: no plan)."""
    if p.pilot_id not in GUARDRAILS:
        return dict.fromkeys(PLAN_COLUMNS, None)
    owner = p.readiness["decision_owner"].split(" owns")[0]
    return {
        "plan_value_metric": p.readiness["value_metric"],
        "plan_threshold_pct": PLAN_THRESHOLD.get(p.pilot_id, 10.0),
        "plan_guardrails": GUARDRAILS[p.pilot_id],
        "plan_evaluation_days": 120,
        "plan_decision_owner": owner,
        "plan_set_by": owner or "Pilot sponsor",
        "plan_set_on": (pd.Timestamp(p.go_live) - pd.Timedelta(days=21)).strftime("%Y-%m-%d"),
    }


def long_table(rows: pd.DataFrame) -> pd.DataFrame:
    columns = LONG_COLUMNS_WITH_DIRECTION if rows["direction"].ne("").any() else LONG_COLUMNS
    out = rows.sort_values(
        ["pilot_id", "metric", "group", "unit", "segment", "date"], kind="stable"
    )
    out = out.assign(date=out["date"].dt.strftime("%Y-%m-%d"), volume=out["volume"].astype("Int64"))
    return out[columns].reset_index(drop=True)


def wide_table(rows: pd.DataFrame) -> pd.DataFrame:
    wide = rows.pivot_table(
        index=["pilot_id", "date"], columns="metric", values="value", aggfunc="first"
    )
    metrics = list(dict.fromkeys(rows["metric"]))
    if wide[metrics].isna().any().any():
        raise ValueError("a wide export needs every pilot in it to report every metric")
    wide = wide[metrics].reset_index()
    wide["date"] = wide["date"].dt.strftime("%Y-%m-%d")
    wide.columns.name = None
    return wide


def write(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in generate().items():
        path = out_dir / name
        frame.to_csv(path, index=False, lineterminator="\n", float_format="%.10g")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="directory to write (default: here)")
    args = parser.parse_args(argv)
    for path in write(args.out):
        print(f"{path}  {path.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
