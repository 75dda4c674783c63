"""A wide file with thousands of metric columns: each column is one expression in the staging
SQL, and a 170 kB one-row file of 20,000 columns took 145 s and 6.8 GB before it was refused
for its unknown metrics. Past `MAX_METRIC_COLUMNS` the file is refused from its header, at
line 1, with what to do; columns mapped to (ignore) do not count."""

from __future__ import annotations

from pathlib import Path

import pytest

from pilotproof.store import IngestError, ReadOptions, Store
from pilotproof.store import reading as rd

from .conftest import cli, dump, problems

KNOWN = ["cycle_time", "rework_rate", "manual_touches", "cost_per_transaction", "response_time"]


def _wide(metrics: list[str]) -> bytes:
    head = ",".join(["pilot_id", "date", *metrics])
    row = ",".join(["P1", "2024-01-05", *("0.5" for _ in metrics)])
    return f"{head}\n{row}\n".encode()


def test_a_header_of_too_many_metric_columns_is_refused_at_line_1(
    registry: Path, tmp_path: Path
) -> None:
    path = tmp_path / "wide.csv"
    path.write_bytes(_wide([f"m{i}" for i in range(rd.MAX_METRIC_COLUMNS + 100)]))
    before = dump(registry)
    done = cli("ingest", "--db", registry, path)
    assert done.returncode == 1 and dump(registry) == before
    (problem,) = problems(done.stderr)
    assert (problem["line"], problem["column"]) == ("1", "-")
    assert problem["message"].startswith(
        f"the file has {rd.MAX_METRIC_COLUMNS + 100:,} metric columns, over the "
        f"{rd.MAX_METRIC_COLUMNS:,} pilotproof reads"
    )


def test_columns_mapped_to_ignore_do_not_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rd, "MAX_METRIC_COLUMNS", len(KNOWN) - 1)
    data = _wide(KNOWN)
    with Store(tmp_path / "s.duckdb") as store:
        store.ingest([("p.csv", b"pilot_id,go_live\nP1,2024-03-01\n")])
        with pytest.raises(IngestError) as refused:
            store.ingest([("w.csv", data)])
        (problem,) = refused.value.problems
        assert problem.line == 1 and "5 metric columns, over the 4" in problem.message
        assert store.observations().empty
        store.ingest([("w.csv", data)], mapping=ReadOptions(columns={KNOWN[0]: "(ignore)"}))
        assert sorted(store.observations()["metric"]) == sorted(KNOWN[1:])
