"""Trainings on Ray: parallel throughput, a sweep's wall time by workers, Ray's start-up, and
the driver's memory.

1. throughput: the addition seed network (LSTM 75 -> RepeatVector -> LSTM 50) trained for
   --seconds alone in this process, then as two Ray trainings at once: samples/s each, total.
2. sweep: the same 2x2 "time to target" sweep (addition, terms 2, 3 x units 50, 75, target 99%)
   with 1 worker (in this process), 1 Ray worker and 2 Ray workers: wall time, cells, ratio.
3. memory: the driver's RSS before and after 8 more Ray trainings (it must not grow with them).

The first Ray use reports its start-up time. The last line is one JSON object.
Run on a quiet machine:  .venv/bin/python benchmarks/ray_sweep.py [--seconds 20] [--quick]
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import seq2seq_core as sc  # noqa: E402
from seq2seq_core import executors  # noqa: E402
from seq2seq_core.jobs import Training  # noqa: E402
from seq2seq_core.sweep import Sweep, SweepConfig  # noqa: E402
from seq2seq_core.tasks import make_task  # noqa: E402

SEED_NET = sc.ModelConfig(arch="repeat", units=75, decoder_units=50)


def rss_mb() -> float:
    """This process's resident memory now (Linux /proc), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def addition_training(seconds: float) -> Training:
    task = make_task("addition", n_terms=3, largest=10)
    cfg = sc.TrainConfig(batch_size=128, learning_rate=0.02, clipnorm=0.0, max_seconds=seconds,
                         max_samples=20_000_000, target_accuracy=None)
    return Training(task, SEED_NET, cfg, keep_model=False)


def run_all(jobs) -> list:
    for job in jobs:
        job.start()
    for job in jobs:
        job.join()
    return [job.snapshot() for job in jobs]


def rate(snap) -> float:
    return snap.samples_seen / max(snap.train_seconds, 1e-9)


def throughput(seconds: float, ray) -> dict:
    alone = run_all([executors.LOCAL.train(addition_training(seconds))])[0]
    warm = run_all([ray.train(addition_training(3.0)) for _ in range(2)])  # workers import TF
    assert all(s.status == sc.Status.FINISHED for s in warm), warm
    pair = run_all([ray.train(addition_training(seconds)) for _ in range(2)])
    out = {"alone_samples_per_s": round(rate(alone)),
           "ray_pair_samples_per_s": [round(rate(s)) for s in pair]}
    out["ray_pair_total"] = sum(out["ray_pair_samples_per_s"])
    out["gain"] = round(out["ray_pair_total"] / out["alone_samples_per_s"], 2)
    print(f"throughput: alone {out['alone_samples_per_s']:,}/s; two Ray workers "
          f"{out['ray_pair_samples_per_s']} = {out['ray_pair_total']:,}/s ({out['gain']}x)",
          flush=True)
    return out


def sweep_config(budget: float) -> SweepConfig:
    return SweepConfig(task="addition", complexity_key="n_terms", complexity_values=(2, 3),
                       units_values=(50, 75), model_config=SEED_NET,
                       train_config=sc.TrainConfig(batch_size=128, learning_rate=0.02,
                                                   clipnorm=0.0, max_seconds=budget,
                                                   max_samples=20_000_000, target_accuracy=0.99))


def timed_sweep(executor, workers: int, budget: float) -> dict:
    began = time.perf_counter()
    sweep = Sweep(sweep_config(budget), executor=executor, workers=workers)
    sweep.run()
    wall = time.perf_counter() - began
    results = sweep.results()
    cells = [{"n_terms": int(r.complexity), "units": int(r.units), "status": str(r.status),
              "exact_match": round(float(r.exact_match), 3),
              "train_seconds": round(float(r.train_seconds), 2)} for r in results.itertuples()]
    print(f"sweep on {executor.name}, {workers} at a time: {wall:.1f} s wall; "
          + ", ".join(f"{c['n_terms']}x{c['units']} {c['exact_match']:.0%} in "
                      f"{c['train_seconds']} s" for c in cells), flush=True)
    return {"executor": executor.name, "workers": workers, "wall_seconds": round(wall, 2),
            "cells": cells}


def memory(ray, count: int) -> dict:
    before = rss_mb()
    for _ in range(count // 2):
        run_all([ray.train(addition_training(2.0)) for _ in range(2)])
    after = rss_mb()
    print(f"driver memory: {before:.0f} MB before, {after:.0f} MB after {count} Ray trainings",
          flush=True)
    return {"rss_before_mb": round(before), "rss_after_mb": round(after),
            "trainings": count, "growth_mb": round(after - before)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="throughput run length")
    parser.add_argument("--quick", action="store_true", help="short runs (a smoke test)")
    args = parser.parse_args()
    seconds = 5.0 if args.quick else args.seconds
    budget = 20.0 if args.quick else 60.0
    ray = executors.ray_executor()
    began = time.perf_counter()
    ray.ensure()
    start = time.perf_counter() - began
    print(f"Ray started in {start:.1f} s: {ray.capacity().describe()}", flush=True)
    result = {"ray_start_seconds": round(start, 2), "capacity": ray.capacity().describe()}
    result["throughput"] = throughput(seconds, ray)
    sweeps = [timed_sweep(executors.LOCAL, 1, budget), timed_sweep(ray, 1, budget),
              timed_sweep(ray, 2, budget)]
    result["sweeps"] = sweeps
    result["ratio_2_vs_1_ray"] = round(sweeps[2]["wall_seconds"] / sweeps[1]["wall_seconds"], 3)
    result["ratio_2_ray_vs_1_local"] = round(sweeps[2]["wall_seconds"] / sweeps[0]["wall_seconds"], 3)
    print(f"2 workers take {result['ratio_2_vs_1_ray']} of 1 Ray worker's wall time, "
          f"{result['ratio_2_ray_vs_1_local']} of the in-process sweep's", flush=True)
    result["memory"] = memory(ray, 4 if args.quick else 8)
    executors.shutdown()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
