"""The database schema as a list of versioned migrations.

`MIGRATIONS[i]` takes a database from version `i` to version `i + 1`. A new database runs them
all; an older file runs the ones it is missing, inside one transaction, and records the version
reached in `meta`. Never edit a migration that has shipped: append a new one.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from .catalog import BUILTIN_METRICS, RATE_UNITS, RELATIVE_DEFAULTS_BEFORE_POINTS
from .sql import scalar

# The pilots table's column per readiness question, in the order of
# `analytics.results.READINESS_QUESTIONS`, which owns the questions (tests/store/test_schema.py
# holds the two equal). A question added there needs a migration below adding its column to
# `pilots` and `replaced_pilots`, and its name here. The store spells the names out rather than
# importing them so that opening a store (`pilotproof ingest`) does not import numpy and pandas.
READINESS_COLUMNS: tuple[str, ...] = (
    "workflow",
    "decision_owner",
    "execution_owner",
    "exception_path",
    "escalation_path",
    "control_points",
    "value_metric",
)

# The pilots table's columns today: the registry, then the readiness answers. The DDL of the
# migrations is history and spells them out.
PILOT_FIELDS: tuple[str, ...] = (
    "pilot_id",
    "pilot_name",
    "company",
    "function",
    "vendor",
    "go_live",
    "monthly_cost",
    "annual_volume",
    *READINESS_COLUMNS,
)

_PILOT_COLUMNS_DDL = """
    pilot_id VARCHAR NOT NULL,
    pilot_name VARCHAR,
    company VARCHAR,
    function VARCHAR,
    vendor VARCHAR,
    go_live DATE,
    monthly_cost DOUBLE,
    annual_volume DOUBLE,
    workflow VARCHAR,
    decision_owner VARCHAR,
    execution_owner VARCHAR,
    exception_path VARCHAR,
    escalation_path VARCHAR,
    control_points VARCHAR,
    value_metric VARCHAR
"""

_OBSERVATION_COLUMNS_DDL = """
    pilot_id VARCHAR NOT NULL,
    metric VARCHAR NOT NULL,
    date DATE NOT NULL,
    "group" VARCHAR NOT NULL,
    unit VARCHAR NOT NULL,
    segment VARCHAR NOT NULL,
    value DOUBLE NOT NULL,
    volume DOUBLE,
    upload_id INTEGER
