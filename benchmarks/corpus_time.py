"""How many passes over its pairs character-level translation needs, on this machine.

Trains the Train page's default network on the first N pairs of a corpus (the built-in
phrasebook, or a tab-separated file given with --pairs) with nothing held out, and prints
after each chunk the passes made and the token accuracy / exact match on those pairs. The
passes at which most characters are right is `seq2seq_core.verdict.PASSES_NEEDED`.

    python benchmarks/corpus_time.py --pairs-file ../shared/data/tatoeba-en-fr-20k.tsv --n 400
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import seq2seq_core as sc  # noqa: E402
from seq2seq_core.corpus import read_pairs_file  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs-file", help="a tab-separated pairs file (default: phrasebook)")
    parser.add_argument("--n", type=int, default=400, help="pairs to train on")
    parser.add_argument("--seconds", type=float, default=240.0, help="time budget")
    args = parser.parse_args()
    corpus = read_pairs_file(args.pairs_file) if args.pairs_file else None
    settings = sc.settings_for("translation", max_pairs=args.n, holdout=0.0)
    task = sc.make_task("translation", settings, corpus=corpus)
    pairs = len(task.pairs)
    model = sc.Seq2Seq.build(task, sc.ModelConfig())
    trainer = sc.Trainer(model, sc.TrainConfig(max_seconds=args.seconds, max_samples=20_000_000,
                                               eval_samples=min(pairs, 500)))
    print(f"{pairs} pairs, {model.count_params():,} parameters")
    print("passes  seconds  token_acc  exact")

    def show(record) -> None:
        print(f"{record.samples_seen / pairs:6.0f}  {record.train_seconds:7.1f}  "
              f"{record.val_token_accuracy:9.1%}  {record.exact_match:5.1%}", flush=True)

    trainer.run(on_chunk=show)

if __name__ == "__main__":
    main()
