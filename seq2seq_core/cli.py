"""Command line: `python -m seq2seq_core train|sweep|study|predict|gates|neighbours|evaluate`.

`train` and `sweep` print progress lines and, last, one JSON object with the results
(a translation model's also hold its chrF and BLEU).
`evaluate --pairs FILE` scores a translation model on a file of sentence pairs: chrF, BLEU and
exact match of its greedy (or `--beam WIDTH`) outputs, a line it cannot read counted as an
empty translation; with `--json` the last line is one JSON object.
`--address HOST:PORT` (or `$SEQ2SEQ_RAY_ADDRESS`) runs the trainings on a Ray cluster;
`sweep --workers N` runs N cells at once on Ray (a local one unless an address is given).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from dataclasses import asdict, replace


from .config import ARCHS, ModelConfig, TrainConfig, split_overrides
from .corpus import read_pairs_file
from .decoding import Decoder
from .errors import InvalidInput
from .evaluation import EXAMPLES_SHOWN, evaluate, score_pairs
from .persistence import load, save
from .presets import CORPUS_PRESET
from .shelf import Shelf
from .executors import ADDRESS_ENV, LOCAL, Placement, ray_executor, shutdown
from .status import CellStatus, Status
from .settings import help_lines, kinds, parse_numbers, spec
from .study import (COMPARISONS, DEFAULT_SPANS, GENERALIZATION_TASKS, LENGTH_UNITS, STUDY_TASKS,
                    GeneralizationConfig, StudyConfig, parse_lengths, results_frame,
                    study_runner)
from .jobs import Training
from .neighbours import POOL, NeighbourSettings, nearest
from .strategies import DecodeSettings
from .whatif import forced_decode
from . import gates
from .training import MAX_WATCHED, check_watched
from .sweep import AXES, Sweep, SweepConfig, rows_for_json
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


def probes(history, watched) -> list[dict]:
    """Each watched input with its decoded output after every chunk, in order."""
    return [{"input": text, "outputs": [dict(r.watched)[text] for r in history]}
            for text in watched]


def with_corpus_preset(task: str, task_kw: dict, model_kw: dict, train_kw: dict):
    """A translation of a pairs file starts from the settings measured for real corpora
    (`presets.CORPUS_PRESET`); every setting given on the command line wins."""
    if task != "translation" or task_kw.get("corpus", "phrasebook") == "phrasebook":
        return task_kw, model_kw, train_kw
    preset = CORPUS_PRESET
    settings = {k: v for k, v in asdict(preset.settings).items() if k != "corpus"}
    return (settings | task_kw, asdict(preset.model) | model_kw,
            asdict(preset.train) | train_kw)


def text_fields(result) -> dict:
    """`chrf` and `bleu` of an Evaluation, for the JSON summaries (none for other tasks)."""
    return {k: v for k, v in (("chrf", result.chrf), ("bleu", result.bleu)) if v is not None}


def cmd_train(args) -> int:
    overrides = parse_sets(args.set)
    if args.arch:
        overrides["arch"] = args.arch
    task_kw, model_kw, train_kw = with_corpus_preset(args.task, *split_overrides(
        overrides, _task_settings_class(args.task), ModelConfig, TrainConfig))
    for flag, key in (("until_accuracy", "target_accuracy"), ("max_seconds", "max_seconds"),
                      ("max_samples", "max_samples"), ("seed", "seed")):
        if getattr(args, flag) is not None:
            train_kw[key] = getattr(args, flag)
    # a warm-up-and-decay schedule is laid over the samples budget: it keeps the default
    if "target_accuracy" in train_kw and "max_samples" not in train_kw \
            and train_kw.get("schedule", "constant") == "constant":
        train_kw["max_samples"] = spec(TrainConfig, "max_samples").high
    save_to = _save_target(args.save)
    shelf = Shelf() if args.save_to_shelf is not None else None
    slug = shelf.check_room(args.save_to_shelf) if shelf is not None else ""
    task = _make_task(args.task, task_kw)
    model_cfg, train_cfg = ModelConfig(**model_kw), TrainConfig(**train_kw)
    watched = check_watched(task, args.probe)
    if len(watched) < len([p for p in args.probe if p.strip()]):
        raise InvalidInput("--probe: give each input once.")
    executor = _executor(args.address, 1)
    trainer = executor.train(Training(task, model_cfg, train_cfg, watched=watched))
    print(f"task {task.name} {task.describe()} | {model_cfg} | {trainer.params:,} parameters"
          f" | {executor.capacity().describe()}", flush=True)

    def progress(r):
        print(f"samples {r.samples_seen:>9,}  {r.train_seconds:6.1f}s  loss {r.train_loss:.4f}  "
              f"val {r.val_loss:.4f}  token {r.val_token_accuracy:.3f}  exact {r.exact_match:.3f}  "
              f"{r.samples_per_second:,.0f}/s", flush=True)

    trainer.start(on_chunk=progress)
    trainer.join()
    snap = trainer.snapshot()
    if snap.status == Status.FAILED:
        print(f"error: {snap.error}", file=sys.stderr)
        return 1
    reason, model = snap.reason, trainer.model
    began = time.perf_counter()
    result = evaluate(model, args.eval_samples, seed=train_cfg.seed + 424242)
    summary = {
        "task": task.name, "arch": model_cfg.arch, "params": model.count_params(),
        "exact_match": result.exact_match, "token_accuracy": result.token_accuracy,
        "eval_samples": result.samples, "on_training_pairs": result.on_training_pairs,
        "train_seconds": round(snap.train_seconds, 3), "samples_seen": snap.samples_seen,
        "samples_per_second": round(snap.samples_seen / max(snap.train_seconds, 1e-9), 1),
        "eval_seconds": round(time.perf_counter() - began, 3), "stopped_because": reason,
        "executor": executor.name, "device": snap.device,
    }
    summary |= text_fields(result)
    if watched:
        summary["probes"] = probes(snap.history, watched)
    if save_to is not None:
        summary["saved"] = str(save(model, save_to))
    code = 0 if shelf is None else _shelve(shelf, slug, model, summary, result.exact_match,
                                           snap.samples_seen, train_cfg)
    print(json.dumps(summary))
    return code


def _shelve(shelf, slug: str, model, summary: dict, exact_match, samples_seen, train_cfg) -> int:
    """Put the trained model on the shelf; if the shelf refuses it now (full, or the name
    was taken while it trained), keep it in a file rather than lose the training."""
    try:
        summary["shelf"] = shelf.save(model, slug, exact_match=exact_match,
                                      samples_seen=samples_seen, train_config=train_cfg).name
        return 0
    except InvalidInput as err:
        summary["shelf_error"] = str(err)
    if "saved" not in summary:
        target = Path(f"{slug}.s2s")
        if target.exists():
            target = Path(f"{slug}-{time.strftime('%Y%m%d-%H%M%S')}.s2s")
        summary["saved"] = str(save(model, target))
    print(f"error: {summary['shelf_error']} The model is kept in {summary['saved']}.",
          file=sys.stderr)
    return 1


def _executor(address: str | None, workers: int):
    """Ray when given an address (or $SEQ2SEQ_RAY_ADDRESS) or several workers, else in-process."""
    address = address or os.environ.get(ADDRESS_ENV, "").strip() or None
    if not (address or workers > 1):
        return LOCAL
    executor = ray_executor(address)
    executor.ensure()  # before any training, so its start-up time is reported on its own
    return executor


def _sweep_config(args):
    """The SweepConfig the flags describe; --set overrides the sweep's default settings."""
    if "=" not in args.vary:
        raise InvalidInput(f"--vary expects KEY=V1,V2,...; got {args.vary!r}.")
    key, values = (part.strip() for part in args.vary.split("=", 1))
    base = SweepConfig(task=args.task, complexity_key=key,
                       complexity_values=parse_numbers(values, f"--vary {key}"),
                       units_values=parse_numbers(args.units, "--units"))
    task_kw, model_kw, train_kw = split_overrides(
        parse_sets(args.set), _task_settings_class(args.task), ModelConfig, TrainConfig)
    return replace(base, settings=settings_for(args.task, **task_kw),
                   model_config=replace(base.model_config, **model_kw),
                   train_config=replace(base.train_config, **train_kw))


