"""Command line: `python -m seq2seq_core train|predict|evaluate`.

`train` prints one progress line per chunk and, last, one JSON object with the results.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import fields

from .config import ARCHS, ModelConfig, TrainConfig, split_overrides
from .errors import InvalidInput
from .evaluation import evaluate
from .models import Seq2Seq
from .persistence import load, save
from .tasks import REGISTRY, make_task, settings_for


def parse_value(text: str):
    """'3' -> 3, '0.5' -> 0.5, 'true' -> True, 'none' -> None, 'a|b' -> ('a', 'b'), else text."""
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    if "|" in text:
        return tuple(p for p in text.split("|") if p)
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_sets(items: list[str]) -> dict:
    out = {}
    for item in items:
        if "=" not in item:
            raise InvalidInput(f"--set expects key=value; got {item!r}.")
        key, value = item.split("=", 1)
        out[key.strip()] = parse_value(value.strip())
    return out


def _task_settings_class(name: str):
    if name not in REGISTRY:
        raise InvalidInput(f"Unknown task {name!r}; choose from: {', '.join(REGISTRY)}.")
    return REGISTRY[name][0]


def cmd_train(args) -> int:
    overrides = parse_sets(args.set)
    if args.arch:
        overrides["arch"] = args.arch
    task_kw, model_kw, train_kw = split_overrides(
        overrides, _task_settings_class(args.task), ModelConfig, TrainConfig)
    for flag, key in (("until_accuracy", "target_accuracy"), ("max_seconds", "max_seconds"),
                      ("max_samples", "max_samples"), ("seed", "seed")):
        if getattr(args, flag) is not None:
            train_kw[key] = getattr(args, flag)
    if "target_accuracy" in train_kw and "max_samples" not in train_kw:
        train_kw["max_samples"] = 20_000_000
    task = make_task(args.task, settings_for(args.task, **task_kw))
    model_cfg, train_cfg = ModelConfig(**model_kw), TrainConfig(**train_kw)
    model = Seq2Seq.build(task, model_cfg, seed=train_cfg.seed)
    from .training import Trainer
    trainer = Trainer(model, train_cfg)
    print(f"task {task.name} {task.describe()} | {model_cfg} | {model.count_params():,} parameters",
          flush=True)

    def progress(r):
        print(f"samples {r.samples_seen:>9,}  {r.train_seconds:6.1f}s  loss {r.train_loss:.4f}  "
              f"val {r.val_loss:.4f}  token {r.val_token_accuracy:.3f}  exact {r.exact_match:.3f}  "
              f"{r.samples_per_second:,.0f}/s", flush=True)

    reason = trainer.run(on_chunk=progress)
    if trainer.status == "failed":
        print(f"error: {trainer.error}", file=sys.stderr)
        return 1
    began = time.perf_counter()
    result = evaluate(model, args.eval_samples, seed=train_cfg.seed + 424242)
    summary = {
        "task": task.name, "arch": model_cfg.arch, "params": model.count_params(),
        "exact_match": result.exact_match, "token_accuracy": result.token_accuracy,
        "eval_samples": result.samples, "on_training_pairs": result.on_training_pairs,
        "train_seconds": round(trainer.train_seconds, 3), "samples_seen": trainer.samples_seen,
        "samples_per_second": round(trainer.samples_seen / max(trainer.train_seconds, 1e-9), 1),
        "eval_seconds": round(time.perf_counter() - began, 3), "stopped_because": reason,
    }
    if args.save:
        summary["saved"] = str(save(model, args.save))
    print(json.dumps(summary))
    return 0


def cmd_predict(args) -> int:
    model = load(args.model)
    for line in model.decoder.predict(args.text):
        print(line)
    return 0


def cmd_evaluate(args) -> int:
    model = load(args.model)
    result = evaluate(model, args.samples, seed=args.seed)
    print(json.dumps({"exact_match": result.exact_match, "token_accuracy": result.token_accuracy,
                      "samples": result.samples, "on_training_pairs": result.on_training_pairs}))
    return 0


def cmd_study(args) -> int:
    from .study import StudyConfig, parse_lengths, results_frame, study_runner
    cfg = StudyConfig(task=args.task, comparison=args.compare, lengths=parse_lengths(args.lengths),
                      units=args.units, max_seconds=args.seconds, seed=args.seed or 0)
    history = None
    if args.record:
        from .history import History
        history = History()
    runner = study_runner(cfg, history)
    for job in runner.jobs:
        print(f"training: {job.label}", flush=True)
    rows = results_frame(runner.run())
    if runner.status == "failed":
        print(f"error: {runner.error}", file=sys.stderr)
        return 1
    print(rows.to_string(index=False), flush=True)
    print(json.dumps({"task": cfg.task, "comparison": cfg.comparison,
                      "results": rows.to_dict(orient="records")}))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m seq2seq_core",
                                     description="Train, run and score encoder-decoder models.",
                                     epilog="Settings for --set:\n" + settings_help(),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train a model on a task",
                           epilog="Settings for --set:\n" + settings_help(),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    train.add_argument("--task", required=True, choices=sorted(REGISTRY))
    train.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="a task, model or training setting, e.g. n_terms=4 units=64 batch_size=256")
    train.add_argument("--arch", choices=list(ARCHS))
    train.add_argument("--until-accuracy", type=float, dest="until_accuracy")
    train.add_argument("--max-seconds", type=float, dest="max_seconds")
    train.add_argument("--max-samples", type=int, dest="max_samples")
    train.add_argument("--seed", type=int)
    train.add_argument("--eval-samples", type=int, default=1000, dest="eval_samples")
    train.add_argument("--save", metavar="PATH")
    train.set_defaults(func=cmd_train)
    study = sub.add_parser("study", help="exact match against input length, with/without attention")
    study.add_argument("--task", choices=["reverse", "translation"], default="reverse")
    study.add_argument("--compare", choices=["attention", "reversal"], default="attention")
    study.add_argument("--lengths", default="4,8,12,16",
                       help="reverse: input lengths; translation: length bucket edges")
    study.add_argument("--units", type=int, default=64)
    study.add_argument("--seconds", type=float, default=30.0, help="training time per model")
    study.add_argument("--seed", type=int)
    study.add_argument("--record", action="store_true", help="store the runs in the run history")
    study.set_defaults(func=cmd_study)
    predict = sub.add_parser("predict", help="decode inputs with a saved model")
    predict.add_argument("--model", required=True)
    predict.add_argument("text", nargs="+")
    predict.set_defaults(func=cmd_predict)
    ev = sub.add_parser("evaluate", help="exact match of a saved model on fresh samples")
    ev.add_argument("--model", required=True)
    ev.add_argument("--samples", type=int, default=1000)
    ev.add_argument("--seed", type=int, default=2024)
    ev.set_defaults(func=cmd_evaluate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except InvalidInput as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def settings_help() -> str:
    """Every setting name `--set` accepts, grouped by where it goes."""
    groups = {name: [f.name for f in fields(cls)] for name, (cls, _) in REGISTRY.items()}
    groups["model"] = [f.name for f in fields(ModelConfig)]
    groups["training"] = [f.name for f in fields(TrainConfig)]
    return "\n".join(f"{k}: {', '.join(v)}" for k, v in groups.items())
