"""What a pilot's cached results are keyed on, and how they are written and read (issue 16).

A pilot's metric effects depend on its observation rows, its go-live, each metric's spec (the
catalog entry with the pilot's thresholds and success plan applied: `analytics.specs.spec_for`)
and the code that computes them. `input_key` hashes exactly those, with `ENGINE_VERSION`: a
change to any of them is a new key, so a stale result is never read, and an edit that changes
none of them (an event, a readiness answer, a name, a logged decision) re-analyses nothing. The
pilot's decision, value, summary and governance are rebuilt from the effects on every run:
cheap, and they read readiness answers and costs that do not touch the estimate.

`ENGINE_VERSION` is `ENGINE_REVISION` (bump it by hand for a change outside `analytics/` that
changes results) plus a digest of every `analytics/*.py` source and of the numeric libraries'
versions: editing the engine, or upgrading numpy, pandas, scipy, statsmodels or DuckDB (whose row
hash the data fingerprint uses), invalidates every cached result.

Encoding: the effects as JSON (floats written with `repr`, so they read back bit for bit;
NaN and infinities as JSON's common extension), their chart arrays as raw little-endian bytes
of an allowed numeric dtype. Nothing is ever unpickled; what fails to decode is a cache miss.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import analytics
from analytics.results import ChartSeries, CheckResult, MetricEffect
from analytics.specs import AnalysisSpec

#: Bump for a change outside analytics/*.py that changes what the analysis computes.
ENGINE_REVISION = "1"
_LIBRARIES = ("numpy", "pandas", "scipy", "statsmodels", "duckdb")
#: Array dtypes a cached chart may hold (anything else in a stored row is a miss).
_DTYPES = {"<f8", "<f4", "<i8", "<i4", "|b1", *(f"<M8[{u}]" for u in ("s", "ms", "us", "ns"))}
_CHART_FIELDS = ("dates", "observed", "counterfactual", "cf_low", "cf_high", "control")
_CHECK_FIELDS = tuple(f.name for f in dataclasses.fields(CheckResult))
_EFFECT_FIELDS = tuple(f.name for f in dataclasses.fields(MetricEffect) if f.name != "chart")


@cache
def engine_version() -> str:
    """`ENGINE_REVISION` and a digest of the analytics sources and library versions."""
    from importlib.metadata import PackageNotFoundError, version

    digest = hashlib.sha256()
    for path in sorted(Path(analytics.__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    for name in _LIBRARIES:
        try:
            digest.update(f"{name}={version(name)}\0".encode())
        except PackageNotFoundError:
            digest.update(f"{name}=?\0".encode())
    return f"{ENGINE_REVISION}-{digest.hexdigest()[:16]}"


def input_key(
    go_live: pd.Timestamp | None,
    metrics: Sequence[tuple[str, int, str, AnalysisSpec]],
    engine: str,
) -> str:
    """The key of one pilot's inputs: its go-live, and per metric (name, rows, data
    fingerprint, spec), under `engine`. A sha256 in hex."""
    payload = json.dumps(
        [
            engine,
            None if go_live is None else go_live.isoformat(),
            sorted([m, int(n), f, repr(spec)] for m, n, f, spec in metrics),
        ],
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _plain(value: object) -> object:
    """A field's value as JSON-ready Python (numpy scalars as Python numbers)."""
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def encode_effects(effects: Iterable[MetricEffect]) -> tuple[str, bytes]:
    """`effects` as (JSON text, chart bytes): every field of each MetricEffect, the checks as
    objects, `break_date` as ISO text, and each chart array as (dtype, shape, offset) into the
    bytes; arrays equal byte for byte (the dates every metric of a pilot shares) are stored
    once. Raises ValueError for an array of a dtype that is not numeric."""
    chunks: list[bytes] = []
    offset = 0
    at: dict[tuple[str, bytes], int] = {}  # an array met before (the metrics' common dates)
    out = []
    for effect in effects:
        item: dict[str, Any] = {}
        for name in _EFFECT_FIELDS:
            value = getattr(effect, name)
            if name == "checks":
                value = [{k: _plain(getattr(c, k)) for k in _CHECK_FIELDS} for c in value]
            elif name == "reasons":
                value = list(value)
            elif name == "break_date":
                value = None if value is None else pd.Timestamp(value).isoformat()
            item[name] = _plain(value)
        chart = effect.chart
        if chart is not None:
            arrays = {}
            for name in _CHART_FIELDS:
                array = getattr(chart, name)
                if array is None:
                    continue
                array = np.ascontiguousarray(array)
                dtype = (
                    array.dtype.newbyteorder("<").str
                    if array.dtype.byteorder == ">"
                    else (array.dtype.str)
                )
                if dtype not in _DTYPES:
                    raise ValueError(f"chart array {name} of dtype {array.dtype} cannot be cached")
                data = array.astype(dtype, copy=False).tobytes()
                if (dtype, data) not in at:  # stored once, read back as views of the same bytes
                    at[dtype, data] = offset
                    chunks.append(data)
                    offset += len(data)
                arrays[name] = [dtype, list(array.shape), at[dtype, data]]
            item["chart"] = arrays
        out.append(item)
    return json.dumps(out, separators=(",", ":")), b"".join(chunks)


def decode_effects(text: str, blob: bytes) -> tuple[MetricEffect, ...] | None:
    """The effects `encode_effects` wrote; None when the text or bytes do not decode into
    them (a damaged or foreign row: analyse again)."""
    try:
        items = json.loads(text)
        effects = []
        for item in items:
            fields = {name: item[name] for name in _EFFECT_FIELDS}
            fields["checks"] = tuple(CheckResult(**c) for c in fields["checks"])
            fields["reasons"] = tuple(fields["reasons"])
            if fields["break_date"] is not None:
                fields["break_date"] = pd.Timestamp(fields["break_date"])
            chart = None
            if "chart" in item:
                arrays = {}
                for name, (dtype, shape, offset) in item["chart"].items():
                    if name not in _CHART_FIELDS or dtype not in _DTYPES:
                        return None
                    count = math.prod(int(k) for k in shape)
                    # a read-only view into the pilot's bytes: no copy (charts are only read)
                    array = np.frombuffer(blob, dtype=np.dtype(dtype), count=count, offset=offset)
                    arrays[name] = array.reshape(shape)
                chart = ChartSeries(**arrays)
            effects.append(MetricEffect(**fields, chart=chart))
        return tuple(effects)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
