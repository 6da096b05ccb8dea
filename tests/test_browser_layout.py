"""What a person sees, measured in a real browser at a laptop and a projector size.

One student's session: a fast demo trained from Home (watched at lecture pace), Inspect
reopened after a reload, a tiny sweep and a tiny study; then every page at 1400x1000 and
1024x768: every chart's plot area at least 150 px tall and heatmap rows at least 24 px
(measured on the SVG Vega draws), no chart text cut off, no "nan", no widget label cut off.
Full-page screenshots of each page at each size go to test-artifacts/layout-*.png.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from test_browser import ARTIFACTS, browser, server  # noqa: F401 - fixtures

JS = Path(__file__).resolve().parent / "js"
MEASURE = (JS / "measure_charts.js").read_text()
CLIPPED = (JS / "clipped_labels.js").read_text()
SIZES = {"laptop": (1400, 1000), "projector": (1024, 768)}
PLOT_MIN, ROW_MIN = 150, 24
# navigation link -> the page's title (None: matched by the link only)
PAGES = {"Home": "seq2seq-lab", "Inspect": "Inspect", "Why attention?": "Why attention?",
         "Sweep": None, "Experiments": "Experiments"}

pytestmark = pytest.mark.browser


def settle(page, seconds: float = 2.5) -> None:
    """Wait until the app stops running and the charts have drawn."""
    page.wait_for_timeout(500)
    page.locator("[data-testid='stStatusWidget']").wait_for(state="hidden", timeout=120_000)
    page.wait_for_timeout(int(seconds * 1000))


def full_shot(page, name: str) -> None:
    """The whole page: Streamlit scrolls inside its main block, so grow the viewport to it."""
    width, height = page.viewport_size["width"], page.viewport_size["height"]
    tall = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": width, "height": min(max(tall, height), 12_000)})
    page.wait_for_timeout(800)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    page.set_viewport_size({"width": width, "height": height})
    page.wait_for_timeout(500)


def visit(page, link: str, heading: str | None) -> None:
    """Open a page from the navigation (the session, and its results, stay)."""
    from playwright.sync_api import expect
    page.get_by_role("link", name=link, exact=True).first.click()
    if heading:
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible(
            timeout=90_000)
    settle(page)


def check_sizes(page, name: str) -> list[str]:
    """The page at both sizes: what is wrong, and a full screenshot of each."""
    problems = []
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        settle(page, 1.5)
        problems += readable(page, f"{name} at {width}x{height}")
        full_shot(page, f"layout-{size}-{name.lower().replace(' ', '-').strip('?')}")
    return problems


def readable(page, where: str) -> list[str]:
    """Every defect a person would see on the page, as sentences (empty: none)."""
    problems = []
    for chart in page.evaluate(MEASURE):
        if chart["renderer"] != "svg":
            continue
        name = f"{where}: chart {chart['key'] or ''} ({chart['chartW']}x{chart['chartH']})"
        heatmap = chart["rows"] >= 1 and chart["rowMin"] is not None and chart["plotH"] < PLOT_MIN
        if chart["plotH"] is not None and chart["plotH"] < PLOT_MIN and not heatmap:
            problems.append(f"{name}: plot area {chart['plotH']} px tall")
        if heatmap and chart["rowMin"] < ROW_MIN - 0.5:
            problems.append(f"{name}: heatmap rows {chart['rowMin']:.0f} px tall")
        for key in ("cut", "ellipsis", "nan"):
            if chart[key]:
                problems.append(f"{name}: {key} text {chart[key][:3]}")
    body = page.inner_text("[data-testid='stMain']")
    if re.search(r"\bnan\b", body, re.IGNORECASE):
        problems.append(f"{where}: 'nan' on the page")
    clipped = page.evaluate(CLIPPED)
    if clipped:
        problems.append(f"{where}: widget labels cut off: {clipped[:5]}")
    return problems


def test_every_page_reads_well_on_a_laptop_and_a_projector(server, browser):  # noqa: F811
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    try:
        # A projector: the fast demos are above the fold.
        page.set_viewport_size({"width": 1024, "height": 768})
        page.goto(server, wait_until="domcontentloaded")
        preset = page.get_by_role("button", name="Use this preset").first
        expect(preset).to_be_visible(timeout=90_000)
        settle(page, 1)
        assert preset.bounding_box()["y"] + preset.bounding_box()["height"] <= 768, \
            "the first preset is below the fold at 1024x768"

        # The addition demo, watched at lecture pace.
        page.get_by_role("button", name="Use this preset").nth(1).click()
        expect(page.get_by_text("Preset: Fast demo: addition")).to_be_visible(timeout=90_000)
        page.get_by_role("button", name="Start").click()
        expect(page.get_by_text("replaying at lecture pace")).to_be_visible(timeout=120_000)
        expect(page.get_by_text("The model has learned the task")).to_be_visible(
            timeout=60_000)
        settle(page)

        problems = check_sizes(page, "Train")

        # Inspect names the run in its address, and a reload comes back to it.
        page.get_by_role("link", name="Inspect this model").click()
        expect(page.get_by_label("Input", exact=True).first).to_be_visible(timeout=90_000)
        expect(page).to_have_url(re.compile(r"/inspect\?run=\d+"), timeout=30_000)
        run = re.search(r"run=(\d+)", page.url).group(1)
        page.reload(wait_until="domcontentloaded")
        expect(page.get_by_text(f"run #{run}").first).to_be_visible(timeout=90_000)
        expect(page.get_by_label("Input", exact=True).first).to_be_visible(timeout=60_000)
        assert not page.get_by_text("There is no model to inspect yet").count()

        # A tiny sweep and a tiny study, so their charts are on their pages.
        visit(page, "Sweep", None)
        values = page.get_by_role("textbox", name="Number of terms", exact=True)
        values.fill("2")
        values.press("Enter")
        units = page.get_by_role("textbox", name="Units", exact=True)
        units.fill("8, 16")
        units.press("Enter")
        seconds = page.get_by_role("spinbutton", name="Seconds per cell", exact=True)
        seconds.fill("2")
        seconds.press("Enter")
        settle(page, 0.5)
        page.get_by_role("button", name="Start sweep").click()
        expect(page.get_by_text(re.compile(r"Finished: 2 of 2 cells"))).to_be_visible(
            timeout=150_000)

        visit(page, "Why attention?", "Why attention?")
        lengths = page.get_by_role("textbox", name="Input lengths")
        lengths.fill("4")
        lengths.press("Enter")
        per_model = page.get_by_role("spinbutton", name=re.compile(r"^Seconds"))
        per_model.fill("2")
        per_model.press("Enter")
        settle(page, 0.5)
        page.get_by_role("button", name="Start", exact=True).click()
        expect(page.get_by_role("heading", name="Results", exact=True)).to_be_visible(
            timeout=150_000)

        for link, heading in PAGES.items():
            visit(page, link, heading)
            problems += check_sizes(page, link)
        assert not problems, "\n".join(problems)
        assert not page.get_by_text("Traceback").count()
        assert not errors, errors
    finally:
        context.close()
