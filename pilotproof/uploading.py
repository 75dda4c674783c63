"""The Upload page's mapping step without Streamlit: the table a user edits, the read options it
becomes, and a key that says whether a validation is still current."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from datetime import date

import pandas as pd

from pilotproof.store import IGNORE, ReadOptions
from pilotproof.store.catalog import DIRECTIONS, normalise_metric

#: Contract columns a file column can be mapped to (metric names come from the catalog).
COLUMNS = ("pilot_id", "date", "metric", "value", "group", "unit", "segment", "volume", "direction")
DATE_ORDER_LABELS = {
    "auto": "Let the file decide (a day above 12)",
    "month_first": "Month first (06/01/2025 is 1 June, US)",
    "day_first": "Day first (06/01/2025 is 6 January)",
}
DECIMAL_MARK_LABELS = {
    "auto": "Let each column decide (a value like 40.85)",
    "point": "Point (40.125 is forty and a bit; 1,200 is twelve hundred)",
    "comma": "Comma (40,125 is forty and a bit; 1.200 is twelve hundred)",
}
#: The whole-file pilot choice that registers a new pilot.
NEW_PILOT = "(new pilot)"
SOURCE = "column in file"
TARGET = "pilotproof column"
NEW = "or a new metric"
BETTER = "better is"


def targets(pilot_fields: Sequence[str], metrics: Sequence[str]) -> list[str]:
    """What a column can become: nothing (keep), a contract column, a metric, or ignored."""
    return ["", *dict.fromkeys([*COLUMNS, *pilot_fields, *metrics]), IGNORE]


#: Headers a date column goes by in exports (normalised), suggested as `date`.
DATE_HEADERS = frozenset(
    {"week", "week_start", "week_starting", "week_ending", "week_of", "day", "month", "period"}
)
#: Headers a pilot column goes by, suggested as `pilot_id`.
PILOT_HEADERS = frozenset({"pilot", "pilot_code"})
#: How a header writes a catalog unit in brackets ("Cycle time (h)"), by the catalog's unit.
UNIT_SPELLINGS = {
    "hours": frozenset({"h", "hr", "hrs", "hour", "hours"}),
    "touches": frozenset({"touches", "#", "count", "n"}),
    "count": frozenset({"#", "count", "n"}),
    "score": frozenset({"score", "points", "pts"}),
}
_UNIT = re.compile(r"^(.*?)\s*[(\[]\s*([^()\[\]]*?)\s*[)\]]\s*$")


def suggested_target(header: str, units: Mapping[str, str]) -> str:
    """What a header most likely is, for the mapping table to start from ('' when unsure):
    `date` for `Week`, `Week start`, `Month`..., `pilot_id` for `Pilot`, and a catalog metric
    for its name with the catalog's unit in brackets ("Cycle time (h)" is `cycle_time`, in
    hours). A header whose unit is not the catalog's ("Cycle time (min)"), or a percent
    ("Rework rate (%)": a rate is a fraction, 4.7% is 0.047), is left for the user: read as
    the catalog metric, its numbers would be wrong by a factor. `units` maps each metric to
    its catalog unit."""
    name = normalise_metric(header)
    if name in DATE_HEADERS:
        return "date"
    if name in PILOT_HEADERS:
        return "pilot_id"
    found = _UNIT.match(header)
    if found is None:
        return ""
    metric, unit = normalise_metric(found.group(1)), found.group(2).strip().lower()
    if metric in units and unit in UNIT_SPELLINGS.get(str(units[metric]).lower(), ()):
        return metric
    return ""


def mapping_table(
    headers: Sequence[str], saved: Mapping[str, str], units: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """One row per column in the uploaded files, in the files' order, prefilled from a saved
    mapping, else (with the catalog's `units`) from `suggested_target`."""
    if saved:
        chosen = [saved.get(h, "") for h in headers]
    else:  # a suggestion a header already is, or two headers share, would read a column twice
        chosen = [suggested_target(h, units or {}) for h in headers]
        taken = Counter([*chosen, *(normalise_metric(h) for h in headers)])
        chosen = [target if taken[target] == 1 else "" for target in chosen]
    return pd.DataFrame(
        {
            SOURCE: list(headers),
            TARGET: chosen,
            NEW: [""] * len(headers),
            BETTER: [""] * len(headers),
        }
    ).astype(str)  # text even with no rows (an empty or unreadable file)


def pilot_choice(choice: str, labels: Mapping[str, str]) -> str:
    """How the whole-file pilot choice reads in its selectbox."""
    if choice == NEW_PILOT:
        return "A new pilot (give its id and go-live)"
    return labels.get(choice, "No: the file has a pilot column")


def options_from(
    table: pd.DataFrame,
    pilot_id: str | None,
    date_order: str,
    sheets: Mapping[str, str],
    new_pilot: tuple[date | None, str] | tuple[date | None, str, str] | None = None,
    known_pilots: Collection[str] = (),
    decimal_mark: str = "auto",
) -> tuple[ReadOptions, list[str]]:
    """The read options an edited mapping table says, and what is wrong with it (plain text).
    `new_pilot` is (go-live, name), or (go-live, name, company), when `pilot_id` is a pilot to
    register with the upload."""
    columns: dict[str, str] = {}
    new_metrics: dict[str, str] = {}
    errors: list[str] = []
    registered = None
    if new_pilot is not None:
        go_live, name, *company = new_pilot
        if not pilot_id or go_live is None:
            errors.append("give the new pilot an id and a go-live date")
        elif pilot_id in known_pilots:
            errors.append(f"pilot {pilot_id} exists already: pick it in the list")
        else:
            registered = (go_live, name.strip() or pilot_id, *company)
    for row in table.fillna("").itertuples(index=False):
        source, target, new, better = (str(v).strip() for v in row[:4])
        if new:
            metric = normalise_metric(new)
            if better not in DIRECTIONS:
                errors.append(f"say whether lower or higher is better for the new metric {metric}")
                continue
            columns[source] = metric
            new_metrics[metric] = better
        elif target:
            columns[source] = target
    options = ReadOptions(
        columns=columns,
        pilot_id=pilot_id or None,
        date_order=date_order,  # type: ignore[arg-type]
        decimal_mark=decimal_mark,  # type: ignore[arg-type]
        new_metrics=new_metrics,
        sheets=dict(sheets),
        new_pilot=registered,
    )
    return options, errors


def applied_key(payload: Sequence[tuple[str, bytes]], options: ReadOptions | None) -> str:
    """Identifies one set of uploaded bytes read one way: a validation is current while its key
    is."""
    digest = hashlib.sha256()
    for name, data in payload:
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    if options is not None:
        described = [
            dict(options.columns),
            options.pilot_id,
            options.date_order,
            options.decimal_mark,
            dict(options.new_metrics),
            dict(options.sheets),
            [str(v) for v in options.new_pilot or ()],
        ]
        digest.update(json.dumps(described, sort_keys=True).encode())
    return digest.hexdigest()
