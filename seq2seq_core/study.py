"""The "why attention" study: exact match against input length, with and without attention
(or with and without a reversed source), on the reverse and translation tasks.

Reverse trains one model per input length and variant (mode reverse_all, so the output is as
long as the input). Translation trains one model per variant on the phrasebook and scores it
per source-length bucket; with a corpus this small the scores measure how well each model
learned (memorised) the pairs, as the Keras example does, not generalisation.

Length generalization (`GeneralizationConfig`) trains one model without and one with
attention on short inputs only (reverse: integers, addition: terms, up to N) or on some date
formats, then scores both at every length up to N+k (or on unseen formats too): the classic
curve of a seq2seq model failing beyond the lengths it trained on.

Every model is a run in the History named like "study: reverse length 12, attention",
tagged with the study's own id ("study:reverse:attention:<time>-<hex>"), so two studies
never share a tag. A model cut short by Stop gives no rows: only finished models are
results.
"""
from __future__ import annotations

import uuid
from functools import partial
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import ClassVar

import numpy as np
import pandas as pd

from .config import CELLS, ModelConfig, TrainConfig
from .errors import InvalidInput
from .evaluation import score
from .executors import LOCAL
from .jobs import JobRunner, Plan, Training
from .status import Status
from .tasks import REGISTRY, AdditionSettings, ReverseSettings, make_task
from .tasks.addition import AdditionByTerms
from .tasks.dates import FORMATS, DatesByFormat
from .tasks.reverse import ReverseByLength
from .limits import check_int
from .settings import check_fields, parse_numbers, same_as, setting, spec
from .vocab import plural

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
    kind: ClassVar[str] = "lengths"

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
        return _train_config(self)


def _train_config(cfg) -> TrainConfig:
    """How every model of a study trains: its time budget, stopping at 99.5% exact match on
    held-out examples like those it trains on."""
    return TrainConfig(batch_size=cfg.batch_size, learning_rate=cfg.learning_rate,
                       max_seconds=cfg.max_seconds,
                       max_samples=spec(TrainConfig, "max_samples").high,
                       target_accuracy=0.995, eval_samples=min(cfg.eval_samples, 500),
                       seed=cfg.seed)


GENERALIZATION_TASKS = ("reverse", "addition", "dates")
GENERALIZATION_LABELS = {name: REGISTRY[name][1].label for name in GENERALIZATION_TASKS}
SHORTEST = {"reverse": 1, "addition": 2}  # an addition has at least two terms
LONGEST = {"reverse": spec(ReverseSettings, "n_in").high,
           "addition": spec(AdditionSettings, "n_terms").high}
LENGTH_UNITS = {"reverse": "integers", "addition": "terms"}
DEFAULT_SPANS = {"reverse": (8, 4), "addition": (3, 3)}  # (trained, longer) a task starts with
TRAINED_FORMATS, UNSEEN_FORMATS = tuple(FORMATS)[:5], tuple(FORMATS)[5:]
GENERALIZATION = "generalization"


