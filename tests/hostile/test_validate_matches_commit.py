"""What the Upload page's validation says equals what its commit does. A pilots file's currency
and success plan were checked only where they are written, so validation said "Every file passed"
for a currency of '€', a plan set in the future, a plan on an unknown metric or a plan changed
after its lock without a reason, and the commit then refused it. Now validation refuses the same
problems, by line, and writes nothing, whatever it checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from pilotproof.store import IngestError, Store

from .conftest import dump

PLAN = "pilot_id,go_live,plan_value_metric,plan_threshold_pct,plan_set_on"
REFUSED = [
    pytest.param("pilot_id,go_live,currency\nP9,2024-01-01,€\n", "currency", id="currency_sign"),
    pytest.param(f"{PLAN}\nP9,2024-01-01,cycle_time,10,2999-01-01\n", "plan", id="plan_in_future"),
    pytest.param(f"{PLAN}\nP9,2024-01-01,no_such_metric,10,\n", "plan", id="plan_unknown_metric"),
    # P1 went live on 2024-03-01 (the registry), so its plan locked then
    pytest.param(f"{PLAN}\nP1,2024-03-01,cycle_time,5,2024-06-01\n", "plan", id="relock_no_reason"),
]


@pytest.mark.parametrize(("text", "column"), REFUSED)
def test_validation_refuses_what_the_commit_refuses(registry: Path, text: str, column: str) -> None:
    upload = [("pilots.csv", text.encode())]
    before = dump(registry)
    with Store(registry) as store:
        report = store.validate(upload)
        with pytest.raises(IngestError) as refused:
            store.ingest(upload)
    assert not report.ok
    assert [str(p) for p in report.problems] == [str(p) for p in refused.value.problems]
    (problem,) = report.problems
    assert (problem.file, problem.line, problem.column) == ("pilots.csv", 2, column)
    assert dump(registry) == before


def test_validating_a_good_pilots_file_writes_nothing(registry: Path) -> None:
    upload = [(
        "pilots.csv",
        f"{PLAN},currency\nP9,2024-01-01,cycle_time,10,2023-12-01,EUR\n".encode(),
    )]  # fmt: skip
    before = dump(registry)
    with Store(registry) as store:
        assert store.validate(upload).ok
    assert dump(registry) == before
    with Store(registry) as store:
        store.ingest(upload)
        assert "P9" in set(store.pilots()["pilot_id"])