def _cells_json(sweep) -> list[dict]:
    """The sweep's cells for the JSON summary: each with its settings and results (None
    where it has none: not trained to the end)."""
    out = []
    for row in rows_for_json(sweep.results()):
        cell = sweep.cells[row["cell"]]
        exact, seconds, seen = row["exact_match"], row["train_seconds"], row["samples_seen"]
        out.append({sweep.config.complexity_key: row["complexity"], "units": row["units"],
                    "settings": asdict(cell.settings), "model": asdict(cell.model_config),
                    "status": str(row["status"]),
                    "exact_match": None if exact is None else round(exact, 4),
                    "train_seconds": None if seconds is None else round(seconds, 4),
                    "samples_seen": None if seen is None else int(seen),
                    "params": None if row["params"] is None else int(row["params"]),
                    "reason": row["reason"], "run_id": row["run_id"]})
    return out


def cmd_sweep(args) -> int:
    cfg = _sweep_config(args)
    workers = min(args.workers, cfg.size)
    executor = _executor(args.address, workers)
    history = None
    if args.record:
        from .history import History
        history = History()
    began = time.perf_counter()
    sweep = Sweep(cfg, history, executor=executor, workers=workers)
    print(f"sweep {cfg.name}: {cfg.size} cells, {workers} at a time ({executor.name})", flush=True)
    sweep.start()
    shown: set[int] = set()
    while True:
        alive = sweep.is_alive
        for index, cell in enumerate(_cells_json(sweep)):
            if index not in shown and cell["status"] not in WAITING:
                shown.add(index)
                exact = "—" if cell["exact_match"] is None else f"{cell['exact_match']:.3f}"
                print(f"cell {index + 1}/{cfg.size} {cfg.complexity_key}="
                      f"{cell[cfg.complexity_key]} units={cell['units']}: {cell['status']}, "
                      f"exact {exact}, {cell['train_seconds'] or 0:.1f} s {cell['reason']}",
                      flush=True)
        if not alive:
            break
        sweep.join(1.0)
    progress = sweep.progress()
    wall = time.perf_counter() - began
    cells = _cells_json(sweep)
    start = getattr(executor, "start_seconds", None)
    print(json.dumps({"task": cfg.task, "vary": cfg.complexity_key, "executor": executor.name,
                      "workers": workers, "capacity": executor.capacity().describe(),
                      "wall_seconds": round(wall, 3),
                      "ray_start_seconds": None if start is None else round(start, 3),
                      "status": str(progress.status), "error": progress.error, "cells": cells}))
    failed = progress.status == Status.FAILED or \
        any(c["status"] == CellStatus.FAILED for c in cells)
    return 1 if failed else 0


