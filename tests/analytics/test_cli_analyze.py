"""`pilotproof analyze` end to end on a store built in tmp_path from data/sample."""

from __future__ import annotations

import json
import math

import pytest

from pilotproof.cli import main
from pilotproof.store import Store, sample_files

PILOT_KEYS = {"pilot_id", "decision", "reasons", "metrics"}
METRIC_KEYS = {"metric", "verdict", "effect_pct", "ci_low_pct", "ci_high_pct", "reasons"}


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "sample.duckdb"
    with Store(path) as store:
        store.ingest(sample_files(), user="test")
        pilots = store.pilots()
        obs = store.observations()
    treated = obs[obs["group"] == "treatment"][["pilot_id", "metric"]].drop_duplicates()
    return path, set(pilots["pilot_id"]), set(map(tuple, treated.to_numpy()))


def _finite_or_null(node) -> bool:
    if isinstance(node, dict):
        return all(_finite_or_null(v) for v in node.values())
    if isinstance(node, list):
        return all(_finite_or_null(v) for v in node)
    if isinstance(node, float):
        return math.isfinite(node)
    return True


def test_json_contract(db, capsys):
    path, pilot_ids, treated = db
    assert main(["analyze", "--db", str(path), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {"pilots"}
    assert {p["pilot_id"] for p in doc["pilots"]} == pilot_ids
    seen = set()
    for pilot in doc["pilots"]:
        assert set(pilot) >= PILOT_KEYS
        assert pilot["decision"] in {"scale", "fix", "extend", "stop"}
        for metric in pilot["metrics"]:
            assert set(metric) >= METRIC_KEYS
            assert metric["verdict"] in {"real", "mirage", "inconclusive", "worse", "no_change"}
            seen.add((pilot["pilot_id"], metric["metric"]))
            if metric["effect_pct"] is not None:
                assert metric["ci_low_pct"] <= metric["effect_pct"] <= metric["ci_high_pct"]
    assert seen == treated
    assert _finite_or_null(doc)


def test_pilot_filter_and_table(db, capsys):
    path, pilot_ids, _ = db
    chosen = sorted(pilot_ids)[:2]
    assert main(["analyze", "--db", str(path), "--pilot", *chosen, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [p["pilot_id"] for p in doc["pilots"]] == chosen
    assert main(["analyze", "--db", str(path), "--pilot", chosen[0], "--format", "table"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{chosen[0]}: ")
    assert "95% interval" in out


def test_unknown_pilot_is_a_clear_error(db, capsys):
    path, _, _ = db
    assert main(["analyze", "--db", str(path), "--pilot", "NOPE", "--format", "json"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "unknown pilot id: NOPE" in captured.err


def test_empty_database(tmp_path, capsys):
    assert main(["analyze", "--db", str(tmp_path / "empty.duckdb"), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"pilots": []}
    assert main(["analyze", "--db", str(tmp_path / "empty.duckdb"), "--format", "table"]) == 0
    assert "No pilots" in capsys.readouterr().out
