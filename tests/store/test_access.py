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
    (tmp_path / "give.csv").write_text("pilot_id,go_live,company\nA1,2024-03-01,Beta\n")
    report = mine.validate([tmp_path / "b2.csv"])  # another company's pilot reads as unknown
    assert not report.ok and "B1" in str(report.problems[0]) and "Beta" not in str(report.problems)
    for name, refusal in (
        ("b2.csv", "pilot 'B1' has no go-live date"),  # as an unknown id reads
        ("move.csv", "pilot id 'B1' is taken"),
        ("give.csv", "company 'Beta' is not one of yours"),
    ):
        with pytest.raises(IngestError, match=refusal):
            mine.ingest([tmp_path / name])
    pd.testing.assert_frame_equal(rows, store.observations())
    assert store.pilots().set_index("pilot_id")["company"].to_dict() == {
        "A1": "Acme", "B1": "Beta", "N1": None,
    }  # fmt: skip


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
    undone = mine.uploads().set_index("upload_id").loc[done.upload_ids[0]]  # still in history
    assert (undone["user"], undone["outcome"]) == (ACME.user, "undone")
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
    unscoped_on_purpose = {
        "close",
        "scoped",
        "scope_for",
        "pilot_ids_with_go_live",
        "count_pilots",
        "record_sample_plans_as_set",
    }  # fmt: skip  (the demo seed's)
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


def _problems(error: IngestError | object, pilot: str) -> list[tuple]:
    """What a refusal says, by file, line and column, with the pilot id blanked out."""
    return [(p.file, p.line, p.column, p.message.replace(pilot, "?")) for p in error.problems]


def test_another_companys_pilot_on_upload_reads_as_an_unknown_one(
    store: Store, tmp_path: Path
) -> None:
    # the second probe: ingest checked pilot ids fund-wide, so another company's id was refused
    # in other words ("not a pilot of your companies") than an id that does not exist
    mine = store.scoped(ACME)
    before, uploads = store.observations(), store.uploads()
    said: dict[str, list] = {}
    lines = _metrics("A1", 4).replace(",cycle_time,", ",manual_touches,").splitlines()
    for pilot in ("B1", "N1", "ZZ9"):  # Beta's, the fund's own, and one that does not exist
        # a few of Acme's rows, then the pilot's: a clean file the fast path would take
        rows = lines[:6] + [line.replace("A1,", f"{pilot},") for line in lines[6:40]]
        upload = [("m.csv", "\n".join(rows).encode() + b"\n")]
        with pytest.raises(IngestError) as refused:
            mine.ingest(upload)
        said[pilot] = _problems(refused.value, pilot)
        said[pilot + " checked"] = _problems(mine.validate(upload), pilot)
    assert said["B1"] == said["N1"] == said["ZZ9"]
    assert said["B1 checked"] == said["ZZ9 checked"] == said["B1"]
    assert said["B1"][0][2:] == ("pilot_id", "pilot '?' has no go-live date: upload a pilots "
                                 "file (pilot_id, go_live) that lists it")  # fmt: skip
    pd.testing.assert_frame_equal(before, store.observations())  # never written
    pd.testing.assert_frame_equal(uploads, store.uploads())


def test_a_reupload_and_the_history_reveal_nothing_outside_the_scope(
    store: Store, tmp_path: Path
) -> None:
    mine = store.scoped(ACME)
    # Beta's very file, uploaded by Acme: no "already ingested as upload 3", no number, no date
    beta_file = tmp_path / "b.csv"
    with pytest.raises(IngestError) as refused:
        mine.ingest([("copy.csv", beta_file.read_bytes())])
    text = str(refused.value)
    assert "already" not in text and "upload" not in text.replace("upload a pilots", "")
    assert "pilot 'B1' has no go-live date" in text
    # Acme's history is numbered Acme's way: the fund's pilots file (1) and Beta's (3) unseen
    history = mine.uploads()
    assert list(history["upload_id"]) == [1] and history["file_name"].str.endswith("a.csv").all()
    assert mine.upload_detail(1).description.startswith("#1 ")
    with pytest.raises(StoreError, match="no upload 2"):
        mine.upload_detail(2)
    again = mine.ingest([("again.csv", (tmp_path / "a.csv").read_bytes())])
    assert again.noop and "already ingested as upload 1:" in again.summary
    recorded = store.uploads().iloc[-1]  # a partner's trail names the stored upload, a.csv's
    assert recorded["message"] == "already ingested as upload 2: nothing changed"
    (tmp_path / "a2.csv").write_text(_metrics("A1", 4).replace(",cycle_time,", ",manual_touches,"))
    done = mine.ingest([tmp_path / "a2.csv"])
    assert done.upload_ids == (2,) and done.summary.endswith("(upload 2)")
    stored = int(store.uploads().query("file_name.str.endswith('a2.csv')")["upload_id"].iloc[0])
    assert stored > 2  # the fund's own number, never shown to Acme
    mine.undo_upload(2)
    assert store.uploads().set_index("upload_id").loc[stored, "outcome"] == "undone"
    assert list(mine.uploads()["upload_id"]) == [1, 2]  # the undone one keeps its number
    assert store.observations()["metric"].eq("manual_touches").sum() == 0


