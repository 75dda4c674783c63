"""Input cleaning: the observations, pilots and answers as the analysis reads them, whatever
arrived (text numbers, unreadable dates, timestamps with offsets, blank answers)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def number(value: object) -> float | None:
    """`value` as a finite float, or None (text that is no number, NaN, infinity, None)."""
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return out if np.isfinite(out) else None


def answered(value: object) -> bool:
    """Is this readiness answer (or name) given: not None, NaN or blank?"""
    return (
        value is not None
        and not (isinstance(value, float) and np.isnan(value))
        and str(value).strip() != ""
    )


def pilot_info(pilots: pd.DataFrame) -> dict[str, dict[str, object]]:
    """pilot_id -> the pilot's row as a dict, its `go_live` a Timestamp or None when missing or
    unreadable; in the frame's order."""
    info: dict[str, dict[str, object]] = {}
    if pilots is None or pilots.empty:
        return info
    for row in pilots.to_dict("records"):
        go_live = pd.to_datetime(row.get("go_live"), errors="coerce")
        row["go_live"] = None if pd.isna(go_live) else pd.Timestamp(go_live)
        info[str(row["pilot_id"])] = row
    return info


def clean_observations(observations: pd.DataFrame) -> pd.DataFrame:
    """The observation columns `pilot_id, metric, date, group, unit, segment, value, volume`
    (missing ones added): text as text, dates as naive timestamps (`_dates`), group
    `treatment` where blank, numbers numeric; rows without a pilot, a metric, a readable date
    or a finite value are dropped. The caller's frame is left alone."""
    cols = ["pilot_id", "metric", "date", "group", "unit", "segment", "value", "volume"]
    obs = observations.reindex(columns=cols)  # copy-on-write: assigning leaves the caller's alone
    named = (obs["pilot_id"].notna() & obs["metric"].notna()).to_numpy(dtype=bool)
    obs["pilot_id"] = obs["pilot_id"].astype(str)
    obs["metric"] = obs["metric"].astype(str)
    obs["date"] = _dates(obs["date"])
    obs["group"] = obs["group"].fillna("treatment").astype(str)
    obs["unit"] = obs["unit"].fillna("").astype(str)
    obs["segment"] = obs["segment"].fillna("").astype(str)
    obs["value"] = pd.to_numeric(obs["value"], errors="coerce")
    obs["volume"] = pd.to_numeric(obs["volume"], errors="coerce")
    usable = (
        named & obs["date"].notna().to_numpy() & np.isfinite(obs["value"].to_numpy(dtype=float))
    )
    return obs if usable.all() else obs[usable]  # the usual case needs no filtered copy


def _dates(column: pd.Series) -> pd.Series:
    """Dates as naive timestamps; unreadable ones become NaT. Timestamps with UTC offsets keep
    their local calendar day, even when the offset changes with daylight saving (which pandas
    refuses to hold in one column)."""
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        return column.dt.tz_localize(None) if column.dt.tz is not None else column
    try:
        parsed = pd.to_datetime(column, errors="coerce")
    except (ValueError, TypeError):  # mixed offsets: read each stamp's own wall-clock time
        parsed = pd.to_datetime(column.map(_wall_clock), errors="coerce")
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_localize(None)
    return parsed


def _wall_clock(value: object) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        return pd.NaT
    return stamp.tz_localize(None) if stamp.tzinfo is not None else stamp
