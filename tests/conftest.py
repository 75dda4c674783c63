"""A page that fails shows Streamlit's own error box in every test (`PILOTPROOF_DEBUG`), so
`AppTest.exception` and the browser tests' `stException` still see a defect; the partner's
message in its place is tested on its own (tests/pages/test_unexpected_error.py).

Every subprocess a test starts (the `pilotproof` console script, `streamlit run`) imports the
checkout under test: the console script alone would import whichever checkout the virtual
environment was installed from (an editable install of another worktree)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_path = os.environ.get("PYTHONPATH", "")
if str(ROOT) not in _path.split(os.pathsep):
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), _path) if p)
os.environ["PILOTPROOF_DEBUG"] = "1"


UNPROVEN_PILOT = "UNPROVEN"


def _unproven_files(daily_items: int = 15) -> list[tuple[str, bytes]]:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(7)
    go_live = pd.Timestamp("2025-03-03")
    days = pd.date_range(go_live - pd.Timedelta(days=180), periods=270, freq="D")
    cycle = np.where(days >= go_live, 85.0, 100.0) + rng.normal(0.0, 3.0, len(days))
    rework = rng.binomial(daily_items, 0.08, len(days)) / daily_items
    dates = days.strftime("%Y-%m-%d")
    metrics = pd.concat(
        [
            pd.DataFrame({"date": dates, "metric": "cycle_time", "value": cycle.round(3)}),
            pd.DataFrame({"date": dates, "metric": "rework_rate", "value": rework.round(4)}),
        ]
    ).assign(pilot_id=UNPROVEN_PILOT)
    ready = {
        "workflow": "claims triage", "decision_owner": "claims lead",
        "execution_owner": "operations", "exception_path": "route to a senior handler",
        "escalation_path": "duty manager", "control_points": "weekly audit",
        "value_metric": "cycle_time",
    }  # fmt: skip
    pilots = pd.DataFrame(
        [{"pilot_id": UNPROVEN_PILOT, "pilot_name": "Claims triage assistant",
          "company": "Synth Co", "go_live": go_live.strftime("%Y-%m-%d"), **ready}]
    )  # fmt: skip
    return [
        ("pilots.csv", pilots.to_csv(index=False).encode()),
        (
            "metrics.csv",
            metrics.to_csv(index=False, columns=["pilot_id", "date", "metric", "value"]).encode(),
        ),
    ]


@pytest.fixture(scope="session")
def unproven_files() -> list[tuple[str, bytes]]:
    """A pilots file and a daily metrics file for a store: one real win (cycle time 15% lower
    from go-live, 180 days before and 90 after) whose rework rate does not change but is
    measured on 15 items a day (8%, binomial), so its 95% interval still reaches past the
    catalog's 0.5 points tolerated: the pilot (`UNPROVEN_PILOT`) extends with the reason
    `guardrail_unproven`."""
    return _unproven_files()
