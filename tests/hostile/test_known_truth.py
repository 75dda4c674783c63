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
