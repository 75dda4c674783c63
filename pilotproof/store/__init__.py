"""The pilotproof store: the only code that touches DuckDB.

from pilotproof.store import Store
with Store("data/pilotproof.duckdb") as store:
    store.ingest(["metrics.csv", "pilots.csv"], user="ana")
    frame = store.observations()
"""

from __future__ import annotations

from pathlib import Path

from .database import REPO_ROOT, IngestResult, Store, UploadDetail, default_db_path
from .errors import IngestError, Problem, StoreError
from .formats import DATE_ORDERS, DateOrder
from .ingest import ValidationReport, validate_files
from .reading import IGNORE, ReadOptions, file_headers
from .workbooks import SUFFIXES as WORKBOOK_SUFFIXES
from .workbooks import likeliest_sheet, sheet_names

SAMPLE_DIR = REPO_ROOT / "data" / "sample"

__all__ = [
    "DATE_ORDERS",
    "IGNORE",
    "SAMPLE_DIR",
    "WORKBOOK_SUFFIXES",
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
    "sheet_names",
    "validate_files",
]


def sample_files(sample_dir: Path = SAMPLE_DIR) -> list[Path]:
    """The demo portfolio: `pilots.csv` first, then every `metrics_*.csv`, sorted."""
    pilots = sample_dir / "pilots.csv"
    metrics = sorted(sample_dir.glob("metrics_*.csv"))
    return ([pilots] if pilots.exists() else []) + metrics


def open_default(seed: bool = True, sample_dir: Path = SAMPLE_DIR) -> Store:
    """Open the default database; if it holds no pilots yet, seed it from `data/sample/`."""
    store = Store()
    if seed and store.count_pilots() == 0:
        files = sample_files(sample_dir)
        if files:
            store.ingest(files, user="sample")
    return store
