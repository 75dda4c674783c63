"""An independent generator of pilots with known truth, written apart from tests/analytics.

Each family builds one pilot's long metrics rows (metric `cycle_time`, lower is better) and its
registry row, with every readiness answer given, so that the verdict on `cycle_time` is the only
thing under test. `ACCEPT` names the verdicts that count as right for each family, and `REASON`
the reason code a non-`real` verdict should carry when the family is a named value mirage.

Run as a script to print the accuracy table over many seeds (used for the QA report):
    .venv/bin/python -m tests.hostile.truth --seeds 10
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from analytics.results import READINESS_FIELDS

LEVEL = 100.0
SHIFT = 0.15  # a true 15% fall in cycle time
PILOT_COLUMNS = (
    "pilot_id",
    "go_live",
    "pilot_name",
    "company",
    "function",
    "monthly_cost",
    "annual_volume",
    *READINESS_FIELDS,
)


@dataclass(frozen=True)
class Case:
    pilot_id: str
    family: str
    go_live: pd.Timestamp
    rows: pd.DataFrame  # pilot_id, date, metric, value, group, unit


def ar1(rng: np.random.Generator, n: int, phi: float = 0.5, sd: float = 1.0) -> np.ndarray:
    """AR(1) noise started from its stationary distribution."""
    eps = rng.normal(0.0, sd, n)
    out = np.empty(n)
    out[0] = eps[0] / np.sqrt(1.0 - phi**2)
    for i in range(1, n):
        out[i] = phi * out[i - 1] + eps[i]
    return out


def _frame(
    pilot_id: str, dates: pd.DatetimeIndex, values: np.ndarray, group: str = "treatment", unit=""
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "pilot_id": pilot_id,
            "date": dates.strftime("%Y-%m-%d"),
            "metric": "cycle_time",
            "value": np.round(values, 6),
            "group": group,
            "unit": unit,
        }
    )


def _daily(n_pre: int, n_post: int) -> tuple[pd.DatetimeIndex, pd.Timestamp]:
    dates = pd.date_range("2024-01-01", periods=n_pre + n_post, freq="D")
    return dates, dates[n_pre]


def level_shift(pid: str, rng: np.random.Generator) -> Case:
    dates, go = _daily(180, 90)
    post = np.arange(len(dates)) >= 180
    y = LEVEL * (1 - SHIFT * post) + ar1(rng, len(dates), 0.5, 3.0)
    return Case(pid, "level_shift", go, _frame(pid, dates, y))


def ar1_null(pid: str, rng: np.random.Generator) -> Case:
    dates, go = _daily(180, 90)
    y = LEVEL + ar1(rng, len(dates), 0.5, 3.0)
    return Case(pid, "ar1_null", go, _frame(pid, dates, y))


def pre_trend(pid: str, rng: np.random.Generator) -> Case:
    """Cycle time already falling 0.1/day before go-live and going on the same way."""
    dates, go = _daily(180, 90)
    t = np.arange(len(dates))
    y = 130.0 - 0.1 * t + ar1(rng, len(dates), 0.5, 2.0)
    return Case(pid, "pre_trend", go, _frame(pid, dates, y))


def seasonal(pid: str, rng: np.random.Generator) -> Case:
    """Weekly, 2.5 years pre; annual cycle +-20%; go-live at the start of the low season."""
    dates = pd.date_range("2021-01-04", periods=143, freq="W-MON")
    woy = np.asarray(dates.isocalendar().week, dtype=float)
    season = 1 + 0.2 * np.cos(2 * np.pi * (woy - 4) / 52)  # peak early Feb, low early Aug
    n_pre = int(np.flatnonzero(dates >= pd.Timestamp("2023-06-19"))[0])
    dates, season = dates[: n_pre + 13], season[: n_pre + 13]
    y = LEVEL * season + ar1(rng, len(dates), 0.5, 2.0)
    return Case(pid, "seasonal", dates[n_pre], _frame(pid, dates, y))


def pre_spike(pid: str, rng: np.random.Generator) -> Case:
    """A bad spell (cycle time +30%) over the last 10 days before go-live, then back to normal."""
    dates, go = _daily(180, 90)
    y = LEVEL + ar1(rng, len(dates), 0.5, 3.0)
    y[170:180] += 30.0
    return Case(pid, "pre_spike", go, _frame(pid, dates, y))


def decay(pid: str, rng: np.random.Generator) -> Case:
    """An effect of -20% at go-live that fades linearly to nothing half-way through the post."""
    dates, go = _daily(180, 120)
    k = np.arange(len(dates)) - 180
    effect = np.where(k < 0, 0.0, np.clip(0.20 * (1 - k / 60), 0.0, None))
    y = LEVEL * (1 - effect) + ar1(rng, len(dates), 0.5, 2.0)
    return Case(pid, "decay", go, _frame(pid, dates, y))


def control_moved(pid: str, rng: np.random.Generator) -> Case:
    """The treated unit and 5 control units all fall 15% at go-live."""
    dates, go = _daily(180, 90)
    post = np.arange(len(dates)) >= 180
    frames = [_frame(pid, dates, LEVEL * (1 - SHIFT * post) + ar1(rng, len(dates), 0.5, 3.0))]
    for u in range(5):
        base = LEVEL * rng.uniform(0.8, 1.2)
        y = base * (1 - SHIFT * post) + ar1(rng, len(dates), 0.5, 3.0)
        frames.append(_frame(pid, dates, y, "control", f"c{u + 1}"))
    return Case(pid, "control_moved", go, pd.concat(frames, ignore_index=True))


def monthly(pid: str, rng: np.random.Generator) -> Case:
    """Monthly, 24 pre and 12 post points, a true 15% fall."""
    dates = pd.date_range("2022-01-01", periods=36, freq="MS")
    post = np.arange(36) >= 24
    y = LEVEL * (1 - SHIFT * post) + ar1(rng, 36, 0.5, 2.0)
    return Case(pid, "monthly", dates[24], _frame(pid, dates, y))


def yearly(pid: str, rng: np.random.Generator) -> Case:
    """Yearly, 8 pre and 3 post points, a true 15% fall: too short to call it with confidence."""
    dates = pd.date_range("2014-01-01", periods=11, freq="YS")
    post = np.arange(11) >= 8
    y = LEVEL * (1 - SHIFT * post) + ar1(rng, 11, 0.5, 2.0)
    return Case(pid, "yearly", dates[8], _frame(pid, dates, y))


def hidden_by_season(pid: str, rng: np.random.Generator) -> Case:
    """Weekly, a true 15% fall whose post window sits in the heavy season (the reverse case)."""
    dates = pd.date_range("2021-01-04", periods=160, freq="W-MON")
    woy = np.asarray(dates.isocalendar().week, dtype=float)
    season = 1 + 0.2 * np.cos(2 * np.pi * (woy - 4) / 52)
    n_pre = int(np.flatnonzero(dates >= pd.Timestamp("2023-12-04"))[0])
    dates, season = dates[: n_pre + 13], season[: n_pre + 13]
    post = np.arange(len(dates)) >= n_pre
    y = LEVEL * season * (1 - SHIFT * post) + ar1(rng, len(dates), 0.5, 2.0)
    return Case(pid, "hidden_by_season", dates[n_pre], _frame(pid, dates, y))


def hidden_by_trend(pid: str, rng: np.random.Generator) -> Case:
    """Cycle time rising 0.1/day before go-live; a true 15% fall against that rising line."""
    dates, go = _daily(180, 90)
    t = np.arange(len(dates))
    post = t >= 180
    y = (80.0 + 0.1 * t) * (1 - SHIFT * post) + ar1(rng, len(dates), 0.5, 2.0)
    return Case(pid, "hidden_by_trend", go, _frame(pid, dates, y))


def control_win(pid: str, rng: np.random.Generator) -> Case:
    """The treated unit falls 15% at go-live; 5 control units stay flat."""
    dates, go = _daily(180, 90)
    post = np.arange(len(dates)) >= 180
    frames = [_frame(pid, dates, LEVEL * (1 - SHIFT * post) + ar1(rng, len(dates), 0.5, 3.0))]
    for u in range(5):
        y = LEVEL * rng.uniform(0.8, 1.2) + ar1(rng, len(dates), 0.5, 3.0)
        frames.append(_frame(pid, dates, y, "control", f"c{u + 1}"))
    return Case(pid, "control_win", go, pd.concat(frames, ignore_index=True))


def mix_shift(pid: str, rng: np.random.Generator) -> Case:
    """Two segments whose rates (50 and 150 hours) never move; the simple share goes from 50%
    to 75% at go-live, so the volume-weighted mean falls 25% with no rate change at all."""
    dates, go = _daily(180, 90)
    post = np.arange(len(dates)) >= 180
    frames = []
    for segment, rate, share in (("simple", 50.0, 0.75), ("complex", 150.0, 0.25)):
        volume = 1000 * np.where(post, share, 0.5) * rng.uniform(0.95, 1.05, len(dates))
        frame = _frame(pid, dates, rate + ar1(rng, len(dates), 0.5, 0.03 * rate))
        frames.append(frame.assign(segment=segment, volume=volume.round()))
    return Case(pid, "mix_shift", go, pd.concat(frames, ignore_index=True))


FAMILIES: dict[str, Callable[[str, np.random.Generator], Case]] = {
    "level_shift": level_shift,
    "ar1_null": ar1_null,
    "pre_trend": pre_trend,
    "seasonal": seasonal,
    "pre_spike": pre_spike,
    "decay": decay,
    "control_moved": control_moved,
    "monthly": monthly,
    "yearly": yearly,
    "hidden_by_season": hidden_by_season,
    "hidden_by_trend": hidden_by_trend,
    "control_win": control_win,
    "mix_shift": mix_shift,
}
TRULY_REAL = {
    "level_shift",
    "monthly",
    "yearly",
    "hidden_by_season",
    "hidden_by_trend",
    "control_win",
}
# Verdicts that count as right. Yearly data with 3 post points may honestly be inconclusive.
ACCEPT: dict[str, frozenset[str]] = {
    "level_shift": frozenset({"real"}),
    "ar1_null": frozenset({"no_change", "inconclusive", "mirage"}),
    "pre_trend": frozenset({"no_change", "inconclusive", "mirage"}),
    "seasonal": frozenset({"no_change", "inconclusive", "mirage"}),
    "pre_spike": frozenset({"no_change", "inconclusive", "mirage"}),
    "decay": frozenset({"no_change", "inconclusive", "mirage"}),
    "control_moved": frozenset({"no_change", "inconclusive", "mirage"}),
    "monthly": frozenset({"real"}),
    "yearly": frozenset({"real", "inconclusive", "mirage"}),
    "hidden_by_season": frozenset({"real"}),
    "hidden_by_trend": frozenset({"real"}),
    "control_win": frozenset({"real"}),
    "mix_shift": frozenset({"no_change", "inconclusive", "mirage"}),
}
# When the verdict is `mirage`, the reason codes (any of) the family should name. Yearly data
# with 3 post points may only be called a mirage for noise or too little data.
REASON: dict[str, frozenset[str]] = {
    "pre_trend": frozenset({"pre_trend"}),
    "seasonal": frozenset({"seasonality"}),
    "pre_spike": frozenset({"regression_to_mean"}),
    "decay": frozenset({"novelty_decay"}),
    "control_moved": frozenset({"control_moved"}),
    "mix_shift": frozenset({"mix_shift"}),
    "yearly": frozenset({"noise", "insufficient_data"}),
}
EXPECTED_FREQUENCY = {
    "seasonal": "W",
    "hidden_by_season": "W",
    "monthly": "M",
    "yearly": "Y",
}


def make_cases(families: list[str], seeds: range, scale: float = 1.0) -> list[Case]:
    cases = []
    for family in families:
        for seed in seeds:
            rng = np.random.default_rng([hash_name(family), seed])
            case = FAMILIES[family](f"{family}-{seed}", rng)
            if scale != 1.0:
                case.rows["value"] = case.rows["value"] * scale
            cases.append(case)
    return cases


def hash_name(name: str) -> int:
    return sum((i + 1) * ord(c) for i, c in enumerate(name))


def write_csvs(cases: list[Case], folder: Path) -> tuple[Path, Path]:
    metrics = folder / "truth_metrics.csv"
    pilots = folder / "truth_pilots.csv"
    rows = pd.concat([c.rows for c in cases], ignore_index=True)
    rows.to_csv(metrics, index=False, float_format="%.6f")
    registry = pd.DataFrame(
        [
            {
                "pilot_id": c.pilot_id,
                "go_live": c.go_live.strftime("%Y-%m-%d"),
                "pilot_name": f"Synthetic {c.family}",
                "company": "QA Co",
                "function": "Operations",
                "monthly_cost": 1000,
                "annual_volume": 100000,
                **dict.fromkeys(READINESS_FIELDS, "answered"),
                "value_metric": "cycle_time",
            }
            for c in cases
        ],
        columns=PILOT_COLUMNS,
    )
    registry.to_csv(pilots, index=False)
    return metrics, pilots


def cli(*args: str | Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("pilotproof")
    return subprocess.run(
        [str(exe), *map(str, args)], capture_output=True, text=True, timeout=timeout
    )


def analyze(cases: list[Case], folder: Path) -> dict:
    """Ingest the cases through the CLI into a fresh database and return the analyze JSON."""
    db = folder / "truth.duckdb"
    metrics, pilots = write_csvs(cases, folder)
    done = cli("ingest", "--db", db, metrics, "--pilots", pilots)
    if done.returncode != 0:
        raise RuntimeError(f"ingest refused: {done.stderr}")
    done = cli("analyze", "--db", db, "--format", "json")
    if done.returncode != 0:
        raise RuntimeError(f"analyze failed ({done.returncode}): {done.stderr[-2000:]}")
    return json.loads(done.stdout)


def verdicts(payload: dict) -> dict[str, dict]:
    """pilot_id -> the cycle_time metric entry plus the pilot's decision."""
    out = {}
    for pilot in payload["pilots"]:
        entry = next((m for m in pilot["metrics"] if m["metric"] == "cycle_time"), None)
        out[pilot["pilot_id"]] = {"decision": pilot["decision"], "metric": entry}
    return out


