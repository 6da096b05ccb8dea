"""What "Inside the cell" costs: gate traces, units that react, fire-alike search, slow motion.

For the reverse and addition fast demos (untrained: the costs do not depend on the weights)
and for the largest network the default server allows (the one `teaching_views.py` times:
reverse of 40 integers, attention, 512 units):
- `gates.cell_trace` of one input: the first call (it traces the compiled `gates`
  function) and the median of the next ones; the same along a forced decode (feedback
  models: the first call traces `cell_gates`; the forced decode itself is not counted);
- `gates.cell_traces` of 5 inputs (median);
- `reacting_units` (k=8, encoder layer 1's h, the first half of the steps chosen);
- `fire_alike` on `gates.SAMPLE` fresh inputs with the units found (median of 3);
- `slow_motion` of one unit at one step;
- the charts Inspect draws for a trace: both gate heatmap specs (16 units, as shown at
  first; Inspect keeps them per layer and unit range), the memory-kept summary and the
  cell diagram (median);
- the size of one trace as JSON (what `python -m seq2seq_core gates --json` prints) and the
  time to write it.

    .venv/bin/python benchmarks/cell_views.py [--only reverse|addition|largest] [--repeats 9]

The last line is the whole result as JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import asdict

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import seq2seq_core as sc  # noqa: E402
from seq2seq_core import gates  # noqa: E402
from seq2seq_core.charts import cell as charts  # noqa: E402
from seq2seq_core.decoding import Decoder  # noqa: E402
from seq2seq_core.presets import preset_named  # noqa: E402
from seq2seq_core.whatif import forced_decode  # noqa: E402
from teaching_views import LARGEST  # noqa: E402

NETWORKS = {"reverse": "Fast demo: reverse", "addition": "Fast demo: addition"}
WATCHED = 5
COLUMNS = (("trace_first_s", "first trace", "s"), ("trace_ms", "trace", "ms"),
           ("forced_first_s", "forced first", "s"), ("forced_ms", "forced", "ms"),
           ("traces5_ms", "5 traces", "ms"), ("reacting_ms", "reacting", "ms"),
           ("fire_alike_s", f"fire_alike ({gates.SAMPLE})", "s"),
           ("slow_motion_ms", "slow motion", "ms"), ("charts_ms", "charts", "ms"),
           ("json_mb", "JSON", "MB"),
           ("json_ms", "JSON write", "ms"))


def timed(run) -> float:
    began = time.perf_counter()
    run()
    return time.perf_counter() - began


def median(run, times: int) -> float:
    return statistics.median(timed(run) for _ in range(times))


def networks(only: str | None):
    for key, name in NETWORKS.items():
        if only in (None, key):
            p = preset_named(name)
            yield key, sc.make_task(p.task, **asdict(p.settings)), p.model
    if only in (None, "largest"):
        label, settings, config = LARGEST
        yield label, sc.make_task("reverse", **settings), config


def trace_costs(model, text: str, repeats: int) -> dict:
    """One input's trace: the first call (tracing) and the median after it."""
    first = timed(lambda: gates.cell_trace(model, text))
    row = {"trace_first_s": round(first, 2),
           "trace_ms": round(1000 * median(lambda: gates.cell_trace(model, text), repeats), 1)}
    if model.config.feeds_back:
        original = Decoder(model).trace(text)
        forced = forced_decode(model, text, 1, original.steps[0].top[1][0], original=original)
        row["forced_first_s"] = round(timed(lambda: gates.cell_trace(model, text, forced)), 2)
        row["forced_ms"] = round(1000 * median(lambda: gates.cell_trace(model, text, forced),
                                               repeats), 1)
    return row


def view_costs(model, trace, texts, repeats: int) -> dict:
    """Several traces, units that react, the fire-alike search, slow motion, JSON."""
    layer = trace.encoder[0]
    steps = range(max(1, layer.steps // 2))
    found = gates.reacting_units(layer, "h", steps)
    units = [r.unit for r in found]

    def search():
        return gates.fire_alike(model, layer.key, "h", units, [r.inside for r in found],
                                [r.outside for r in found])
    hits = search()
    text = json.dumps(trace.to_json())

    def draw():
        enc, dec = trace.encoder[0], trace.decoder[0]
        for x in (enc, dec):
            charts.gate_heatmaps(x, range(min(16, x.units))).to_dict()
        charts.keep_summary([enc, dec]).to_dict()
        charts.cell_diagram(gates.slow_motion(enc, 0, 0), enc.title)
    return {
        "traces5_ms": round(1000 * median(lambda: gates.cell_traces(model, texts), 3), 1),
        "reacting_ms": round(1000 * median(lambda: gates.reacting_units(layer, "h", steps),
                                           repeats), 2),
        "fire_alike_s": round(median(search, 3), 2),
        "fire_alike_hits": sum(c for _, c in hits.counts), "fire_alike_steps": hits.steps,
        "slow_motion_ms": round(1000 * median(lambda: gates.slow_motion(layer, 1, units[0])
                                              .equations(), repeats), 3),
        "charts_ms": round(1000 * median(draw, 3)),
        "json_mb": round(len(text.encode()) / 2**20, 2),
        "json_ms": round(1000 * median(lambda: json.dumps(trace.to_json()), 3), 1),
    }


def measure(task, config, repeats: int) -> dict:
    model = sc.Seq2Seq.build(task, config, seed=0)
    text = task.example_inputs()[0]
    texts = [task.source_text(r) for r in task.held_out(WATCHED, seed=3).source]
    row = {"params": model.count_params(), "batch": gates.batch_size(model),
           **trace_costs(model, text, repeats)}
    trace = gates.cell_trace(model, text)
    row["layers"] = len(trace.layers)
    row["steps"] = sum(x.steps for x in trace.layers)
    return {**row, **view_costs(model, trace, texts, repeats)}


def table(results: dict) -> str:
    head = ["network", *(f"{title} ({unit})" for _, title, unit in COLUMNS)]
    rows = [[name, *(str(r.get(key, "-")) for key, _, _ in COLUMNS)]
            for name, r in results.items()]
    widths = [max(len(x) for x in col) for col in zip(head, *rows)]
    return "\n".join("  ".join(x.ljust(w) for x, w in zip(line, widths)).rstrip()
                     for line in [head, *rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=[*NETWORKS, "largest"])
    parser.add_argument("--repeats", type=int, default=9, help="calls per median")
    args = parser.parse_args()
    results = {}
    for name, task, config in networks(args.only):
        results[name] = measure(task, config, args.repeats)
        print(f"{name}: " + ", ".join(f"{k} {v}" for k, v in results[name].items()), flush=True)
    print(table(results))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
