"""Command line: `python -m seq2seq_core train|predict|evaluate`.

`train` prints one progress line per chunk and, last, one JSON object with the results.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from .config import ARCHS, ModelConfig, TrainConfig, split_overrides
from .corpus import read_pairs_file
from .decoding import Decoder
from .errors import InvalidInput
from .evaluation import evaluate
from .models import Seq2Seq
from .persistence import load, save
from .status import Status
from .settings import help_lines, kinds, spec
from .study import (COMPARISONS, STUDY_TASKS, StudyConfig, parse_lengths, results_frame,
                    study_runner)
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


def bounded(kind, low, high):
    """An argparse type: a number of `kind` in [low, high], else a usage error (no traceback)."""
    def convert(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {kind.__name__}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is outside {low}..{high}")
        return value
    return convert


def setting_type(cls, name: str):
    """An argparse type for one setting of `cls`, bounded by its Spec."""
    sp, (base, _) = spec(cls, name), kinds(cls)[name]
    return bounded(base, sp.low, sp.high)


def _save_target(path: str | None) -> Path | None:
    """Where --save writes, checked before any training so a typo costs nothing."""
    if path is None:
        return None
    target = Path(path).expanduser()
    if target.is_dir():
        raise InvalidInput(f"--save {path}: that is a folder; give a file name such as "
                           f"{target / 'model.s2s'}.")
    if not target.parent.is_dir():
        raise InvalidInput(f"--save {path}: the folder {target.parent} does not exist.")
    if not os.access(target.parent, os.W_OK):
        raise InvalidInput(f"--save {path}: the folder {target.parent} is not writable.")
    return target


def _make_task(name: str, values: dict):
    """The task; for translation, `corpus` may name a pairs file (read here, for the CLI only)."""
    settings = settings_for(name, **values)
    corpus = None
    if name == "translation" and settings.corpus != "phrasebook":
        corpus = read_pairs_file(settings.corpus)
    return make_task(name, settings, corpus)


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
        train_kw["max_samples"] = spec(TrainConfig, "max_samples").high
    save_to = _save_target(args.save)
    task = _make_task(args.task, task_kw)
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
    if trainer.status == Status.FAILED:
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
    if save_to is not None:
        summary["saved"] = str(save(model, save_to))
    print(json.dumps(summary))
    return 0


def cmd_predict(args) -> int:
    model = load(args.model)
    for line in Decoder(model).predict(args.text):
        print(line)
    return 0


def cmd_evaluate(args) -> int:
    model = load(args.model)
    result = evaluate(model, args.samples, seed=args.seed)
    print(json.dumps({"exact_match": result.exact_match, "token_accuracy": result.token_accuracy,
                      "samples": result.samples, "on_training_pairs": result.on_training_pairs}))
    return 0


def cmd_study(args) -> int:
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
    if runner.status == Status.FAILED:
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
    train.add_argument("--until-accuracy", type=setting_type(TrainConfig, "target_accuracy"),
                       dest="until_accuracy")
    train.add_argument("--max-seconds", type=setting_type(TrainConfig, "max_seconds"),
                       dest="max_seconds")
    train.add_argument("--max-samples", type=setting_type(TrainConfig, "max_samples"),
                       dest="max_samples")
    train.add_argument("--seed", type=setting_type(TrainConfig, "seed"))
    train.add_argument("--eval-samples", type=setting_type(TrainConfig, "eval_samples"),
                       default=1000, dest="eval_samples")
    train.add_argument("--save", metavar="PATH")
    train.set_defaults(func=cmd_train)
    study = sub.add_parser("study", help="exact match against input length, with/without attention")
    study.add_argument("--task", choices=STUDY_TASKS, default="reverse")
    study.add_argument("--compare", choices=tuple(COMPARISONS), default="attention")
    study.add_argument("--lengths", default="8,16,24",
                       help="reverse: input lengths; translation: length bucket edges")
    study.add_argument("--units", type=setting_type(StudyConfig, "units"), default=64)
    study.add_argument("--seconds", type=setting_type(StudyConfig, "max_seconds"), default=30.0,
                       help="training time per model")
    study.add_argument("--seed", type=setting_type(StudyConfig, "seed"))
    study.add_argument("--record", action="store_true", help="store the runs in the run history")
    study.set_defaults(func=cmd_study)
    predict = sub.add_parser("predict", help="decode inputs with a saved model")
    predict.add_argument("--model", required=True)
    predict.add_argument("text", nargs="+")
    predict.set_defaults(func=cmd_predict)
    ev = sub.add_parser("evaluate", help="exact match of a saved model on fresh samples")
    ev.add_argument("--model", required=True)
    ev.add_argument("--samples", type=bounded(int, 1, 100_000), default=1000)
    ev.add_argument("--seed", type=setting_type(TrainConfig, "seed"), default=2024)
    ev.set_defaults(func=cmd_evaluate)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run a command; bad input is a one-line message and exit 2, never a traceback."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except InvalidInput as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 - a message, not a traceback; set DEBUG for one
        if os.environ.get("SEQ2SEQ_DEBUG"):
            raise
        print(f"error: {type(err).__name__}: {err} (set SEQ2SEQ_DEBUG=1 for the details)",
              file=sys.stderr)
        return 1


def settings_help() -> str:
    """Every setting `--set` accepts with its label and range, grouped by where it goes."""
    groups = {f"task {name}": cls for name, (cls, _) in REGISTRY.items()}
    groups |= {"model": ModelConfig, "training": TrainConfig}
    return "\n".join(line for title, cls in groups.items()
                     for line in [f"{title}:", *help_lines(cls)])
