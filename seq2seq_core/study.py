"""The "why attention" study: exact match against input length, with and without attention
(or with and without a reversed source), on the reverse and translation tasks.

Reverse trains one model per input length and variant (mode reverse_all, so the output is as
long as the input). Translation trains one model per variant on the phrasebook and scores it
per source-length bucket; with a corpus this small the scores measure how well each model
learned (memorised) the pairs, as the Keras example does, not generalisation.

Every model is a run in the History named like "study: reverse length 12, attention",
tagged with the study's own id ("study:reverse:attention:<time>-<hex>"), so two studies
never share a tag. A model cut short by Stop gives no rows: only finished models are
results.
"""
from __future__ import annotations

import uuid
from functools import partial
from dataclasses import dataclass, replace
from datetime import datetime

import pandas as pd

from .config import CELLS, ModelConfig, TrainConfig
from .errors import InvalidInput
from .evaluation import score
from .executors import LOCAL
from .jobs import JobRunner, Plan, Training
from .status import Status
from .tasks import REGISTRY, make_task
from .limits import check_int
from .settings import check_fields, parse_numbers, same_as, setting, spec

STUDY_TASKS = ("reverse", "translation")
TASK_LABELS = {name: REGISTRY[name][1].label for name in STUDY_TASKS}
COMPARISON_LABELS = {"attention": "without vs with attention",
                     "reversal": "plain vs reversed source"}
COMPARISONS = {
    "attention": (("no attention", {"arch": "teacher"}), ("attention", {"arch": "attention"})),
    "reversal": (("source as written", {"reverse_source": False}),
                 ("reversed source", {"reverse_source": True})),
}


@dataclass(frozen=True)
class StudyConfig:
    """What to compare, on which lengths, and how long to train each model.

    For reverse, `lengths` are the input lengths trained; for translation they are the upper
    edges of the source-length buckets scored.
    """

    task: str = setting("reverse", "Task", choices=STUDY_TASKS, names=TASK_LABELS,
                        help="Reverse a list of integers, or translate English phrases to "
                             "French (the phrasebook).")
    comparison: str = setting(
        "attention", "Compare", choices=tuple(COMPARISONS), names=COMPARISON_LABELS,
        help="Attention: the decoder looks back at every encoder state. Reversed source: the "
             "input is fed backwards.")
    lengths: tuple[int, ...] = setting((8, 16, 24), "Input lengths", low=2, high=80,
                                       help="Up to 8 numbers, separated by commas.")
    units: int = setting(64, "Units", low=4, high=256, step=4,
                         help="The LSTM size, the same for both variants, so only the trick "
                              "differs.")
    cell: str = setting("lstm", "Cell", choices=CELLS)
    cardinality: int = setting(10, "Cardinality (values 1..n)", low=2, high=100)
    max_seconds: float = setting(
        30.0, "Seconds each", low=2.0, high=600.0, step=5.0, fmt="%.0f",
        help="Training time per model; a model stops early once it gets 99.5% exact match. "
             "Give each model enough time (20 s or more on a busy machine): with too little "
             "training both variants fail on long inputs and the comparison says little.")
    batch_size: int = same_as(TrainConfig, "batch_size", 128)
    learning_rate: float = same_as(TrainConfig, "learning_rate", 0.01)
    eval_samples: int = setting(500, "Evaluation samples", low=50, high=5000)
    seed: int = same_as(TrainConfig, "seed", 0)

    def __post_init__(self):
        check_fields(self)
        lengths = tuple(sorted(set(int(x) for x in self.lengths)))
        object.__setattr__(self, "lengths", lengths)
        if not 1 <= len(lengths) <= 8:
            raise InvalidInput("Choose between 1 and 8 lengths.")
        longest = 40 if self.task == "reverse" else spec(StudyConfig, "lengths").high
        for length in lengths:
            check_int("Length", length, spec(StudyConfig, "lengths").low, longest)

    def model_config(self, variant: dict) -> ModelConfig:
        base = ModelConfig(arch="teacher", cell=self.cell, units=self.units)
        return replace(base, **variant)

    def runs(self) -> list[tuple[str, object, ModelConfig]]:
        """(label, task, network) of every model the study trains, to check its cost first."""
        variants = COMPARISONS[self.comparison]
        if self.task == "translation":
            task = _translation_task()
            return [(f"The {name} model", task, self.model_config(v)) for name, v in variants]
        return [(f"The {name} model at length {n}", _reverse_task(self, n), self.model_config(v))
                for n in self.lengths for name, v in variants]

    def train_config(self) -> TrainConfig:
        return TrainConfig(batch_size=self.batch_size, learning_rate=self.learning_rate,
                           max_seconds=self.max_seconds,
                           max_samples=spec(TrainConfig, "max_samples").high,
                           target_accuracy=0.995, eval_samples=min(self.eval_samples, 500),
                           seed=self.seed)




