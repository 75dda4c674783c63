"""Screenshot every page of the app on the sample portfolio, light and dark.

    .venv/bin/python docs/screenshots/take.py

Starts `streamlit run app.py` on a free port with a fresh database seeded from data/sample/,
drives Debian's chromium with Playwright and writes docs/screenshots/<page>.png. The server is
always stopped.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from appserver import CHROMIUM, CHROMIUM_ARGS, start_app, stop_app  # noqa: E402

OUT = Path(__file__).resolve().parent
PAGES = {
    "portfolio": "",
    "upload": "upload",
    "explorer": "explorer",
    # the sample's decimal slip, set aside and named (issue 11)
    "explorer-outlier": "explorer?pilot=MF-AUDIT&metric=cycle_time",
    "compare": "compare",
    "readiness": "readiness",
    "plans": "plans?pilot=HB-FNOL",
    "settings": "settings",
    "export": "export",
}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        process, url = start_app(Path(tmp) / "shots.duckdb", Path(tmp) / "streamlit.log")
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
                )
                for scheme in ("light", "dark"):
                    context = browser.new_context(
                        viewport={"width": 1400, "height": 900}, color_scheme=scheme
                    )
                    page = context.new_page()
                    # warm up: the first load analyses the portfolio; a shot taken while it
                    # draws measures the page too short
                    page.goto(url)
                    page.get_by_text("Maturity by company").wait_for(timeout=120_000)
                    for name, path in PAGES.items():
                        if scheme == "dark" and name not in ("portfolio", "explorer"):
                            continue
                        page.set_viewport_size({"width": 1400, "height": 900})
                        page.goto(f"{url}/{path}")
                        page.wait_for_selector("[data-testid='stMain'] h1", timeout=60_000)
                        page.wait_for_function(
                            "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
                            timeout=60_000,
                        )
                        if name == "export":
                            page.get_by_role("button", name="Build the summary").click()
                            page.get_by_role("button", name="Download PPTX").wait_for(
                                timeout=120_000
                            )
                        if name == "portfolio" and scheme == "light":
                            _first_screen(page, OUT / "portfolio-laptop.png")
                        _settle(page)
                        suffix = "" if scheme == "light" else "-dark"
                        target = OUT / f"{name}{suffix}.png"
                        page.screenshot(path=str(target), full_page=True)
                        print(f"wrote {target.relative_to(ROOT)}")
                    context.close()
                browser.close()
        finally:
            stop_app(process)


def _first_screen(page, target: Path) -> None:
    """What a partner sees first on a 1280x720 laptop: the ten-second test (issue 13)."""
    page.set_viewport_size({"width": 1280, "height": 720})
    page.wait_for_timeout(2500)
    page.screenshot(path=str(target))
    print(f"wrote {target.relative_to(ROOT)}")


def _settle(page) -> None:
    """Grow the viewport to the page's height (Streamlit scrolls inside its own container, so a
    full-page shot alone would cut it) and wait for data grids and charts to draw."""
    measure = "() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight"
    heights: list[int] = []
    while len(heights) < 4 or len(set(heights[-4:])) > 1:  # stable for 1.5 s
        page.wait_for_timeout(500)
        heights.append(page.evaluate(measure))
        if len(heights) > 120:
            break
    height = heights[-1]
    page.set_viewport_size({"width": 1400, "height": int(min(max(height + 40, 900), 6000))})
    page.wait_for_timeout(2500)


if __name__ == "__main__":
    main()
