"""Time to the target for the fast demos, before and after, and the trainer against its bound.

1. **Samples and seconds to the target**: each fast demo trained with its previous training
   settings ("before", written below) and with the preset's current ones ("after"), on the
   same network, for several seeds, until exact match on the held-out examples reaches the
   preset's target. It prints the samples seen, `train_seconds` (everything the trainer
   does between chunk reports, sampling included) and the wall time including the held-out
   checks, and the share of the wall time the checks took.
2. **Trainer throughput**: the addition seed network trained for `--seconds` with no target
   (`compiler="auto"`, so XLA is tried after 20 s), its steady samples/s over the last
   chunks against the compute bound measured here: the faster compiled step alone on
   batches already in memory (`xla_steps.measure`).
3. **Where batches are drawn**: the addition seed network's XLA and graph steps on 400
   batches already in memory, drawn by the trainer's `Feeder` in the stepping thread, and
   drawn ahead by a producer thread (what `feeding` does not do, and why).

    .venv/bin/python benchmarks/fast_training.py [--seeds 5] [--seconds 120] [--only addition]

The last line is the whole result as JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import queue
import statistics
import sys
import threading
import time
from dataclasses import replace

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import seq2seq_core as sc  # noqa: E402
from seq2seq_core.feeding import Feeder  # noqa: E402
from seq2seq_core.presets import FAST_DEMOS  # noqa: E402
from xla_steps import measure  # noqa: E402

# The fast demos' training settings before this change (presets.py at commit 37a5741).
BEFORE = {
    "addition": sc.TrainConfig(batch_size=128, learning_rate=0.02, clipnorm=0.0,
                               max_samples=300_000, max_seconds=60, target_accuracy=0.99),
    "reverse": sc.TrainConfig(batch_size=128, learning_rate=0.01, max_samples=200_000,
                              max_seconds=60, target_accuracy=0.99),
}


def preset(task: str):
    return next(p for p in FAST_DEMOS if p.task == task)


def to_target(task_name: str, train: sc.TrainConfig, seed: int) -> dict:
    p = preset(task_name)
    task = sc.make_task(task_name, p.settings)
    model = sc.Seq2Seq.build(task, p.model, seed=seed)
    trainer = sc.Trainer(model, replace(train, seed=seed, eval_samples=1000, max_seconds=120))
    began = time.perf_counter()
    trainer.run()
    wall = time.perf_counter() - began
    snap = trainer.snapshot()
    checks = sum(r.eval_seconds for r in snap.history)
    return {"reached": snap.latest.exact_match >= train.target_accuracy,
            "samples": snap.samples_seen, "train_seconds": snap.train_seconds,
            "wall_seconds": wall, "check_share": checks / wall, "chunks": len(snap.history)}


def summary(runs: list[dict]) -> dict:
    med = {k: statistics.median(r[k] for r in runs)
           for k in ("samples", "train_seconds", "wall_seconds", "check_share")}
    return {**med, "reached": sum(r["reached"] for r in runs), "runs": runs}


def throughput(seconds: float) -> dict:
    p = preset("addition")
    task = sc.make_task("addition", p.settings)
    model = sc.Seq2Seq.build(task, p.model, seed=1)
    cfg = replace(p.train, target_accuracy=None, max_seconds=seconds, max_samples=20_000_000,
                  eval_samples=1000, schedule="constant")
    trainer = sc.Trainer(model, cfg)
    trainer.run()
    history = trainer.history
    tail = history[len(history) * 2 // 3:]
    samples = tail[-1].samples_seen - tail[0].samples_seen
    secs = tail[-1].train_seconds - tail[0].train_seconds
    bound_graph = measure("addition", {}, dict(arch="repeat", units=75, decoder_units=50),
                          cfg.batch_size, jit=False)["samples_per_second"]
    bound_xla = measure("addition", {}, dict(arch="repeat", units=75, decoder_units=50),
                        cfg.batch_size, jit=True)["samples_per_second"]
    bound = max(bound_graph, bound_xla)
    return {"batch_size": cfg.batch_size, "seconds": seconds,
            "steady_samples_per_second": samples / secs,
            "whole_run_samples_per_second": trainer.samples_seen / trainer.train_seconds,
            "compilers": sorted({r.compiler for r in history}), "note": trainer.steps.note,
            "bound_graph": bound_graph, "bound_xla": bound_xla, "bound": bound,
            "ratio": samples / secs / bound}


def _rate(step, batches: int, next_batch, rows: int) -> float:
    began = time.perf_counter()
    for _ in range(batches):
        out = step(*next_batch())
    float(out[0])
    return batches * rows / (time.perf_counter() - began)


def feeding(batches: int = 400) -> dict:
    """Steady samples/s of the step with its batches ready, drawn inline, or drawn ahead."""
    p = preset("addition")
    task = sc.make_task("addition", p.settings)
    out = {}
    for compiler in ("xla", "graph"):
        model = sc.Seq2Seq.build(task, p.model, seed=1)
        cfg = replace(p.train, compiler=compiler)
        step = sc.Trainer(model, cfg).steps
        inline = Feeder(model, cfg, np.random.default_rng(0))
        ready = [inline.next_batch() for _ in range(batches)]
        for b in ready[:5]:
            step(*b)
        it = iter(ready)
        row = {"ready": _rate(step, batches, lambda: next(it), cfg.batch_size),
               "inline": _rate(step, batches, inline.next_batch, cfg.batch_size)}
        ahead, done = queue.Queue(maxsize=2), threading.Event()
        producer = Feeder(model, cfg, np.random.default_rng(1))

        def produce():
            while not done.is_set():
                draw = producer.draw(cfg.chunk_batches)
                while not done.is_set():
                    try:
                        ahead.put(draw, timeout=0.1)
                        break
                    except queue.Full:
                        continue
        threading.Thread(target=produce, daemon=True).start()
        current: list = []

        def from_thread():
            if not current:
                current.extend(reversed(ahead.get()))
            return current.pop()
        row["background thread"] = _rate(step, batches, from_thread, cfg.batch_size)
        done.set()
        out[compiler] = row
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--only", choices=sorted(BEFORE) + ["throughput", "feeding"])
    args = ap.parse_args(argv)
    result: dict = {"cpus": os.cpu_count(), "to_target": {}}
    for task_name, before in BEFORE.items():
        if args.only and args.only != task_name:
            continue
        after = preset(task_name).train
        row = {}
        for label, cfg in (("before", before), ("after", after)):
            runs = [to_target(task_name, cfg, seed) for seed in range(1, args.seeds + 1)]
            row[label] = summary(runs)
            s = row[label]
            print(f"{task_name:9} {label:6} reached {s['reached']}/{args.seeds}  median "
                  f"{s['samples']:>8,.0f} samples  {s['train_seconds']:.2f} s train  "
                  f"{s['wall_seconds']:.2f} s wall  checks {s['check_share']:.1%} of wall",
                  flush=True)
        result["to_target"][task_name] = row
    if args.only in (None, "throughput"):
        t = throughput(args.seconds)
        result["throughput"] = t
        print(f"\ntrainer, addition seed network, batch {t['batch_size']}, {args.seconds:.0f} s: "
              f"{t['steady_samples_per_second']:,.0f} samples/s steady "
              f"({t['whole_run_samples_per_second']:,.0f} over the whole run; steps: "
              f"{', '.join(t['compilers'])}; {t['note']})")
        print(f"compute bound (step alone): graph {t['bound_graph']:,.0f}, XLA "
              f"{t['bound_xla']:,.0f} samples/s -> trainer at {t['ratio']:.0%} of the bound")
    if args.only in (None, "feeding"):
        result["feeding"] = feeding()
        print("\nbatch 64 addition step, samples/s: " + "; ".join(
            f"{kind}: " + ", ".join(f"{k} {v:,.0f}" for k, v in row.items())
            for kind, row in result["feeding"].items()))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
