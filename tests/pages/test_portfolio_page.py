"""The Portfolio page answers what to scale, fix, extend or stop, why, and what it is worth
(issue 13): decision lists with counts, each mirage's specific cause, money with currencies."""

from __future__ import annotations

import re

from pagetools import open_page, store_for

HEADING = re.compile(r"^##### :(\w+)-background\[:material/\w+: (Scale|Fix|Extend|Stop) · (\d+)\]$")


def _lists(app) -> dict[str, list[str]]:
    """decision -> the markdown lines under its heading, in page order."""
    lists: dict[str, list[str]] = {}
    current = None
    for element in app.markdown:
        found = HEADING.match(element.value)
        if found:
            current = found.group(2)
            lists[current] = []
            count = int(found.group(3))
            lists[f"{current} count"] = [str(count)]
        elif current is not None and element.value.startswith("**"):
            lists[current].append(element.value)
    return lists


def test_decisions_lead_with_their_pilots_and_counts(sample_db, expected):
    app = open_page("pages/portfolio.py")
    assert app.subheader[0].value == "Decisions"
    lists = _lists(app)
    truth = expected.drop_duplicates("pilot_id").set_index("pilot_id")["expected_decision"]
    for decision in ("Scale", "Fix", "Extend", "Stop"):
        want = int((truth == decision.lower()).sum())
        assert lists[f"{decision} count"] == [str(want)]
        assert len(lists[decision]) == want
    assert any(line.startswith("**Invoice capture and 3\\-way match") for line in lists["Scale"])
    # the largest value first in a list
    assert "EUR\u00a0480k a year" in lists["Scale"][0]


def test_each_mirage_names_its_specific_cause_uncut(sample_db):
    app = open_page("pages/portfolio.py")
    stop = "\n".join(_lists(app)["Stop"])
    for pilot, cause in (
        ("Purchase request to PO", "pre\\-existing trend"),
        ("In\\-app chat deflection bot", "season"),
        ("Order desk entry assistant", "mix shift"),
        ("Route and load planning, Leeds depot", "comparison teams improved as much"),
        ("Outbound email personalisation", "novelty that faded"),
        ("Policy servicing email replies", "a rebound after an unusually bad spell"),
    ):
        line = next(x for x in stop.splitlines() if pilot in x)
        assert cause in line, line
    assert "no real value proven" not in stop and "…" not in stop
    table = app.dataframe[0].value.set_index("pilot")
    assert table.at["Purchase request to PO", "why"].startswith("pre-existing trend")
    assert list(table["decision"].iloc[:3]) == ["Scale"] * 3  # scale first


def test_value_cells_say_what_is_missing_never_none(sample_db):
    app = open_page("pages/portfolio.py")
    table = app.dataframe[0].value.set_index("pilot")
    values = table["annual net value"]
    assert not values.isna().any() and "None" not in set(values)
    assert values["Invoice capture and 3-way match"] == "EUR\u00a0480k a year"
    assert values["Freight invoice audit"].startswith("GBP ")
    # Purchase request to PO has a volume but no monthly cost
    assert values["Purchase request to PO"] == (
        "no cost data: add monthly cost to the pilots file on the Upload page"
    )
    assert values["Collections call prioritisation"] == (
        "no cost data: add monthly cost and annual volume to the pilots file on the Upload page"
    )


def test_net_value_is_never_added_across_currencies_without_rates(sample_db):
    app = open_page("pages/portfolio.py")
    figures = {m.label: (m.value, m.delta) for m in app.metric}
    assert "Annualised net value" not in figures
    eur, gbp = figures["Net value, EUR"], figures["Net value, GBP"]
    assert eur[0] == "EUR\u00a0372k" and re.fullmatch(r"EUR\xa0\d+k to \d+k \(95%\)", eur[1])
    assert re.fullmatch(r"GBP \d+k", gbp[0])
    assert any("Not added across currencies" in c.value for c in app.caption)


def test_with_rates_one_total_shows_the_rates_beside_it(sample_db):
    open_page("pages/portfolio.py")
    store_for(sample_db).set_rates("GBP", {"EUR": 0.5}, "partner")
    app = open_page("pages/portfolio.py")
    figures = {m.label: m.value for m in app.metric}
    # the euros at 0.5 plus the pounds (each figure rounded to the thousand), each still shown
    eur = int(re.fullmatch(r"EUR (\d+)k", figures["Net value, EUR"]).group(1))
    gbp = int(re.fullmatch(r"GBP (\d+)k", figures["Net value, GBP"]).group(1))
    total = int(re.fullmatch(r"GBP (\d+)k", figures["Annualised net value in GBP"]).group(1))
    assert abs(total - (0.5 * eur + gbp)) <= 1.5
    assert any("at your rates 1 EUR = 0.5 GBP" in c.value for c in app.caption)


def test_the_glossary_explains_the_words_the_page_uses(sample_db):
    from pilotproof.words import GLOSSARY

    app = open_page("pages/portfolio.py")
    glossary = app.expander[0]
    assert glossary.label == "What the words mean"
    text = glossary.markdown[0].value
    for term in ("Scale", "Value mirage", "Gross value", "Mix shift", "Burden shift"):
        assert f"**{term}**: {GLOSSARY[term]}" in text
