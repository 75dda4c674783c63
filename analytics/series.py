"""Long observations turned into one series per (pilot, metric), with numpy grouping.

The observation table can hold millions of rows; grouping it with integer codes and sorted runs
(instead of a pandas group-by per pilot) keeps the preparation a small share of the analysis.
Treated rows become the mean over units per date; control rows become one series per unit.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

Key = tuple[str, str]


@dataclass(frozen=True)
class Encoded:
    """The observations as integer codes and numpy arrays."""

    pilots: np.ndarray  # unique pilot ids (object)
    metrics: np.ndarray  # unique metric names (object)
    key: np.ndarray  # pilot_code * len(metrics) + metric_code
    date: np.ndarray  # int64 nanoseconds
    value: np.ndarray
    treated: np.ndarray  # bool
    unit: np.ndarray  # int codes into `units`
    units: np.ndarray
    segmented: np.ndarray  # bool: the row names a segment

    def name(self, key: int) -> Key:
        n = len(self.metrics)
        return str(self.pilots[key // n]), str(self.metrics[key % n])


def encode(obs: pd.DataFrame) -> Encoded:
    """Integer codes for pilots and metrics; units are coded on the control rows only (the
    treated series average over units)."""
    key, pilots, metrics = _key_runs(obs["pilot_id"], obs["metric"])
    treated = (obs["group"] != "control").to_numpy(dtype=bool)
    segmented = (obs["segment"] != "").to_numpy(dtype=bool)
    unit_codes = np.zeros(len(obs), dtype=np.int64)
    units = np.asarray([""], dtype=object)
    if not treated.all():
        codes, found = pd.factorize(obs["unit"].iloc[np.flatnonzero(~treated)], sort=False)
        unit_codes[~treated] = codes
        units = np.asarray(found, dtype=object)
    return Encoded(
        pilots=np.asarray(pilots, dtype=object),
        metrics=np.asarray(metrics, dtype=object),
        key=key,
        date=obs["date"].to_numpy(dtype="datetime64[ns]").view(np.int64),
        value=obs["value"].to_numpy(dtype=float),
        treated=treated,
        unit=unit_codes,
        units=units,
        segmented=segmented,
    )


def _key_runs(a: pd.Series, b: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row, `code(a) * len(uniques of b) + code(b)` with codes in order of appearance (as
    `pd.factorize`), and the uniques of a and b; only the first row of each run of equal (a, b)
    is hashed: observations come grouped by pilot and metric, so a few thousand runs stand for
    millions of rows, and the key is computed per run, then repeated."""
    if len(a) == 0:
        empty = np.zeros(0, dtype=object)
        return np.zeros(0, dtype=np.int64), empty, empty
    a_arr, b_arr = a.array, b.array  # compared as arrays: no shifted copy, no Series overhead
    change = np.empty(len(a), dtype=bool)
    change[0] = True
    change[1:] = np.asarray(a_arr[1:] != a_arr[:-1], dtype=bool)
    change[1:] |= np.asarray(b_arr[1:] != b_arr[:-1], dtype=bool)
    starts = np.flatnonzero(change)
    lengths = np.diff(np.r_[starts, len(a)])
    # each run's first values, read one by one: a take on a column of many chunks (a frame
    # concatenated from many) gathers across all of them, 6 ms for a few hundred runs
    at = starts.tolist()
    a_codes, a_uniques = pd.factorize(np.asarray([a_arr[i] for i in at], dtype=object))
    b_codes, b_uniques = pd.factorize(np.asarray([b_arr[i] for i in at], dtype=object))
    run_key = a_codes.astype(np.int64) * max(len(b_uniques), 1) + b_codes
    return np.repeat(run_key, lengths), a_uniques, b_uniques


