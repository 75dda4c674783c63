"""Catalog parsing: the metric catalog and a pilot's own thresholds read into typed
`AnalysisSpec`s, how one metric of one pilot is analysed and judged. (The store's
`pilotproof.store.catalog.MetricSpec` is a catalog row as stored; this is what analysis reads of
it.) A catalog row with a direction or kind the analysis does not know is refused with
`CatalogError`, never read as a default."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import pandas as pd

from analytics.counts import COUNT_UNITS
from analytics.inputs import number
from analytics.results import (
    DIRECTIONS,
    KINDS,
    SCALES,
    Direction,
    MetricKind,
    Scale,
    direction_sign,
)

T = TypeVar("T", bound=str)
# (pilot_id, metric) -> the pilot's own (threshold, tolerance), None where it set none
Overrides = dict[tuple[str, str], tuple[float | None, float | None]]


class CatalogError(ValueError):
    """A catalog row the analysis cannot read; the message names the metric and the value."""


@dataclass(frozen=True)
class AnalysisSpec:
    """How one metric of one pilot is analysed and judged: which way is better, what kind of
    metric it is, the improvement needed to scale and the deterioration a guardrail may show
    (in the metric's scale: percent, or percentage points; None: the defaults of
    analytics.decision), the scale it is read in, and whether its unit is a count."""

    direction: Direction
    kind: MetricKind
    threshold_pct: float | None  # in the metric's scale: percent, or percentage points
    tolerance_pct: float | None
    scale: Scale = "relative"
    count_unit: bool = False  # the catalog's unit is a count (analytics.counts)

    @property
    def sign(self) -> float:
        """+1.0 when higher is better, -1.0 when lower is (`results.direction_sign`)."""
        return direction_sign(self.direction)

    @property
    def points(self) -> bool:
        return self.scale == "points"


def read_catalog(catalog: pd.DataFrame) -> dict[str, AnalysisSpec]:
    """metric -> its spec, from a catalog frame with columns `metric, direction, kind,
    threshold_pct, tolerance_pct` and optionally `scale` (missing or unknown: relative) and
    `unit`. Raises CatalogError for a direction other than lower_is_better or
    higher_is_better, or a kind other than value, guardrail or activity: a typo must not
    silently turn a metric the wrong way up or make a guardrail count as value."""
    specs = {}
    for row in catalog.itertuples(index=False):
        metric = str(row.metric)
        scale = getattr(row, "scale", "relative")  # a catalog from before scales: relative
        specs[metric] = AnalysisSpec(
            _known(metric, "direction", row.direction, DIRECTIONS),
            _known(metric, "kind", row.kind, KINDS),
            number(row.threshold_pct),
            number(row.tolerance_pct),
            scale if scale in SCALES else "relative",
            str(getattr(row, "unit", "") or "").strip().lower() in COUNT_UNITS,
        )
    return specs


def _known(metric: str, field: str, value: object, allowed: tuple[T, ...]) -> T:
    """`value` as one of `allowed`, or CatalogError naming the metric, the field and the value."""
    for choice in allowed:
        if value == choice:
            return choice
    raise CatalogError(
        f"metric {metric!r} has {field} {value!r} in the catalog; it must be one of "
        f"{', '.join(allowed)}"
    )


def read_overrides(thresholds: pd.DataFrame | None) -> Overrides:
    """(pilot_id, metric) -> the pilot's own (threshold, tolerance), from a frame with columns
    `pilot_id, metric, threshold_pct, tolerance_pct`; an unreadable number is None."""
    if thresholds is None or thresholds.empty:
        return {}
    return {
        (str(r.pilot_id), str(r.metric)): (number(r.threshold_pct), number(r.tolerance_pct))
        for r in thresholds.itertuples(index=False)
    }


def spec_for(
    specs: dict[str, AnalysisSpec], overrides: Overrides, pilot_id: str, metric: str
) -> AnalysisSpec:
    """The spec of `metric` for `pilot_id`: the catalog's, with the pilot's own threshold and
    tolerance (`read_overrides`) where it set them. A metric the catalog lacks reads as a
    lower-is-better value metric with the default thresholds (the store lets none through)."""
    base = specs.get(metric, AnalysisSpec("lower_is_better", "value", None, None))
    threshold, tolerance = overrides.get((pilot_id, metric), (None, None))
    return AnalysisSpec(
        base.direction,
        base.kind,
        threshold if threshold is not None else base.threshold_pct,
        tolerance if tolerance is not None else base.tolerance_pct,
        base.scale,
        base.count_unit,
    )
