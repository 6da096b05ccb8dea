"""Model size x problem complexity sweeps: validation, a tiny grid end to end, stopping,
the saved config and the names."""
import math
import time
from datetime import datetime, timezone

import pandas as pd
import pytest

import seq2seq_core as sc
from seq2seq_core.history import History
from seq2seq_core.executors import LOCAL
from seq2seq_core.sweep import (
    AXES,
    RESULT_COLUMNS,
    Sweep,
    SweepConfig,
    cell_model,
    cell_name,
    load_saved,
    pivot,
    results_from_history,
    saved_sweeps,
    when,
)

TINY = sc.TrainConfig(batch_size=32, learning_rate=0.01, max_samples=128, chunk_batches=2,
                      eval_samples=20, target_accuracy=0.99)


def tiny_config(**overrides):
    values = dict(task="reverse", settings=sc.settings_for("reverse", n_out=1, cardinality=5),
                  complexity_key="n_in", complexity_values=(2, 3), units_values=(4, 8),
                  model_config=sc.ModelConfig(units=4), train_config=TINY)
    return SweepConfig(**{**values, **overrides})


def test_cells():
    cfg = SweepConfig()  # seed 003's study: addition, repeat 75/50
    assert cfg.size == 9 and cfg.complexity_label == "number of terms"
    cells = cfg.cells()
    assert [(c.complexity, c.units) for c in cells[:4]] == [(2, 25), (2, 50), (2, 100), (3, 25)]
    assert cells[0].settings.n_terms == 2 and cells[0].model_config.decoder_units == 17
    assert cell_model(sc.ModelConfig(arch="repeat", units=75, decoder_units=50), 150).decoder_units == 100
    digits = AXES["addition"]["digits"]
    assert digits.settings(sc.settings_for("addition"), 2).largest == 99
    assert digits.value_of(sc.settings_for("addition", largest=999)) == 3
    assert digits.bounds == (1, 5) and digits.label == "digits per number"
    rev = AXES["reverse"]["n_in"].settings(sc.settings_for("reverse", n_out=3), 2)
    assert (rev.n_in, rev.n_out) == (2, 2)
    with pytest.raises(sc.InvalidInput, match="Number of terms values must be whole numbers "
                                              "between 1 and 8; got 9"):
        SweepConfig(complexity_values=(2, 9))
    assert tiny_config(complexity_values=[2, 3]).complexity_values == (2, 3)


@pytest.mark.parametrize("overrides, message", [
    ({"task": "dates"}, "choose from: addition, reverse"),
    ({"complexity_key": "n_terms"}, "For reverse, vary one of: n_in, n_out, cardinality"),
    ({"units_values": (1, 2, 3, 4, 5, 6)}, "Give 1 to 5 units values; got 6"),
    ({"complexity_values": ()}, r"Give 1 to 5 input length \(integers\) values; got 0"),
    ({"units_values": (8, 8)}, "units values repeat"),
    ({"units_values": (0,)}, "between 1 and 1024; got 0"),
    ({"complexity_values": (2.5,)}, "whole numbers"),
    ({"complexity_key": "n_out", "complexity_values": (2, 9)},
     r"With output length 9: Output length \(9\) cannot exceed input length"),
    ({"settings": sc.settings_for("addition")}, "not reverse settings"),
    ({"train_config": sc.TrainConfig(max_seconds=1900)}, "could train for 2.1 hours"),
    ({"model_config": sc.ModelConfig(units=4, arch="repeat", decoder_units=1000),
      "units_values": (1000,)}, "With 1000 units: Decoder units"),
])
def test_validation(overrides, message):
    with pytest.raises(sc.InvalidInput, match=message):
        tiny_config(**overrides)


def test_small_sweep_lands_in_history(tmp_path):
    history = History(tmp_path / "h.sqlite3")
    sweep = Sweep(tiny_config(), history)
    assert sweep.progress().status == "ready" and sweep.progress().total == 4
    sweep.start()
    sweep.join(timeout=240)
    progress = sweep.progress()
    assert (progress.status, progress.done, progress.fraction) == ("finished", 4, 1.0), progress
    results = sweep.results()
    assert list(results.columns) == RESULT_COLUMNS and len(results) == 4
    assert list(zip(results.complexity, results.units)) == [(2, 4), (2, 8), (3, 4), (3, 8)]
    assert set(results.status) == {"finished"} and (results.samples_seen == 128).all()
    assert (results.train_seconds > 0).all()
    assert results.reached.tolist() == (results.exact_match >= 0.99).tolist()
    assert results.attrs["complexity_key"] == "n_in"
    assert pivot(results, "params").shape == (2, 2)
    runs = history.list_runs(sweep.sweep_id)
    assert sorted(runs.id) == sorted(results.run_id) and set(runs.status) == {"finished"}
    assert runs.sort_values("id")["name"].tolist() == [
        "sweep: reverse length=2, 4 units", "sweep: reverse length=2, 8 units",
        "sweep: reverse length=3, 4 units", "sweep: reverse length=3, 8 units"]
    again = results_from_history(History(history.path), sweep.sweep_id, "reverse", "n_in")
    cols = ["complexity", "units", "params", "samples_seen", "run_id", "status"]
    assert again[cols].equals(results[cols])


