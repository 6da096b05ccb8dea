"""How close `budget.estimate` is to the memory a run really takes.

Each configuration trains one chunk and scores one evaluation in a fresh subprocess; the
peak resident memory it adds over an idle process with TensorFlow loaded is printed beside
the estimate. Run: .venv/bin/python benchmarks/costs.py
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = [
    ("addition, seed 003 network", "addition", {}, {"arch": "repeat", "units": 75, "decoder_units": 50},
     {"batch_size": 32}),
    ("reverse, teacher 128, batch 128", "reverse", {}, {"arch": "teacher", "units": 128}, {"batch_size": 128}),
    ("reverse_all 40, teacher 512, batch 512", "reverse", {"n_in": 40, "n_out": 40, "mode": "reverse_all",
     "cardinality": 100}, {"arch": "teacher", "units": 512}, {"batch_size": 512}),
    ("translation, teacher 256, batch 64", "translation", {}, {"arch": "teacher", "units": 256},
     {"batch_size": 64}),
    ("translation, Bahdanau 256, batch 128", "translation", {}, {"arch": "attention", "units": 256},
     {"batch_size": 128}),
    ("dates, attention luong 128 x2 bidir", "dates", {}, {"arch": "attention", "units": 128, "layers": 2,
     "bidirectional": True, "attention": "luong"}, {"batch_size": 256}),
]
CHILD = r"""
import json, resource, sys
import seq2seq_core as sc
from seq2seq_core.budget import estimate
task_name, settings, model, train = json.loads(sys.argv[1])
task = sc.make_task(task_name, **settings)
mc = sc.ModelConfig(**model)
tc = sc.TrainConfig(chunk_batches=5, eval_samples=1000, **train)
import tensorflow as tf
tf.constant(1.0) + 1
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
model = sc.Seq2Seq.build(task, mc)
trainer = sc.Trainer(model, tc)
trainer.run_chunk()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
cost = estimate(task, mc, tc)
print(json.dumps({"params": cost.params, "estimate_mb": cost.peak_bytes / 1e6,
                  "measured_mb": (peak - base) / 1e6}))
"""


def main() -> None:
    print(f"{'configuration':42} {'params':>10} {'estimate MB':>12} {'measured MB':>12}")
    for label, task, settings, model, train in CASES:
        out = subprocess.run([sys.executable, "-c", CHILD, json.dumps([task, settings, model, train])],
                             capture_output=True, text=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT),
                             "TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"})
        if out.returncode:
            print(label, "failed:", out.stderr[-500:])
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{label:42} {r['params']:>10,} {r['estimate_mb']:>12,.0f} {r['measured_mb']:>12,.0f}")


if __name__ == "__main__":
    main()
