"""Input cleaning: the observations, pilots and answers as the analysis reads them, whatever
arrived (text numbers, unreadable dates, timestamps with offsets, blank answers)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def number(value: object) -> float | None:
    """`value` as a finite float, or None (text that is no number, NaN, infinity, None)."""
    try:
        out = float(value)  # type: ignore[arg-type]  # any cell: what float cannot read is None
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
    for record in pilots.to_dict("records"):
        row = {str(k): v for k, v in record.items()}
        # any cell: what to_datetime cannot read becomes NaT, read as no go-live
        go_live = pd.to_datetime(row.get("go_live"), errors="coerce")  # type: ignore[call-overload]
        row["go_live"] = None if pd.isna(go_live) else pd.Timestamp(go_live)
        info[str(row["pilot_id"])] = row
    return info


def timestamp(value: object) -> pd.Timestamp | None:
    """`value` as a Timestamp; None when it is missing (None, NaN, NaT) or unreadable."""
    if value is None:
        return None
    try:
        # any value: what Timestamp cannot read is caught below
        stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if pd.isna(stamp) else stamp


def go_live_of(row: dict[str, object]) -> pd.Timestamp | None:
    """The go-live of a `pilot_info` row: a Timestamp, or None."""
    go_live = row.get("go_live")
    return go_live if isinstance(go_live, pd.Timestamp) else None


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


def _wall_clock(value: object) -> pd.Timestamp | None:
    try:
        stamp = pd.Timestamp(value)  # type: ignore[arg-type]  # any cell: unreadable is None
    except (ValueError, TypeError):
        return None
    return stamp.tz_localize(None) if stamp.tzinfo is not None else stamp
