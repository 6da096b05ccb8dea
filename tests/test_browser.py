"""End to end in a real browser: `streamlit run app.py` driven by Chromium through Playwright.

1. Home -> fast preset -> Start -> curves -> Inspect -> type an input -> per-step view and
   heatmap.
2. A shared link for an attention model -> Start -> Inspect: attention heatmap, decoding
   strategies, teacher forcing vs free running -> Experiments lists both runs and overlays
   their curves -> the Why-attention and Sweep pages open.
Screenshots of each page go to test-artifacts/.
"""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason=f"needs Debian's Chromium at {CHROMIUM} (apt-get install chromium)"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2",
           "SEQ2SEQ_LAB_DATA": str(tmp_path_factory.mktemp("browser-lab-data"))}
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / "streamlit-server.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.headless", "true", "--server.address", "127.0.0.1"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                break
        except OSError:
            time.sleep(0.3)
    else:
        proc.terminate()
        pytest.fail("streamlit did not start within 60 s; see test-artifacts/streamlit-server.log")
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.fixture
def page(browser):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    yield page
    shot(page, "last-state")  # what the browser showed when the test ended (or failed)
    page.close()


def test_full_path(server, page):
    from playwright.sync_api import expect

    errors = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto(server, wait_until="domcontentloaded")

    # Home: the presets
    expect(page.get_by_role("heading", name="seq2seq-lab")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Fast demo: reverse")).to_be_visible()
    shot(page, "1-home")

    # Click the fast reverse preset: the Train page opens, filled in
    page.get_by_role("button", name="Use this preset").first.click()
    expect(page.get_by_role("heading", name="Train", exact=True)).to_be_visible(timeout=90_000)
    expect(page.get_by_text("Preset: Fast demo: reverse")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("parameters").first).to_be_visible(timeout=60_000)
    shot(page, "2-train-ready")

    # Watch an input of your own, then Start: curves appear and the run finishes
    page.get_by_text("Watch your own inputs").click()
    watch = page.get_by_role("textbox", name="Up to 5 inputs, one per line")
    watch.fill("3 14 15 9 26 5")
    watch.press("Control+Enter")
    expect(page.get_by_text("Watching: 3 14 15 9 26 5")).to_be_visible(timeout=60_000)
    page.get_by_role("button", name="Start").click()
    expect(page.locator("[data-testid='stVegaLiteChart']").first).to_be_visible(timeout=90_000)
    expect(page.get_by_text("replaying at lecture pace")).to_be_visible(timeout=120_000)
    expect(page.get_by_text("The model has learned the task")).to_be_visible(timeout=120_000)
    # loss, accuracy, the error by output position, the watched input's gates and their
    # saturation over training
    expect(page.locator("[data-testid='stVegaLiteChart']")).to_have_count(5, timeout=30_000)
    expect(page.get_by_text("Watched inputs, decoded again after every chunk")).to_be_visible()
    watched = page.locator("[data-testid='stTable']").last
    expect(watched).to_contain_text("3 14 15 9 26 5")
    expect(watched).to_contain_text("chunk 1")
    expect(page.get_by_text("Which output position is learned last?")).to_be_visible()
    shot(page, "3-train-finished")
    watched.scroll_into_view_if_needed()
    page.wait_for_timeout(800)
    shot(page, "3b-train-watched-and-positions")
    decisive = page.get_by_text(re.compile(r"^Decisive gate values"))
    decisive.scroll_into_view_if_needed()
    expect(decisive).to_be_visible()
    page.wait_for_timeout(800)
    shot(page, "3d-train-gate-saturation")
    page.get_by_text(re.compile(r"^Inside the cell while it learns")).scroll_into_view_if_needed()
    page.wait_for_timeout(800)
    shot(page, "3c-train-cell")

    # Inspect: type an input, see the step-by-step view and the encoder heatmap
    page.get_by_role("link", name="Inspect").first.click()
    expect(page.get_by_role("heading", name="Inspect", exact=True)).to_be_visible(timeout=60_000)
    box = page.get_by_label("Input", exact=True)
    box.first.wait_for(state="visible", timeout=60_000)
    box.first.fill("3 14 15 9 26 5")
    box.first.press("Enter")
    expect(page.get_by_role("heading", name="Step-by-step decoder")).to_be_visible(timeout=60_000)
    expect(page.get_by_role("heading", name="Encoder states")).to_be_visible(timeout=60_000)
    page.wait_for_timeout(1500)  # let the charts draw before the screenshot
    assert page.locator("[data-testid='stVegaLiteChart']").count() >= 1
    shot(page, "4-inspect")

    # What if: the runner-up token forced at step 1, and the decoder carrying on from it
    heading = page.get_by_role("heading", name="What if? Force a token")
    heading.scroll_into_view_if_needed()
    expect(page.get_by_text(re.compile(r"^Forcing '\d+' at step 1"))).to_be_visible(
        timeout=60_000)
    expect(page.get_by_text("What-if output:")).to_be_visible()
    for name in ("Encoder what-if", "Nearest training examples"):
        expect(page.get_by_role("heading", name=name)).to_be_visible(timeout=60_000)
    page.wait_for_timeout(1500)
    shot(page, "4b-inspect-what-if")

    # Inside the cell: the gates, then one unit in slow motion, a step on
    heading = page.get_by_role("heading", name="Inside the cell")
    heading.scroll_into_view_if_needed()
    expect(page.get_by_text("Step 1 of 6")).to_be_visible(timeout=60_000)
    page.wait_for_timeout(1500)
    shot(page, "4c0-inspect-gates")
    page.get_by_text("Where does the network keep or drop its memory?").scroll_into_view_if_needed()
    page.wait_for_timeout(800)
    shot(page, "4c1-inspect-gates-and-memory-kept")
    page.locator(".st-key-inspect_cell_next button").click()
    expect(page.get_by_text("Step 2 of 6")).to_be_visible(timeout=60_000)
    expect(page.get_by_text(re.compile(r"^c\(t\) = f·c\(t−1\) \+ i·g ="))).to_be_visible()
    expect(page.locator("[data-testid='stImage'] img, [data-testid='stImage'] svg").first
           ).to_be_visible()
    page.get_by_role("heading", name="Slow motion: one step, one unit").scroll_into_view_if_needed()
    page.wait_for_timeout(1500)
    shot(page, "4c-inspect-inside-the-cell")
    page.get_by_role("heading", name="Units that react").scroll_into_view_if_needed()
    page.get_by_role("button", name="Find where they fire alike").click()
    expect(page.get_by_text(re.compile(r"^They fire"))).to_be_visible(timeout=60_000)
    page.wait_for_timeout(1000)
    shot(page, "4d-inspect-units-that-react")
    assert not page.get_by_text("Traceback").count()
    assert not errors, errors


def test_shared_link_attention_views_and_experiments(server, page):
    from playwright.sync_api import expect

    errors = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    link = (f"{server}/train?task=reverse&arch=attention&attention=luong&units=64"
            "&target_accuracy=0.9&max_seconds=60")
    page.goto(link, wait_until="domcontentloaded")
    expect(page.get_by_text("Settings loaded from the link.")).to_be_visible(timeout=90_000)
    expect(page.get_by_text("attention (luong)").first).to_be_visible(timeout=60_000)
    # the widgets themselves show the link's values (not only the summary line)
    expect(page.get_by_label("Units", exact=True)).to_have_value("64", timeout=60_000)
    expect(page.get_by_role("radio", name="Attention (teacher forcing + a look back at every "
                                          "input step)")).to_be_checked(timeout=60_000)
    shot(page, "5-train-from-link")

    page.get_by_role("button", name="Start").click()
    expect(page.get_by_text("The model has learned the task")).to_be_visible(timeout=150_000)

    page.get_by_role("link", name="Inspect").first.click()
    expect(page.get_by_role("heading", name="Inspect", exact=True)).to_be_visible(timeout=60_000)
    box = page.get_by_label("Input", exact=True).first
    box.fill("7 21 3 44 12 9")
    box.press("Enter")
    for heading in ("Attention", "Decoding strategies", "Beam search step by step",
                    "Teacher forcing vs free running"):
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible(
            timeout=60_000)
    expect(page.get_by_text("looked mostly at").first).to_be_visible()
    page.wait_for_timeout(1500)
    shot(page, "6-inspect-attention")

    page.get_by_role("link", name="Experiments").first.click()
    expect(page.get_by_role("heading", name="Experiments", exact=True)).to_be_visible(
        timeout=60_000)
    expect(page.get_by_text("runs · click a column header to sort")).to_be_visible()
    charts = page.locator("[data-testid='stVegaLiteChart']")
    expect(charts.nth(1)).to_be_visible(timeout=60_000)  # both runs' curves overlaid, twice
    page.wait_for_timeout(1500)
    shot(page, "7-experiments")

    for link, title, button, name in (
            ("Why attention?", "Why attention?", "Start", "8-why-attention"),
            ("Sweep", "Sweep: model size × problem complexity", "Start sweep", "9-sweep")):
        page.get_by_role("link", name=link).first.click()
        expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible(
            timeout=60_000)
        expect(page.get_by_role("button", name=button, exact=True)).to_be_enabled(
            timeout=60_000)
        shot(page, name)
    assert not page.get_by_text("Traceback").count()
    assert not errors, errors


def test_a_class_two_students_and_a_second_tab(server, browser):
    """Alice's two tabs are one person (one job at a time, her runs stay hers after a reload);
    Bob, in another browser, sees her run but cannot manage it; user text stays plain text."""
    from playwright.sync_api import expect

    alice = browser.new_context(viewport={"width": 1400, "height": 1000})
    bob = browser.new_context(viewport={"width": 1400, "height": 1000})
    errors = []
    try:
        tab = alice.new_page()
        tab.on("pageerror", lambda err: errors.append(str(err)))
        tab.goto(f"{server}/train?task=reverse&units=16&max_seconds=120&max_samples=20000000",
                 wait_until="domcontentloaded")
        expect(tab.get_by_text("Settings loaded from the link.")).to_be_visible(timeout=90_000)
        tab.get_by_role("button", name="Start").click()
        expect(tab.locator("[data-testid='stVegaLiteChart']").first).to_be_visible(
            timeout=90_000)

        second = alice.new_page()  # the same browser: the same person
        second.goto(f"{server}/train", wait_until="domcontentloaded")
        second.get_by_role("button", name="Start").click(timeout=90_000)
        expect(second.get_by_text("You are already running a training")).to_be_visible(
            timeout=60_000)
        second.wait_for_timeout(1000)
        shot(second, "10-second-tab-refused")
        second.close()

        other = bob.new_page()
        other.goto(f"{server}/experiments", wait_until="domcontentloaded")
        expect(other.get_by_role("heading", name="Experiments", exact=True)).to_be_visible(
            timeout=90_000)
        expect(other.get_by_text("none of the runs above is yours")).to_be_visible(
            timeout=60_000)
        expect(other.get_by_role("link", name="Train")).to_be_visible(timeout=60_000)
        other.wait_for_timeout(1500)
        shot(other, "11-another-students-experiments")

        tab.get_by_role("button", name="Stop").click()
        expect(tab.get_by_role("link", name="Inspect this model")).to_be_visible(timeout=90_000)
        tab.goto(f"{server}/experiments", wait_until="domcontentloaded")  # a reload
        expect(tab.get_by_role("heading", name="Experiments", exact=True)).to_be_visible(
            timeout=90_000)
        expect(tab.get_by_text("You can rename or delete the runs you started")).to_be_visible(
            timeout=60_000)
        hostile = "![x](http://evil.example/a.png) [click me](http://evil.example)"
        name_box = tab.get_by_label("Name", exact=True)
        name_box.fill(hostile)
        name_box.press("Enter")
        tab.get_by_role("button", name="Rename").click()
        notice = tab.locator("[data-testid='stAlert']").filter(has_text="Renamed run")
        expect(notice).to_be_visible(timeout=60_000)
        assert hostile in notice.inner_text().replace("\u2060", "")  # the text as typed
        assert tab.locator("img[src*='evil.example']").count() == 0
        assert tab.locator("a[href*='evil.example']").count() == 0
        tab.wait_for_timeout(1000)
        shot(tab, "12-owner-renamed-plain-text")
        assert not tab.get_by_text("Traceback").count()
        assert not errors, errors
    finally:
        alice.close()
        bob.close()