def test_saved_mappings_belong_to_their_company(store: Store) -> None:
    beta = Scope(user="bo@beta.test", role="company", companies=frozenset({"Beta"}), signed_in=True)
    store.save_mapping("fund export", {"Day": "date"})
    store.scoped(ACME).save_mapping("export", {"Fecha": "date"})
    store.scoped(beta).save_mapping("export", {"Datum": "date"})  # overwrites nothing of Acme's
    assert store.scoped(ACME).mappings() == {"export": {"Fecha": "date"}}
    assert store.scoped(beta).mappings() == {"export": {"Datum": "date"}}
    assert store.scoped(PARTNER).mappings() == store.mappings() == {"fund export": {"Day": "date"}}
    assert store.scoped(VIEWER).mappings() == {"export": {"Fecha": "date"}}  # Acme's, read only


def test_a_company_user_registers_pilots_in_their_own_companies(
    store: Store, tmp_path: Path
) -> None:
    (tmp_path / "new.csv").write_text("pilot_id,go_live,pilot_name\nX9,2024-03-01,Acme triage\n")
    done = store.scoped(ACME).ingest([tmp_path / "new.csv"])
    assert "new pilot X9 added to Acme" in done.summary
    assert store.pilots().set_index("pilot_id").loc["X9", "company"] == "Acme"
    assert "X9" in set(store.scoped(ACME).pilots()["pilot_id"])

    two = Scope(user="g@x.test", role="company", companies=frozenset({"Acme", "Gamma"}))
    (tmp_path / "y.csv").write_text("pilot_id,go_live\nY1,2024-03-01\n")
    (tmp_path / "z.csv").write_text("pilot_id,go_live,company\nZ1,2024-03-01,Beta\n")
    (tmp_path / "w.csv").write_text("pilot_id,go_live,company\nW1,2024-03-01,\n")
    for name, column, refusal in (
        ("y.csv", "company", "new pilot 'Y1' needs its company, one of yours (Acme, Gamma): add"),
        ("z.csv", "company", "company 'Beta' is not one of yours (Acme, Gamma)"),
        ("w.csv", "company", "new pilot 'W1' needs its company"),
    ):
        with pytest.raises(IngestError) as refused:
            store.scoped(two).ingest([tmp_path / name])
        (problem,) = refused.value.problems
        assert (Path(problem.file).name, problem.line, problem.column) == (name, 2, column)
        assert refusal in problem.message
        checked = store.scoped(two).validate([tmp_path / name])  # the page's check says it too
        assert checked.problems == [problem] and not checked.ok
    assert not {"Y1", "Z1", "W1"} & set(store.pilots()["pilot_id"])  # nothing written
    (tmp_path / "g.csv").write_text("pilot_id,go_live,company\nG1,2024-03-01,Gamma\n")
    done = store.scoped(two).ingest([tmp_path / "g.csv"])
    assert "added to" not in done.summary  # the file named it
    assert store.pilots().set_index("pilot_id").loc["G1", "company"] == "Gamma"


def test_a_plan_from_a_file_names_the_upload_as_the_scope_numbers_it(
    store: Store, tmp_path: Path
) -> None:
    (tmp_path / "plan.csv").write_text(
        "pilot_id,go_live,plan_value_metric,plan_threshold_pct,plan_set_on\n"
        "A1,2024-03-01,cycle_time,10,2024-02-01\n"
    )
    store.scoped(ACME).ingest([tmp_path / "plan.csv"])
    stored = store.plans().query("pilot_id == 'A1'")["upload_id"].dropna().astype(int).tolist()
    assert stored == [4]  # the fund's fourth upload...
    assert store.scoped(ACME).plans()["upload_id"].tolist() == [2]  # ...Acme's second


def test_a_plan_from_a_file_is_set_by_the_signed_in_person(store: Store, tmp_path: Path) -> None:
    # probe: a pilots file's plan_set_by column recorded a plan as a partner's
    (tmp_path / "plan.csv").write_text(
        "pilot_id,go_live,plan_value_metric,plan_threshold_pct,plan_set_on,plan_set_by\n"
        f"A1,2024-03-01,cycle_time,10,2024-02-01,{PARTNER.user}\n"
    )
    store.scoped(ACME).ingest([tmp_path / "plan.csv"])
    assert store.plans().query("pilot_id == 'A1'")["set_by"].tolist() == [ACME.user]