def test_a_finished_sweep_saves_its_config_and_results(tmp_path):
    history = History(tmp_path / "h.sqlite3")
    cfg = tiny_config(complexity_key="cardinality", complexity_values=(5,), units_values=(4, 8))
    seen_while_training = []

    class Watching:
        """The in-process executor, noting what the History holds as each cell starts."""

        name = "local"

        def train(self, training):
            seen_while_training.append(saved_sweeps(History(history.path)))
            return LOCAL.train(training)
    sweep = Sweep(cfg, history, executor=Watching())
    assert sweep.run() == "finished"
    first = seen_while_training[0]  # saved before its first cell trained: others can read it
    assert len(first) == 1 and first["config"][0]["status"] == "ready"
    assert SweepConfig.from_dict(first["config"][0]["sweep"]) == cfg
    saved = saved_sweeps(History(history.path))
    assert len(saved) == 1 and saved["id"][0] == sweep.result_id
    assert saved["tag"][0] == "Reverse integers: cardinality (values 1..n) 5 × units 4, 8" == cfg.name
    info = saved["config"][0]
    assert (info["sweep_id"], info["status"], info["trained"], info["cells"]) == (
        sweep.sweep_id, "finished", 2, 2)
    config, frame = load_saved(History(history.path), int(saved["id"][0]))
    assert config == cfg
    assert frame.attrs["complexity_key"] == "cardinality"
    assert frame.attrs["complexity_label"] == "cardinality (values 1..n)"
    assert frame.attrs["sweep_id"] == sweep.sweep_id
    cols = ["complexity", "units", "params", "exact_match", "samples_seen", "run_id", "status",
            "reached"]
    assert frame[cols].equals(sweep.results()[cols])


def test_stop_halts_the_sweep(tmp_path):
    history = History(tmp_path / "h.sqlite3")
    slow = sc.TrainConfig(batch_size=32, max_samples=1_000_000, max_seconds=60, chunk_batches=2,
                          eval_samples=20)
    sweep = Sweep(tiny_config(train_config=slow), history)
    sweep.start()
    deadline = time.monotonic() + 120
    while not any(share for _, share in sweep.progress().running) \
            and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [cell.index for cell, _ in sweep.progress().running] == [0]
    sweep.stop()
    sweep.join(timeout=60)
    assert not sweep.is_alive
    progress = sweep.progress()
    assert progress.status == "stopped" and progress.done < progress.total
    assert progress.trained == 0 and [c.index for c in progress.cut_short] == [0]
    results = sweep.results()
    assert results.status.tolist() == ["cut short", "not run", "not run", "not run"]
    assert results[["exact_match", "train_seconds", "params"]].isna().all().all()
    assert not results.reached.any() and results.run_id[0] == history.list_runs().id[0]
    assert history.list_runs(sweep.sweep_id).status.tolist() == ["stopped"]
    info = saved_sweeps(history)["config"][0]  # a stopped sweep is saved too
    assert (info["status"], info["trained"], info["cells"]) == ("stopped", 0, 4)
    _, saved = load_saved(history, sweep.result_id)
    assert saved.status.tolist() == results.status.tolist()
    assert saved["exact_match"].isna().all()


def test_stop_before_start():
    sweep = Sweep(tiny_config())
    sweep.stop()
    assert sweep.run() == "stopped"
    results = sweep.results()
    assert len(results) == 4 and set(results.status) == {"not run"}
    assert sweep.progress().trained == 0 and sweep.progress().cut_short == ()


def test_pivot_keeps_cells_without_a_value():
    frame = pd.DataFrame({"complexity": [2, 2, 3, 3], "units": [4, 8, 4, 8],
                          "exact_match": [0.5, math.nan, 0.7, math.nan]})
    grid = pivot(frame, "exact_match")
    assert grid.shape == (2, 2) and list(grid.columns) == [4, 8]
    assert grid[8].isna().all() and grid.loc[3, 4] == 0.7


