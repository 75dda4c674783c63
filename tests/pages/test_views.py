from dataclasses import replace

import pandas as pd
import pytest

from analytics.results import READINESS_FIELDS, MetricEffect, PilotResult
from pilotproof.views import (
    board_by_company,
    board_pilots,
    board_rest_words,
    changed_readiness,
    changed_thresholds,
    compare_table,
    csv_headers,
    decision_board_chart,
    effect_sentence,
    extremes,
    md,
    pilot_labels,
    readiness_gaps,
    valid_metric_name,
)


def effect(pilot_id="p", metric="cycle_time", pct=-21.0, low=-25.0, high=-17.0, **kw):
    base = dict(
        pilot_id=pilot_id, metric=metric, direction="lower_is_better", kind="value",
        verdict="real", reasons=(), method="its", frequency="W", n_pre=20, n_post=20,
        effect_pct=pct, ci_low_pct=low, ci_high_pct=high, effect_abs=None, ci_low_abs=None,
        ci_high_abs=None, mde_pct=None, baseline=None, threshold_pct=10.0, tolerance_pct=None,
    )  # fmt: skip
    base.update(kw)
    return MetricEffect(**base)


def test_effect_sentence_in_plain_words():
    assert effect_sentence(effect()) == (
        "cycle time 21% lower than it would have been (95% interval 17% to 25% lower)"
    )
    higher = effect(metric="resolved_per_hour", pct=14.0, low=9.0, high=19.0)
    assert effect_sentence(higher) == (
        "resolved per hour 14% higher than it would have been (95% interval 9% to 19% higher)"
    )
    spanning = effect(pct=-3.0, low=-8.0, high=2.0)
    assert effect_sentence(spanning).endswith("(95% interval 8% lower to 2% higher)")
    missing = effect(pct=None, low=None, high=None, reasons=("insufficient_data",))
    assert effect_sentence(missing) == "cycle time: no effect estimated (not enough data)"


def test_a_fraction_reads_in_points_in_sentences_tables_and_exports():
    from pilotproof.export.content import _effect_row

    margin = effect(
        metric="margin", direction="higher_is_better", pct=None, low=None, high=None,
        scale="points", effect_points=2.04, ci_low_points=1.6, ci_high_points=2.4,
        threshold_pct=1.0, tolerance_pct=0.5,
    )  # fmt: skip
    assert effect_sentence(margin) == (
        "margin +2.0 points against what it would have been (95% interval +1.6 to +2.4 points)"
    )
    row = compare_table([PilotResult("p", "scale", (), ("margin",), (), (margin,))], {}).iloc[0]
    assert (row["effect"], row["interval"]) == ("+2.0 points", "+1.6 to +2.4 points")
    assert row["improvement_pct"] == pytest.approx(2.04)  # in points, as its threshold
    shown = _effect_row(margin, "rate")
    assert (shown.effect_text, shown.interval_text) == ("+2.0 points", "+1.6 to +2.4 points")
    assert shown.bar_text == "at least 1 point better"


@pytest.mark.parametrize(
    "text",
    ["[click](http://evil.example)", "![img](http://x/y.png)", "**bold** _i_ `code`", "<b>x</b>"],
)
def test_md_escapes_every_markdown_construct(text):
    escaped = md(text)
    for char in "[]()*_`<>!":
        assert f"\\{char}" in escaped or char not in text
    assert md(None) == "" and md("line\nbreak") == "line break"


def test_pilot_labels_are_unique():
    pilots = pd.DataFrame(
        {"pilot_id": ["a", "b", "c"], "pilot_name": ["Bot", "Bot", None], "company": ["X", "X", ""]}
    )
    assert pilot_labels(pilots) == {"a": "Bot (X) [a]", "b": "Bot (X) [b]", "c": "c"}


def test_compare_table_marks_best_and_worst_by_improvement():
    results = [
        PilotResult(
            p, "scale", (), ("cycle_time",), (), (effect(p, pct=pct, low=pct - 2, high=pct + 2),)
        )
        for p, pct in [("a", -30.0), ("b", -5.0), ("c", 4.0)]
    ]
    table = compare_table(results, {"a": "A", "b": "B", "c": "C"})
    assert list(table["pilot"]) == ["A", "B", "C"]  # sorted by improvement, best first
    assert list(table["rank"]) == ["best", "", "worst"]
    assert list(table["improvement_pct"]) == [30.0, 5.0, -4.0]
    assert compare_table(results, {}, metric="other").empty