"""

# Version 1: the first release. Kept verbatim so older files can be upgraded (and tested).
V1: tuple[str, ...] = (
    "CREATE TABLE meta (key VARCHAR NOT NULL, value VARCHAR)",
    f"CREATE TABLE pilots ({_PILOT_COLUMNS_DDL})",
    """CREATE TABLE metric_catalog (
        metric VARCHAR NOT NULL,
        direction VARCHAR NOT NULL,
        unit VARCHAR,
        kind VARCHAR NOT NULL,
        threshold_pct DOUBLE,
        tolerance_pct DOUBLE,
        builtin BOOLEAN NOT NULL DEFAULT false
    )""",
    f"CREATE TABLE observations ({_OBSERVATION_COLUMNS_DDL})",
    "CREATE SEQUENCE upload_seq START 1",
    """CREATE TABLE uploads (
        upload_id INTEGER NOT NULL,
        file_name VARCHAR,
        content_hash VARCHAR,
        kind VARCHAR,
        rows BIGINT,
        pilots INTEGER,
        date_min DATE,
        date_max DATE,
        "user" VARCHAR,
        uploaded_at TIMESTAMP,
        outcome VARCHAR,
        message VARCHAR
    )""",
)

# Version 2 (and the code since): upload ids are max + 1 inside the write transaction, because
# sequences do not roll back; `upload_seq` stays in v1 files, unused.
# Version 2: undo (replaced rows kept), per-pilot thresholds, events, saved column mappings,
# and which metrics may be negative.
V2: tuple[str, ...] = (
    "ALTER TABLE metric_catalog ADD COLUMN can_be_negative BOOLEAN DEFAULT false",
    "UPDATE metric_catalog SET can_be_negative = (metric = 'margin')",
    "ALTER TABLE pilots ADD COLUMN upload_id INTEGER",
    f"CREATE TABLE replaced_observations ({_OBSERVATION_COLUMNS_DDL}, replaced_by INTEGER)",
    f"CREATE TABLE replaced_pilots ({_PILOT_COLUMNS_DDL}, upload_id INTEGER, replaced_by INTEGER)",
    """CREATE TABLE thresholds (
        pilot_id VARCHAR NOT NULL,
        metric VARCHAR NOT NULL,
        threshold_pct DOUBLE,
        tolerance_pct DOUBLE
    )""",
    "CREATE SEQUENCE event_seq START 1",
    """CREATE TABLE events (
        event_id INTEGER NOT NULL,
        pilot_id VARCHAR NOT NULL,
        date DATE NOT NULL,
        label VARCHAR NOT NULL
    )""",
    "CREATE TABLE mappings (name VARCHAR NOT NULL, mapping VARCHAR NOT NULL)",
)


def _sql_number(value: float | None) -> str:
    return "NULL" if value is None else repr(float(value))


def _points_defaults() -> list[str]:
    """Built-in point-scale metrics still at their old percent defaults take the new defaults in
    points (a user's own values are converted instead, by `_V3_CONVERT`)."""
    new = {spec.metric: spec for spec in BUILTIN_METRICS}
    out = []
    for metric, (threshold, tolerance) in RELATIVE_DEFAULTS_BEFORE_POINTS.items():
        spec = new[metric]
        out.append(
            f"UPDATE metric_catalog SET threshold_pct = {_sql_number(spec.threshold_pct)}, "
            f"tolerance_pct = {_sql_number(spec.tolerance_pct)}, migrated = true "
            f"WHERE builtin AND metric = '{metric}' "
            f"AND threshold_pct IS NOT DISTINCT FROM {_sql_number(threshold)} "
            f"AND tolerance_pct IS NOT DISTINCT FROM {_sql_number(tolerance)}"
        )
    return out


# A percent of a fraction's level in points: pct / 100 x level x 100 = pct x |level|, the level
# being the mean of the stored treated values (the pilot's own for a per-pilot override); with
# no data to read a level from, the value is cleared and the catalog default applies.
_LEVEL = (
    "(SELECT abs(avg(o.value)) FROM observations o WHERE o.metric = {table}.metric "
    "AND o.\"group\" <> 'control'{pilot})"
)
_POINT_METRICS = "(SELECT metric FROM metric_catalog WHERE scale = 'points')"
_V3_CONVERT: tuple[str, ...] = tuple(
    f"UPDATE {table} SET "
    + ", ".join(
        f"{column} = round({column} * {_LEVEL.format(table=table, pilot=pilot)}, 2)"
        for column in ("threshold_pct", "tolerance_pct")
    )
    + f" WHERE metric IN {_POINT_METRICS}{extra}"
    for table, pilot, extra in (
        ("thresholds", " AND o.pilot_id = thresholds.pilot_id", ""),
        ("metric_catalog", "", " AND NOT migrated"),
    )
)

# Version 3 (issue 11): each metric says which scale its effect is read on; a fraction (a rate
# unit) is read in percentage points, and its thresholds and tolerances are moved into points.
V3: tuple[str, ...] = (
    "ALTER TABLE metric_catalog ADD COLUMN scale VARCHAR DEFAULT 'relative'",
    "UPDATE metric_catalog SET scale = CASE WHEN lower(trim(COALESCE(unit, ''))) IN ("
    + ", ".join(f"'{u}'" for u in sorted(RATE_UNITS))
    + ") THEN 'points' ELSE 'relative' END",
    "ALTER TABLE metric_catalog ADD COLUMN migrated BOOLEAN DEFAULT false",
    *_points_defaults(),
    *_V3_CONVERT,
    "ALTER TABLE metric_catalog DROP COLUMN migrated",
)

# Version 4 (issue 15): success plans (pre-registered criteria, versioned with who, when and
# why), the decision log, and when each pilot's results were first seen (one of the two locks).
V4: tuple[str, ...] = (
    """CREATE TABLE plans (
        pilot_id VARCHAR NOT NULL,
        version INTEGER NOT NULL,
        value_metric VARCHAR,
        threshold_pct DOUBLE,
        guardrails VARCHAR NOT NULL DEFAULT '{}',
        evaluation_days INTEGER,
        decision_owner VARCHAR,
        set_by VARCHAR NOT NULL,
        set_at TIMESTAMP NOT NULL,
        recorded_at TIMESTAMP NOT NULL,
        reason VARCHAR,
        upload_id INTEGER
    )""",
    """CREATE TABLE decisions (
        decision_id INTEGER NOT NULL,
        pilot_id VARCHAR NOT NULL,
        decision VARCHAR NOT NULL,
        recommended VARCHAR,
        note VARCHAR,
        decided_by VARCHAR NOT NULL,
        decided_at TIMESTAMP NOT NULL
    )""",
    "CREATE TABLE results_seen (pilot_id VARCHAR NOT NULL, first_seen_at TIMESTAMP NOT NULL)",
)

# Access (issue 14): who may sign in, with which role and companies (managed by a partner on the
# Settings page), and the audit trail of changes a record of their own does not name (undo,
# readiness, thresholds, metrics, access).
V_ACCESS: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS users (
        email VARCHAR PRIMARY KEY,
        role VARCHAR NOT NULL,
        companies VARCHAR[] NOT NULL,
        added_by VARCHAR NOT NULL,
        added_at TIMESTAMP NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS audit_log (
        changed_at TIMESTAMP NOT NULL,
        "user" VARCHAR NOT NULL,
        action VARCHAR NOT NULL,
        pilot_id VARCHAR,
        detail VARCHAR
    )""",
)

# Money with a currency (issue 13): the currency each company or pilot states its costs in
# (settings appended with who and when; the newest wins, undoing a pilots file removes its
# rows), and the conversion rates into the reporting currency the user entered (the reporting
# currency itself is `meta.reporting_currency`).
CURRENCIES: tuple[str, ...] = (
    """CREATE TABLE currencies (
        seq INTEGER NOT NULL,
        scope VARCHAR NOT NULL,
        key VARCHAR NOT NULL,
        currency VARCHAR,
        set_by VARCHAR,
        set_at TIMESTAMP NOT NULL,
        upload_id INTEGER
    )""",
    """CREATE TABLE fx_rates (
        currency VARCHAR NOT NULL,
        rate DOUBLE NOT NULL,
        set_by VARCHAR,
        set_at TIMESTAMP NOT NULL
    )""",
)

#: Every pilot an upload touched: its rows, the rows it replaced, its pilots and plans.
TOUCHED = (
    "SELECT upload_id, pilot_id FROM observations UNION "
    "SELECT upload_id, pilot_id FROM replaced_observations UNION "
    "SELECT upload_id, pilot_id FROM pilots UNION "
    "SELECT upload_id, pilot_id FROM replaced_pilots UNION "
    "SELECT upload_id, pilot_id FROM plans WHERE upload_id IS NOT NULL"
)

# Scoped history and mappings (issue 14, the second probe): the pilots each upload touched,
# kept past an undo so a company's history keeps its own undone uploads (and its numbering);
# saved column mappings belong to an owner ('' the fund's partners, else one set of
# companies), so one company neither sees nor overwrites another's.
V_SCOPED: tuple[str, ...] = (
    "CREATE TABLE upload_pilots (upload_id INTEGER NOT NULL, pilot_id VARCHAR NOT NULL)",
    f"INSERT INTO upload_pilots SELECT DISTINCT upload_id, pilot_id FROM ({TOUCHED}) "
    "WHERE upload_id IS NOT NULL",
    "ALTER TABLE mappings ADD COLUMN owner VARCHAR DEFAULT ''",
    "UPDATE mappings SET owner = '' WHERE owner IS NULL",
)

# Results kept between runs (issue 16): each pilot's effects under the key of the inputs that
# made them (data rows, go-live, catalog entries, thresholds, plan, engine version), so a restart
# or an upload for one pilot re-analyses only what changed (`store/results.py`).
V_RESULTS: tuple[str, ...] = (
    """CREATE TABLE result_cache (
        pilot_id VARCHAR NOT NULL,
        input_key VARCHAR NOT NULL,
        engine VARCHAR NOT NULL,
        effects VARCHAR NOT NULL,
        charts BLOB,
        computed_at TIMESTAMP NOT NULL
    )""",
    # one pilot's row without reading every row's chart bytes (`analyze --pilot`, an upload)
    "CREATE INDEX result_cache_pilot ON result_cache (pilot_id)",
)

# Kept results in parts (issue 16, memory): a pilot's chart bytes (~0.5 MB at 10 metrics x 3
# years daily) are stored as rows of at most `results.PART_BYTES` each, numbered by `part`
# (0 holds the effects' JSON). DuckDB's commit of one transaction holding 1,000 such half-MB
# values took 1.5 GB above the data itself; in parts of 48 kB it takes about 0.1 GB. Existing
# rows are part 0 of one part. (DuckDB cannot alter a table that has an index: dropped, re-made.)
V_RESULT_PARTS: tuple[str, ...] = (
    "DROP INDEX result_cache_pilot",
    "ALTER TABLE result_cache ADD COLUMN part INTEGER DEFAULT 0",
    "UPDATE result_cache SET part = 0 WHERE part IS NULL",
    "CREATE INDEX result_cache_pilot ON result_cache (pilot_id)",
)

MIGRATIONS: tuple[Sequence[str], ...] = (
    V1, V2, V3, V4, V_ACCESS, CURRENCIES, V_SCOPED, V_RESULTS, V_RESULT_PARTS,
)  # fmt: skip
SCHEMA_VERSION = len(MIGRATIONS)


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    """The schema version recorded in the file (0 for an empty database)."""
    has_meta = con.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_name = 'meta' AND table_schema = 'main'"
    ).fetchone()
    if not has_meta or has_meta[0] == 0:
        return 0
    row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 1


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Bring the database up to `SCHEMA_VERSION` in one transaction; return the version found."""
    found = current_version(con)
    if found > SCHEMA_VERSION:
        raise RuntimeError(
            f"database schema version {found} is newer than this pilotproof "
            f"(knows up to {SCHEMA_VERSION}); upgrade pilotproof"
        )
    con.execute("BEGIN TRANSACTION")
    try:
        for statements in MIGRATIONS[found:]:
            for statement in statements:
                con.execute(statement)
        _set_meta(con, "schema_version", str(SCHEMA_VERSION))
        if scalar(con, "SELECT count(*) FROM meta WHERE key = 'data_version'") == 0:
            _set_meta(con, "data_version", "0")
        _add_missing_builtins(con)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return found


def _set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    con.execute("DELETE FROM meta WHERE key = ?", [key])
    con.execute("INSERT INTO meta VALUES (?, ?)", [key, value])


def _add_missing_builtins(con: duckdb.DuckDBPyConnection) -> None:
    """Insert built-in metrics the file does not know yet; never overwrite a user's edits."""
    known = {row[0] for row in con.execute("SELECT metric FROM metric_catalog").fetchall()}
    for spec in BUILTIN_METRICS:
        if spec.metric in known:
            continue
        con.execute(
            "INSERT INTO metric_catalog (metric, direction, unit, kind, threshold_pct, "
            "tolerance_pct, builtin, can_be_negative, scale) "
            "VALUES (?, ?, ?, ?, ?, ?, true, ?, ?)",
            [
                spec.metric,
                spec.direction,
                spec.unit,
                spec.kind,
                spec.threshold_pct,
                spec.tolerance_pct,
                spec.can_be_negative,
                spec.scale,
            ],
        )
