"""The explorer explains a mirage as a board member reads it (issue 13): the team's claim
beside what survives, the guardrail's number in the title, mix shift split into rate and mix,
gross value in words with its currency, daily data as weekly means."""

from __future__ import annotations

import json
import re

from pagetools import open_page, store_for, table_with, texts

from pilotproof.words import NOT_IN_MONEY

# the sample's invoice-capture value a year: an estimate, about EUR 480k (470k to 489k)
SAMPLE_VALUE = r"EUR\xa04[78]\dk"


def test_a_mirage_states_the_teams_claim_and_what_survives(sample_db):
    app = open_page("pages/explorer.py", pilot="MF-PROC")
    app.selectbox[1].set_value("cycle_time").run()
    claim = " ".join(w.value for w in app.warning)
    assert "The team sees cycle time down 16% since go\\-live" in claim
    assert "against what would have happened anyway, it is down 0\\.2%" in claim


def test_a_real_win_makes_no_claim_to_set_right(sample_db):
    app = open_page("pages/explorer.py", pilot="NW-AP")
    assert not any("The team sees" in w.value for w in app.warning)


def test_the_guardrails_number_is_in_the_title(sample_db):
    app = open_page("pages/explorer.py", pilot="CB-ASSIST")
    title = app.markdown[0].value
    assert "cut response time 36%" in title
    assert "but rework rate \\+4\\.5 points downstream" in title


def test_mix_shift_is_split_into_a_rate_and_a_mix_part(sample_db):
    app = open_page("pages/explorer.py", pilot="NW-ORDERS")
    shown = texts(app)
    assert "Rate or mix" in shown
    # the rate part with its own interval (the JSON's rate_ci_low_pct/rate_ci_high_pct: -1.1%
    # to +0.6% on the sample), so the "down 0.3%" is read as the noise it is
    said = re.search(r"at the same mix of work, it is down 0\\.3% \\(([^)]*)\\)", shown)
    assert said is not None, shown
    assert "\u2212" in said.group(1) or "-" in said.group(1)
    charts = [json.loads(c.proto.spec) for c in app.get("plotly_chart")]
    split = next(c for c in charts if c["data"][0].get("orientation") == "h")
    labels = split["data"][0]["y"]
    assert labels[1].startswith("Rate part") and labels[2].startswith("Mix part")
    rate, mix = split["data"][0]["x"][1:]
    assert abs(rate) < 1 and mix < -20


def test_gross_value_is_explained_in_the_pilots_currency(sample_db):
    app = open_page("pages/explorer.py", pilot="NW-AP")
    shown = texts(app)
    # about EUR 654k: the estimate (the bridge's net value is SAMPLE_VALUE)
    assert re.search(
        r"Gross value EUR\xa06[45]\dk: the change in cost per transaction times 310,000",
        shown.replace("\\", ""),
    )
    bridge = json.loads(app.get("plotly_chart")[-1].proto.spec)
    assert re.fullmatch(SAMPLE_VALUE, bridge["data"][0]["text"][2])


def test_daily_data_is_drawn_as_weekly_means_by_default(sample_db):
    app = open_page("pages/explorer.py", pilot="NW-AP")
    observed = _observed(app)
    app.toggle[0].set_value(False).run()
    assert len(_observed(app)["x"]) > 5 * len(observed["x"])


def _observed(app) -> dict:
    spec = json.loads(app.get("plotly_chart")[0].proto.spec)
    return next(t for t in spec["data"] if t.get("name") == "Observed")


def test_compare_says_which_pilots_are_left_out_and_why(sample_db):
    app = open_page("pages/compare.py")
    caption = " ".join(c.value for c in app.caption).replace("\\", "")
    assert "13 of 14 pilots plotted. Left out: Collections call prioritisation" in caption
    assert "no estimate yet (not enough data)" in caption
    assert "20 best" not in caption
    table = table_with(app, "annual net value")
    values = set(table["annual net value"])
    assert {"no cost data", "within noise"} <= values
    # a pilot whose running cost is known lacks a value in money, not cost data: the words of
    # the Portfolio page and the deck (the read-through found "no cost data" here alone)
    claims = table[table["pilot"].str.startswith("Claims triage, North region")]
    assert set(claims["annual net value"]) == {NOT_IN_MONEY}
    assert any(re.fullmatch(SAMPLE_VALUE, v) for v in values)
    # a gross value within noise is never shown as a point (`totals.noise_interval`): the
    # partner read "EUR -108k" here beside "value within noise" on the Portfolio page
    order_desk = table[table["pilot"].str.startswith("Order desk entry assistant")]
    assert set(order_desk["annual net value"]) == {"within noise"}


def test_small_multiples_share_the_x_axis_and_name_metric_and_unit(sample_db):
    app = open_page("pages/compare.py")
    spec = json.loads(app.get("plotly_chart")[-1].proto.spec)
    ranges = {
        tuple(axis["range"]) for key, axis in spec["layout"].items() if key.startswith("xaxis")
    }
    assert len(ranges) == 1
    titles = [a["text"] for a in spec["layout"]["annotations"] if "<br>" in a.get("text", "")]
    assert "Invoice capture and 3-way match<br>Cycle time (hours)" in titles
    assert not any("…" in t for t in titles)


def test_readiness_pins_the_pilot_and_offers_value_metrics_as_a_choice(sample_db):
    app = open_page("pages/readiness.py")
    config = json.loads(app.data_editor[0].proto.columns)
    assert config["pilot"]["pinned"] is True
    choice = config["value_metric"]["type_config"]
    assert config["value_metric"]["type_config"]["type"] == "selectbox"
    assert "cycle_time" in [o["value"] if isinstance(o, dict) else o for o in choice["options"]]
    shown = list(store_for(sample_db).pilots()["pilot_id"])
    app.session_state["readiness_editor"] = {
        "edited_rows": {shown.index("NW-AP"): {"value_metric": "reply_rate"}},
        "added_rows": [], "deleted_rows": [],
    }  # fmt: skip
    app.run()
    errors = [e.value.replace("\\", "") for e in app.error]
    assert any("Invoice capture and 3-way match (Northwind Supply) does not measure reply rate"
               in e for e in errors)  # fmt: skip
    assert app.button[0].disabled
    saved = store_for(sample_db).pilots().set_index("pilot_id")
    assert saved.at["NW-AP", "value_metric"] == "cycle_time"


def test_a_guardrail_not_yet_shown_within_tolerance_is_never_called_held(unproven_db):
    """The win extends for its rework rate, whose 95% interval still reaches past the 0.5
    points tolerated: the explorer names that and how far the data reach, not 'held'."""
    app = open_page("pages/explorer.py", pilot="UNPROVEN")
    app.selectbox[1].set_value("rework_rate").run()
    shown = texts(app).replace("\\", "")
    assert "Rework rate not yet shown within tolerance." in shown  # the tolerance said once:
    assert "at most 0.5 points worse" not in shown  # in the reach, beside how far the data go
    reach = re.search(r"Rework rate could be up to \+(\d\.\d) points \(0.5 points tolerated\)",
                      shown)  # fmt: skip
    assert reach and float(reach.group(1)) > 0.5
    assert "held" not in shown