@dataclass(frozen=True)
class GeneralizationConfig:
    """Train short, test long: one model without and one with attention (same units, seed
    and time budget), trained on inputs up to `trained` long (reverse: integers, addition:
    terms) or written in the `formats` (dates), then scored at every length up to
    `trained + longer` (or on the `unseen` formats too)."""

    task: str = setting("reverse", "Task", choices=GENERALIZATION_TASKS,
                        names=GENERALIZATION_LABELS,
                        help="Reverse a list of integers, add numbers written as characters, "
                             "or rewrite dates as ISO (YYYY-MM-DD).")
    trained: int = setting(DEFAULT_SPANS["reverse"][0], "Longest trained length", low=2,
                           high=LONGEST["reverse"] - 1, step=1,
                           help="Training draws every length up to this one: integers "
                                "(reverse, from 1) or terms (addition, from 2).")
    longer: int = setting(DEFAULT_SPANS["reverse"][1], "Longer lengths tested", low=1, high=8,
                          step=1,
                          help="Each model is also scored on this many lengths past the "
                               "longest trained, lengths it never saw. At most "
                               + " and ".join(f"{LONGEST[t]} {LENGTH_UNITS[t]} ({t})"
                                              for t in LONGEST)
                               + ", trained and longer together.")
    formats: tuple[str, ...] = setting(TRAINED_FORMATS, "Trained formats",
                                       choices=tuple(FORMATS), many=True,
                                       help="The ways of writing a date that training draws "
                                            "from.")
    unseen: tuple[str, ...] = setting(UNSEEN_FORMATS, "Unseen formats", choices=tuple(FORMATS),
                                      many=True,
                                      help="Formats the models never train on, only tested.")
    units: int = same_as(StudyConfig, "units", 64)
    cell: str = same_as(StudyConfig, "cell", "lstm")
    cardinality: int = same_as(StudyConfig, "cardinality", 10)
    max_seconds: float = same_as(StudyConfig, "max_seconds", 30.0)
    batch_size: int = same_as(TrainConfig, "batch_size", 128)
    learning_rate: float = same_as(TrainConfig, "learning_rate", 0.01)
    eval_samples: int = same_as(StudyConfig, "eval_samples", 500)
    seed: int = same_as(TrainConfig, "seed", 0)
    kind: ClassVar[str] = GENERALIZATION
    comparison: ClassVar[str] = "attention"

    def __post_init__(self):
        check_fields(self)
        if self.task == "dates":
            both = [f for f in self.formats if f in self.unseen]
            if both:
                raise InvalidInput(f"A format cannot be both trained and unseen: "
                                   f"{', '.join(map(repr, both))}.")
        elif self.longest > LONGEST[self.task]:
            raise InvalidInput(
                f"{GENERALIZATION_LABELS[self.task]} handles at most {LONGEST[self.task]} "
                f"{LENGTH_UNITS[self.task]}: {self.trained} trained + {self.longer} longer is "
                f"{self.longest}.")

    @property
    def longest(self) -> int:
        return self.trained + self.longer

    @property
    def x_column(self) -> str:
        """The column of the results table the models are scored along."""
        return "format" if self.task == "dates" else "length"

    def split_task(self):
        """The task every model trains and is scored on: sized for the longest tested, its
        training draws only the trained lengths (or formats)."""
        if self.task == "dates":
            return DatesByFormat(self.formats, self.unseen)
        if self.task == "addition":
            return AdditionByTerms(self.trained, self.longest, self.cardinality)
        return ReverseByLength(self.trained, self.longest, self.cardinality)

    @property
    def points(self) -> tuple:
        """Where the models are scored, in order: the lengths, or the formats."""
        return self.split_task().points

    @property
    def trained_points(self) -> tuple:
        """The points training draws from: the lengths up to `trained`, or the `formats`."""
        return self.split_task().trained

    def model_config(self, variant: dict) -> ModelConfig:
        base = ModelConfig(arch="teacher", cell=self.cell, units=self.units)
        return replace(base, **variant)

    def runs(self) -> list[tuple[str, object, ModelConfig]]:
        """(label, task, network) of both models, to check their cost first."""
        task = self.split_task()
        return [(f"The {name} model", task, self.model_config(v))
                for name, v in COMPARISONS[self.comparison]]

    def train_config(self) -> TrainConfig:
        return _train_config(self)


STUDY_KINDS = {StudyConfig.kind: "One model per length",
               GENERALIZATION: "Train short, test long"}


def model_count(cfg) -> int:
    """How many models a study trains (without building their tasks)."""
    if cfg.kind == GENERALIZATION:
        return len(COMPARISONS[cfg.comparison])
    return (len(cfg.lengths) if cfg.task == "reverse" else 1) * len(COMPARISONS[cfg.comparison])


def span_words(task: str, trained: int, longer: int, formats=(), unseen=()) -> str:
    """ "trained on lengths 1-8, tested to 12", "trained on 2-3 terms, tested to 6" or
    "trained on 5 formats, 3 unseen"."""
    if task == "dates":
        return f"trained on {plural(len(formats), 'format')}, {len(unseen)} unseen"
    low, top = SHORTEST.get(task, 1), trained + longer
    if task == "addition":
        terms = f"{trained}" if trained == low else f"{low}-{trained}"
        return f"trained on {terms} terms, tested to {top}"
    return f"trained on lengths {low}-{trained}, tested to {top}"