def parse_force(text: str | None) -> tuple[int, str] | None:
    """ "3=7" -> (3, "7"): --force's output step (1-based) and token."""
    if text is None:
        return None
    step, sep, token = text.partition("=")
    if not sep or not step.strip().isascii() or not step.strip().isdigit() or len(step) > 6:
        raise InvalidInput(f"--force expects STEP=TOKEN with STEP a whole number from 1, "
                           f"e.g. 2=7; got {text[:40]!r}.")
    return int(step), token


def steps_json(steps) -> list[dict]:
    """Decoder steps as JSON objects: step (1-based), token, probability, top-k."""
    return [{"step": s.index + 1, "token": s.token, "probability": round(s.probability, 6),
             "top": [[label, round(p, 6)] for label, p in s.top]} for s in steps]


def cmd_predict(args) -> int:
    force = parse_force(args.force)
    if force is not None and len(args.text) != 1:
        raise InvalidInput("--force decodes one input; give exactly one.")
    model = load(args.model)
    if force is None and not args.json:
        for line in Decoder(model).predict(args.text):
            print(line)
        return 0
    for text in args.text:
        if force is None:
            trace = Decoder(model).trace(text)
            out = {"input": trace.input_text, "output": trace.output_text,
                   "steps": steps_json(trace.steps)}
        else:
            forced = forced_decode(model, text, force[0], force[1])
            out = {"input": forced.input_text, "output": forced.output_text,
                   "forced": {"step": forced.step, "token": forced.token},
                   "original": forced.original_text, "changed_from": forced.changed_from,
                   "steps": steps_json(forced.steps)}
        if args.json:
            print(json.dumps(out))
        else:
            print(out["output"])
    return 0


