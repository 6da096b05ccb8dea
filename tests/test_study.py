"""The "why attention" study runs its grid in the background and can be stopped."""
import pytest

import seq2seq_core as sc
from seq2seq_core.study import StudyConfig, parse_lengths, results_frame, study_runner


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


def test_stopping_a_study_ends_it_early():
    runner = study_runner(StudyConfig(lengths=(4, 8, 12), max_seconds=60, units=16))
    runner.start()
    runner.join(3)
    runner.stop()
    runner.join(60)
    progress = runner.snapshot()
    assert progress.status == "stopped" and progress.done < progress.total


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
    study_runner(cfg, history).run()
    again = History(tmp_path / "h.sqlite3")
    saved = saved_studies(again)
    assert list(saved["tag"]) == ["reverse: attention"]
    loaded_cfg, table = load_study(again, int(saved["id"][0]))
    assert loaded_cfg == cfg and len(table) == 2
    assert len(again.list_runs("study:reverse:attention")) == 2


@pytest.mark.parametrize("text,lengths", [("4,8,12,16", (4, 8, 12, 16)), ("4, 8 12", (4, 8, 12)),
                                          ("", ())])
def test_parse_lengths(text, lengths):
    assert parse_lengths(text) == lengths


def test_cli_study_rejects_bad_lengths_with_a_message(capsys):
    from seq2seq_core.cli import main
    assert main(["study", "--lengths", "4,x"]) == 2
    assert "Lengths must be whole numbers separated by commas" in capsys.readouterr().err
