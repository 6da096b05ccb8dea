"""Length generalization: train on short inputs only, score on longer ones (and on unseen
date formats), with and without attention."""
from __future__ import annotations

import hashlib
import pickle
import re

import numpy as np
import pandas as pd
import pytest

import seq2seq_core as sc
from seq2seq_core.study import (
    GeneralizationConfig,
    config_from_saved,
    generalization_verdict,
    load_study,
    results_frame,
    saved_config,
    saved_studies,
    study_name,
    study_plans,
    study_runner,
)
from seq2seq_core.tasks.addition import AdditionByTerms
from seq2seq_core.tasks.dates import DatesByFormat
from seq2seq_core.tasks.reverse import ReverseByLength

RNG = np.random.default_rng
TRAINED, UNSEEN = ("d MMMM yyyy", "dd/mm/yyyy"), ("yyyy/mm/dd", "MMM d, yy")


def reverse_lengths(pairs) -> np.ndarray:
    return (pairs.source != 0).sum(axis=1)


def addition_terms(task, pairs) -> np.ndarray:
    return np.array([len(re.findall(r"[0-9]+", e.source)) for e in task.examples(pairs)])


def date_formats(task, pairs) -> list[str]:
    return [task._parse(e.source)[1] for e in task.examples(pairs)]


# ---- the data: training draws only the short part, the test split one length exactly -------------
@pytest.mark.parametrize("split", ["train", "valid"])
def test_reverse_training_draws_every_length_up_to_n_and_never_more(split):
    task = ReverseByLength(trained=4, longest=9, cardinality=7)
    pairs = task.sample(RNG(1), 5000, split)
    assert sorted(set(reverse_lengths(pairs))) == [1, 2, 3, 4]
    assert (task.source_len, task.target_len) == (9, 10)  # room for the longest tested + end


@pytest.mark.parametrize("split", ["train", "valid"])
def test_addition_training_draws_two_to_n_terms_and_never_more(split):
    task = AdditionByTerms(trained=3, longest=6, largest=10)
    assert sorted(set(addition_terms(task, task.sample(RNG(2), 3000, split)))) == [2, 3]
    assert (task.source_len, task.target_len) == (17, 2)  # six 2-digit terms; sums up to 60


@pytest.mark.parametrize("split", ["train", "valid"])
def test_dates_training_draws_only_the_trained_formats(split):
    task = DatesByFormat(TRAINED, UNSEEN)
    assert set(date_formats(task, task.sample(RNG(3), 1000, split))) == set(TRAINED)
    assert task.points == TRAINED + UNSEEN and task.trained == TRAINED


@pytest.mark.parametrize("length", range(1, 10))
def test_reverse_at_a_length_has_exactly_that_length_and_its_reverse_then_end(length):
    task = ReverseByLength(trained=4, longest=9, cardinality=7)
    pairs = task.sample_at(RNG(length), 300, length)
    assert (reverse_lengths(pairs) == length).all()
    for example in task.examples(pairs)[:5]:
        assert example.target == " ".join(reversed(example.source.split()))
        assert len(example.source.split()) == length
    assert (pairs.target[:, length] == task.target_vocab.end).all()
    assert task.target_mask(pairs.target).sum(axis=1).tolist() == [length + 1] * 300


@pytest.mark.parametrize("terms", range(2, 7))
def test_addition_at_a_count_has_exactly_that_many_terms_and_their_sum(terms):
    task = AdditionByTerms(trained=3, longest=6, largest=10)
    pairs = task.sample_at(RNG(terms), 300, terms)
    assert (addition_terms(task, pairs) == terms).all()
    for example in task.examples(pairs)[:20]:
        assert int(example.target) == sum(int(x) for x in example.source.split("+"))


@pytest.mark.parametrize("fmt", TRAINED + UNSEEN)
def test_dates_at_a_format_are_written_in_it(fmt):
    task = DatesByFormat(TRAINED, UNSEEN)
    pairs = task.sample_at(RNG(4), 200, fmt)
    assert set(date_formats(task, pairs)) == {fmt}
    assert all(task.answer(e.source) == e.target for e in task.examples(pairs)[:20])


