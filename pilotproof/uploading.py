"""The Upload page's mapping step without Streamlit: the table a user edits, the read options it
becomes, and a key that says whether a validation is still current."""

from __future__ import annotations

import hashlib
import json
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


def mapping_table(headers: Sequence[str], saved: Mapping[str, str]) -> pd.DataFrame:
    """One row per column in the uploaded files, prefilled from a saved mapping."""
    return pd.DataFrame(
        {
            SOURCE: list(headers),
            TARGET: [saved.get(h, "") for h in headers],
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