def study_name(cfg) -> str:
    """A human name for a study (a StudyConfig or its saved dict):
    "Reverse integers, lengths 8, 16, 24: no attention vs attention"."""
    get = cfg.get if isinstance(cfg, dict) else lambda k, d=None: getattr(cfg, k, d)
    task, comparison = get("task", "reverse"), get("comparison", "attention")
    lengths = ", ".join(map(str, get("lengths", ()) or ()))
    where = "lengths" if task == "reverse" else "source lengths up to"
    names = " vs ".join(n for n, _ in COMPARISONS.get(comparison, ())) or str(comparison)
    return f"{TASK_LABELS.get(task, str(task).capitalize())}, {where} {lengths}: {names}"


def verdict(baseline: str, improved: str, a: float, b: float) -> str:
    """How `improved` (exact match b) compares with `baseline` (a), in words that fit the
    numbers: a clear win only for 10 points or more."""
    gap = b - a
    if abs(gap) >= 0.1:
        return f"a clear win for {improved if gap > 0 else baseline}"
    if min(a, b) >= 0.9:
        return ("both still get nearly everything right at this length, so it does not "
                "separate them: try longer inputs")
    if max(a, b) < 0.2:
        return ("both fail at this length: give each model more time, or try shorter "
                "inputs")
    if abs(gap) >= 0.03:
        return f"{improved if gap > 0 else baseline} slightly ahead"
    return "about the same"


def new_tag(cfg: StudyConfig) -> str:
    """The History tag of one study's runs, unique to that study."""
    return f"study:{cfg.task}:{cfg.comparison}:{datetime.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:4]}"


def parse_lengths(text: str) -> tuple[int, ...]:
    """ "4, 8 12" -> (4, 8, 12): the study's lengths as typed (page) or given (CLI)."""
    return parse_numbers(text, "lengths")


def _reverse_task(cfg: StudyConfig, length: int):
    return make_task("reverse", n_in=length, n_out=length, cardinality=cfg.cardinality,
                     mode="reverse_all")


def _translation_task():
    return make_task("translation", max_pairs=20_000, holdout=0.0, max_length=80)


class StudyRunner(JobRunner):
    """A JobRunner for a study: `tag` marks its runs in the History."""

    def __init__(self, plans, tag: str, **options):
        super().__init__(plans, **options)
        self.tag = tag

    @property
    def cut_short(self) -> tuple[str, ...]:
        """The labels of the models Stop interrupted, which gave no rows."""
        return tuple(self.plans[i].label for i in self.snapshot().cut_short)

    @property
    def failed(self) -> tuple[str, ...]:
        """ "attention, input length 8: <why>" for each model whose training failed."""
        return tuple(f"{self.plans[i].label}: {error}" for i, error in self.snapshot().failed)

    @property
    def finished_models(self) -> int:
        """Models trained to the end (those cut short by Stop or failed do not count)."""
        snap = self.snapshot()
        return snap.done - len(snap.cut_short) - len(snap.failed)