def test_readiness_gaps_and_changes():
    before = pd.DataFrame({"pilot_id": ["a", "b"], "pilot": ["A", "B"]})
    for field in READINESS_FIELDS:
        before[field] = ["named", "named"]
    before.loc[1, "decision_owner"] = ""
    gaps = readiness_gaps(before)
    assert list(gaps["pilot"]) == ["B"] and gaps.iloc[0]["missing"] == "decision owner"
    after = before.copy()
    after.loc[1, "decision_owner"] = "Finance lead"
    after.loc[0, "workflow"] = "  "
    changes = changed_readiness(before, after)
    assert set(changes) == {"a", "b"}
    assert changes["a"]["workflow"] is None and changes["b"]["decision_owner"] == "Finance lead"
    assert changed_readiness(before, before) == {}


def test_changed_thresholds_ignores_blank_to_blank():
    before = pd.DataFrame(
        {"metric": ["a", "b"], "threshold_pct": [10.0, None], "tolerance_pct": [None, 5.0]}
    )
    after = before.copy()
    assert changed_thresholds(before, after) == []
    after.loc[0, "threshold_pct"] = 15.0
    assert changed_thresholds(before, after) == [("a", 15.0, None)]


def test_csv_headers_and_metric_names():
    assert csv_headers(b'\xef\xbb\xbf"Ticket ID",Created at,Value\r\n1,2,3') == [
        "Ticket ID", "Created at", "Value",
    ]  # fmt: skip
    assert csv_headers(b"") == []
    assert valid_metric_name("first_response_time")
    assert not valid_metric_name("Drop table;") and not valid_metric_name("=cmd()")


def test_extremes_keeps_the_best_and_worst():
    results = [
        PilotResult(f"p{i}", "scale", (), ("cycle_time",), (), (effect(f"p{i}", pct=-float(i)),))
        for i in range(50)
    ]
    kept = extremes(results, n=5)
    assert [r.pilot_id for r in kept] == [f"p{i}" for i in (49, 48, 47, 46, 45, 4, 3, 2, 1, 0)]
    assert len(extremes(results[:8], n=5)) == 8


def test_decision_board_chart_stacks_decisions_in_their_colours():
    from pilotproof.charts import DECISION_COLORS

    board = pd.DataFrame(
        {"company": ["A <b>", "B"], "function": ["x", "y"], "scale": [1, 0], "fix": [0, 2],
         "extend": [0, 0], "stop": [1, 0], "pilots": [2, 2]}
    )  # fmt: skip
    fig = decision_board_chart(board)
    assert [t.name for t in fig.data] == ["Scale", "Fix", "Extend", "Stop"]
    assert [t.marker.color for t in fig.data] == list(DECISION_COLORS.values())
    assert fig.data[0].y[0] == "A &lt;b&gt; · x"  # user text inert in plotly labels
    assert fig.layout.barmode == "stack"