def study_name(cfg) -> str:
    """A human name for a study (a config or its saved dict):
    "Reverse integers, lengths 8, 16, 24: no attention vs attention"."""
    get = cfg.get if isinstance(cfg, dict) else lambda k, d=None: getattr(cfg, k, d)
    if get("kind", StudyConfig.kind) == GENERALIZATION:
        task = get("task", "reverse")
        span = span_words(task, get("trained", 0), get("longer", 0), get("formats", ()) or (),
                          get("unseen", ()) or ())
        names = " vs ".join(n for n, _ in COMPARISONS["attention"])
        return f"{GENERALIZATION_LABELS.get(task, str(task).capitalize())}, {span}: {names}"
    task, comparison = get("task", "reverse"), get("comparison", "attention")
    lengths = ", ".join(map(str, get("lengths", ()) or ()))
    where = "lengths" if task == "reverse" else "source lengths up to"
    names = " vs ".join(n for n, _ in COMPARISONS.get(comparison, ())) or str(comparison)
    return f"{TASK_LABELS.get(task, str(task).capitalize())}, {where} {lengths}: {names}"


def standing(a: float, b: float) -> str:
    """How exact match b compares with a: "clear" (10 points or more apart), "both right"
    (both 90% or more), "both wrong" (both under 20%), "slight" (3 points or more), or
    "same". Every verdict of the study words one of these."""
    gap = abs(b - a)
    if gap >= 0.1:
        return "clear"
    if min(a, b) >= 0.9:
        return "both right"
    if max(a, b) < 0.2:
        return "both wrong"
    return "slight" if gap >= 0.03 else "same"


def verdict(baseline: str, improved: str, a: float, b: float) -> str:
    """How `improved` (exact match b) compares with `baseline` (a), in words that fit the
    numbers: a clear win only for 10 points or more."""
    ahead = improved if b > a else baseline
    return {"clear": f"a clear win for {ahead}",
            "both right": "both still get nearly everything right at this length, so it does "
                          "not separate them: try longer inputs",
            "both wrong": "both fail at this length: give each model more time, or try "
                          "shorter inputs",
            "slight": f"{ahead} slightly ahead",
            "same": "about the same"}[standing(a, b)]


VARIANT_PHRASES = {"no attention": "without attention", "attention": "with attention"}


def _direction(a: float, b: float) -> str:
    return "stays" if abs(b - a) < 0.03 else "falls" if b < a else "rises"


def _move(a: float, b: float, where_a: str, where_b: str) -> str:
    """ "falls from 98% at length 8 to 3% at 9" (or rises, or stays)."""
    if _direction(a, b) == "stays":
        return f"stays at about {b:.0%} {where_b}"
    return f"{_direction(a, b)} from {a:.0%} {where_a} to {b:.0%} {where_b}"


@dataclass(frozen=True)
class _Edge:
    """Exact match per variant on the trained side (`seen`) and just past it (`new`), and
    how a sentence says where: "at length 8", "at 9", "length 9", "lengths"."""

    seen: pd.Series
    new: pd.Series
    where_seen: str
    where_new: str
    first: str
    what: str


def _edge(table: pd.DataFrame, cfg: GeneralizationConfig) -> _Edge | None:
    """The edge of the trained lengths (dates: trained vs unseen formats, on average);
    None while a length on either side has no score."""
    if cfg.task == "dates":
        return _Edge(table.loc[table.index.isin(cfg.formats)].mean(),
                     table.loc[table.index.isin(cfg.unseen)].mean(), "on the trained formats",
                     "on the unseen ones", "the unseen formats", "formats")
    last, nxt = cfg.trained, cfg.trained + 1
    if last not in table.index or nxt not in table.index:
        return None
    if cfg.task == "addition":
        return _Edge(table.loc[last], table.loc[nxt], f"at {last} terms", f"at {nxt} terms",
                     f"{nxt} terms", "lengths")
    return _Edge(table.loc[last], table.loc[nxt], f"at length {last}", f"at {nxt}",
                 f"length {nxt}", "lengths")


