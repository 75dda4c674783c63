"""The built-in metric catalog: what each metric means, which way is better, and the default
bar a pilot must clear on it.

Units: `hours`, `touches`, `count`, `currency`, `score`, and `rate` (a fraction between 0 and 1:
write 23% as 0.23). `margin` and every other rate are fractions. `leakage` is money lost per
period (`currency`).

`scale` says how a metric's effect is read: `relative` (percent: "cycle time -21%") or, for a
fraction (margin, a rate, utilisation), `points` (percentage points: "margin +2.0 points"), since a
percentage of a level near zero means nothing. A metric with a rate unit is read in points.

`threshold_pct` is the improvement a value metric needs before the pilot scales, in the metric's
scale (10 means 10% better than the counterfactual; for a point-scale metric, 1 means one
percentage point better). `tolerance_pct` is the deterioration a guardrail may show before it
counts as burden shifted elsewhere, in the same scale; value metrics carry one too, used when they
are not the pilot's own value metric. Activity metrics have neither: they are tracked and never
count as value. (The column names predate point-scale metrics and are kept for old databases and
the JSON contract.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # analytics.results imports pandas; keep `pilotproof ingest` start-up lean
    from analytics.results import Direction, MetricKind, Scale

#: Units whose values are fractions and can never exceed 1.
RATE_UNITS: frozenset[str] = frozenset({"rate", "share"})
#: Units whose values can never be negative, for metrics users add themselves.
NON_NEGATIVE_UNITS: frozenset[str] = frozenset(
    {"rate", "share", "hours", "minutes", "days", "count", "touches", "score"}
)
DIRECTIONS: tuple[Direction, ...] = ("lower_is_better", "higher_is_better")
KINDS: tuple[MetricKind, ...] = ("value", "guardrail", "activity")
SCALES: tuple[Scale, ...] = ("relative", "points")


@dataclass(frozen=True)
class MetricSpec:
    metric: str
    direction: Direction
    unit: str
    kind: MetricKind
    threshold_pct: float | None
    tolerance_pct: float | None
    can_be_negative: bool = False
    scale: Scale = "relative"


LOWER: Direction = "lower_is_better"
HIGHER: Direction = "higher_is_better"
POINTS: Scale = "points"

BUILTIN_METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("cycle_time", LOWER, "hours", "value", 10.0, 5.0),
    MetricSpec("manual_touches", LOWER, "touches", "value", 10.0, 5.0),
    MetricSpec("cost_per_transaction", LOWER, "currency", "value", 10.0, 5.0),
    MetricSpec("response_time", LOWER, "hours", "value", 10.0, 5.0),
    # fractions: thresholds and tolerances in percentage points
    MetricSpec("margin", HIGHER, "rate", "value", 1.0, 0.5, can_be_negative=True, scale=POINTS),
    MetricSpec("utilization", HIGHER, "rate", "value", 3.0, 3.0, scale=POINTS),
    MetricSpec("rework_rate", LOWER, "rate", "guardrail", None, 0.5, scale=POINTS),
    MetricSpec("leakage", LOWER, "currency", "guardrail", None, 5.0),
    MetricSpec("compliance_exceptions", LOWER, "count", "guardrail", None, 5.0),
    MetricSpec("quality_score", HIGHER, "score", "guardrail", None, 2.0),
    MetricSpec("adoption_rate", HIGHER, "rate", "activity", None, None, scale=POINTS),
    MetricSpec("ai_usage", HIGHER, "count", "activity", None, None),
)


# The defaults the point-scale built-ins had in percent before version 3 of the schema:
# (threshold, tolerance) in percent, as shipped.
RELATIVE_DEFAULTS_BEFORE_POINTS: dict[str, tuple[float | None, float | None]] = {
    "margin": (2.0, 1.0),
    "utilization": (5.0, 5.0),
    "rework_rate": (None, 5.0),
    "adoption_rate": (None, None),
}


def scale_for_unit(unit: str | None) -> Scale:
    """The scale a metric measured in `unit` is read on: points for a fraction, else relative."""
    return "points" if (unit or "").strip().lower() in RATE_UNITS else "relative"


def can_be_negative_for_unit(unit: str | None) -> bool:
    """Whether a user-added metric measured in `unit` may take negative values."""
    return (unit or "").strip().lower() not in NON_NEGATIVE_UNITS


#: ASCII whitespace as RE2 (DuckDB) reads `\\s`, so Python and SQL agree.
_SPACE = " \t\n\r\f"
_SEPARATORS = re.compile(f"[{_SPACE}-]+")


def normalise_metric(name: str) -> str:
    """The one spelling of a metric (or column) name: trimmed, lower-case, each run of spaces
    and hyphens one underscore ('Cycle Time' and 'cycle-time' are `cycle_time`). Long files,
    wide headers, the catalog and the Settings page all go through this (or its SQL twin)."""
    return _SEPARATORS.sub("_", name.strip(_SPACE).lower())


def normalise_metric_sql(expr: str) -> str:
    """`normalise_metric` as a DuckDB expression over `expr` (NULL stays NULL)."""
    return (
        f"regexp_replace(regexp_replace(lower({expr}), '^[\\s]+|[\\s]+$', '', 'g'), "
        "'[\\s-]+', '_', 'g')"
    )
