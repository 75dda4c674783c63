"""Known truth through the whole command line: generate pilots with tests/hostile/truth.py (an
independent generator), `pilotproof ingest` them, run `pilotproof analyze --format json`, and
hold the JSON against the issue-3 contract and against the truth.

Ten seeds per family in one database keep this to a few seconds. The wider table for the report
comes from `python -m tests.hostile.truth --seeds 40`.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from analytics.results import DECISIONS, REASONS, VERDICTS

from . import truth

SEEDS = range(10)
NUMBERS = ("effect_pct", "ci_low_pct", "ci_high_pct")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[truth.Case], dict]:
    cases = truth.make_cases(list(truth.FAMILIES), SEEDS)
    payload = truth.analyze(cases, Path(tmp_path_factory.mktemp("truth")))
    return cases, payload


@pytest.fixture(scope="module")
def table(run: tuple[list[truth.Case], dict]) -> pd.DataFrame:
    cases, payload = run
    return truth.tabulate(cases, payload)


def _walk_numbers(node: object, where: str = "$"):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk_numbers(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk_numbers(value, f"{where}[{i}]")
    elif isinstance(node, float | int) and not isinstance(node, bool):
        yield where, node


def test_json_contract(run: tuple[list[truth.Case], dict]) -> None:
    cases, payload = run
    assert set(payload) >= {"pilots"}
    by_id = {p["pilot_id"]: p for p in payload["pilots"]}
    assert len(by_id) == len(payload["pilots"]) == len(cases)
    for case in cases:
        pilot = by_id[case.pilot_id]
        assert pilot["decision"] in DECISIONS
        assert all(r in REASONS for r in pilot["reasons"])
        treated = set(case.rows.loc[case.rows["group"] == "treatment", "metric"])
        assert {m["metric"] for m in pilot["metrics"]} == treated
        for metric in pilot["metrics"]:
            assert {"metric", "verdict", "reasons", *NUMBERS} <= set(metric)
            assert metric["verdict"] in VERDICTS
            assert all(r in REASONS for r in metric["reasons"])
            values = [metric[k] for k in NUMBERS]
            assert all(v is None or isinstance(v, float | int) for v in values)
            if None not in values:
                effect, low, high = values
                assert low <= effect <= high, (case.pilot_id, values)
    for where, number in _walk_numbers(payload):
        assert math.isfinite(number), where


def test_frequency_is_inferred(run: tuple[list[truth.Case], dict]) -> None:
    cases, payload = run
    by_id = {p["pilot_id"]: p for p in payload["pilots"]}
    for case in cases:
        (metric,) = by_id[case.pilot_id]["metrics"]
        assert metric["frequency"] == truth.EXPECTED_FREQUENCY.get(case.family, "D"), case.pilot_id


@pytest.mark.parametrize("family", list(truth.FAMILIES))
def test_family_right_in_at_least_nine_of_ten(table: pd.DataFrame, family: str) -> None:
    rows = table[table["family"] == family]
    assert len(rows) == len(SEEDS)
    assert rows["right"].sum() >= 9, rows[["pilot_id", "verdict", "reasons", "effect_pct"]]
    assert rows["reason_ok"].all(), rows[~rows["reason_ok"]]


def test_balanced_accuracy_beats_the_naive_test(table: pd.DataFrame) -> None:
    assert truth.balanced_accuracy(table) >= 0.95
    assert truth.balanced_accuracy(table, naive=True) <= 0.6  # the generator really is hostile


def test_true_effects_are_measured_near_15_percent(table: pd.DataFrame) -> None:
    called = table[table["family"].isin({"level_shift", "monthly"}) & (table["verdict"] == "real")]
    assert len(called) >= 18
    assert called["effect_pct"].median() == pytest.approx(-15.0, abs=1.5)


def test_scale_only_for_true_effects(table: pd.DataFrame) -> None:
    scaled = table[table["decision"] == "scale"]
    assert set(scaled["family"]) <= truth.TRULY_REAL
    level = table[table["family"] == "level_shift"]
    assert (level["decision"] == "scale").sum() >= 9, level


def _pilot_decisions(tmp_path: Path) -> dict[str, dict]:
    """Decision families: a real win with a guardrail that got worse (burden shift), activity
    that moved while the outcome did not, and a real win with readiness answers missing."""
    rows, registry = [], []
    for seed in range(3):
        rng = truth.np.random.default_rng([99, seed])
        dates, go = truth._daily(180, 90)
        post = truth.np.arange(len(dates)) >= 180
        win = truth.LEVEL * (1 - truth.SHIFT * post) + truth.ar1(rng, len(dates), 0.5, 3.0)
        flat = truth.LEVEL + truth.ar1(rng, len(dates), 0.5, 3.0)
        rework = 0.10 * (1 + 0.3 * post) + truth.ar1(rng, len(dates), 0.5, 0.003)
        usage = 100 * (1 + 0.5 * post) + truth.ar1(rng, len(dates), 0.5, 3.0)
        for family, series in (
            ("burden", [("cycle_time", win), ("rework_rate", rework)]),
            ("activity", [("cycle_time", flat), ("ai_usage", usage)]),
            ("unready", [("cycle_time", win)]),
        ):
            pid = f"{family}-{seed}"
            for metric, values in series:
                rows.append(truth._frame(pid, dates, values).assign(metric=metric))
            answers = {f: "answered" for f in truth.PILOT_COLUMNS[7:]}
            answers["value_metric"] = "cycle_time"
            if family == "unready":
                answers.update(escalation_path="", control_points="")
            registry.append({"pilot_id": pid, "go_live": go.strftime("%Y-%m-%d"), **answers})
    pd.concat(rows).to_csv(tmp_path / "m.csv", index=False)
    pd.DataFrame(registry).to_csv(tmp_path / "p.csv", index=False)
    db = tmp_path / "d.duckdb"
    ingest = truth.cli("ingest", "--db", db, tmp_path / "m.csv", "--pilots", tmp_path / "p.csv")
    assert ingest.returncode == 0, ingest.stderr
    done = truth.cli("analyze", "--db", db, "--format", "json")
    assert done.returncode == 0, done.stderr
    return {p["pilot_id"]: p for p in truth.json.loads(done.stdout)["pilots"]}


def test_decision_families(tmp_path: Path) -> None:
    pilots = _pilot_decisions(tmp_path)
    assert len(pilots) == 9
    for pid, pilot in pilots.items():
        family = pid.split("-")[0]
        assert pilot["decision"] != "scale", pilot
        if family == "burden":
            assert pilot["decision"] == "fix" and "burden_shift" in pilot["reasons"]
        elif family == "activity":
            outcome = next(m for m in pilot["metrics"] if m["metric"] == "cycle_time")
            if outcome["verdict"] != "real":  # a chance 'real' below threshold gets `fix`
                assert pilot["decision"] == "stop"
                assert "activity_without_outcome" in pilot["reasons"]
        else:
            assert pilot["decision"] == "fix" and "readiness_gap" in pilot["reasons"]
            assert set(pilot["readiness_missing"]) == {"escalation_path", "control_points"}


def test_interval_covers_the_true_effect(tmp_path: Path) -> None:
    """The 95% interval should hold the true -15% in about 95% of seeds (>= 34 of 40: a
    binomial(40, 0.95) falls below that with probability ~1%)."""
    families = ["level_shift", "control_win", "hidden_by_trend", "monthly"]
    cases = truth.make_cases(families, range(100, 140))
    got = truth.verdicts(truth.analyze(cases, tmp_path))
    covered: dict[str, int] = dict.fromkeys(families, 0)
    for case in cases:
        metric = got[case.pilot_id]["metric"]
        low, high = metric["ci_low_pct"], metric["ci_high_pct"]
        covered[case.family] += low is not None and low <= -100 * truth.SHIFT <= high
    assert all(n >= 34 for n in covered.values()), covered


def test_activity_named_as_value_metric_never_scales(tmp_path: Path) -> None:
    rows, registry = [], []
    dates, go = truth._daily(180, 90)
    post = truth.np.arange(len(dates)) >= 180
    for seed in range(3):
        rng = truth.np.random.default_rng([7, seed])
        pid = f"usage-{seed}"
        flat = truth.LEVEL + truth.ar1(rng, len(dates), 0.5, 3.0)
        usage = 100 * (1 + 0.5 * post) + truth.ar1(rng, len(dates), 0.5, 3.0)
        rows.append(truth._frame(pid, dates, flat))
        rows.append(truth._frame(pid, dates, usage).assign(metric="ai_usage"))
        answers = dict.fromkeys(truth.PILOT_COLUMNS[7:], "answered")
        registry.append({"pilot_id": pid, "go_live": f"{go:%Y-%m-%d}", **answers})
        registry[-1]["value_metric"] = "ai_usage"
    pd.concat(rows).to_csv(tmp_path / "m.csv", index=False)
    pd.DataFrame(registry).to_csv(tmp_path / "p.csv", index=False)
    db = tmp_path / "d.duckdb"
    ingest = truth.cli("ingest", "--db", db, tmp_path / "m.csv", "--pilots", tmp_path / "p.csv")
    assert ingest.returncode == 0, ingest.stderr
    done = truth.cli("analyze", "--db", db, "--format", "json")
    decisions = {p["pilot_id"]: p["decision"] for p in truth.json.loads(done.stdout)["pilots"]}
    assert len(decisions) == 3
    assert "scale" not in decisions.values(), decisions


def test_a_pilot_gets_the_same_answer_alone_as_in_the_portfolio(tmp_path: Path) -> None:
    """Batched fits must not leak between pilots: each pilot analysed alone (--pilot) equals
    its entry in the whole-portfolio run."""
    cases = truth.make_cases(list(truth.FAMILIES), range(1))
    together = {p["pilot_id"]: p for p in truth.analyze(cases, tmp_path)["pilots"]}
    from pilotproof.analysis import analyze_store, to_json
    from pilotproof.store import Store

    with Store(tmp_path / "truth.duckdb") as store:
        for case in cases:
            (alone,) = to_json(analyze_store(store, [case.pilot_id]))["pilots"]
            both = together[case.pilot_id]
            assert alone["decision"] == both["decision"], case.pilot_id
            for got, want in zip(alone["metrics"], both["metrics"], strict=True):
                assert (got["verdict"], got["reasons"]) == (want["verdict"], want["reasons"])
                for key in ("effect_pct", "ci_low_pct", "ci_high_pct"):
                    assert got[key] == pytest.approx(want[key], rel=1e-9, abs=1e-9), key