def _reach(table: pd.DataFrame, cfg: GeneralizationConfig, baseline: str, improved: str) -> str:
    """ "Exact match stays at 50% or more up to length 9 without attention and up to
    length 10 with attention." """
    def reach(variant: str) -> int:
        n = cfg.trained
        while n + 1 in table.index and table.loc[n + 1, variant] >= 0.5:
            n += 1
        return n
    a, b = reach(baseline), reach(improved)
    say = {n: "only on the trained lengths" if n == cfg.trained else
           f"up to {n} terms" if cfg.task == "addition" else f"up to length {n}" for n in (a, b)}
    if a == b:
        return f"Both keep 50% exact match or more {say[a]}."
    return (f"Exact match stays at 50% or more {say[a]} {VARIANT_PHRASES[baseline]} and "
            f"{say[b]} {VARIANT_PHRASES[improved]}.")


def _extremes(table: pd.DataFrame, cfg: GeneralizationConfig, baseline: str,
              improved: str) -> str:
    """ "Best read of the unseen formats: 'd MMM yyyy' (83% without attention, 100% with
    attention); worst: 'yyyy/mm/dd' (0% and 0%)." """
    unseen = table.loc[table.index.isin(cfg.unseen), [baseline, improved]]
    ranked = unseen.mean(axis=1).sort_values(kind="stable")
    best, worst = unseen.loc[ranked.index[-1]], unseen.loc[ranked.index[0]]
    return (f"Best read of the unseen formats: {ranked.index[-1]!r} ({best[baseline]:.0%} "
            f"{VARIANT_PHRASES[baseline]}, {best[improved]:.0%} {VARIANT_PHRASES[improved]}); "
            f"worst: {ranked.index[0]!r} ({worst[baseline]:.0%} and {worst[improved]:.0%}).")


def generalization_verdict(frame: pd.DataFrame, cfg: GeneralizationConfig) -> str:
    """Plain sentences on what the curve shows: each model's exact match at the longest
    trained length and at the first untrained one (dates: trained vs unseen formats, on
    average), and which carries further. '' until both models have rows."""
    (baseline, _), (improved, _) = COMPARISONS[cfg.comparison]
    if frame is None or frame.empty or not {baseline, improved} <= set(frame["variant"]):
        return ""
    table = frame.pivot_table(index=cfg.x_column, columns="variant", values="exact_match")
    edge = _edge(table, cfg)
    if edge is None:
        return ""
    a0, a1 = edge.seen[baseline], edge.new[baseline]
    b0, b1 = edge.seen[improved], edge.new[improved]
    without, with_ = VARIANT_PHRASES[baseline], VARIANT_PHRASES[improved]
    if max(a0, b0) < 0.5:
        return (f"Neither model learned the trained {edge.what} well ({a0:.0%} {without}, "
                f"{b0:.0%} {with_}), so the curve says little about what it never saw: give "
                "each model more time.")
    second = _move(b0, b1, edge.where_seen, edge.where_new)
    if _direction(a0, a1) == _direction(b0, b1) != "stays":
        second = f"from {b0:.0%} to {b1:.0%}"
    text = (f"{without.capitalize()}, exact match "
            f"{_move(a0, a1, edge.where_seen, edge.where_new)}; {with_}, {second}.")
    ahead = with_ if b1 > a1 else without
    at = f"{'On' if cfg.task == 'dates' else 'At'} {edge.first}"
    text += {"clear": f" {at}, the model {ahead} keeps clearly more right.",
             "both right": f" Both still manage {edge.first}; look further along the curve.",
             "both wrong": " Neither carries what it learned beyond what it trained on.",
             "slight": f" {at}, the model {ahead} is slightly ahead.",
             "same": f" {at}, the two are about the same."}[standing(a1, b1)]
    if cfg.task != "dates":
        text += " " + _reach(table, cfg, baseline, improved)
    elif len(cfg.unseen) > 1:
        text += " " + _extremes(table, cfg, baseline, improved)
    return text


def new_tag(cfg) -> str:
    """The History tag of one study's runs, unique to that study."""
    what = cfg.kind if cfg.kind == GENERALIZATION else cfg.comparison
    return f"study:{cfg.task}:{what}:{datetime.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:4]}"


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


def _generalization_rows(model, cfg: GeneralizationConfig, variant: str) -> list[dict]:
    """Exact match at every length (or format), on the same fresh examples for both models."""
    task, rows = model.task, []
    for i, point in enumerate(task.points):
        pairs = task.sample_at(np.random.default_rng(cfg.seed + 99 + i), cfg.eval_samples, point)
        result = score(model, pairs, 0)
        rows.append({"variant": variant, cfg.x_column: point, "trained": point in task.trained,
                     "exact_match": result.exact_match, "samples": result.samples})
    return rows


