"""Issue 16: the portfolio streams from the store in chunks of pilots, and each pilot's effects
are kept in the database under the key of the inputs that made them, so an edit re-analyses
only what it touches and a restart re-analyses nothing. Results stay those of one analysis of
everything."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pilotproof.analysis as analysis
from pilotproof import result_cache
from pilotproof.analysis import analyze_store, to_json
from pilotproof.result_cache import decode_effects, encode_effects
from pilotproof.store import Store, seed_sample
from pilotproof.store import results as results_store
from pilotproof.store.access import Scope
from pilotproof.store.results import CachedEffects


def _differences(a, b, path=""):
    """Paths where two JSON documents differ, numbers beyond 1e-9 relative: the tolerance of the
    batch-independence property (tests/analytics/test_batch_independence.py)."""
    if isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys():
        return [d for k in a for d in _differences(a[k], b[k], f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in _differences(x, y, f"{path}[{i}]")
        ]
    if isinstance(a, float) and isinstance(b, float):
        return [] if math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) else [(path, a, b)]
    return [] if a == b else [(path, a, b)]


def _metrics(pilot: str, shift: float) -> str:
    days = pd.date_range("2024-01-01", periods=120, freq="D")
    rng = np.random.default_rng(len(pilot))
    values = 20 - shift * (days >= "2024-03-01") + rng.normal(0, 0.3, len(days))
    return "".join(
        f"{pilot},{d:%Y-%m-%d},cycle_time,{v:.2f}\n" for d, v in zip(days, values, strict=True)
    )


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("seeded") / "sample.duckdb"
    with Store(path) as store:
        seed_sample(store)
    return path


@pytest.fixture
def store(seeded: Path, tmp_path: Path):
    path = tmp_path / "s.duckdb"
    shutil.copy(seeded, path)
    with Store(path) as opened:
        yield opened


@pytest.fixture
def analysed(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The pilot ids of every chunk `analyze_store` sends to the engine, in order."""
    calls: list[list[str]] = []
    real = analysis.analyze_portfolio

    def counting(observations, pilots, catalog, thresholds, pilot_ids=None):
        calls.append(list(pilot_ids or []))
        return real(observations, pilots, catalog, thresholds, pilot_ids=pilot_ids)

    monkeypatch.setattr(analysis, "analyze_portfolio", counting)
    return calls


def _doc(results) -> dict:
    doc = to_json(results)
    for pilot in doc["pilots"]:  # the governance record reads the clock; the analysis does not
        for key in ("plan_locked_at", "decision_overdue"):
            pilot.pop(key, None)
    return json.loads(json.dumps(doc))


def _touched(calls: list[list[str]]) -> set[str]:
    return {p for chunk in calls for p in chunk}


def test_chunks_of_one_pilot_give_the_results_of_one_chunk(store: Store, tmp_path: Path) -> None:
    other = tmp_path / "other.duckdb"
    store.close()
    shutil.copy(store.path, other)
    streamed = analyze_store(store, chunk_rows=1)  # every pilot a chunk of its own
    with Store(other) as whole_store:
        whole = analyze_store(whole_store, chunk_rows=10**9)
    assert [r.pilot_id for r in streamed] == [r.pilot_id for r in whole]
    assert _differences(_doc(streamed), _doc(whole)) == []
    assert len(streamed) == 14 and sum(len(r.metrics) for r in streamed) > 30