def _fund_board(companies: int) -> pd.DataFrame:
    """A board of `companies` companies, company i with i + 1 pilots over two functions."""
    rows = []
    for i in range(companies):
        for function, share in (("finance", i // 2 + 1), ("ops", i + 1 - (i // 2 + 1))):
            if share:
                rows.append({"company": f"Co {i:03d}", "function": function, "scale": share,
                             "fix": 0, "extend": 0, "stop": 0, "pilots": share})  # fmt: skip
    return pd.DataFrame(rows)


def test_a_fund_board_is_one_bar_per_company_with_the_rest_together():
    board = _fund_board(200)  # 375 company and function bars before
    by_company = board_by_company(board, most=15)
    assert len(by_company) == 16
    # the largest companies first, each with every function's pilots summed
    assert list(by_company["company"][:3]) == ["Co 199", "Co 198", "Co 197"]
    assert by_company["pilots"][0] == 200 and by_company["functions"][0] == 2
    other = by_company.iloc[-1]
    assert other["company"] == "185 other companies"
    assert other["pilots"] == sum(range(1, 186)) == board["pilots"].sum() - sum(range(186, 201))
    assert list(by_company["rest"]) == [False] * 15 + [True]
    assert board_rest_words(by_company) == (
        f"185 other companies: {other['pilots']} pilots ({other['pilots']} scale); choose one "
        "below to see them."
    )
    fig = decision_board_chart(by_company[~by_company["rest"]])
    assert fig.data[0].y[-1] == "Co 185" and len(fig.data[0].y) == 15
    assert fig.layout.height <= 110 + 26 * 16  # one screen, whatever the portfolio's size
    small = board_by_company(_fund_board(3))
    assert list(small["company"]) == ["Co 002", "Co 001", "Co 000"]  # nothing folded away
    assert board_rest_words(small) == ""


def test_board_pilots_lists_one_company_and_decision():
    results = [
        PilotResult("a", "scale", (), ("cycle_time",), (), (effect("a"),)),
        PilotResult("b", "stop", ("no_real_value",), ("cycle_time",), (), (effect("b"),)),
        PilotResult("c", "scale", (), ("cycle_time",), (), (effect("c"),)),
    ]
    pilots = pd.DataFrame({"pilot_id": ["a", "b", "c"], "company": ["X", "X", "Y"],
                           "function": ["ops", "finance", "ops"]})  # fmt: skip
    labels = {"a": "Alpha", "b": "Beta", "c": "Gamma"}
    table = board_pilots(results, pilots, labels, "X")
    assert table.to_dict("records") == [
        {"pilot": "Beta", "function": "finance", "decision": "Stop"},
        {"pilot": "Alpha", "function": "ops", "decision": "Scale"},
    ]
    assert list(board_pilots(results, pilots, labels, "X", "scale")["pilot"]) == ["Alpha"]
    assert board_pilots(results, pilots, labels, "Z").empty


# The literal-autolink patterns of mdast-util-gfm-autolink-literal (remark-gfm, which Streamlit's
# markdown uses), run on the text after escapes are resolved, as remark does.
GFM_URL = r"(?i)(https?://|www(?=\.))[-.\w]+"
GFM_EMAIL = r"[-.\w+]+@[-\w]+(?:\.[-\w]+)+"


@pytest.mark.parametrize(
    "name",
    ["See https://evil.test/x", "www.evil.test", "HTTP://X.TEST", "mail a@evil.test now"],
)
def test_md_never_turns_a_url_or_address_into_a_link(name):
    import re

    resolved = re.sub(r"\\(.)", r"\1", md(name))  # what the markdown parser sees as text
    assert not re.search(GFM_URL, resolved) and not re.search(GFM_EMAIL, resolved)
    assert resolved.replace("\u2060", "") == name  # and the text reads exactly as typed


def test_md_and_labels_show_control_characters_and_cut_long_names():
    assert md("a\x1b[2Jb") == "a<ESC>\\[2Jb".replace("<", "\\<").replace(">", "\\>")
    pilots = pd.DataFrame({"pilot_id": ["a"], "pilot_name": ["x" * 500], "company": ["\x07"]})
    label = pilot_labels(pilots)["a"]
    assert label.endswith("… (<BEL>)") and len(label) < 140


def test_activity_reads_as_activity_and_large_changes_as_multiples():
    usage = effect(metric="ai_usage", kind="activity", direction="higher_is_better",
                   pct=4100.0, low=3900.0, high=4300.0)  # fmt: skip
    assert (
        effect_sentence(usage) == "AI usage up 42x (95% interval 40x to 44x): activity, not value"
    )
    # with its levels a board reads where usage went, not "28.7x" (read-through B14)
    measured = replace(usage, baseline=120.0, effect_abs=4920.0)
    assert effect_sentence(measured) == "AI usage up from 120 to 5,040: activity, not value"
    big = effect(metric="leads", direction="higher_is_better", pct=350.0, low=320.0, high=380.0)
    assert effect_sentence(big) == "leads 4.5x what it would have been (95% interval 4.2x to 4.8x)"
    table = compare_table(
        [PilotResult("p", "stop", (), ("ai_usage",), (), (usage,))], {"p": "P"}, "ai_usage"
    )
    assert table["verdict"].tolist() == ["Activity, not value"]
    assert table["effect"].tolist() == ["42x"] and table["interval"].tolist() == ["40x to 44x"]


def test_pilot_title_keeps_the_decision_of_a_long_name():
    from pilotproof.views import pilot_title

    name = "Bot " + "x" * 2000
    title = pilot_title(f"{name} cut cycle time 21%; ready to scale", name)
    assert title.endswith("ready to scale") and "x…" in title and len(title) < 300
    assert pilot_title("", float("nan"), "P9") == "P9"


def _governed(decision, *, changed=True, was=25.0, now=15.0, under_was="fix", forecast=None):
    from analytics.governance import Governance, PlanVersion, SuccessPlan

    day = pd.Timestamp("2026-09-01")
    versions = tuple(
        PlanVersion(i + 1, SuccessPlan("cycle_time", bar), "dana", day, day)
        for i, bar in enumerate((was, now))
    )
    g = Governance(
        "p", "changed_after_lock" if changed else "pre_registered", versions,
        original=versions[0], would_have_been=under_was if changed else None, forecast=forecast,
    )  # fmt: skip
    return PilotResult("p", decision, (), ("cycle_time",), (), (effect(),), governance=g)


def test_the_caveat_of_a_bar_moved_after_the_results():
    from pilotproof.views import bar_caveat

    assert bar_caveat(_governed("scale")) == (
        "Scale, but only under the threshold lowered after the results (25% → 15%); "
        "pre-registered: Fix"
    )
    raised = _governed("stop", was=10.0, now=20.0, under_was="scale")
    assert "threshold raised after the results (10% → 20%); pre-registered: Scale" in (
        bar_caveat(raised)
    )
    assert bar_caveat(_governed("scale", under_was="scale")) == ""  # same either way
    assert bar_caveat(_governed("scale", changed=False)) == ""


def test_when_to_decide_a_pilot_too_early():
    from types import SimpleNamespace

    from pilotproof.views import decide_by_words

    when = SimpleNamespace(decide_by=pd.Timestamp("2027-03-12"), threshold_pct=10.0)
    early = _governed("extend", changed=False, forecast=when)
    assert decide_by_words(early, pd.Timestamp("2026-12-01")) == "decide by ~12 March 2027"
    # a date already past at the data's as-of date is never shown: the next upload decides
    assert decide_by_words(early, pd.Timestamp("2027-04-01")) == (
        "more data needed: the next upload"
    )
    noisy = SimpleNamespace(decide_by=None, threshold_pct=10.0)
    assert "too noisy" in decide_by_words(_governed("extend", changed=False, forecast=noisy), None)
    assert decide_by_words(_governed("extend", changed=False), None) == ""


def test_a_pilot_to_stop_is_worth_what_it_costs():
    from dataclasses import replace

    from analytics.results import NetValue
    from pilotproof.views import value_text

    # a gross value told from zero (EUR 0k to 22k): a loss a year, net, as it is
    losing = NetValue("cycle_time", 9_219.0, 117_600.0, -108_381.0, -117_000.0, -96_000.0)
    stop = replace(_governed("stop", changed=False), net_value=losing)
    assert value_text(stop, None, "EUR") == "costs EUR\u00a0108k a year, net"
    assert value_text(replace(stop, decision="fix"), None, "EUR") == "EUR\u00a0-108k a year"
    noisy = replace(stop, net_value=replace(losing, ci_low=-120_000.0))  # gross -2k to +22k
    assert value_text(noisy, None, "EUR") == (
        "value within noise (EUR\u00a0-2k to +22k a year); running cost EUR\u00a0118k a year"
    )


def test_setting_cells_accept_numbers_or_not_set_and_read_back():
    import re

    from pilotproof.views import RATE_PATTERN, SETTING_PATTERN, entered_rates

    for ok in ("12.5", "0", "100", "", "not set"):
        assert re.fullmatch(SETTING_PATTERN, ok), ok
    for bad in ("12,5", "150", "-3", "None"):  # refused by the editor, never saved as blank
        assert not re.fullmatch(SETTING_PATTERN, bad), bad
    assert re.fullmatch(RATE_PATTERN, "0.86") and not re.fullmatch(RATE_PATTERN, "0,86")
    table = pd.DataFrame({"currency": ["EUR", "USD"], "rate": ["0.86", "not set"]})
    assert entered_rates(table) == {"EUR": 0.86, "USD": None}


def test_the_rates_table_is_text_even_with_no_other_currency():
    from pilotproof.views import rate_table

    assert rate_table([], None, {}).dtypes.to_dict() == {"currency": object, "rate": object}
    assert list(rate_table(["EUR", "GBP"], "GBP", {"EUR": 0.86})["rate"]) == ["0.86"]


def test_the_exports_title_carries_the_caveat_as_the_app_does():
    # the partner found the caveat only on the plan slide: the deck's title said "ready to scale"
    from pilotproof.export.content import action_title

    lowered = _governed("scale")
    assert action_title(lowered, "Intake", lowered.headline).endswith(
        "ready to scale, but only under the threshold lowered after the results (25% → 15%); "
        "pre-registered: Fix"
    )
    same = _governed("scale", under_was="scale")
    assert "but only" not in action_title(same, "Intake", same.headline)


def test_what_stopping_saves_per_pilot_and_per_currency():
    """Each pilot to stop saves its monthly running cost; the total is kept per currency, an
    unknown currency apart, a pilot with no cost named as such, pilots not to stop left out."""
    from pilotproof.views import stop_savings

    decisions = {"a": "stop", "b": "stop", "c": "stop", "d": "stop", "e": "scale"}
    results = [PilotResult(p, d, (), ("cycle_time",), (), ()) for p, d in decisions.items()]
    pilots = pd.DataFrame(
        {"pilot_id": list("abcde"), "monthly_cost": ["9800", "6200", "", 1500.0, "40000"]}
    )
    saves = stop_savings(results, pilots, {"a": "EUR", "b": "EUR", "c": "GBP", "e": "EUR"})
    assert saves.each == {
        "a": "saves EUR\u00a09,800 a month",
        "b": "saves EUR\u00a06,200 a month",
        "c": "no cost data",
        "d": "saves 1,500 (currency not set) a month",
    }
    assert saves.total == "EUR\u00a016,000 + 1,500 (currency not set)"
    assert saves.sentence() == (
        "Stopping these 4 saves EUR\u00a016,000 + 1,500 (currency not set) a month in running "
        "cost (3 with cost data; 1 with no cost data)."
    )
    none = stop_savings(results[2:3], pilots, {})
    assert none.sentence() == (
        "What stopping this pilot saves: no cost data (add the monthly cost to the pilots "
        "file on the Upload page)."
    )
    assert stop_savings(results[4:], pilots, {}).sentence() == ""


def test_an_override_moves_a_pilot_to_the_decision_taken_and_says_so():
    from analytics.governance import LoggedDecision
    from pilotproof.views import decision_lists, override_words

    taken = LoggedDecision("scale", "fix", "", "VP Support", pd.Timestamp("2026-08-17"))
    result = _governed("fix", changed=False)
    result = PilotResult(
        "p", "fix", (), ("cycle_time",), (), (effect(),),
        governance=replace(result.governance, decisions=(taken,)),
    )  # fmt: skip
    assert override_words(result) == (
        "override: pilotproof recommends Fix; Scale decided by VP Support, 2026-08-17"
    )
    pilots = pd.DataFrame({"pilot_id": ["p"], "pilot_name": ["P"], "company": ["C"]})
    lists = decision_lists([result], pilots)
    assert [e.pilot_id for e in lists["scale"]] == ["p"] and lists["fix"] == []
    assert lists["scale"][0].logged == override_words(result)
    agreeing = replace(result, decision="scale")
    assert override_words(agreeing) == ""


def test_the_upload_history_reads_whole_and_never_says_none():
    from pilotproof.views import upload_history_table

    history = pd.DataFrame(
        {"upload_id": [2, 1], "file_name": ["metrics.csv", "pilots.csv"],
         "kind": ["long", "pilots"], "rows": [21065, 14], "pilots": [10, 14],
         "date_min": pd.to_datetime(["2024-07-01", None]),
         "date_max": pd.to_datetime(["2026-10-31", None]), "user": ["sample", "sample"],
         "uploaded_at": pd.to_datetime(["2026-12-01 10:31:05", "2026-12-01 10:30:00"]),
         "outcome": ["ok", "ok"], "message": ["saved 21,065 rows", None]}
    )  # fmt: skip
    table = upload_history_table(history)
    assert list(table["dates"]) == ["2024-07-01 to 2026-10-31", ""]
    assert list(table["outcome"]) == ["ok: saved 21,065 rows", "ok"]
    assert list(table["uploaded"]) == ["2026-12-01 10:31", "2026-12-01 10:30"]
    assert "None" not in table.astype(str).to_numpy() and "NaT" not in table.astype(str).to_numpy()


def test_a_scale_that_stands_on_an_override_or_a_lowered_bar_is_counted_apart():
    """The partner counted 'Scale · 4' where two stood on an override and a lowered bar."""
    from pilotproof.views import DecisionEntry, caveat_count

    plain = DecisionEntry("A", "A", "why", "EUR 1k", 1.0)
    override = DecisionEntry("B", "B", "why", "no cost data", None, logged="override: ...")
    lowered = DecisionEntry("C", "C", "why", "no cost data", None, caveat="Scale, but only ...")
    both = DecisionEntry("D", "D", "why", "no cost data", None, caveat="x", logged="override")
    assert caveat_count([plain, plain]) == ""
    assert caveat_count([plain, override, lowered, plain]) == (
        "2 of the 4 with a caveat: 1 decided by override, 1 only under a bar lowered "
        "after the results"
    )
    assert caveat_count([both, plain]) == "1 of the 2 with a caveat: 1 decided by override"
