"""Read the shipped sample portfolio straight from its CSVs with pandas, independent of the
store, so the data's own stories can be checked whatever the store or analytics do."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "data" / "sample"


def load_generator():
    """The generator script as a module (it lives in data/, not in a package)."""
    spec = importlib.util.spec_from_file_location("make_sample", SAMPLE_DIR / "make_sample.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


def metric_files(directory: Path = SAMPLE_DIR) -> list[Path]:
    return sorted(directory.glob("metrics_*.csv"))


def read_observations(directory: Path = SAMPLE_DIR) -> pd.DataFrame:
    """Every metrics file in long form: pilot_id, date, metric, value, group, unit, segment,
    volume."""
    frames = []
    for path in metric_files(directory):
        frame = pd.read_csv(path, parse_dates=["date"], keep_default_na=False, na_values=[""])
        if "metric" not in frame.columns:  # wide export
            frame = frame.melt(id_vars=["pilot_id", "date"], var_name="metric", value_name="value")
        for column in ("group", "unit", "segment"):
            frame[column] = frame[column].astype("string").fillna("") if column in frame else ""
        frame["group"] = frame["group"].replace("", "treatment")
        if "volume" not in frame:
            frame["volume"] = np.nan
        frame["file"] = path.name
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def treatment_series(observations: pd.DataFrame, pilot_id: str, metric: str) -> pd.Series:
    """The pilot's treatment series by date; segmented rows become their volume-weighted mean."""
    rows = observations[
        (observations["pilot_id"] == pilot_id)
        & (observations["metric"] == metric)
        & (observations["group"] == "treatment")
    ]
    if rows["segment"].ne("").any():
        weighted = rows.assign(weighted=rows["value"] * rows["volume"]).groupby("date")
        return weighted["weighted"].sum() / weighted["volume"].sum()
    return rows.groupby("date")["value"].mean()


def split(series: pd.Series, go_live: pd.Timestamp) -> tuple[pd.Series, pd.Series]:
    return series[series.index < go_live], series[series.index >= go_live]


def naive_change_pct(series: pd.Series, go_live: pd.Timestamp) -> float:
    """Post mean against pre mean, in percent: the comparison a mirage fools."""
    pre, post = split(series, go_live)
    return 100.0 * (post.mean() / pre.mean() - 1.0)
