"""The compiled training step alone, as a TensorFlow graph and by XLA, per architecture.

For each network it builds the trainer's own step (`seq2seq_core.steps.compile_train_step`)
both ways and times it on batches already in memory as tensors: the time to the first
batch (tracing, plus XLA's compile) and the steady samples per second (best of 3 passes
over 20 batches). The best steady figure for the addition seed network is this machine's
compute bound for it: nothing the trainer adds (sampling, scoring, Python) is in it.

    .venv/bin/python benchmarks/xla_steps.py [--batch 128] [--only addition]

The last line is the whole result as JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import seq2seq_core as sc  # noqa: E402
from seq2seq_core.steps import compile_train_step  # noqa: E402

NETWORKS = {
    "addition seed (repeat, LSTM 75/50)": ("addition", {}, dict(arch="repeat", units=75,
                                                                decoder_units=50)),
    "reverse teacher LSTM 128": ("reverse", {}, dict(arch="teacher", units=128)),
    "reverse teacher GRU 128": ("reverse", {}, dict(arch="teacher", units=128, cell="gru")),
    "reverse teacher LSTM 128, embedding 32": ("reverse", {}, dict(units=128, embedding=32)),
    "reverse Bahdanau attention 128": ("reverse", {}, dict(arch="attention", units=128)),
    "reverse Luong attention 128": ("reverse", {}, dict(arch="attention", units=128,
                                                        attention="luong")),
    "dates teacher LSTM 128": ("dates", {}, dict(units=128)),
    "dates Bahdanau 128, bidirectional": ("dates", {}, dict(arch="attention", units=128,
                                                            bidirectional=True)),
    "translation teacher LSTM 256": ("translation", {}, dict(units=256)),
}


def _tensors(value):
    return [tf.constant(v) for v in value] if isinstance(value, list) else tf.constant(value)


def measure(task_name: str, settings: dict, model: dict, batch: int, jit: bool) -> dict:
    task = sc.make_task(task_name, **settings)
    net = sc.Seq2Seq.build(task, sc.ModelConfig(**model), seed=1)
    pairs = task.sample(np.random.default_rng(0), batch * 20, "train")
    weights = task.target_mask(pairs.target)
    batches = []
    for i in range(0, len(pairs), batch):
        sl = slice(i, i + batch)
        batches.append((_tensors(net.model_inputs(pairs.source[sl], pairs.target[sl])),
                        tf.constant(pairs.target[sl]), tf.constant(weights[sl])))
    optimizer = keras.optimizers.Adam(0.01)
    optimizer.build(net.train_model.trainable_variables)
    step = compile_train_step(net.train_model, optimizer, jit)
    began = time.perf_counter()
    try:
        float(step(*batches[0])[0])
    except tf.errors.OpError as err:
        return {"error": type(err).__name__}
    first = time.perf_counter() - began
    best = float("inf")
    for _ in range(3):
        began = time.perf_counter()
        for b in batches:
            out = step(*b)
        float(out[0])
        best = min(best, time.perf_counter() - began)
    return {"first_batch_seconds": first, "samples_per_second": len(pairs) / best,
            "params": net.count_params()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--only", help="networks whose name contains this text")
    args = ap.parse_args(argv)
    result = {"batch": args.batch, "cpus": os.cpu_count(), "networks": {}}
    print(f"{'network':42} {'params':>9} {'graph/s':>9} {'XLA/s':>9} {'XLA gain':>9} "
          f"{'graph 1st':>10} {'XLA 1st':>8}")
    for name, (task, settings, model) in NETWORKS.items():
        if args.only and args.only not in name:
            continue
        graph = measure(task, settings, model, args.batch, jit=False)
        xla = measure(task, settings, model, args.batch, jit=True)
        result["networks"][name] = {"graph": graph, "xla": xla}
        if "error" in xla:
            print(f"{name:42} {graph['params']:>9,} {graph['samples_per_second']:>9,.0f} "
                  f"{'fails':>9}   ({xla['error']})")
            continue
        gain = xla["samples_per_second"] / graph["samples_per_second"] - 1
        print(f"{name:42} {graph['params']:>9,} {graph['samples_per_second']:>9,.0f} "
              f"{xla['samples_per_second']:>9,.0f} {gain:>+9.0%} "
              f"{graph['first_batch_seconds']:>9.2f}s {xla['first_batch_seconds']:>7.2f}s",
              flush=True)
    seed = result["networks"].get("addition seed (repeat, LSTM 75/50)")
    if seed:
        bound = max(seed["graph"]["samples_per_second"],
                    seed["xla"].get("samples_per_second", 0.0))
        result["addition_compute_bound"] = bound
        print(f"\nCompute bound, addition seed network, batch {args.batch}: {bound:,.0f} "
              "samples/s (the faster step alone, on batches already in memory)")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