def test_the_split_tasks_read_and_write_the_longest_tested_inputs():
    reverse = ReverseByLength(trained=4, longest=9, cardinality=7)
    assert reverse.answer("1 2 3 4 5 6 7 1 2") == "2 1 7 6 5 4 3 2 1"
    assert reverse.expected_fits("1 2 3 4 5 6 7 1 2")
    assert reverse.encode_inputs(["3, 1"]).tolist() == [[0] * 7 + [3, 1]]
    assert reverse.outside("1 2 3 4") == ""
    assert "at most 4 integers; this one has 6" in reverse.outside("1 2 3 4 5 6")
    with pytest.raises(sc.InvalidInput, match="has 10 integers; this model handles at most 9"):
        reverse.validate("1 2 3 4 5 6 7 1 2 3")
    with pytest.raises(sc.InvalidInput, match="Not an integer between 1 and 7: '8'"):
        reverse.validate("1 8")
    addition = AdditionByTerms(trained=3, longest=6, largest=10)
    assert addition.answer("10+10+10+10+10+10") == "60"
    assert "at most 3 terms; this expression has 5" in addition.outside("1+2+3+4+5")
    dates = DatesByFormat(TRAINED, UNSEEN)
    assert dates.answer("2021/03/04") == "2021-03-04"
    assert "never trained on" in dates.outside("2021/03/04")
    assert "never trained on" not in dates.outside("04/03/2021")


@pytest.mark.parametrize("make", [lambda: ReverseByLength(3, 6, 5),
                                  lambda: AdditionByTerms(3, 5, 10),
                                  lambda: DatesByFormat(TRAINED, UNSEEN)])
def test_a_split_task_pickles_for_a_ray_worker(make):
    task = make()
    again = pickle.loads(pickle.dumps(task))
    a, b = task.sample(RNG(5), 50), again.sample(RNG(5), 50)
    assert (a.source == b.source).all() and (a.target == b.target).all()
    assert again.points == task.points and again.trained == task.trained


def _digest(task) -> str:
    pairs = task.sample(RNG(0), 200)
    return hashlib.sha256(pairs.source.tobytes() + pairs.target.tobytes()).hexdigest()[:16]


@pytest.mark.parametrize("name,values,digest", [
    ("reverse", {}, "faacaa0cfa0f05f4"),
    ("addition", {}, "962afef115888e0a"),
    ("addition", {"variable_terms": True, "n_terms": 5}, "efacb5dc10cc9c67"),
    ("dates", {}, "526903351c3a3717"),
])
def test_the_tasks_own_samples_for_a_seed_are_unchanged(name, values, digest):
    """Digests of the samples before the split tasks were added: a seed's data stays put."""
    assert _digest(sc.make_task(name, **values)) == digest


# ---- the configuration -------------------------------------------------------------------------
@pytest.mark.parametrize("values,message", [
    ({"task": "addition", "trained": 6, "longer": 3},
     "Addition handles at most 8 terms: 6 trained"),
    ({"trained": 37, "longer": 4}, "at most 40 integers: 37 trained \\+ 4 longer is 41"),
    ({"longer": 9}, "Longer lengths tested must be between 1 and 8"),
    ({"trained": 1}, "Longest trained length must be between 2 and 39"),
    ({"task": "translation"}, "Task must be one of reverse, addition, dates"),
    ({"task": "dates", "formats": ("dd/mm/yyyy",), "unseen": ("dd/mm/yyyy", "yyyy/mm/dd")},
     "both trained and unseen: 'dd/mm/yyyy'"),
    ({"task": "dates", "unseen": ()}, "Unseen formats must be one or more of"),
    ({"task": "dates", "formats": ("mm/dd/yyyy",)}, "unknown 'mm/dd/yyyy'"),
])
def test_bad_generalization_settings(values, message):
    with pytest.raises(sc.InvalidInput, match=message):
        GeneralizationConfig(**values)