def _runs(
    group: np.ndarray, date: np.ndarray, value: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mean value per (group, date), sorted; returns groups, dates, means, group starts and the
    groups whose number of rows per date varies."""
    ordered = len(group) < 2 or bool(
        np.all((group[1:] > group[:-1]) | ((group[1:] == group[:-1]) & (date[1:] >= date[:-1])))
    )
    if ordered:  # exports and the store usually hand rows over sorted: skip the sort
        g, d, v = group, date, value
    else:
        order = np.lexsort((date, group))
        g, d, v = group[order], date[order], value[order]
    if len(g) == 0:
        return g, d, v, np.zeros(0, dtype=int), g
    new = np.r_[True, (g[1:] != g[:-1]) | (d[1:] != d[:-1])]
    if new.all():  # one row per (group, date), the usual case: each mean is the value itself
        gg, dd, means = g, d, v
        uneven = np.zeros(0, dtype=g.dtype)
    else:
        starts = np.flatnonzero(new)
        counts = np.diff(np.r_[starts, len(v)])
        means = np.add.reduceat(v, starts) / counts
        gg, dd = g[starts], d[starts]
        # groups whose number of rows per date varies: not every unit reports every date
        first = np.r_[True, gg[1:] != gg[:-1]]
        bounds = np.flatnonzero(first)
        low = np.minimum.reduceat(counts, bounds)
        high = np.maximum.reduceat(counts, bounds)
        uneven = gg[bounds][low != high]
    group_starts = np.flatnonzero(np.r_[True, gg[1:] != gg[:-1]])
    return gg, dd, means, group_starts, uneven


def _split(
    gg: np.ndarray, dd: np.ndarray, means: np.ndarray, group_starts: np.ndarray
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    bounds = np.r_[group_starts, len(gg)]
    for a, b in itertools.pairwise(bounds):
        yield int(gg[a]), dd[a:b], means[a:b]


def treatment_series(enc: Encoded) -> tuple[dict[int, tuple[np.ndarray, np.ndarray]], set[int]]:
    """Per key: sorted dates (int64 ns) and the mean over treated rows per date; and the keys
    whose number of rows per date varies (units that do not all report every date: their
    plain mean moves when one drops out, see `unit_panel_mean`)."""
    mask = enc.treated
    runs = _runs(enc.key[mask], enc.date[mask], enc.value[mask])
    gg, dd, means, group_starts, uneven = runs
    return {k: (d, v) for k, d, v in _split(gg, dd, means, group_starts)}, set(uneven.tolist())


def control_series(enc: Encoded) -> dict[int, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Per key: per control unit, sorted dates and the mean value per date."""
    mask = ~enc.treated
    if not mask.any():
        return {}
    n_units = max(len(enc.units), 1)
    combined = enc.key[mask] * n_units + enc.unit[mask]
    out: dict[int, dict[str, tuple[np.ndarray, np.ndarray]]] = {}
    gg, dd, means, group_starts, _ = _runs(combined, enc.date[mask], enc.value[mask])
    for code, d, v in _split(gg, dd, means, group_starts):
        key, unit = divmod(code, n_units)
        out.setdefault(key, {})[str(enc.units[unit]) or "control"] = (d, v)
    return out


def unit_panel_mean(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The mean over units per date of long rows (`date`, `unit`, `value`), with each unit's
    missing dates filled from the others (`panel_fill`): the level the group would have shown
    with every unit reporting, so a site that stops reporting does not move it. Returns the
    sorted dates (int64 ns) and the means."""
    table = rows.pivot_table(index="date", columns="unit", values="value", aggfunc="mean")
    filled = panel_fill(table.to_numpy(dtype=float))
    day_ns = pd.DatetimeIndex(table.index).as_unit("ns").asi8
    return day_ns, filled.mean(axis=1)


@dataclass(frozen=True)
class ControlUnits:
    """Control units on the treated series' dates: `values` is (dates, units), no gaps."""

    values: np.ndarray
    names: tuple[str, ...]

    @classmethod
    def of(cls, frame: pd.DataFrame) -> ControlUnits:
        """From a date x unit frame (one column per unit)."""
        return cls(frame.to_numpy(dtype=float), tuple(map(str, frame.columns)))

    def scaled(self, scale: float) -> ControlUnits:
        return ControlUnits(self.values / scale, self.names)

    def without(self, unit: int) -> ControlUnits:
        """The other units: leave-one-out and placebo-in-space re-estimate without `unit`."""
        return self.without_all((unit,))

    def without_all(self, units: Sequence[int]) -> ControlUnits:
        """The units not in `units` (column indices): the donors of a placebo draw."""
        gone = set(units)
        keep = [k for k in range(len(self.names)) if k not in gone]
        return ControlUnits(self.values[:, keep], tuple(self.names[k] for k in keep))


def panel_fill(table: np.ndarray, iterations: int = 100) -> np.ndarray:
    """Missing cells of a date x unit table (NaN) filled from a two-way additive fit, value =
    unit level + date effect, estimated on the observed cells by alternating means (the
    least-squares fit of the two-way fixed-effects model). A date's mean over the filled table
    is the mean its units would have had with every unit reporting, so a unit that stops
    reporting does not move the group's level. Dates no unit reports stay NaN; a complete
    table comes back unchanged."""
    seen = np.isfinite(table)
    if seen.all() or not seen.any():
        return table
    values = np.where(seen, table, 0.0)
    per_date = np.maximum(seen.sum(axis=1), 1)
    per_unit = np.maximum(seen.sum(axis=0), 1)
    level = values.sum(axis=0) / per_unit
    tolerance = 1e-12 * max(float(np.abs(values).max()), 1e-300)
    effect = np.zeros(len(table))
    for _ in range(iterations):
        effect = ((values - level) * seen).sum(axis=1) / per_date
        new_level = ((values - effect[:, None]) * seen).sum(axis=0) / per_unit
        done = np.abs(new_level - level).max() <= tolerance
        level = new_level
        if done:
            break
    fitted = level[None, :] + effect[:, None]
    fitted[~seen.any(axis=1)] = np.nan
    return np.where(seen, table, fitted)


class Alignment(NamedTuple):
    """A treated series and its control units on common dates."""

    controls: ControlUnits | None  # None when no unit reports on enough dates to be modelled
    dates: np.ndarray  # int64 ns
    y: np.ndarray
    note: str  # what was left out or filled in, "" when nothing was
    # without modelled controls: the units' mean on each date (two-way filled), NaN where no
    # unit reported; too sparse to model, enough to see whether the controls moved as much
    sparse: np.ndarray | None = None


def align_controls(
    units: dict[str, tuple[np.ndarray, np.ndarray]],
    dates: np.ndarray,
    y: np.ndarray,
    coverage: float,
) -> Alignment:
    """Control units as a date x unit table on the treated dates (int64 ns). Units seen on
    fewer than `coverage` of those dates are left out; a kept unit's missing dates are filled
    from the others (`panel_fill`), so a gap in one unit's reporting does not change the
    control group's make-up; dates no kept unit reports are left out of the analysis."""
    table = np.full((len(dates), len(units)), np.nan)
    for j, (d, v) in enumerate(units.values()):
        at = np.searchsorted(dates, d)
        hit = (at < len(dates)) & (dates[np.minimum(at, len(dates) - 1)] == d)
        table[at[hit], j] = v[hit]
    seen = np.isfinite(table).mean(axis=0) if len(dates) else np.zeros(len(units))
    keep = seen >= coverage
    names = list(units)
    dropped = [name for name, k in zip(names, keep, strict=True) if not k]
    if not keep.any():
        note = (
            f"Control units were given ({', '.join(names)}) but none reports on "
            f"{coverage:.0%} of the pilot's dates, so they are not modelled."
        )
        filled = panel_fill(table)  # a date is then all filled, or none of its units reported
        reported = np.isfinite(filled).all(axis=1)
        sparse = np.full(len(dates), np.nan)
        sparse[reported] = filled[reported].mean(axis=1)
        return Alignment(None, dates, y, note, sparse)
    kept = table[:, keep]
    missing = float(np.isnan(kept).mean())
    filled = panel_fill(kept)
    complete = np.isfinite(filled).all(axis=1)
    notes = []
    if dropped:
        notes.append(
            f"Left out {len(dropped)} control unit(s) reporting on fewer than {coverage:.0%} of "
            f"the pilot's dates ({', '.join(dropped)})."
        )
    if missing > 0:
        notes.append(
            f"{missing:.0%} of the control values were missing and filled from the other "
            "units' movement on that date."
        )
    kept_names = tuple(name for name, k in zip(names, keep, strict=True) if k)
    return Alignment(
        ControlUnits(filled[complete], kept_names), dates[complete], y[complete], " ".join(notes)
    )
