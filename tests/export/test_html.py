"""The HTML file parsed back: self-contained, escaped, interactive charts, footer."""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup

from pilotproof.export import html


@pytest.fixture(scope="module")
def page(report) -> str:
    return html.render(report).decode("utf-8")


def test_self_contained_no_network(page):
    soup = BeautifulSoup(page, "html.parser")
    assert not soup.find_all("script", src=True)
    assert not soup.find_all("link")
    assert not soup.find_all(["img", "iframe"])
    assert "<script src=" not in page.lower()
    # plotly's bundle is inlined once; outside it, no http(s) reference anywhere
    scripts = soup.find_all("script")
    bundle = max(scripts, key=lambda s: len(s.string or ""))
    assert "Plotly" in bundle.string and len(bundle.string) > 1_000_000
    rest = page.replace(bundle.string, "")
    assert not re.search(r"https?://(?!x\.test)", rest)


def test_action_titles_numbers_and_charts(page, report, results):
    soup = BeautifulSoup(page, "html.parser")
    headings = [h.get_text() for h in soup.find_all("h2")]
    for pilot in report.pilots:  # each pilot's heading names its portfolio company
        assert pilot.heading in headings
        assert pilot.company in pilot.heading
    # forest + two series + two bridges, each a plotly div drawn by inline script
    assert len(soup.select("div.plotly-graph-div")) == 5
    text = soup.get_text(" ")
    effect = results[1].metrics[1]  # manual touches, worse
    assert f"{effect.effect_pct:+.1f}%" in text
    assert f"{effect.ci_low_pct:+.1f}% to {effect.ci_high_pct:+.1f}%" in text
    assert "Gaps: Escalation path, Control points" in text


def test_footer_after_every_section(page, report):
    soup = BeautifulSoup(page, "html.parser")
    sections = soup.find_all("section")
    assert len(sections) == 2 + 3 + 1  # summary, comparison, three pilots, about
    for section in sections[:-1]:  # one short line: source and date (partner read-through)
        assert section.find("footer").get_text() == report.footer.line()
        assert f"Data as of {report.footer.data_as_of}" in report.footer.line()
        assert report.footer.data_hash not in section.get_text()
    about = sections[-1]  # provenance once, at the end
    assert about.find("h2").get_text() == "About this report"
    assert about.find("footer").get_text() == report.footer.text


def test_user_text_is_escaped(results, pilots, observations, evil_name):
    from pilotproof.export.content import build_report

    hostile = "</script><script>alert(1)</script><img src=x onerror=alert(2)>"
    pilots = pilots.assign(pilot_name=[hostile, evil_name, "Triage <b>bot</b>"])
    page = html.render(build_report(results, pilots, observations)).decode("utf-8")
    soup = BeautifulSoup(page, "html.parser")
    assert not soup.find_all("img")
    assert not [s for s in soup.find_all("script") if "alert(" in (s.string or "")[:100]]
    assert "<script>alert(1)</script>" not in page
    assert "<b>bot</b>" not in page
    assert evil_name in soup.get_text()
    assert hostile in soup.get_text()
