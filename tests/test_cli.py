"""The `pilotproof` command: exit codes, the one-line summary, problems on stderr, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pilotproof.cli import MAX_PRINTED, main

PILOTBIN = Path(sys.executable).with_name("pilotproof")
HEAD = "pilot_id,date,metric,value\n"


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {
        "pilots": "pilot_id,go_live,pilot_name,company\nP1,2024-02-01,Bot,Acme\n",
        "metrics": HEAD + "P1,2024-01-01,cycle_time,5\nP1,2024-01-02,cycle_time,4\n",
        "bad": HEAD + "P1,2024-01-03,cycle_time,-5\nP1,2024-01-04,rework_rate,7\n",
    }
    out = {}
    for name, text in paths.items():
        out[name] = tmp_path / f"{name}.csv"
        out[name].write_text(text)
    return out


def test_ingest_prints_one_summary_line(files, tmp_path: Path, capsys) -> None:
    db = str(tmp_path / "cli.duckdb")
    code = main(["ingest", str(files["metrics"]), "--pilots", str(files["pilots"]), "--db", db])
    out = capsys.readouterr()
    assert code == 0
    assert out.out.count("\n") == 1
    assert "ingested 2 rows: 1 pilot, 1 series, 2024-01-01 to 2024-01-02" in out.out
    assert main(["ingest", str(files["metrics"]), "--db", db]) == 0
    assert "nothing new" in capsys.readouterr().out


def test_ingest_refusal_lists_problems_and_exits_1(files, tmp_path: Path, capsys) -> None:
    db = str(tmp_path / "cli.duckdb")
    main(["ingest", str(files["metrics"]), "--pilots", str(files["pilots"]), "--db", db])
    capsys.readouterr()
    code = main(["ingest", str(files["bad"]), "--db", db, "--user", "ops"])
    err = capsys.readouterr().err.splitlines()
    assert code == 1
    assert err[0] == f"{files['bad']}:2: column value: cycle_time cannot be negative: -5"
    assert err[1].startswith(f"{files['bad']}:3: column value: rework_rate is a rate")
    assert len(err) == 2  # one line per problem, nothing else


def test_many_problems_are_capped(files, tmp_path: Path, capsys) -> None:
    bad = tmp_path / "many.csv"
    rows = "".join(f"P1,{1900 + i},cycle_time,x\n" for i in range(120))
    bad.write_text(HEAD + rows)
    code = main(
        ["ingest", str(bad), "--pilots", str(files["pilots"]), "--db", str(tmp_path / "c.db")]
    )
    err = capsys.readouterr().err.splitlines()
    assert code == 1
    assert len(err) == MAX_PRINTED + 1
    assert err[-1] == f"... and {120 - MAX_PRINTED} more problems"


def test_ingest_pilots_alone_or_nothing(files, tmp_path: Path, capsys) -> None:
    db = str(tmp_path / "cli.duckdb")
    assert main(["ingest", "--pilots", str(files["pilots"]), "--db", db]) == 0
    assert "saved 1 pilot" in capsys.readouterr().out
    assert main(["ingest", "--db", db]) == 2
    assert "give at least one file" in capsys.readouterr().err


def test_db_before_or_after_the_subcommand(files, tmp_path: Path, capsys) -> None:
    before, after = str(tmp_path / "before.duckdb"), str(tmp_path / "after.duckdb")
    assert main(["--db", before, "ingest", "--pilots", str(files["pilots"])]) == 0
    assert main(["--db", before, "pilots", "--db", after, "--format", "csv"]) == 0
    assert "P1" not in capsys.readouterr().out  # the one after the subcommand wins
    assert main(["--db", before, "pilots", "--format", "csv"]) == 0
    assert "P1,Bot,Acme" in capsys.readouterr().out


def test_pilots_formats(files, tmp_path: Path, capsys) -> None:
    db = str(tmp_path / "cli.duckdb")
    assert main(["pilots", "--db", db]) == 0
    assert "No pilots yet" in capsys.readouterr().out
    main(["ingest", str(files["pilots"]), "--db", db])
    capsys.readouterr()
    assert main(["pilots", "--db", db, "--format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert records[0]["pilot_id"] == "P1" and records[0]["go_live"] == "2024-02-01"
    assert records[0]["workflow"] is None and records[0]["monthly_cost"] is None
    assert main(["pilots", "--db", db, "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("pilot_id,pilot_name,company") and lines[1].startswith("P1,Bot,Acme")
    formulas = tmp_path / "formulas.csv"
    formulas.write_text('pilot_id,go_live,pilot_name,company\nP2,2024-02-01,"=1+1",@SUM(A1)\n')
    main(["ingest", str(formulas), "--db", db])
    capsys.readouterr()
    assert main(["pilots", "--db", db, "--format", "csv"]) == 0
    assert "P2,'=1+1,'@SUM(A1)," in capsys.readouterr().out
    assert main(["pilots", "--db", db]) == 0
    assert "P1" in capsys.readouterr().out


def test_subprocess_exit_codes_and_no_traceback(files, tmp_path: Path) -> None:
    env = {"PILOTPROOF_DB": str(tmp_path / "env.duckdb"), "PATH": "/usr/bin:/bin"}
    ok = subprocess.run(
        [str(PILOTBIN), "ingest", str(files["metrics"]), "--pilots", str(files["pilots"])],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "env.duckdb").exists()  # PILOTPROOF_DB respected
    binary = tmp_path / "photo.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    bad = subprocess.run(
        [str(PILOTBIN), "ingest", str(binary), str(files["bad"])],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert bad.returncode == 1
    assert "Traceback" not in bad.stderr
    assert (
        bad.stderr.splitlines()[0]
        == f"{binary}:3: column -: binary data (a NUL byte), not CSV text"
    )
    missing = subprocess.run(
        [str(PILOTBIN), "ingest", str(tmp_path / "nope.csv")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert "cannot read the file" in missing.stderr
    for command in ("ingest", "pilots", "analyze", "report"):
        helped = subprocess.run(
            [str(PILOTBIN), command, "--help"], capture_output=True, text=True, timeout=120
        )
        assert helped.returncode == 0 and "--db" in helped.stdout