def cmd_gates(args) -> int:
    force = parse_force(args.force)
    model = load(args.model)
    forced = None if force is None else forced_decode(model, args.text, force[0], force[1])
    trace = gates.cell_trace(model, args.text, forced)
    trace.check_finite()
    if args.json:
        out = trace.to_json()
        if forced is not None:
            out["forced"] = {"step": forced.step, "token": forced.token}
        print(json.dumps(out, allow_nan=False))
        return 0
    print(f"input: {trace.input_text}")
    print(f"output: {trace.output_text}")
    if forced is not None:
        print(f"forced: {forced.token!r} at step {forced.step}")
    for layer in trace.layers:
        print("\n".join(gate_table(layer)))
    return 0


def gate_table(layer) -> list[str]:
    """A header for `layer`, then one line per step: its token and, per gate, the mean over
    the units and their range."""
    where = f" {layer.direction}" if layer.side == "encoder" else ""
    lines = [f"{layer.side} layer {layer.layer + 1}{where} ({layer.cell}, {layer.units} units)"]
    for t in range(layer.steps):
        cells = "  ".join(f"{n} {v.mean():.2f} [{v.min():.2f}..{v.max():.2f}]"
                          for n in layer.names for v in [layer.values[n][t]])
        lines.append(f"{t + 1:3d}  {layer.tokens[t]!r:<5}  {cells}")
    return lines


def cmd_neighbours(args) -> int:
    model = load(args.model)
    found = nearest(model, args.text, args.k, args.pool)
    rows = [{"input": n.input, "output": n.output, "expected": n.expected,
             "distance": round(n.distance, 6)} for n in found]
    if args.json:
        print(json.dumps(rows))
    else:
        for row in rows:
            print(f"{row['distance']:10.4f}  {row['input']}  ->  {row['output']}"
                  f"  (expected {row['expected']})")
    return 0


def cmd_evaluate(args) -> int:
    if args.beam is not None and args.pairs is None:
        raise InvalidInput("--beam decodes the sentences of --pairs FILE; give --pairs too.")
    model = load(args.model)
    if args.pairs is not None:
        return evaluate_pairs(model, args.pairs, args.beam, args.json)
    result = evaluate(model, args.samples, seed=args.seed)
    out = {"exact_match": result.exact_match, "token_accuracy": result.token_accuracy,
           "samples": result.samples, "on_training_pairs": result.on_training_pairs}
    out |= text_fields(result)
    print(json.dumps(out))
    return 0


UNREADABLE_SHOWN = 5


def evaluate_pairs(model, path: str, beam: int | None, as_json: bool) -> int:
    """chrF, BLEU and exact match of the model's translations of a pairs file's sources."""
    corpus = read_pairs_file(path)
    result = score_pairs(model, corpus, beam)
    scores, exact, unreadable = result.scores, result.exact_match, result.unreadable
    out = {"pairs": result.pairs, "chrf": scores.chrf, "bleu": scores.bleu,
           "exact_match": exact, "unreadable": len(unreadable),
           "unreadable_examples": [{"source": s, "reason": r}
                                   for s, r in unreadable[:UNREADABLE_SHOWN]],
           "skipped_lines": len(corpus.skipped), "decoding": result.decoding,
           "seconds": round(result.seconds, 3),
           "examples": result.rows(EXAMPLES_SHOWN)}
    if as_json:
        print(json.dumps(out))
        return 0
    print(f"{corpus.name}: {out['pairs']} pairs, {out['decoding']} decoding, "
          f"{out['seconds']:.1f} s")
    print(f"chrF {scores.chrf:.2f}  BLEU {scores.bleu:.2f}  exact match {exact:.3f}")
    if corpus.skipped:
        print(f"{len(corpus.skipped)} lines of the file were skipped by the pairs reader "
              f"(first: line {corpus.skipped[0][0]}, {corpus.skipped[0][1]})")
    if unreadable:
        print(f"{len(unreadable)} sources the model cannot read, scored as empty outputs:")
        for source, reason in unreadable[:UNREADABLE_SHOWN]:
            print(f"  {source}: {reason}")
    print("examples: source -> output (reference)")
    for row in out["examples"]:
        print(f"  {row['source']} -> {row['output']} ({row['reference']})")
    return 0


