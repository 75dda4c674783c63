"""`pilotproof plan set|show` and `pilotproof decide`; an older database carried forward."""

from __future__ import annotations

import json

import duckdb
from govdata import GO_LIVE, PILOT, pilot_files

from pilotproof.cli import main
from pilotproof.store import Store
from pilotproof.store.schema import SCHEMA_VERSION, V1, V2


def test_plan_set_show_and_decide(store, capsys):
    db = str(store.path)
    store.close()
    assert main(["--db", db, "plan", "set", PILOT, "--threshold", "30", "--value-metric",
                 "cycle_time", "--guardrail", "rework_rate:5", "--window", "60", "--by", "dana"]
                ) == 1  # fmt: skip
    refused = capsys.readouterr().err
    assert "give a reason" in refused and GO_LIVE.date().isoformat() in refused  # locked
    assert main(["--db", db, "plan", "set", PILOT, "--threshold", "30", "--value-metric",
                 "cycle_time", "--reason", "set late", "--by", "dana"]) == 0  # fmt: skip
    assert "plan version 1 saved" in capsys.readouterr().out
    assert main(["--db", db, "plan", "show", PILOT, "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["plan_status"] == "set_after_lock" and shown["plan_gap"] is True
    assert shown["plan"]["set_by"] == "dana" and shown["plan"]["reason"] == "set late"
    assert main(["--db", db, "decide", PILOT, "stop", "--note", "no budget", "--by", "cfo"]) == 0
    assert "pilotproof recommends fix" in capsys.readouterr().out  # 20% is below 30%
    assert main(["--db", db, "analyze", "--format", "json"]) == 0
    (pilot,) = json.loads(capsys.readouterr().out)["pilots"]
    assert pilot["decision"] == "fix" and pilot["decision_logged"]["decision"] == "stop"
    assert pilot["decision_logged"]["disagrees"] is True
    assert {"metrics", "reasons", "summary", "net_value"} <= set(pilot)  # nothing removed
    assert main(["--db", db, "plan", "show", PILOT]) == 0
    table = capsys.readouterr().out
    assert "Criteria not pre-registered" in table and "v1 set" in table
    assert main(["--db", db, "decide", "NOPE", "stop"]) == 1


def test_v2_database_is_carried_forward_and_shows_the_gap(tmp_path):
    path = tmp_path / "v2.duckdb"
    con = duckdb.connect(str(path))
    for statement in (*V1, *V2):
        con.execute(statement)
    con.execute("INSERT INTO meta VALUES ('schema_version', '2'), ('data_version', '7')")
    con.close()
    with Store(path) as store:
        assert store.schema_version() == SCHEMA_VERSION
        store.ingest(pilot_files(), user="old")
        assert store.plans().empty and store.decisions().empty
        from pilotproof.analysis import analyze_store

        (result,) = analyze_store(store)
        assert result.governance.status == "not_pre_registered" and result.governance.gap
        assert not store.results_seen().empty  # the first results are now on record
