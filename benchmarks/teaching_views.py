"""What the teaching views cost: the nearest-examples pool and its queries, a forced decode,
and watched inputs in a training run.

For each network (the fast demos, and the largest reverse model the default server allows):
- the pool of training examples encoded by `NeighbourIndex.build` (best of 3, after a first
  build that traces), its size in MB, and one k=5 query;
- one `forced_decode` (best of 5) against the greedy trace it starts from;
- samples per second of the same short run with no watched inputs and with 5 (best of 2
  each, interleaved), so the per-chunk re-decoding shows as a share of training speed.

    .venv/bin/python benchmarks/teaching_views.py [--only reverse] [--seconds 8]

The last line is the whole result as JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import seq2seq_core as sc  # noqa: E402
from seq2seq_core.decoding import Decoder  # noqa: E402
from seq2seq_core.neighbours import POOL, NeighbourIndex  # noqa: E402
from seq2seq_core.presets import preset_named  # noqa: E402
from seq2seq_core.training import MAX_WATCHED  # noqa: E402
from seq2seq_core.whatif import forced_decode  # noqa: E402

NETWORKS = {
    "reverse": "Fast demo: reverse",
    "addition": "Fast demo: addition",
    "dates": "Fast demo: dates",
}
LARGEST = ("reverse, 40 in, attention 512", dict(n_in=40, n_out=40, cardinality=50,
                                                 mode="reverse_all"),
           sc.ModelConfig(arch="attention", units=512))


def best(run, times: int) -> float:
    out = []
    for _ in range(times):
        began = time.perf_counter()
        run()
        out.append(time.perf_counter() - began)
    return min(out)


def networks(only: str | None):
    for key, name in NETWORKS.items():
        if only in (None, key):
            p = preset_named(name)
            yield key, sc.make_task(p.task, **asdict(p.settings)), p.model, p.train
    if only in (None, "largest"):
        label, settings, model = LARGEST
        yield label, sc.make_task("reverse", **settings), model, sc.TrainConfig(batch_size=64)


def pool_costs(model) -> dict:
    NeighbourIndex.build(model, 16)  # traces the encoder
    index = None

    def build():
        nonlocal index
        index = NeighbourIndex.build(model, POOL)
    seconds = best(build, 3)
    text = model.task.example_inputs()[0]
    index.nearest(text, 5)
    return {"pool": len(index), "drawn": index.drawn, "build_s": round(seconds, 3),
            "states_mb": round(index.states.nbytes / 2**20, 1),
            "query_ms": round(1000 * best(lambda: index.nearest(text, 5), 5), 2)}


def forcing_costs(model) -> dict:
    """A forced decode against the trace it starts from (none for a repeat model)."""
    if not model.config.feeds_back:
        return {}
    text = model.task.example_inputs()[0]
    trace = Decoder(model).trace(text)
    token = trace.steps[0].top[1][0]
    forced_decode(model, text, 1, token, original=trace)  # traces the one-step functions
    return {"steps": len(trace.steps),
            "trace_ms": round(1000 * best(lambda: Decoder(model).trace(text), 5), 1),
            "forced_ms": round(1000 * best(lambda: forced_decode(model, text, 1, token,
                                                                 original=trace), 5), 1)}


def watched_costs(task, config, train, seconds: float) -> dict:
    """Samples/s of one short run without and with MAX_WATCHED watched inputs."""
    watched = [task.source_text(r) for r in
               task.sample(np.random.default_rng(1), MAX_WATCHED).source]
    rates = {"none": [], "five": []}
    for _ in range(2):
        for key, texts in (("none", []), ("five", watched)):
            model = sc.Seq2Seq.build(task, config, seed=0)
            trainer = sc.Trainer(model, sc.TrainConfig(**{**asdict(train),
                                                          "max_seconds": seconds,
                                                          "target_accuracy": None}))
            trainer.watch(texts)
            trainer.run()
            # the re-decoding is part of the check after each chunk (eval_seconds)
            wall = trainer.train_seconds + sum(r.eval_seconds for r in trainer.history)
            rates[key].append(trainer.samples_seen / wall)
    none, five = max(rates["none"]), max(rates["five"])
    return {"samples_per_s_none": round(none), "samples_per_s_five": round(five),
            "share_kept": round(five / none, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=[*NETWORKS, "largest"])
    parser.add_argument("--seconds", type=float, default=8.0,
                        help="training time of each watched-inputs run")
    args = parser.parse_args()
    results = {}
    for name, task, config, train in networks(args.only):
        model = sc.Seq2Seq.build(task, config, seed=0)
        row = {"params": model.count_params(), **pool_costs(model), **forcing_costs(model)}
        if name in NETWORKS:
            row.update(watched_costs(task, config, train, args.seconds))
        results[name] = row
        print(f"{name}: " + ", ".join(f"{k} {v}" for k, v in row.items()), flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