def study_config(args):
    """The study the arguments describe: one model per length, or with --generalize train
    short and test long (lengths and formats default to the task's own)."""
    if not args.generalize:
        return StudyConfig(task=args.task, comparison=args.compare,
                           lengths=parse_lengths(args.lengths), units=args.units,
                           max_seconds=args.seconds, seed=args.seed or 0)
    trained, longer = DEFAULT_SPANS.get(args.task, DEFAULT_SPANS["reverse"])
    formats = {key: tuple(p for p in value.split("|") if p)
               for key, value in (("formats", args.formats), ("unseen", args.unseen)) if value}
    return GeneralizationConfig(task=args.task, trained=args.trained or trained,
                                longer=args.longer or longer, units=args.units,
                                max_seconds=args.seconds, seed=args.seed or 0, **formats)


def cmd_study(args) -> int:
    cfg = study_config(args)
    history = None
    if args.record:
        from .history import History
        history = History()
    runner = study_runner(cfg, history, executor=_executor(args.address, args.workers),
                          workers=args.workers)
    for plan in runner.plans:
        print(f"training: {plan.label}", flush=True)
    rows = results_frame(runner.run(), cfg)
    if runner.status == Status.FAILED:
        print(f"error: {runner.error}", file=sys.stderr)
        return 1
    print(rows.to_string(index=False), flush=True)
    print(json.dumps({"task": cfg.task, "comparison": cfg.comparison, "kind": cfg.kind,
                      "results": rows.to_dict(orient="records")}))
    return 0


