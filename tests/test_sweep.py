"""Model size x problem complexity sweeps: validation, a tiny grid end to end, stopping."""
import time

import pytest

import seq2seq_core as sc
from seq2seq_core.history import History
from seq2seq_core.sweep import (RESULT_COLUMNS, Sweep, SweepConfig, cell_model, cell_settings,
                                pivot, results_from_history)

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
    assert cell_settings("addition", sc.settings_for("addition"), "digits", 2).largest == 99
    rev = cell_settings("reverse", sc.settings_for("reverse", n_out=3), "n_in", 2)
    assert (rev.n_in, rev.n_out) == (2, 2)
    assert tiny_config(complexity_values=[2, 3]).complexity_values == (2, 3)


@pytest.mark.parametrize("overrides, message", [
    ({"task": "dates"}, "choose from: addition, reverse"),
    ({"complexity_key": "n_terms"}, "For reverse, vary one of: n_in, n_out, cardinality"),
    ({"units_values": (1, 2, 3, 4, 5, 6)}, "Give 1 to 5 units values; got 6"),
    ({"complexity_values": ()}, "Give 1 to 5 complexity values; got 0"),
    ({"units_values": (8, 8)}, "units values repeat"),
    ({"units_values": (0,)}, "between 1 and 1024; got 0"),
    ({"complexity_values": (2.5,)}, "whole numbers"),
    ({"complexity_key": "n_out", "complexity_values": (2, 9)},
     r"With n_out = 9: Output length \(9\) cannot exceed input length"),
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
    assert all(f"n_in={c}, units={u}" in n for c, u, n in
               zip(results.complexity, results.units, runs.sort_values("id")["name"]))
    again = results_from_history(History(history.path), sweep.sweep_id, "n_in")
    cols = ["complexity", "units", "params", "samples_seen", "run_id", "status"]
    assert again[cols].equals(results[cols])


def test_stop_halts_the_sweep(tmp_path):
    history = History(tmp_path / "h.sqlite3")
    slow = sc.TrainConfig(batch_size=32, max_samples=1_000_000, max_seconds=60, chunk_batches=2,
                          eval_samples=20)
    sweep = Sweep(tiny_config(train_config=slow), history)
    sweep.start()
    deadline = time.monotonic() + 120
    while sweep.progress().cell_progress == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sweep.progress().current is not None
    sweep.stop()
    sweep.join(timeout=60)
    assert not sweep.is_alive
    progress = sweep.progress()
    assert progress.status == "stopped" and progress.done < progress.total
    results = sweep.results()
    assert len(results) == 1 and results.status[0] == "stopped" and not results.reached[0]
    assert history.list_runs(sweep.sweep_id).status.tolist() == ["stopped"]


def test_stop_before_start():
    sweep = Sweep(tiny_config())
    sweep.stop()
    assert sweep.run() == "stopped" and sweep.results().empty
