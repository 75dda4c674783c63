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


def test_a_mix_shifts_net_value_interval_is_its_rate_parts_own(db, capsys):
    """The Order desk's JSON gave EUR -109k to -107.5k: the whole change's interval narrowed by
    the share credited to the pilot (about 1%), a precision the rate part does not have. Its
    interval is the rate part's own (`rate_ci_low_pct`/`rate_ci_high_pct`) in money, and it
    holds the credited point; the contract's keys stay as they were."""
    path, _, _ = db
    assert main(["analyze", "--db", str(path), "--pilot", "NW-ORDERS", "--format", "json"]) == 0
    (pilot,) = json.loads(capsys.readouterr().out)["pilots"]
    net = pilot["net_value"]
    assert set(net) == {"metric", "annual_gross", "annual_cost", "annual_net", "ci_low", "ci_high"}
    (metric,) = [m for m in pilot["metrics"] if m["metric"] == net["metric"]]
    assert "mix_shift" in metric["reasons"]
    rate, mix = metric["rate_effect_pct"], metric["mix_effect_pct"]
    low, high = metric["rate_ci_low_pct"], metric["rate_ci_high_pct"]
    assert low < rate < high
    per_pct = net["annual_gross"] / rate  # money a 1% change in the rate part is worth
    cost = net["annual_cost"]
    expected = sorted((low * per_pct - cost, high * per_pct - cost))
    assert (net["ci_low"], net["ci_high"]) == pytest.approx(expected, rel=1e-6)
    assert net["ci_low"] < net["annual_net"] < net["ci_high"]
    # the gross value's interval holds zero: no saving told apart from noise
    assert net["ci_low"] + cost < 0 < net["ci_high"] + cost
    # never the whole change's interval scaled down by the credited share (as wide, relative
    # to the credited gross value, as the whole change's interval is relative to the change)
    narrowed = abs(net["annual_gross"]) * (metric["ci_high_pct"] - metric["ci_low_pct"])
    narrowed /= abs(metric["effect_pct"])
    assert net["ci_high"] - net["ci_low"] > 5 * narrowed
    assert abs(rate) < abs(mix)