def naive_real(case: Case) -> bool:
    """The naive call: Welch t-test of the treated series after vs before go-live, p < 0.05 and
    lower. scipy.stats.ttest_ind(post, pre, equal_var=False)."""
    rows = case.rows[case.rows["group"] == "treatment"]
    if "volume" in rows:  # the aggregate a user sees: the volume-weighted mean per date
        weighted = rows.assign(wv=rows["value"] * rows["volume"]).groupby("date")
        rows = (weighted["wv"].sum() / weighted["volume"].sum()).rename("value").reset_index()
    post = pd.to_datetime(rows["date"]) >= case.go_live
    pre_values, post_values = rows.loc[~post, "value"], rows.loc[post, "value"]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        test = stats.ttest_ind(post_values, pre_values, equal_var=False)
    return bool(test.pvalue < 0.05 and post_values.mean() < pre_values.mean())


def tabulate(cases: list[Case], payload: dict) -> pd.DataFrame:
    got = verdicts(payload)
    rows = []
    for case in cases:
        entry = got[case.pilot_id]["metric"]
        verdict = entry["verdict"]
        naive = naive_real(case)
        reasons = entry["reasons"]
        right = verdict in ACCEPT[case.family]
        wanted = REASON.get(case.family)
        reason_ok = verdict != "mirage" or wanted is None or bool(wanted & set(reasons))
        rows.append(
            {
                "family": case.family,
                "pilot_id": case.pilot_id,
                "verdict": verdict,
                "reasons": ",".join(reasons),
                "decision": got[case.pilot_id]["decision"],
                "effect_pct": entry["effect_pct"],
                "right": right,
                "reason_ok": reason_ok,
                "naive_real": naive,
                "naive_right": naive == (case.family in TRULY_REAL),
            }
        )
    return pd.DataFrame(rows)