WAITING = (CellStatus.PENDING, CellStatus.NOT_RUN)
ADDRESS_HELP = "a Ray cluster to train on (default: $SEQ2SEQ_RAY_ADDRESS; none: this machine)"


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
    train.add_argument("--save-to-shelf", metavar="NAME",
                       help="keep the model on the shelf of the data folder under NAME (Home "
                            "and Inspect list it as ready to inspect)")
    train.add_argument("--probe", action="append", default=[], metavar="TEXT",
                       help=f"an input to decode after every chunk (up to {MAX_WATCHED}); the "
                            "JSON summary lists its outputs under 'probes'")
    train.add_argument("--address", metavar="HOST:PORT", help=ADDRESS_HELP)
    train.set_defaults(func=cmd_train)
    sweep = sub.add_parser("sweep", help="a grid of problem size x units, cells in parallel on Ray",
                           epilog="Settings for --set:\n" + settings_help(),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    sweep.add_argument("--task", required=True, choices=sorted(AXES))
    sweep.add_argument("--vary", required=True, metavar="KEY=V1,V2,...",
                       help="the task setting to vary: " + "; ".join(
                           f"{t}: {', '.join(a)}" for t, a in AXES.items()))
    sweep.add_argument("--units", required=True, metavar="U1,U2,...", help="encoder units values")
    sweep.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="a task, model or training setting for every cell")
    sweep.add_argument("--workers", type=setting_type(Placement, "workers"), default=1,
                       help="cells trained at once (more than 1 runs them on Ray)")
    sweep.add_argument("--address", metavar="HOST:PORT", help=ADDRESS_HELP)
    sweep.add_argument("--record", action="store_true", help="store the runs in the run history")
    sweep.set_defaults(func=cmd_sweep)
    study = sub.add_parser("study", help="exact match against input length, with/without attention")
    study.add_argument("--task", default="reverse",
                       choices=tuple(dict.fromkeys(STUDY_TASKS + GENERALIZATION_TASKS)),
                       help="reverse or translation; with --generalize: reverse, addition or dates")
    study.add_argument("--compare", choices=tuple(COMPARISONS), default="attention")
    study.add_argument("--lengths", default="8,16,24",
                       help="reverse: input lengths; translation: length bucket edges")
    study.add_argument("--units", type=setting_type(StudyConfig, "units"), default=64)
    study.add_argument("--seconds", type=setting_type(StudyConfig, "max_seconds"), default=30.0,
                       help="training time per model")
    study.add_argument("--seed", type=setting_type(StudyConfig, "seed"))
    study.add_argument("--generalize", action="store_true",
                       help="train short, test long: one model without and one with attention, "
                            "trained on lengths up to --trained (dates: the --formats), scored "
                            "up to --trained + --longer (dates: on the --unseen formats too)")
    spans = ", ".join(f"{t} {LENGTH_UNITS[t]}: {n}" for t, (n, _) in DEFAULT_SPANS.items())
    study.add_argument("--trained", type=setting_type(GeneralizationConfig, "trained"),
                       help=f"--generalize: the longest trained length (default {spans})")
    longer = ", ".join(f"{t}: {k}" for t, (_, k) in DEFAULT_SPANS.items())
    study.add_argument("--longer", type=setting_type(GeneralizationConfig, "longer"),
                       help=f"--generalize: how many longer lengths to score (default {longer})")
    study.add_argument("--formats", metavar="F1|F2", help="--generalize dates: the trained formats")
    study.add_argument("--unseen", metavar="F1|F2", help="--generalize dates: the unseen formats")
    study.add_argument("--record", action="store_true", help="store the runs in the run history")
    study.add_argument("--workers", type=setting_type(Placement, "workers"), default=1,
                       help="models trained at once (more than 1 runs them on Ray)")
    study.add_argument("--address", metavar="HOST:PORT", help=ADDRESS_HELP)
    study.set_defaults(func=cmd_study)
    predict = sub.add_parser("predict", help="decode inputs with a saved model")
    predict.add_argument("--model", required=True)
    predict.add_argument("--force", metavar="STEP=TOKEN",
                         help="write TOKEN at output step STEP (1-based), then decode on")
    predict.add_argument("--json", action="store_true",
                         help="one JSON object per input (output and steps)")
    predict.add_argument("text", nargs="+")
    cell = sub.add_parser("gates", help="every gate and state of every recurrent layer at every "
                                        "step, for one input")
    cell.add_argument("--model", required=True, help="a saved model file (.s2s)")
    cell.add_argument("--force", metavar="STEP=TOKEN",
                      help="write TOKEN at output step STEP (1-based), decode on, and show the "
                           "decoder's gates along that decode")
    cell.add_argument("--json", action="store_true",
                      help="one JSON object: input, source_ids, output, and per encoder and "
                           "decoder layer its steps with each gate's value per unit")
    cell.add_argument("text", metavar="INPUT", help="the input, as `predict` takes it")
    cell.set_defaults(func=cmd_gates)

    near = sub.add_parser("neighbours", help="the training examples whose encoder final "
                                             "states are nearest an input's")
    near.add_argument("--model", required=True)
    near.add_argument("--k", type=setting_type(NeighbourSettings, "k"),
                      default=NeighbourSettings.k)
    near.add_argument("--pool", type=bounded(int, 1, POOL), default=POOL,
                      help=f"training examples to search (at most {POOL:,})")
    near.add_argument("--json", action="store_true", help="a JSON list, nearest first")
    near.add_argument("text")
    near.set_defaults(func=cmd_neighbours)
    predict.set_defaults(func=cmd_predict)
    ev = sub.add_parser("evaluate", help="score a saved model: exact match on fresh samples "
                                         "(and chrF, BLEU for translation), or a translation "
                                         "model's chrF, BLEU and exact match on a pairs file")
    ev.add_argument("--model", required=True)
    ev.add_argument("--samples", type=bounded(int, 1, 100_000), default=1000,
                    help="without --pairs: fresh samples to score")
    ev.add_argument("--seed", type=setting_type(TrainConfig, "seed"), default=2024,
                    help="without --pairs: the samples' seed")
    ev.add_argument("--pairs", metavar="FILE",
                    help="translation models: score them on these tab-separated sentence pairs "
                         "(source<TAB>reference per line); a source the model cannot read "
                         "counts as an empty output")
    ev.add_argument("--beam", type=setting_type(DecodeSettings, "width"), metavar="WIDTH",
                    help="with --pairs: decode with beam search of this width (1..10) instead "
                         "of greedy")
    ev.add_argument("--json", action="store_true",
                    help="with --pairs: one JSON object instead of the lines to read (pairs, "
                         "chrf, bleu, exact_match, unreadable, decoding, seconds, examples)")
    ev.set_defaults(func=cmd_evaluate)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run a command; bad input is a one-line message and exit 2, never a traceback."""
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    finally:
        shutdown()


def _run(args) -> int:
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