@pytest.mark.parametrize("few", [32, 0], ids=["through the index", "in one scan"])
def test_a_second_run_and_a_restart_read_the_cache(
    store: Store, analysed, few: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(results_store, "FEW_PILOTS", few)
    first = _doc(analyze_store(store))
    assert len(_touched(analysed)) == 14
    analysed.clear()
    assert _doc(analyze_store(store)) == first
    assert analysed == []
    store.close()
    with Store(store.path) as restarted:  # a new process opening the same file
        assert _doc(analyze_store(restarted)) == first
    assert analysed == []


def test_events_and_readiness_never_re_estimate(store: Store, analysed) -> None:
    before = {r.pilot_id: r for r in analyze_store(store)}
    analysed.clear()
    store.add_event("NW-AP", "2026-06-01", "New supplier portal")
    store.save_readiness("NW-AP", {"workflow": None, "escalation_path": None})
    store.log_decision("NW-AP", "extend", "wait", "ana")
    after = {r.pilot_id: r for r in analyze_store(store)}
    assert analysed == []
    # the decision is rebuilt from the cached effects with today's answers
    assert {"workflow", "escalation_path"} <= set(after["NW-AP"].readiness_missing)
    assert not {"workflow", "escalation_path"} & set(before["NW-AP"].readiness_missing)
    assert after["NW-AP"].metrics == before["NW-AP"].metrics


def test_a_threshold_or_an_upload_re_analyses_only_its_pilot(
    store: Store, analysed, tmp_path: Path
) -> None:
    analyze_store(store)
    analysed.clear()
    # NW-AP's success plan sets its cycle-time threshold: an override beneath it changes nothing
    store.set_threshold("cycle_time", 30.0, None, pilot_id="NW-AP")
    analyze_store(store)
    assert analysed == []
    store.set_threshold("cycle_time", 30.0, None, pilot_id="NW-SALES")  # no plan: it counts
    changed = {r.pilot_id: r for r in analyze_store(store)}
    assert _touched(analysed) == {"NW-SALES"}
    effect = next(m for m in changed["NW-SALES"].metrics if m.metric == "cycle_time")
    assert effect.threshold_pct == 30.0
    analysed.clear()
    upload = tmp_path / "more.csv"
    upload.write_text("pilot_id,date,metric,value\nHB-FNOL,2026-11-30,cycle_time,21.5\n")
    store.ingest([upload], user="ana")
    analyze_store(store)
    assert _touched(analysed) == {"HB-FNOL"}


def test_the_cache_gives_what_a_fresh_analysis_gives(store: Store, tmp_path: Path) -> None:
    store.set_threshold("cycle_time", 30.0, None, pilot_id="NW-SALES")
    analyze_store(store)  # fills the cache
    cached = _doc(analyze_store(store))
    fresh_path = tmp_path / "fresh.duckdb"
    store.close()
    shutil.copy(store.path, fresh_path)
    with Store(fresh_path) as fresh:
        with fresh._cursor() as cur:  # test-only: empty the cache
            cur.execute("DELETE FROM result_cache")
        assert _doc(analyze_store(fresh)) == cached


def test_a_new_engine_version_re_analyses_everything(
    store: Store, analysed, monkeypatch: pytest.MonkeyPatch
) -> None:
    analyze_store(store)
    analysed.clear()
    monkeypatch.setattr(analysis, "engine_version", lambda: "test-engine")
    analyze_store(store)
    assert len(_touched(analysed)) == 14
    with store._cursor() as cur:  # rows of the older engine are gone
        engines = {r[0] for r in cur.execute("SELECT engine FROM result_cache").fetchall()}
    assert engines == {"test-engine"}


def test_engine_version_follows_the_analytics_sources(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import analytics

    now = result_cache.engine_version()
    assert now.startswith(result_cache.ENGINE_REVISION + "-")
    copy = tmp_path / "analytics"
    shutil.copytree(Path(analytics.__file__).parent, copy)
    (copy / "its.py").write_text((copy / "its.py").read_text() + "\n# edited\n")
    monkeypatch.setattr(analytics, "__file__", str(copy / "__init__.py"))
    result_cache.engine_version.cache_clear()
    try:
        assert result_cache.engine_version() != now
    finally:
        result_cache.engine_version.cache_clear()


def test_a_damaged_cache_row_is_a_miss_not_a_crash(store: Store, analysed) -> None:
    first = _doc(analyze_store(store))
    with store._cursor() as cur:  # test-only: damage two rows the way a bad disk might
        cur.execute("UPDATE result_cache SET effects = '[{\"metric\": 1}' WHERE pilot_id = 'NW-AP'")
        cur.execute(
            "UPDATE result_cache SET effects = replace(effects, '\"<f8\"', '\"|O\"') "
            "WHERE pilot_id = 'HB-FNOL'"
        )
    analysed.clear()
    # the two re-analysed pilots are a smaller batch: equal to the batch-independence tolerance
    assert _differences(_doc(analyze_store(store)), first) == []
    assert _touched(analysed) == {"NW-AP", "HB-FNOL"}


def test_effects_round_trip_bit_for_bit(store: Store) -> None:
    for result in analyze_store(store):
        text, blob = encode_effects(result.metrics)
        back = decode_effects(text, blob)
        assert back == result.metrics  # every field but the chart (compare=False)
        for old, new in zip(result.metrics, back or (), strict=True):
            assert (old.chart is None) == (new.chart is None)
            if old.chart is None:
                continue
            for name in ("dates", "observed", "counterfactual", "cf_low", "cf_high", "control"):
                a, b = getattr(old.chart, name), getattr(new.chart, name)
                assert (a is None) == (b is None), name
                if a is not None:
                    assert a.dtype == b.dtype and np.array_equal(
                        a, b, equal_nan=a.dtype.kind == "f"
                    )
    assert decode_effects("not json", b"") is None
    assert decode_effects('[{"pilot_id": "x"}]', b"") is None


def test_the_cache_honours_the_scope(tmp_path: Path) -> None:
    (tmp_path / "pilots.csv").write_text(
        "pilot_id,go_live,pilot_name,company\nA1,2024-03-01,A,Acme\nB1,2024-03-01,B,Beta\n"
    )
    (tmp_path / "m.csv").write_text(
        "pilot_id,date,metric,value\n" + _metrics("A1", 4) + _metrics("B1", 6)
    )
    acme = Scope(user="a@acme.test", role="company", companies=frozenset({"Acme"}))
    viewer = Scope(user="v@acme.test", role="viewer", companies=frozenset({"Acme"}))
    with Store(tmp_path / "s.duckdb") as store:
        store.ingest([tmp_path / "pilots.csv", tmp_path / "m.csv"], user="setup")
        mine = store.scoped(viewer)  # a viewer's look fills the cache for what it sees
        assert [r.pilot_id for r in analyze_store(mine)] == ["A1"]
        prints = store.observation_fingerprints()
        assert set(prints["pilot_id"]) == {"A1", "B1"}
        assert set(mine.observation_fingerprints()["pilot_id"]) == {"A1"}
        with store._cursor() as cur:
            stored = {
                r[0]: r[1]
                for r in cur.execute("SELECT pilot_id, input_key FROM result_cache").fetchall()
            }
        assert set(stored) == {"A1"}
        # Acme can neither read nor write Beta's results
        foreign = CachedEffects("B1", "k", "e", "[]", b"")
        assert store.scoped(acme).save_results([foreign]) == 0
        assert store.scoped(acme).cached_results({"A1": stored["A1"], "B1": "k"}, "e") == {}
        assert store.save_results([foreign]) == 1
        assert set(store.cached_results({"B1": "k"}, "e")) == {"B1"}
        assert store.scoped(acme).cached_results({"B1": "k"}, "e") == {}


def test_a_pilot_s_charts_are_kept_in_parts_and_read_back_whole(store: Store, monkeypatch) -> None:
    monkeypatch.setattr(results_store, "PART_BYTES", 1000)  # many parts for the sample's pilots
    first = analyze_store(store)
    with store._cursor() as cur:
        parts = cur.execute(
            "SELECT pilot_id, count(*), max(octet_length(charts)), max(part) FROM result_cache "
            "GROUP BY pilot_id, input_key"
        ).fetchall()
        assert results_store.count_cached(cur) == len(parts) >= len(first)
    assert all(n > 1 and longest <= 1000 and top == n - 1 for _, n, longest, top in parts)
    again = {r.pilot_id: r for r in analyze_store(store)}  # read back from the parts
    for old in first:
        for a, b in zip(old.metrics, again[old.pilot_id].metrics, strict=True):
            assert a == b and (a.chart is None) == (b.chart is None)
            if a.chart is not None and b.chart is not None:
                assert np.array_equal(a.chart.observed, b.chart.observed, equal_nan=True)
                assert np.array_equal(a.chart.dates, b.chart.dates)


def test_a_missing_or_stray_part_is_a_miss(store: Store, analysed, monkeypatch) -> None:
    monkeypatch.setattr(results_store, "PART_BYTES", 1000)
    monkeypatch.setattr(results_store, "FEW_PILOTS", 0)  # one scan of the table, in its order
    first = _doc(analyze_store(store))
    with store._cursor() as cur:  # test-only: lose one part of NW-AP's, move one of another's
        cur.execute("DELETE FROM result_cache WHERE pilot_id = 'NW-AP' AND part = 1")
        columns = "pilot_id, input_key, engine, effects, charts, computed_at, part"
        rows = cur.execute(f"SELECT {columns} FROM result_cache").fetchall()
        stray = next(r for r in rows if r[6] == 2 and r[0] not in ("NW-AP", rows[-1][0]))
        cur.execute(
            "DELETE FROM result_cache WHERE pilot_id = ? AND input_key = ? AND part = 2",
            [stray[0], stray[1]],
        )
        # appended: the scan meets it after the pilot's other parts were joined
        cur.execute(f"INSERT INTO result_cache ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?)", stray)
    analysed.clear()
    assert _differences(_doc(analyze_store(store)), first) == []
    assert _touched(analysed) == {"NW-AP", stray[0]}


def test_a_version_8_cache_row_of_one_part_still_reads(store: Store, analysed) -> None:
    first = _doc(analyze_store(store))
    with store._cursor() as cur:  # test-only: the rows as schema 8 wrote them, one per pilot
        columns = "pilot_id, input_key, engine, effects, charts, computed_at"
        whole: dict[tuple[str, str], list] = {}
        for *row, part in cur.execute(
            f"SELECT {columns}, part FROM result_cache ORDER BY pilot_id, input_key, part"
        ).fetchall():
            if part == 0:
                whole[row[0], row[1]] = row
            else:
                whole[row[0], row[1]][4] += row[4]
        cur.execute("DELETE FROM result_cache")
        cur.executemany(
            f"INSERT INTO result_cache ({columns}) VALUES (?, ?, ?, ?, ?, ?)", list(whole.values())
        )
        stored = cur.execute("SELECT max(part), count(*) FROM result_cache").fetchone()
        assert stored == (0, len(whole))
    analysed.clear()
    assert _doc(analyze_store(store)) == first
    assert analysed == []


def test_two_processes_give_the_results_of_one(store: Store, tmp_path: Path, analysed) -> None:
    other = tmp_path / "other.duckdb"
    store.close()
    shutil.copy(store.path, other)
    pooled = analyze_store(store, chunk_rows=2_000, workers=2)  # several chunks, two processes
    # analysed in the worker processes; here only the one chunk of the second pass (a pilot's
    # decision under its pre-registered plan), which goes to no pool
    assert len(analysed) <= 1
    analysed.clear()
    with Store(other) as serial_store:
        serial = analyze_store(serial_store, chunk_rows=2_000, workers=1)
    assert len(analysed) > 3  # the same chunks, in this process
    assert _doc(pooled) == _doc(serial)  # the same chunks give the same bits
    for a, b in zip(pooled, serial, strict=True):
        for x, y in zip(a.metrics, b.metrics, strict=True):
            for name in ("observed", "counterfactual", "cf_low", "cf_high"):
                u = None if x.chart is None else getattr(x.chart, name)
                v = None if y.chart is None else getattr(y.chart, name)
                assert (u is None and v is None) or np.array_equal(u, v, equal_nan=True)
    analysed.clear()
    with Store(store.path) as restarted:  # the pool's results were kept
        assert _doc(analyze_store(restarted, workers=2)) == _doc(serial)
    assert analysed == []


def test_the_number_of_workers_comes_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("PILOTPROOF_WORKERS", "1")
    assert analysis._worker_count(None) == 1
    monkeypatch.setenv("PILOTPROOF_WORKERS", "many")
    assert analysis._worker_count(None) == analysis.WORKERS
    assert analysis._worker_count(0) == 1 and analysis._worker_count(3) == 3


def test_kept_results_are_written_and_read_under_a_memory_limit_then_reset(
    store: Store, monkeypatch
) -> None:
    seen: list[str] = []
    real = results_store.write_cached

    def spying(cur, entries, now):
        seen.append(cur.execute("SELECT current_setting('memory_limit')").fetchall()[0][0])
        return real(cur, entries, now)

    monkeypatch.setattr(results_store, "write_cached", spying)
    with store._cursor() as cur:
        default = cur.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    assert len(analyze_store(store)) == 14
    assert seen and all(limit != default and "MiB" in limit for limit in seen)
    with store._cursor() as cur:
        assert cur.execute("SELECT current_setting('memory_limit')").fetchall()[0][0] == default


def test_a_memory_limit_duckdb_refuses_leaves_the_block_unbounded(store: Store) -> None:
    class Refusing:
        def __init__(self, cur) -> None:
            self.cur, self.calls = cur, []

        def execute(self, sql, params=None):
            self.calls.append(sql)
            if sql.startswith("SET memory_limit"):
                raise results_store.duckdb.OutOfMemoryException("could not free up enough")
            return self.cur.execute(sql, params)

    with store._cursor() as cur:
        refusing = Refusing(cur)
        with results_store.bounded_memory(refusing):
            refusing.execute("SELECT 1")
    assert refusing.calls == ["SET memory_limit = $limit", "SELECT 1"]  # no RESET either