def summary(table: pd.DataFrame) -> pd.DataFrame:
    def verdict_mix(v: pd.Series) -> str:
        return ", ".join(f"{k} {n}" for k, n in v.value_counts().items())

    return table.groupby("family", sort=False).agg(
        n=("right", "size"),
        right=("right", "mean"),
        reason_named=("reason_ok", "mean"),
        naive_right=("naive_right", "mean"),
        verdicts=("verdict", verdict_mix),
    )


def balanced_accuracy(table: pd.DataFrame, naive: bool = False) -> float:
    truth = table["family"].isin(TRULY_REAL - {"yearly"})
    called = table["naive_real"] if naive else table["verdict"] == "real"
    scored = table["family"] != "yearly"
    sens = called[truth & scored].mean()
    spec = (~called)[~truth & scored].mean()
    return float((sens + spec) / 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    cases = make_cases(list(FAMILIES), range(args.seeds), args.scale)
    with tempfile.TemporaryDirectory() as tmp:
        table = tabulate(cases, analyze(cases, Path(tmp)))
    pd.set_option("display.width", 200)
    print(summary(table).to_string())
    print(
        "balanced accuracy real vs not real (yearly excluded): "
        f"pilotproof {balanced_accuracy(table):.3f}, "
        f"naive t-test {balanced_accuracy(table, naive=True):.3f}"
    )
    scored = table[table["family"] != "yearly"]  # real, but honest doubt is accepted there
    real = scored["family"].isin(TRULY_REAL)
    scaled = scored["decision"] == "scale"
    print(
        f"told to scale (yearly excluded): {int(scaled[~real].sum())} of {int((~real).sum())} "
        f"pilots without a true effect, {int(scaled[real].sum())} of {int(real.sum())} with one"
    )
    wrong = table[~table["right"] | ~table["reason_ok"]]
    if not wrong.empty:
        print(wrong.to_string(index=False))


if __name__ == "__main__":
    main()