def test_generalization_names_points_and_plans():
    cfg = GeneralizationConfig()
    assert study_name(cfg) == ("Reverse integers, trained on lengths 1-8, tested to 12: "
                               "no attention vs attention")
    assert study_name(saved_config(cfg)) == study_name(cfg)
    addition = GeneralizationConfig(task="addition", trained=3, longer=3)
    assert study_name(addition).startswith("Addition, trained on 2-3 terms, tested to 6")
    assert addition.points == (2, 3, 4, 5, 6) and addition.trained_points == (2, 3)
    dates = GeneralizationConfig(task="dates", formats=TRAINED, unseen=UNSEEN)
    assert study_name(dates).startswith("Dates → ISO, trained on 2 formats, 2 unseen")
    plans = study_plans(cfg, "t")
    assert [p.label for p in plans] == ["no attention, trained on lengths 1-8, tested to 12",
                                        "attention, trained on lengths 1-8, tested to 12"]
    assert [p.training.model_config.arch for p in plans] == ["teacher", "attention"]
    assert {(p.training.model_config.units, p.training.train_config.seed,
             p.training.train_config.max_seconds) for p in plans} == {(64, 0, 30.0)}
    assert plans[0].training.task.source_len == 12
    assert pickle.loads(pickle.dumps(plans[1].training)).task.points == tuple(range(1, 13))
    assert study_runner(cfg).tag.startswith("study:reverse:generalization:")


def test_results_come_in_the_order_scored():
    cfg = GeneralizationConfig(task="dates", formats=TRAINED, unseen=UNSEEN)
    rows = [{"variant": v, "format": f, "trained": f in TRAINED, "exact_match": 0.5,
             "samples": 10, "train_seconds": 1.0} for v in ("no attention", "attention")
            for f in sorted(TRAINED + UNSEEN)]
    frame = results_frame(rows, cfg)
    assert list(frame["format"][:4]) == list(TRAINED + UNSEEN)
    assert list(frame["variant"][:4]) == ["attention"] * 4
    assert list(frame.columns) == ["variant", "format", "trained", "exact_match", "samples",
                                   "train_seconds"]


# ---- the verdict --------------------------------------------------------------------------------
def curve(cfg, scores) -> pd.DataFrame:
    """A results table from variant -> function of the length (or format)."""
    return results_frame([{"variant": v, cfg.x_column: p, "trained": p in cfg.trained_points,
                           "exact_match": f(p), "samples": 100, "train_seconds": 5.0}
                          for v, f in scores.items() for p in cfg.points], cfg)


def test_the_verdict_says_where_each_model_falls():
    cfg = GeneralizationConfig()
    frame = curve(cfg, {"no attention": lambda n: 0.98 if n <= 8 else 0.03,
                        "attention": lambda n: 0.99 if n <= 8 else 0.4 if n <= 10 else 0.0})
    assert generalization_verdict(frame, cfg) == (
        "Without attention, exact match falls from 98% at length 8 to 3% at 9; with "
        "attention, from 99% to 40%. At length 9, the model with attention keeps clearly "
        "more right. Both keep 50% exact match or more only on the trained lengths.")


def test_the_verdict_says_how_far_each_carries_and_when_neither_learned():
    cfg = GeneralizationConfig(task="addition", trained=3, longer=3)
    frame = curve(cfg, {"no attention": lambda n: 1.0 if n <= 4 else 0.1,
                        "attention": lambda n: 1.0})
    assert generalization_verdict(frame, cfg) == (
        "Without attention, exact match stays at about 100% at 4 terms; with attention, stays "
        "at about 100% at 4 terms. Both still manage 4 terms; look further along the curve. "
        "Exact match stays at 50% or more up to 4 terms without attention and up to 6 terms "
        "with attention.")
    weak = curve(cfg, {"no attention": lambda n: 0.3, "attention": lambda n: 0.2})
    assert generalization_verdict(weak, cfg).startswith(
        "Neither model learned the trained lengths well (30% without attention, 20% with")
    assert generalization_verdict(weak[weak["variant"] == "attention"], cfg) == ""


def test_the_dates_verdict_compares_trained_and_unseen_formats():
    cfg = GeneralizationConfig(task="dates", formats=TRAINED, unseen=UNSEEN)
    unseen = {"no attention": {"MMM d, yy": 0.04, "yyyy/mm/dd": 0.0},
              "attention": {"MMM d, yy": 0.5, "yyyy/mm/dd": 0.1}}
    frame = curve(cfg, {"no attention": lambda f: unseen["no attention"].get(f, 0.96),
                        "attention": lambda f: unseen["attention"].get(f, 1.0)})
    assert generalization_verdict(frame, cfg) == (
        "Without attention, exact match falls from 96% on the trained formats to 2% on the "
        "unseen ones; with attention, from 100% to 30%. On the unseen formats, the model with "
        "attention keeps clearly more right. Best read of the unseen formats: 'MMM d, yy' (4% "
        "without attention, 50% with attention); worst: 'yyyy/mm/dd' (0% and 10%).")


