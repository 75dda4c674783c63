"""Scopes at the level of the store: a company user sees and changes only their companies'
pilots, through every reading and writing function; a viewer changes nothing; a partner sees
all and manages access; every change is recorded under the signed-in identity."""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pilotproof.analysis import analyze_store
from pilotproof.store import IngestError, Store, StoreError
from pilotproof.store.access import Scope
from pilotproof.store.plans import PlanInput
from pilotproof.store.scoped import SCOPED, SHARED

ACME = Scope(user="ana@acme.test", role="company", companies=frozenset({"Acme"}), signed_in=True)
VIEWER = Scope(user="vic@acme.test", role="viewer", companies=frozenset({"Acme"}), signed_in=True)
PARTNER = Scope(user="pat@fund.test", role="partner", signed_in=True)


def _metrics(pilot: str, shift: float) -> str:
    days = pd.date_range("2024-01-01", periods=120, freq="D")
    rng = np.random.default_rng(len(pilot))
    values = 20 - shift * (days >= "2024-03-01") + rng.normal(0, 0.3, len(days))
    return "pilot_id,date,metric,value\n" + "".join(
        f"{pilot},{d:%Y-%m-%d},cycle_time,{v:.2f}\n" for d, v in zip(days, values, strict=True)
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    (tmp_path / "pilots.csv").write_text(
        "pilot_id,go_live,pilot_name,company\n"
        "A1,2024-03-01,Acme claims bot,Acme\n"
        "B1,2024-03-01,Beta secret pricing,Beta\n"
        "N1,2024-03-01,Fund-level tool,\n"
    )
    (tmp_path / "a.csv").write_text(_metrics("A1", 4))
    (tmp_path / "b.csv").write_text(_metrics("B1", 6))
    with Store(tmp_path / "s.duckdb") as opened:
        opened.ingest([tmp_path / "pilots.csv"], user="setup")
        opened.ingest([tmp_path / "a.csv"], user="setup")
        opened.ingest([tmp_path / "b.csv"], user="setup")
        opened.add_event("B1", "2024-03-05", "Beta launch")
        opened.add_event("A1", "2024-03-05", "Acme launch")
        opened.set_threshold("cycle_time", 12, 3, pilot_id="B1")
        opened.set_plan(
            PlanInput("B1", "cycle_time", 10.0, {}, 90, "CFO"), by="setup", reason="agreed"
        )
        opened.log_decision("B1", "scale", "go", "setup", "scale")
        yield opened


def test_a_company_user_reads_only_their_companies(store: Store) -> None:
    mine = store.scoped(ACME)
    assert list(mine.pilots()["pilot_id"]) == ["A1"]
    assert set(mine.observations()["pilot_id"]) == {"A1"}
    assert mine.observations(["B1"]).empty  # asking by id does not help
    assert list(mine.events()["label"]) == ["Acme launch"]
    assert mine.events("B1").empty
    assert mine.thresholds().empty and mine.plans().empty and mine.decisions().empty
    assert set(mine.uploads()["file_name"].map(lambda n: Path(n).name)) == {"a.csv"}
    results = analyze_store(mine)
    assert [r.pilot_id for r in results] == ["A1"]
    assert set(store.pilots()["pilot_id"]) == {"A1", "B1", "N1"}  # unscoped: the CLI


def test_a_company_user_changes_nothing_of_another_company(store: Store, tmp_path: Path) -> None:
    mine = store.scoped(ACME)
    before = (store.events(), store.thresholds(), store.plans(), store.decisions())
    b_upload = int(store.uploads().query("file_name.str.endswith('b.csv')")["upload_id"].iloc[0])
    for attempt in (
        lambda: mine.add_event("B1", "2024-04-01", "x"),
        lambda: mine.save_readiness("B1", {"workflow": "hijacked"}),
        lambda: mine.set_threshold("cycle_time", 1, 1, pilot_id="B1"),
        lambda: mine.set_threshold("cycle_time", 1, 1),  # the catalog default: a partner's
        lambda: mine.add_metric("x_rate", "lower_is_better", "", "value", 5, 5),
        lambda: mine.set_plan(PlanInput("B1", "cycle_time", 1.0, {}, 30, "me"), "me", "why"),
        lambda: mine.log_decision("B1", "stop", "no", "me", "scale"),
        lambda: mine.upload_detail(b_upload),
        lambda: mine.undo_upload(b_upload),
        lambda: mine.set_user("me@acme.test", "partner"),
        lambda: mine.users(),
    ):
        with pytest.raises(StoreError) as refused:
            attempt()
        assert "Beta" not in str(refused.value)  # nothing about the other company
    # another company's event reads as one that does not exist (see the probe's test below)
    assert mine.delete_event(int(store.events("B1")["event_id"].iloc[0])) is None
    after = (store.events(), store.thresholds(), store.plans(), store.decisions())
    for one, other in zip(before, after, strict=True):
        pd.testing.assert_frame_equal(one, other)
    assert store.pilots().set_index("pilot_id").loc["B1", "workflow"] is None
    assert (store.uploads()["outcome"] == "ok").all()

    rows = store.observations()
    (tmp_path / "b2.csv").write_text(_metrics("B1", 1).replace(",cycle_time,", ",manual_touches,"))
    (tmp_path / "move.csv").write_text("pilot_id,go_live,company\nB1,2024-03-01,Acme\n")
    (tmp_path / "new.csv").write_text("pilot_id,go_live\nX9,2024-03-01\n")
    report = mine.validate([tmp_path / "b2.csv"])  # another company's pilot reads as unknown
    assert not report.ok and "B1" in str(report.problems[0]) and "Beta" not in str(report.problems)
    for name in ("b2.csv", "move.csv", "new.csv"):
        with pytest.raises(IngestError, match="not a pilot of your companies"):
            mine.ingest([tmp_path / name])
    pd.testing.assert_frame_equal(rows, store.observations())
    assert store.pilots().set_index("pilot_id").loc["B1", "company"] == "Beta"
    assert "X9" not in set(store.pilots()["pilot_id"])


def test_a_company_user_works_on_their_own_pilots_under_their_name(
    store: Store, tmp_path: Path
) -> None:
    mine = store.scoped(ACME)
    mine.save_readiness("A1", {"workflow": "claims triage"}, by="spoofed")
    mine.set_threshold("cycle_time", 8, 2, pilot_id="A1")
    mine.log_decision("A1", "extend", "more data", "spoofed", "extend")
    (tmp_path / "a2.csv").write_text(_metrics("A1", 4).replace(",cycle_time,", ",manual_touches,"))
    done = mine.ingest([tmp_path / "a2.csv"], user="spoofed")
    mine.undo_upload(done.upload_ids[0])
    assert store.uploads().set_index("upload_id").loc[done.upload_ids[0], "user"] == ACME.user
    assert store.decisions().query("pilot_id == 'A1'")["decided_by"].tolist() == [ACME.user]
    log = store.audit_log().iloc[1:]  # after the fixture's own threshold
    assert list(log["action"]) == ["readiness", "threshold", "undo"]
    assert set(log["user"]) == {ACME.user}
    assert list(mine.audit_log()["action"]) == ["readiness", "threshold"]  # the undo has no pilot


def test_a_viewer_reads_and_changes_nothing(store: Store, tmp_path: Path) -> None:
    view = store.scoped(VIEWER)
    assert list(view.pilots()["pilot_id"]) == ["A1"]
    (tmp_path / "a2.csv").write_text(_metrics("A1", 4).replace(",cycle_time,", ",manual_touches,"))
    for attempt in (
        lambda: view.add_event("A1", "2024-04-01", "x"),
        lambda: view.save_readiness("A1", {"workflow": "x"}),
        lambda: view.set_threshold("cycle_time", 1, 1, pilot_id="A1"),
        lambda: view.ingest([tmp_path / "a2.csv"]),
        lambda: view.log_decision("A1", "stop", "no", "me", "scale"),
        lambda: view.save_mapping("m", {"a": "date"}),
    ):
        with pytest.raises(StoreError, match="read-only"):
            attempt()


def test_partners_manage_access_and_the_first_comes_from_configuration(store: Store) -> None:
    assert store.scope_for("boss@fund.test") is None  # unknown: no access
    first = store.scope_for(" Boss@Fund.test ", admins=["boss@fund.test"])
    assert first == Scope(user="boss@fund.test", role="partner", signed_in=True)
    boss = store.scoped(first)
    boss.set_user("Ana@Acme.test", "company", ["Acme", " "])
    boss.set_user("vic@acme.test", "viewer", ["Acme"])
    assert store.scope_for("ana@acme.test") == ACME
    assert store.scope_for("vic@acme.test") == VIEWER
    with pytest.raises(StoreError, match="at least one company"):
        boss.set_user("x@acme.test", "company", [])
    with pytest.raises(StoreError, match="role must be"):
        boss.set_user("x@acme.test", "admin", ["Acme"])
    users = boss.users()
    assert list(users["email"]) == ["ana@acme.test", "vic@acme.test"]
    assert set(users["added_by"]) == {"boss@fund.test"}
    boss.remove_user("ana@acme.test")
    assert store.scope_for("ana@acme.test") is None
    access = store.audit_log().query("action == 'access'")
    assert list(access["user"].unique()) == ["boss@fund.test"] and len(access) == 3


def test_a_scoped_store_reaches_only_what_is_classified() -> None:
    public = {
        name for name, member in inspect.getmembers(Store) if callable(member)
        and not name.startswith("_")
    }  # fmt: skip
    unscoped_on_purpose = {"close", "scoped", "scope_for", "pilot_ids_with_go_live", "count_pilots"}
    assert public - SCOPED - SHARED == unscoped_on_purpose
    for name in SCOPED:
        assert "scope" in inspect.signature(getattr(Store, name)).parameters, name
    scoped = Store(":memory:").scoped(ACME)
    with pytest.raises(AttributeError):
        scoped.pilot_ids_with_go_live()
    with pytest.raises(AttributeError):
        scoped.close()


def test_an_export_holds_only_the_scope(store: Store) -> None:
    from pilotproof.export import build

    mine = store.scoped(ACME)
    html = build(analyze_store(mine), mine, "html").decode()
    assert "Acme claims bot" in html
    assert "Beta secret pricing" not in html and "Fund-level tool" not in html


def test_currencies_honour_the_scope(store: Store) -> None:
    # money settings (issue 13) under sign-in (issue 14): a company user reads and sets only
    # their companies' currencies; the reporting currency and its rates are a partner's
    store.set_company_currency("Acme", "EUR", by="setup")
    store.set_company_currency("Beta", "GBP", by="setup")
    mine = store.scoped(ACME)
    assert mine.company_currencies() == {"Acme": "EUR"}
    assert mine.pilot_currencies() == {"A1": "EUR"}
    with pytest.raises(StoreError, match="no company"):
        mine.set_company_currency("Beta", "USD", "ana")
    assert store.company_currencies()["Beta"] == "GBP"  # nothing written
    mine.set_company_currency("Acme", "USD", "whatever the form says")
    assert store.company_currencies()["Acme"] == "USD"
    with pytest.raises(StoreError, match="read-only"):
        store.scoped(VIEWER).set_company_currency("Acme", "EUR", "vic")
    with pytest.raises(StoreError, match="only a partner"):
        mine.set_rates("EUR", {"USD": 0.9}, "ana")
    store.scoped(PARTNER).set_rates("EUR", {"USD": 0.9, "GBP": 1.17}, "pat")
    assert mine.rates().reporting == "EUR"  # the rates are shared: numbers, no company's data


def test_what_the_sign_in_probe_found_is_closed(store: Store, tmp_path: Path) -> None:
    mine = store.scoped(ACME)
    # another company's event reads as one that does not exist: no pilot id in the answer
    beta_event = int(store.events().query("pilot_id == 'B1'")["event_id"].iloc[0])
    assert mine.delete_event(beta_event) is None
    assert beta_event in set(store.events()["event_id"])  # nothing deleted
    # results seen are recorded only for the pilots in scope (they lock success plans)
    mine.mark_results_seen(["A1", "B1"])
    assert set(store.results_seen()["pilot_id"]) == {"A1"}
    # a new metric from an upload enters the shared catalog: a partner's act, as add_metric is
    (tmp_path / "kpi.csv").write_text("pilot_id,date,metric,value\nA1,2024-03-02,acme_kpi,1.0\n")
    from pilotproof.store.reading import ReadOptions

    with pytest.raises(StoreError, match="only a partner can add a metric"):
        mine.ingest(
            [tmp_path / "kpi.csv"],
            mapping=ReadOptions(new_metrics={"acme_kpi": "lower_is_better"}),
        )
    assert "acme_kpi" not in set(store.catalog()["metric"])
