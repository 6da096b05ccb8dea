"""Where a character-level translation step spends its time, on a real corpus.

The Keras example's network (teacher forcing, LSTM 256, one-hot characters, batch 64) on the
first `--pairs` pairs of a tab-separated corpus (e.g. `../shared/data/tatoeba-en-fr-20k.tsv`;
nothing is downloaded). For one batch shape it times, on batches already in memory:

- the encoder alone, and the whole network forward (inference);
- the whole training step (forward, backward, Adam) as a TensorFlow graph and by XLA;
- the same step with the recurrent layers unrolled (a bigger graph, no while loop);

and counts the share of target positions that are padding (computed, then masked out).

    .venv/bin/python benchmarks/translation_step.py ../shared/data/tatoeba-en-fr-20k.tsv

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
import seq2seq_core.models as models  # noqa: E402
from seq2seq_core.corpus import read_pairs_file  # noqa: E402
from seq2seq_core.steps import compile_train_step  # noqa: E402


def best_rate(fn, batches, rows: int, repeats: int = 3) -> tuple[float, float]:
    """(seconds to the first call, steady rows per second: best of `repeats` passes)."""
    began = time.perf_counter()
    out = fn(*batches[0])
    float(tf.reduce_sum(tf.nest.flatten(out)[0]))
    first = time.perf_counter() - began
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        for b in batches:
            out = fn(*b)
        float(tf.reduce_sum(tf.nest.flatten(out)[0]))
        best = min(best, time.perf_counter() - began)
    return first, rows / best


def build(task, unroll: bool):
    models.UNROLL_MAX_STEPS = 10_000 if unroll else 16
    return sc.Seq2Seq.build(task, sc.ModelConfig(arch="teacher", units=256), seed=1)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pairs_file")
    ap.add_argument("--pairs", type=int, default=10_000)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--batches", type=int, default=8)
    args = ap.parse_args(argv)

    corpus = read_pairs_file(args.pairs_file)
    settings = sc.settings_for("translation", corpus="upload", max_pairs=args.pairs,
                               holdout=0.1, max_length=80)
    task = sc.make_task("translation", settings, corpus)
    model = build(task, unroll=False)
    rows = args.batch * args.batches
    pairs = task.sample(np.random.default_rng(0), rows, "train")
    mask = task.target_mask(pairs.target)
    def batches_for(m):
        out = []
        for i in range(0, rows, args.batch):
            sl = slice(i, i + args.batch)
            inputs = [tf.constant(x) for x in m.model_inputs(pairs.source[sl], pairs.target[sl])]
            out.append((inputs, tf.constant(pairs.target[sl]), tf.constant(mask[sl])))
        return out
    batches = batches_for(model)
    result = {"pairs": len(task.split_pairs("train")), "params": model.count_params(),
              "source_len": task.source_len, "target_len": task.target_len,
              "padding_share": float(1 - mask.mean()), "batch": args.batch}
    print(f"{result['pairs']:,} training pairs · {result['params']:,} parameters · "
          f"{task.source_len} input and {task.target_len} output steps · "
          f"{result['padding_share']:.0%} of target positions are padding")

    encoder = tf.function(lambda inputs, t, w: model.nets.encoder(inputs[0], training=False))
    forward = tf.function(lambda inputs, t, w: model.train_model(inputs, training=False))
    timings = {}
    for name, fn in (("encoder forward", encoder), ("whole forward", forward)):
        timings[name] = best_rate(fn, batches, rows)
    for jit in (False, True):
        opt = keras.optimizers.Adam(0.001)
        opt.build(model.train_model.trainable_variables)
        name = "train step, XLA" if jit else "train step, graph"
        timings[name] = best_rate(compile_train_step(model.train_model, opt, jit), batches, rows)
    unrolled = build(task, unroll=True)
    opt = keras.optimizers.Adam(0.001)
    opt.build(unrolled.train_model.trainable_variables)
    timings["train step, unrolled graph"] = best_rate(
        compile_train_step(unrolled.train_model, opt, False), batches_for(unrolled), rows)
    for name, (first, rate) in timings.items():
        print(f"{name:28} {rate:>9,.0f} samples/s   first call {first:.2f} s")
    result["timings"] = {k: {"first_seconds": f, "samples_per_second": r}
                         for k, (f, r) in timings.items()}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