# ---- the chart ----------------------------------------------------------------------------------
def test_the_chart_shades_the_trained_lengths_and_marks_the_first_untrained():
    from seq2seq_core.charts.study import SHADE, generalization_chart
    cfg = GeneralizationConfig(trained=3, longer=2)
    frame = curve(cfg, {"no attention": lambda n: 1.0, "attention": lambda n: 0.5})
    spec = generalization_chart(frame, ["no attention", "attention"], "length", cfg.points,
                                cfg.trained_points, "input length").to_dict()
    assert spec["autosize"] == {"type": "fit-x", "contains": "padding"} and spec["height"] == 320
    datasets = spec["datasets"]
    shade, rule, _, line = spec["layer"][:4]
    assert shade["mark"]["color"] == SHADE
    assert [r["length"] for r in datasets[shade["data"]["name"]]] == [1, 2, 3]
    assert [r["length"] for r in datasets[rule["data"]["name"]]] == [4]
    assert rule["encoding"]["x"]["bandPosition"] == 0  # at the edge of the first untrained
    assert line["mark"]["type"] == "line" and line["encoding"]["y"]["field"] == "exact_match"
    assert line["encoding"]["x"]["sort"] == [1, 2, 3, 4, 5]


# ---- a real study -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_study(tmp_path_factory):
    """Reverse trained on lengths 1-4 and scored to 6, both variants, 32 units, recorded."""
    from seq2seq_core.history import History
    history = History(tmp_path_factory.mktemp("study") / "h.sqlite3")
    cfg = GeneralizationConfig(trained=4, longer=2, units=32, cardinality=6, max_seconds=8.0,
                               eval_samples=200)
    runner = study_runner(cfg, history)
    runner.run()
    return cfg, runner, history


def test_each_model_is_scored_at_every_length(tiny_study):
    cfg, runner, _ = tiny_study
    assert runner.status == "finished", runner.error
    frame = results_frame(runner.result(), cfg)
    for variant in ("no attention", "attention"):
        rows = frame[frame["variant"] == variant]
        assert list(rows["length"]) == [1, 2, 3, 4, 5, 6]
        assert list(rows["trained"]) == [True] * 4 + [False] * 2
        assert (rows["samples"] == 200).all() and rows["exact_match"].between(0, 1).all()
        assert rows["train_seconds"].between(0.1, 8.5).all()


def test_a_teacher_model_does_well_on_its_lengths_and_worse_beyond(tiny_study):
    cfg, runner, _ = tiny_study
    frame = results_frame(runner.result(), cfg)
    teacher = frame[frame["variant"] == "no attention"].set_index("length")["exact_match"]
    assert teacher.loc[[1, 2, 3, 4]].min() >= 0.9, teacher.to_dict()
    assert teacher.loc[6] <= teacher.loc[4] - 0.4, teacher.to_dict()


def test_a_finished_generalization_study_is_saved_and_reloads(tiny_study):
    cfg, runner, history = tiny_study
    saved = saved_studies(history)
    assert list(saved["tag"]) == [study_name(cfg)]
    loaded, table = load_study(history, int(saved["id"][0]))
    assert loaded == cfg
    pd.testing.assert_frame_equal(table, results_frame(runner.result(), cfg))
    assert sorted(history.list_runs(runner.tag)["name"]) == [
        "study: reverse trained on lengths 1-4, tested to 6, attention",
        "study: reverse trained on lengths 1-4, tested to 6, no attention"]


def test_older_saved_studies_keep_loading(tmp_path):
    """Studies saved before there were two kinds carry no kind: one model per length."""
    from seq2seq_core.history import History
    from seq2seq_core.study import StudyConfig
    history = History(tmp_path / "h.sqlite3")
    old = {"task": "reverse", "comparison": "attention", "lengths": [4, 8], "units": 16,
           "cell": "lstm", "cardinality": 10, "max_seconds": 30.0, "batch_size": 128,
           "learning_rate": 0.01, "eval_samples": 500, "seed": 0}
    rows = [{"variant": "attention", "length": 4, "exact_match": 1.0, "samples": 100,
             "train_seconds": 2.0}]
    result = history.save_results("study", "reverse: attention", old, rows)
    cfg, table = load_study(history, result)
    assert cfg == StudyConfig(lengths=(4, 8), units=16) == config_from_saved(old)
    assert list(table["length"]) == [4]
