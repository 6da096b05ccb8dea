"""The "why attention" study runs its grid in the background and can be stopped."""
import pytest

import seq2seq_core as sc
from seq2seq_core.study import (
    StudyConfig,
    parse_lengths,
    results_frame,
    study_name,
    study_runner,
    verdict,
)


def test_small_reverse_study_fills_its_table():
    cfg = StudyConfig(lengths=(3,), units=16, cardinality=6, max_seconds=12, eval_samples=100)
    runner = study_runner(cfg)
    runner.start()
    runner.join(120)
    progress = runner.snapshot()
    assert progress.status == "finished" and progress.done == progress.total == 2
    table = results_frame(progress.rows)
    assert list(table["variant"]) == ["attention", "no attention"]
    assert (table["length"] == 3).all() and table["exact_match"].between(0, 1).all()
    assert (table["exact_match"] > 0.5).all()


def test_stopping_a_study_ends_it_early_and_leaves_out_the_model_cut_short():
    # length 12 first: a 16-unit model cannot reach its target within the 3 s before Stop
    runner = study_runner(StudyConfig(lengths=(12, 16, 20), max_seconds=60, units=16))
    runner.start()
    runner.join(3)
    runner.stop()
    runner.join(60)
    progress = runner.snapshot()
    assert progress.status == "stopped" and progress.done < progress.total
    assert runner.cut_short  # stopped while a model trained
    assert runner.finished_models == progress.done - 1 == len(progress.rows)
    assert runner.cut_short[0] not in [f"{r['variant']}, input length {r['length']}"
                                    for r in progress.rows]


@pytest.mark.parametrize("values,message", [
    ({"lengths": ()}, "between 1 and 8 lengths"),
    ({"lengths": (1,)}, "between 2 and 40"),
    ({"task": "dates"}, "one of reverse, translation"),
    ({"comparison": "magic"}, "one of attention, reversal"),
])
def test_bad_study_settings(values, message):
    with pytest.raises(sc.InvalidInput, match=message):
        StudyConfig(**values)


def test_finished_study_is_saved_in_the_history(tmp_path):
    from seq2seq_core.history import History
    from seq2seq_core.study import load_study, saved_studies
    history = History(tmp_path / "h.sqlite3")
    cfg = StudyConfig(lengths=(3,), units=16, max_seconds=3, eval_samples=100)
    runner = study_runner(cfg, history)
    runner.run()
    again = History(tmp_path / "h.sqlite3")
    saved = saved_studies(again)
    assert list(saved["tag"]) == ["Reverse integers, lengths 3: no attention vs attention"]
    loaded_cfg, table = load_study(again, int(saved["id"][0]))
    assert loaded_cfg == cfg and len(table) == 2
    runs = again.list_runs(runner.tag)
    assert sorted(runs["name"]) == ["study: reverse length 3, attention",
                                    "study: reverse length 3, no attention"]
    assert runner.tag.startswith("study:reverse:attention:")


def test_every_study_has_its_own_tag():
    cfg = StudyConfig(lengths=(3,))
    assert study_runner(cfg).tag != study_runner(cfg).tag


def test_study_names():
    assert study_name(StudyConfig()) == "Reverse integers, lengths 8, 16, 24: no attention vs attention"
    assert study_name({"task": "translation", "comparison": "reversal", "lengths": [8, 12]}) == (
        "Translation (English → French), source lengths up to 8, 12: source as written vs reversed source")


@pytest.mark.parametrize("a,b,words", [
    (0.94, 0.99, "both still get nearly everything right"),
    (0.18, 0.90, "a clear win for attention"),
    (0.90, 0.70, "a clear win for no attention"),
    (0.05, 0.08, "both fail"),
    (0.50, 0.55, "attention slightly ahead"),
    (0.50, 0.51, "about the same"),
])
def test_verdict_fits_the_numbers(a, b, words):
    assert verdict("no attention", "attention", a, b).startswith(words)


@pytest.mark.parametrize("text,lengths", [("4,8,12,16", (4, 8, 12, 16)), ("4, 8 12", (4, 8, 12)),
                                          ("", ())])
def test_parse_lengths(text, lengths):
    assert parse_lengths(text) == lengths


def test_cli_study_rejects_bad_lengths_with_a_message(capsys):
    from seq2seq_core.cli import main
    assert main(["study", "--lengths", "4,x"]) == 2
    assert "The lengths must be whole numbers separated by commas" in capsys.readouterr().err


def test_cli_generalization_study_checks_its_settings_with_a_message(capsys):
    from seq2seq_core.cli import main
    assert main(["study", "--generalize", "--task", "translation"]) == 2
    assert "Task must be one of" in capsys.readouterr().err
    assert main(["study", "--generalize", "--task", "dates", "--formats", "yyyy"]) == 2
    assert "yyyy" in capsys.readouterr().err
