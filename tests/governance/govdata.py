"""A store in tmp_path holding one ready pilot whose cycle time fell 20% at go-live."""

from __future__ import annotations

import numpy as np
import pandas as pd

PILOT = "GV-1"
GO_LIVE = pd.Timestamp("2026-03-02")
READY = {
    "workflow": "claims intake",
    "decision_owner": "claims director",
    "execution_owner": "intake team",
    "exception_path": "manual queue",
    "escalation_path": "team lead",
    "control_points": "weekly audit",
    "value_metric": "cycle_time",
}


def pilot_files(effect: float = 0.20, seed: int = 3) -> list[tuple[str, bytes]]:
    """A pilots file and 52 weeks of cycle time, `effect` lower from go-live on."""
    rng = np.random.default_rng(seed)
    weeks = pd.date_range(GO_LIVE - pd.Timedelta(weeks=36), periods=52, freq="W-MON")
    level = np.where(weeks >= GO_LIVE, 100.0 * (1 - effect), 100.0)
    values = level + rng.normal(0.0, 1.5, len(weeks))
    metrics = pd.DataFrame(
        {"pilot_id": PILOT, "date": weeks.strftime("%Y-%m-%d"), "metric": "cycle_time",
         "value": values.round(3)}
    )  # fmt: skip
    pilots = pd.DataFrame([{"pilot_id": PILOT, "go_live": GO_LIVE.date().isoformat(),
                            "pilot_name": "Intake assistant", **READY}])  # fmt: skip
    return [
        ("pilots.csv", pilots.to_csv(index=False).encode()),
        ("metrics.csv", metrics.to_csv(index=False).encode()),
    ]
