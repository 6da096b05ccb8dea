"""Training throughput with the Train page open in a real browser vs. headless, plus the
app's launch-to-interactive time and the memory one training session adds to the server.

Repeated `--repeats` times, alternating, because a shared machine's speed drifts:

1. headless: the fast reverse preset trained by `Trainer.run` in this process for
   `--seconds` of training (no target, so it trains the whole time);
2. page open: `streamlit run app.py` on a free port, Debian Chromium driven by Playwright:
   open Home (timing launch to the first clickable preset), click the same preset, turn the
   target off, set the time budget, press Start and keep the page open (it polls every
   ~1.5 s) until training ends; samples/s is read from the page's progress text, which is
   the trainer's own samples_seen / train_seconds, the same figure as headless;
3. server memory (VmRSS) before the training and after it.

Prints one line per figure and a JSON object last. Run from the repository root:

    .venv/bin/python benchmarks/ui_throughput.py [--seconds 30] [--repeats 3]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
PRESET = "Fast demo: reverse"


HEADLESS_SAMPLES = 20_000_000  # the time budget ends both runs (the page's field is set to it)


def headless(seconds: float) -> float:
    import seq2seq_core as sc
    from seq2seq_core.presets import FAST_DEMOS

    preset = FAST_DEMOS[0]
    assert preset.name == PRESET, "Home lists the fast demos first; the first must be " + PRESET
    model = sc.Seq2Seq.build(sc.make_task(preset.task, preset.settings), preset.model)
    trainer = sc.Trainer(model, replace(preset.train, target_accuracy=None, max_seconds=seconds,
                                        max_samples=HEADLESS_SAMPLES))
    trainer.run()
    return trainer.samples_seen / trainer.train_seconds


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def page_open(seconds: float) -> dict:
    from playwright.sync_api import sync_playwright

    port = free_port()
    env = {**os.environ, "SEQ2SEQ_LAB_DATA": tempfile.mkdtemp(prefix="s2s-bench-")}
    began = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.headless", "true"], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            for _ in range(120):
                try:
                    page.goto(f"http://127.0.0.1:{port}/", timeout=5000)
                    break
                except Exception:  # noqa: BLE001 - the server is still starting
                    time.sleep(0.5)
            preset = page.get_by_role("button", name="Use this preset").first  # FAST_DEMOS[0]
            preset.wait_for(timeout=120_000)
            launch_s = time.perf_counter() - began
            idle_mb = rss_mb(server.pid)
            preset.click()
            page.get_by_role("spinbutton", name="Target", exact=True).fill("0")
            page.get_by_role("spinbutton", name="Time budget (s)").fill(str(int(seconds)))
            page.get_by_role("spinbutton", name="Samples budget").fill(str(HEADLESS_SAMPLES))
            page.keyboard.press("Tab")
            time.sleep(2)
            page.get_by_role("button", name="Start").click()
            progress = page.get_by_text(re.compile(r"(Finished|Stopped) · "))
            progress.wait_for(timeout=(seconds + 120) * 1000)
            text = progress.inner_text()
            busy_mb = rss_mb(server.pid)
            browser.close()
    finally:
        server.terminate()
        server.wait(20)
    rate = float(re.search(r"([\d,]+) samples/s", text).group(1).replace(",", ""))
    return {"launch_to_interactive_s": launch_s, "page_samples_per_s": rate,
            "server_rss_idle_mb": idle_mb, "server_rss_after_training_mb": busy_mb,
            "progress_text": text}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=30.0, help="training time per measurement")
    ap.add_argument("--repeats", type=int, default=3,
                    help="headless/page-open pairs, alternated; the median ratio is the result "
                         "(a shared 2-core machine varies by 10-20%% run to run)")
    args = ap.parse_args(argv)
    pairs = []
    for i in range(args.repeats):
        base = headless(args.seconds)
        ui = page_open(args.seconds)
        ratio = ui["page_samples_per_s"] / base
        pairs.append({"headless_samples_per_s": base, **ui, "ratio": ratio})
        print(f"[{i + 1}/{args.repeats}] headless {base:,.0f} samples/s, page open "
              f"{ui['page_samples_per_s']:,.0f} samples/s: {ratio:.0%}; launch to interactive "
              f"{ui['launch_to_interactive_s']:.1f} s; server "
              f"{ui['server_rss_idle_mb']:.0f} -> {ui['server_rss_after_training_mb']:.0f} MB",
              flush=True)
    median = statistics.median(p["ratio"] for p in pairs)
    added = [p["server_rss_after_training_mb"] - p["server_rss_idle_mb"] for p in pairs]
    launch = statistics.median(p["launch_to_interactive_s"] for p in pairs)
    print(f"page open vs headless: median {median:.0%} of headless (target >= 90%); "
          "runs: " + ", ".join(f"{p['ratio']:.0%}" for p in pairs))
    print(f"launch to interactive: median {launch:.1f} s")
    print(f"server memory added by one training session: up to {max(added):.0f} MB "
          f"(target <= 300 MB)")
    print(json.dumps({"median_ratio": median, "median_launch_s": launch,
                      "max_added_mb": max(added), "runs": pairs}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
