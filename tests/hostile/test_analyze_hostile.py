"""`pilotproof analyze` on degenerate and extreme pilots: never a traceback, valid JSON with
finite-or-null numbers, every pilot present, and a reason code wherever there is no estimate."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from . import truth
from .conftest import cli

DATES = pd.date_range("2024-01-01", periods=320, freq="D")
HOSTILE_ID = "'; DROP TABLE observations; --"


def _rows(pilot: str, metric: str, values, group: str = "treatment", unit: str = "", direction=""):
    return [
        (pilot, d.strftime("%Y-%m-%d"), metric, repr(float(v)), group, unit, direction)
        for d, v in zip(DATES, values, strict=False)
    ]


@pytest.fixture(scope="module")
def degenerate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    folder = Path(tmp_path_factory.mktemp("degenerate"))
    rng = np.random.default_rng(3)
    rows = [
        *_rows("ONE", "cycle_time", [5.0]),
        *_rows("CONST", "cycle_time", np.full(120, 7.0)),
        *_rows("ZERO", "cycle_time", np.zeros(120)),
        *_rows("NOPOST", "cycle_time", 10 + rng.normal(0, 1, 50)),
        *_rows("NOPRE", "cycle_time", 10 + rng.normal(0, 1, 120)),
        *_rows("CTRLONLY", "cycle_time", 10 + rng.normal(0, 1, 120), "control", "c1"),
        *_rows("TINY", "profit", rng.normal(0, 1e-300, 120), direction="higher_is_better"),
        *_rows("NEG", "profit", -1e6 + rng.normal(0, 1, 120), direction="higher_is_better"),
        *_rows(HOSTILE_ID, "cycle_time", 10 + rng.normal(0, 1, 120)),
        *_rows("<script>alert(1)</script>", "rework_rate", rng.uniform(0, 0.3, 120)),
    ]
    metrics = folder / "m.csv"
    pd.DataFrame(
        rows, columns=["pilot_id", "date", "metric", "value", "group", "unit", "direction"]
    ).to_csv(metrics, index=False)
    ids = [
        "ONE",
        "CONST",
        "ZERO",
        "NOPOST",
        "NOPRE",
        "CTRLONLY",
        "TINY",
        "NEG",
        HOSTILE_ID,
        "<script>alert(1)</script>",
        "EMPTY",
    ]
    go_live = {"NOPRE": "2023-06-01", "NOPOST": "2024-03-30"}
    pilots = folder / "p.csv"
    pd.DataFrame({"pilot_id": ids, "go_live": [go_live.get(i, "2024-03-01") for i in ids]}).to_csv(
        pilots, index=False
    )
    db = folder / "d.duckdb"
    done = cli("ingest", "--db", db, metrics, "--pilots", pilots)
    assert done.returncode == 0, done.stderr
    done = cli("analyze", "--db", db, "--format", "json")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return db, json.loads(done.stdout)


def _metric(payload: dict, pilot: str) -> dict:
    (entry,) = next(p for p in payload["pilots"] if p["pilot_id"] == pilot)["metrics"]
    return entry


def test_every_pilot_listed_with_finite_numbers(degenerate: tuple[Path, dict]) -> None:
    _, payload = degenerate
    ids = [p["pilot_id"] for p in payload["pilots"]]
    assert len(ids) == 11 and HOSTILE_ID in ids and "EMPTY" in ids
    for pilot in payload["pilots"]:
        for metric in pilot["metrics"]:
            for key in ("effect_pct", "ci_low_pct", "ci_high_pct"):
                assert metric[key] is None or math.isfinite(metric[key])
    no_treatment = {"CTRLONLY", "EMPTY"}
    for pilot in payload["pilots"]:
        assert (pilot["metrics"] == []) == (pilot["pilot_id"] in no_treatment)


@pytest.mark.parametrize("pilot", ["ONE", "CONST", "ZERO", "NOPOST", "NOPRE", "TINY"])
def test_degenerate_series_get_a_reason_and_no_claim(
    degenerate: tuple[Path, dict], pilot: str
) -> None:
    _, payload = degenerate
    metric = _metric(payload, pilot)
    assert metric["verdict"] in {"inconclusive", "no_change"}
    assert metric["reasons"], metric
    if metric["effect_pct"] is None:
        assert "insufficient_data" in metric["reasons"]


def test_negative_level_metric_is_estimated(degenerate: tuple[Path, dict]) -> None:
    _, payload = degenerate
    metric = _metric(payload, "NEG")
    assert metric["verdict"] in {"no_change", "inconclusive"}
    assert metric["effect_pct"] is not None and abs(metric["effect_pct"]) < 0.01


def test_hostile_ids_select_and_print(degenerate: tuple[Path, dict]) -> None:
    db, _ = degenerate
    done = cli("analyze", "--db", db, "--pilot", HOSTILE_ID, "--format", "json")
    assert done.returncode == 0, done.stderr
    assert [p["pilot_id"] for p in json.loads(done.stdout)["pilots"]] == [HOSTILE_ID]
    table = cli("analyze", "--db", db, "--format", "table")
    assert table.returncode == 0 and HOSTILE_ID in table.stdout
    unknown = cli("analyze", "--db", db, "--pilot", "NOPE", "--format", "json")
    assert (
        unknown.returncode == 1 and "NOPE" in unknown.stderr and "Traceback" not in unknown.stderr
    )


def test_verdicts_do_not_depend_on_the_scale(tmp_path: Path) -> None:
    families = ["level_shift", "ar1_null", "pre_trend"]
    cases = truth.make_cases(families, range(3))
    big = truth.make_cases(families, range(3), scale=1e150)
    plain = truth.tabulate(cases, truth.analyze(cases, _mk(tmp_path, "a")))
    scaled = truth.tabulate(big, truth.analyze(big, _mk(tmp_path, "b")))
    assert plain["verdict"].tolist() == scaled["verdict"].tolist()


def test_an_overflowing_outlier_is_not_a_certain_result(tmp_path: Path) -> None:
    values = 10 + np.random.default_rng(1).normal(0, 1, 120)
    values[100] = 1e308
    metrics = tmp_path / "m.csv"
    pd.DataFrame(
        _rows("OUT", "cycle_time", values),
        columns=["pilot_id", "date", "metric", "value", "group", "unit", "direction"],
    ).to_csv(metrics, index=False)
    pilots = tmp_path / "p.csv"
    pilots.write_text("pilot_id,go_live\nOUT,2024-03-01\n")
    db = tmp_path / "o.duckdb"
    assert cli("ingest", "--db", db, metrics, "--pilots", pilots).returncode == 0
    done = cli("analyze", "--db", db, "--format", "json")
    assert done.returncode == 0, done.stderr
    metric = _metric(json.loads(done.stdout), "OUT")
    if metric["effect_pct"] is not None:
        assert metric["ci_low_pct"] < metric["ci_high_pct"], metric
    assert metric["verdict"] not in {"real", "worse"}, metric


def _mk(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    return folder


def test_too_few_points_still_report_a_minimum_detectable_effect(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    dates = pd.date_range("2024-01-01", periods=320, freq="D")
    values = 100 * np.where(np.arange(320) >= 20, 0.85, 1.0) + truth.ar1(rng, 320, 0.5, 3.0)
    metrics = tmp_path / "m.csv"
    pd.DataFrame(
        _rows("SHORT", "cycle_time", values),
        columns=["pilot_id", "date", "metric", "value", "group", "unit", "direction"],
    ).to_csv(metrics, index=False)
    pilots = tmp_path / "p.csv"
    pilots.write_text(f"pilot_id,go_live\nSHORT,{dates[20]:%Y-%m-%d}\n")
    db = tmp_path / "s.duckdb"
    assert cli("ingest", "--db", db, metrics, "--pilots", pilots).returncode == 0
    done = cli("analyze", "--db", db, "--format", "json")
    metric = _metric(json.loads(done.stdout), "SHORT")
    assert "insufficient_data" in metric["reasons"]
    assert metric["mde_pct"] is not None and 0 < metric["mde_pct"] < 100, metric