def _generalization_plans(cfg: GeneralizationConfig, tag: str | None) -> list[Plan]:
    task = cfg.split_task()
    span = span_words(cfg.task, cfg.trained, cfg.longer, cfg.formats, cfg.unseen)
    return [_plan(cfg, task, name, settings, f"study: {cfg.task} {span}, {name}",
                  f"{name}, {span}", tag, partial(_generalization_rows, cfg=cfg))
            for name, settings in COMPARISONS[cfg.comparison]]


def study_plans(cfg, tag: str | None = None) -> list[Plan]:
    """The models a study (either kind) trains, each with how it is scored."""
    if cfg.kind == GENERALIZATION:
        return _generalization_plans(cfg, tag)
    variants = COMPARISONS[cfg.comparison]
    if cfg.task == "reverse":
        return [_plan(cfg, _reverse_task(cfg, length), name, settings,
                      f"study: reverse length {length}, {name}", f"{name}, input length {length}",
                      tag, partial(_reverse_rows, cfg=cfg, length=length))
                for length in cfg.lengths for name, settings in variants]
    return [_plan(cfg, _translation_task(), name, settings, f"study: translation, {name}",
                  f"{name}, translation", tag, partial(_translation_rows, cfg=cfg))
            for name, settings in variants]


def study_runner(cfg, history=None, owner: str | None = None, executor=None,
                 workers: int = 1) -> StudyRunner:
    """A runner that trains every model of the study, `workers` at a time on `executor`
    (default: one after another in this process), when started.

    With a History, each model is recorded as a run (tagged `runner.tag`) and the finished
    table is saved as results of kind "study", named by `study_name`, so it can be shown
    again after a restart (`saved_studies`).
    """
    def save(rows):
        history.save_results("study", study_name(cfg), saved_config(cfg), rows)
    tag = new_tag(cfg)
    return StudyRunner(study_plans(cfg, tag), tag, executor=executor or LOCAL, workers=workers,
                       history=history, owner=owner,
                       on_finish=save if history is not None else None)


def saved_studies(history) -> pd.DataFrame:
    """Finished studies kept in the History, newest first (id, tag, created, config)."""
    return history.list_results("study")


def saved_config(cfg) -> dict:
    """A study's configuration as the History keeps it: its fields, and its kind."""
    return {**asdict(cfg), "kind": cfg.kind}


def config_from_saved(config: dict):
    """The configuration of a saved study of either kind (older ones have no kind: they
    are all one model per length)."""
    config = dict(config)
    if config.pop("kind", StudyConfig.kind) == GENERALIZATION:
        return GeneralizationConfig(**config)
    config["lengths"] = tuple(config["lengths"])
    return StudyConfig(**config)


def load_study(history, result_id: int):
    """(configuration, results table) of a study saved in the History."""
    config, rows = history.get_results(result_id)
    cfg = config_from_saved(config)
    return cfg, results_frame(rows, cfg)


def results_frame(rows, cfg=None) -> pd.DataFrame:
    """Rows as a table sorted by variant and length (empty table with the columns if none).

    For a length-generalization study (`cfg`), the lengths or formats come in the order
    they are scored, each marked whether it was trained on.
    """
    if cfg is not None and cfg.kind == GENERALIZATION:
        x = cfg.x_column
        columns = ["variant", x, "trained", "exact_match", "samples", "train_seconds"]
        order = {p: i for i, p in enumerate(cfg.points)}
        frame = pd.DataFrame(list(rows), columns=columns)
        return frame.sort_values(["variant", x], key=lambda c: c.map(order) if c.name == x
                                 else c).reset_index(drop=True)
    columns = ["variant", "length", "exact_match", "samples", "train_seconds"]
    frame = pd.DataFrame(list(rows), columns=columns)
    return frame.sort_values(["variant", "length"]).reset_index(drop=True)


__all__ = ["COMPARISONS", "GENERALIZATION", "STUDY_KINDS", "GeneralizationConfig",
           "StudyConfig", "StudyRunner", "config_from_saved", "generalization_verdict",
           "load_study", "model_count", "results_frame", "saved_config", "saved_studies",
           "span_words", "study_plans", "study_name", "study_runner", "verdict"]