def _plan(cfg: StudyConfig, task, variant: str, settings: dict, name: str, label: str,
          tag: str, score_rows) -> Plan:
    """One model of the study: trained, then scored where it trained by `score_rows(model)`;
    its rows gain the training time. A model that failed (or was cut short) gives no rows;
    the runner names it (`StudyRunner.failed`) and the others go on."""
    def rows(job, run_id) -> list[dict]:
        if job.status != Status.FINISHED or job.outcome is None:
            return []  # cut short by Stop, or failed
        seconds = job.snapshot().train_seconds
        return [{**row, "train_seconds": seconds} for row in job.outcome]
    training = Training(task, cfg.model_config(settings), cfg.train_config(), name, tag,
                        after=partial(score_rows, variant=variant), keep_model=False)
    return Plan(label, training, rows)


def _reverse_rows(model, cfg: StudyConfig, length: int, variant: str) -> list[dict]:
    result = score(model, model.task.held_out(cfg.eval_samples, seed=cfg.seed + 99), 0)
    return [{"variant": variant, "length": length, "exact_match": result.exact_match,
             "samples": result.samples}]


def _translation_rows(model, cfg: StudyConfig, variant: str) -> list[dict]:
    task = model.task
    pairs = task.held_out(len(task.pairs), seed=0)
    result = score(model, pairs, 0)
    lengths = (pairs.source != task.source_vocab.pad).sum(axis=1)
    rows, low = [], 0
    for edge in cfg.lengths:
        rows_in = (lengths > low) & (lengths <= edge)
        if rows_in.any():
            rows.append({"variant": variant, "length": edge,
                         "exact_match": float(result.exact[rows_in].mean()),
                         "samples": int(rows_in.sum())})
        low = edge
    return rows


def study_plans(cfg: StudyConfig, tag: str | None = None) -> list[Plan]:
    variants = COMPARISONS[cfg.comparison]
    if cfg.task == "reverse":
        return [_plan(cfg, _reverse_task(cfg, length), name, settings,
                      f"study: reverse length {length}, {name}", f"{name}, input length {length}",
                      tag, partial(_reverse_rows, cfg=cfg, length=length))
                for length in cfg.lengths for name, settings in variants]
    return [_plan(cfg, _translation_task(), name, settings, f"study: translation, {name}",
                  f"{name}, translation", tag, partial(_translation_rows, cfg=cfg))
            for name, settings in variants]


def study_runner(cfg: StudyConfig, history=None, owner: str | None = None, executor=None,
                 workers: int = 1) -> StudyRunner:
    """A runner that trains every model of the study, `workers` at a time on `executor`
    (default: one after another in this process), when started.

    With a History, each model is recorded as a run (tagged `runner.tag`) and the finished
    table is saved as results of kind "study", named by `study_name`, so it can be shown
    again after a restart (`saved_studies`).
    """
    def save(rows):
        history.save_results("study", study_name(cfg), cfg, rows)
    tag = new_tag(cfg)
    return StudyRunner(study_plans(cfg, tag), tag, executor=executor or LOCAL, workers=workers,
                       history=history, owner=owner,
                       on_finish=save if history is not None else None)


def saved_studies(history) -> pd.DataFrame:
    """Finished studies kept in the History, newest first (id, tag, created, config)."""
    return history.list_results("study")


def load_study(history, result_id: int) -> tuple[StudyConfig, pd.DataFrame]:
    config, rows = history.get_results(result_id)
    config["lengths"] = tuple(config["lengths"])
    return StudyConfig(**config), results_frame(rows)


def results_frame(rows) -> pd.DataFrame:
    """Rows as a table sorted by variant and length (empty table with the columns if none)."""
    columns = ["variant", "length", "exact_match", "samples", "train_seconds"]
    frame = pd.DataFrame(list(rows), columns=columns)
    return frame.sort_values(["variant", "length"]).reset_index(drop=True)


__all__ = ["COMPARISONS", "StudyConfig", "StudyRunner", "load_study", "results_frame",
           "saved_studies", "study_plans", "study_name", "study_runner", "verdict"]
