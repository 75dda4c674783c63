"""The pilotproof store: the only code that touches DuckDB.

from pilotproof.store import Store
with Store("data/pilotproof.duckdb") as store:
    store.ingest(["metrics.csv", "pilots.csv"], user="ana")
    frame = store.observations()
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from .database import (
    REPO_ROOT,
    WAIT_SECONDS,
    Store,
    UploadDetail,
    default_db_path,
)
from .errors import DatabaseBusyError, IngestError, Problem, StoreError
from .formats import DATE_ORDERS, DateOrder
from .ingest import ValidationReport, validate_files
from .reading import IGNORE, ReadOptions, file_headers
from .workbooks import SUFFIXES as WORKBOOK_SUFFIXES
from .workbooks import likeliest_sheet, sheet_names
from .writing import IngestResult

SAMPLE_DIR = REPO_ROOT / "data" / "sample"

__all__ = [
    "DATE_ORDERS",
    "IGNORE",
    "SAMPLE_DIR",
    "WORKBOOK_SUFFIXES",
    "DatabaseBusyError",
    "DateOrder",
    "IngestError",
    "IngestResult",
    "Problem",
    "ReadOptions",
    "Store",
    "StoreError",
    "UploadDetail",
    "ValidationReport",
    "default_db_path",
    "file_headers",
    "likeliest_sheet",
    "open_default",
    "sample_files",
    "seed_catalog",
    "seed_sample",
    "sheet_names",
    "validate_files",
]


def sample_files(sample_dir: Path = SAMPLE_DIR) -> list[Path]:
    """The demo portfolio: `pilots.csv` first, then every `metrics_*.csv`, sorted."""
    pilots = sample_dir / "pilots.csv"
    metrics = sorted(sample_dir.glob("metrics_*.csv"))
    return ([pilots] if pilots.exists() else []) + metrics


def seed_catalog(store: Store, sample_dir: Path = SAMPLE_DIR) -> None:
    """Add the demo portfolio's own metrics (`catalog.csv`: metric, direction, unit, kind,
    threshold_pct, tolerance_pct, scale) to `store`'s catalog, as a partner adds a custom metric
    on the Settings page: the unit an upload cannot carry (its `direction` column declares only
    which way is better), so `reply_rate` reads as a percentage."""
    for row in _sample_records(sample_dir / "catalog.csv"):
        store.add_metric(
            row["metric"], row["direction"], row["unit"], row["kind"],
            float(row["threshold_pct"]) if row["threshold_pct"] else None,
            float(row["tolerance_pct"]) if row["tolerance_pct"] else None,
            row["scale"] or None, by="sample",
        )  # fmt: skip


def _sample_records(path: Path) -> list[dict[str, str]]:
    """The rows of one of the sample's own CSV files (UTF-8, a header line) as dicts; none when
    the file is not there."""
    import csv

    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def seed_sample(store: Store, sample_dir: Path = SAMPLE_DIR) -> None:
    """Load the demo portfolio into `store`: its custom metrics (`catalog.csv`, as a partner adds
    them in Settings), the sample files in one ingest, then the later pilots files
    (`pilots_*.csv`: a plan changed after the results came in) as later uploads, each plan
    recorded on the date it states (`plan_set_on`), then the decisions its partners logged
    (`decisions.csv`: who, when, the recommendation)."""
    files = sample_files(sample_dir)
    if not files:
        return
    seed_catalog(store, sample_dir)
    store.ingest(files, user="sample")
    for later in sorted(sample_dir.glob("pilots_*.csv")):
        store.ingest([later], user="sample")
    # recorded as agreed: three weeks before go-live, and HB-FNOL's change on its date
    store.record_sample_plans_as_set(store.pilots()["pilot_id"])
    for row in _sample_records(sample_dir / "decisions.csv"):
        store.log_decision(
            row["pilot_id"], row["decision"], row["note"], row["decided_by"],
            row["recommended"] or None, at=datetime.fromisoformat(row["decided_at"]),
        )  # fmt: skip


def open_default(
    seed: bool = True, sample_dir: Path = SAMPLE_DIR, wait: float = WAIT_SECONDS
) -> Store:
    """Open the default database (waiting up to `wait` seconds for a file another process
    holds); if it holds no pilots yet, seed it from `data/sample/`."""
    store = Store(wait=wait)
    if seed and store.count_pilots() == 0:
        seed_sample(store, sample_dir)
    return store