def test_names():
    assert SweepConfig().name == "Addition: number of terms 2, 3, 4 × units 25, 50, 100"
    assert cell_name("addition", "n_terms", 3, 50) == "sweep: addition terms=3, 50 units"
    assert cell_name("reverse", "n_in", 2, 1) == "sweep: reverse length=2, 1 unit"
    stamp = datetime(2026, 12, 1, 9, 8, tzinfo=timezone.utc)
    local = stamp.astimezone()
    assert when(stamp.isoformat()) == f"{local.day} {local:%b} {local.year} {local:%H:%M}" \
        or when(stamp.isoformat()) == f"{local.day} {local:%b %H:%M}"
    assert when(None) == "" and when("not a time") == ""


def test_old_sweeps_are_rebuilt_from_their_runs(tmp_path):
    """Sweeps saved before sweeps kept their config: the grid from the runs, gaps "not run"."""
    history = History(tmp_path / "h.sqlite3")
    train = sc.TrainConfig(target_accuracy=0.9)
    for terms, units, status in ((2, 25, "finished"), (2, 50, "finished"), (3, 25, "stopped")):
        run = history.record_run("addition", sc.settings_for("addition", n_terms=terms),
                                 sc.ModelConfig(units=units), train, status=status,
                                 name=f"sweep 20261201-090852-85da: n_terms={terms}, "
                                      f"units={units}", sweep_id="20261201-090852-85da")
        history.set_status(run, status, exact_match=0.95)
    frame = results_from_history(history, "20261201-090852-85da", "addition", "n_terms")
    assert list(zip(frame.complexity, frame.units, frame.status)) == [
        (2, 25, "finished"), (2, 50, "finished"), (3, 25, "cut short"), (3, 50, "not run")]
    assert frame.exact_match.tolist()[:2] == [0.95, 0.95] and frame.reached[:2].all()
    assert frame.exact_match[2:].isna().all() and not frame.reached[2:].any()
    assert frame.attrs["name"] == "Addition: number of terms 2, 3 × units 25, 50"


def _legacy_sweep(history, sweep_id, settings_list, units=25):
    """Runs of a sweep from before sweeps saved their config, with names that say nothing."""
    for i, settings in enumerate(settings_list):
        history.record_run("addition", settings, sc.ModelConfig(units=units), sc.TrainConfig(),
                           name=f"renamed {i}", sweep_id=sweep_id)


@pytest.mark.parametrize("settings,axis_key", [
    ([{"largest": 9}, {"largest": 99}, {"largest": 999}], "digits"),
    ([{"largest": 10}, {"largest": 50}], "largest"),
    ([{"n_terms": 2}, {"n_terms": 4}], "n_terms"),
    ([{"largest": 50}, {"largest": 50}], "largest"),  # one value: the one off its default
])
def test_an_old_sweeps_axis_is_read_from_its_runs_settings(tmp_path, settings, axis_key):
    from ui.sweep import varied_setting
    history = History(tmp_path / "h.sqlite3")
    _legacy_sweep(history, "old", [sc.settings_for("addition", **s) for s in settings])
    infos = [history.get(int(i)) for i in history.list_runs("old")["id"]]
    assert varied_setting(infos) == axis_key


def test_a_sweep_running_elsewhere_shows_its_whole_grid(tmp_path):
    """Saved when it starts: another session sees every cell, the untrained ones pending."""
    from seq2seq_core.sweep import results_so_far
    history = History(tmp_path / "h.sqlite3")
    cfg = tiny_config()
    sweep = Sweep(cfg, history)
    sweep._save()  # what the sweep's thread does before its first cell
    run = history.record_run("reverse", cfg.cells()[0].settings, cfg.cells()[0].model_config,
                             TINY, sweep_id=sweep.sweep_id, params=99)
    history.set_status(run, "finished", exact_match=1.0)
    frame = results_so_far(history, load_saved(history, sweep.result_id)[0], sweep.sweep_id)
    assert list(zip(frame.complexity, frame.units, frame.status)) == [
        (2, 4, "finished"), (2, 8, "pending"), (3, 4, "pending"), (3, 8, "pending")]
    assert frame.exact_match[0] == 1.0 and frame.exact_match[1:].isna().all()
    assert frame.attrs["name"] == cfg.name


def test_a_save_that_failed_once_leaves_no_warning_when_the_next_succeeds(tmp_path):
    history = History(tmp_path / "h.sqlite3")
    sweep = Sweep(tiny_config(), history)
    real, calls = history.save_results, []

    def locked_once(*args):
        calls.append(args)
        if len(calls) == 1:
            raise RuntimeError("database is locked")
        return real(*args)
    history.save_results = locked_once
    sweep._save()
    assert "could not be saved (database is locked)" in sweep.save_error
    sweep._save()
    assert sweep.save_error == "" and sweep.result_id is not None
    assert len(saved_sweeps(history)) == 1
