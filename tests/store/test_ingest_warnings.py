"""Values that look like typos are warnings at ingest, by file and line: never a refusal."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pilotproof.store import Store


def _csv(values) -> bytes:
    dates = pd.date_range("2025-01-06", periods=len(values), freq="7D")
    frame = pd.DataFrame(
        {"pilot_id": "T1", "date": dates.strftime("%Y-%m-%d"), "metric": "cycle_time"}
    )
    return frame.assign(value=values).to_csv(index=False).encode()


PILOTS = ("pilots.csv", b"pilot_id,pilot_name,go_live\nT1,Typo pilot,2025-10-06\n")


def _values(seed: int = 0) -> np.ndarray:
    return np.round(40 * (1 + np.random.default_rng(seed).normal(0, 0.04, 60)), 2)


def test_a_decimal_slip_and_a_gross_outlier_are_named_by_line(tmp_path: Path) -> None:
    values = _values()
    values[20] = 4032.0  # 40.32 with the decimal point lost
    values[40] = 95.0  # no slip, but far outside the series' own variation
    with Store(tmp_path / "s.duckdb") as store:
        store.ingest([PILOTS])
        report = store.validate([("typo.csv", _csv(values))])
        assert report.ok and report.total_warnings == 2
        result = store.ingest([("typo.csv", _csv(values))])
        assert result.rows == 60  # written: the data may be true
        slip, gross = result.warnings
        assert (slip.file, slip.line, gross.line) == ("typo.csv", 22, 42)  # header is line 1
        assert "4032 is" in slip.message and "a decimal slip?" in slip.message
        assert "95 lies" in gross.message and "robust standard deviations" in gross.message
        assert [str(w) for w in report.warnings] == [str(w) for w in result.warnings]


def test_ordinary_noise_and_a_lasting_level_shift_raise_no_warning(tmp_path: Path) -> None:
    values = _values(1)
    values[30:] *= 3  # a lasting tripling is a level, not a typo
    with Store(tmp_path / "s.duckdb") as store:
        result = store.ingest([PILOTS, ("fine.csv", _csv(values))])
        assert result.rows == 60 and result.warnings == () and result.total_warnings == 0
