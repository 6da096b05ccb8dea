"""Run history in SQLite: create/list/rename/delete, restarts, concurrent writers, CSV."""
import io
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest

import seq2seq_core as sc
from seq2seq_core.history import RUN_COLUMNS, History, data_dir, default_path
from seq2seq_core.training import ChunkRecord

ROOT = Path(__file__).resolve().parents[1]
DATES = sc.settings_for("dates", formats=("dd/mm/yyyy", "MMM d, yy"), first_year=1990)
MODEL = sc.ModelConfig(arch="repeat", cell="gru", units=75, decoder_units=50)
TRAIN = sc.TrainConfig(batch_size=64, target_accuracy=0.9)


def chunk(i, exact=0.5):
    return ChunkRecord(i, 1000 * i, 2.0 * i, (1.0, 0.9), (0.5, 0.6), 0.95, 0.55, 0.9, 0.6,
                       exact, 500.0)


@pytest.fixture
def history(tmp_path):
    return History(tmp_path / "h.sqlite3")


def test_record_list_get_round_trip(history):
    run_id = history.record_run("dates", DATES, MODEL, TRAIN, [chunk(1, 0.2), chunk(2, 0.7)],
                                reason="trained on 2,000 samples", params=1234)
    runs = history.list_runs()
    assert list(runs.columns) == RUN_COLUMNS and len(runs) == 1
    row = runs.iloc[0]
    assert (row.id, row.task, row.arch, row.cell, row.units, row.params) == \
        (run_id, "dates", "repeat", "gru", 75, 1234)
    assert row.exact_match == 0.7 and row.token_accuracy == 0.6 and row.chunks == 2
    assert row.samples_seen == 2000 and row.samples_per_second == pytest.approx(500.0)
    assert row.status == "finished" and row["name"].startswith(f"#{run_id} dates")
    info = history.get(run_id)
    assert info.settings == DATES and isinstance(info.settings.formats, tuple)
    assert info.model_config == MODEL and info.train_config == TRAIN
    assert info.chunks == (chunk(1, 0.2), chunk(2, 0.7))


def test_live_run_is_visible_while_training(history):
    run_id = history.start_run("reverse", sc.settings_for("reverse"), sc.ModelConfig(),
                               sc.TrainConfig(), name="live one")
    history.add_chunk(run_id, chunk(1))
    row = history.list_runs().iloc[0]
    assert (row["name"], row.status, row.chunks) == ("live one", "running", 1)
    history.add_chunk(run_id, chunk(1, 0.9))  # re-adding a chunk replaces it
    history.finish_run(run_id, "stopped", "stopped by the user", exact_match=0.95)
    info = history.get(run_id)
    assert len(info.chunks) == 1 and info.chunks[0].exact_match == 0.9
    assert (info.status, info.reason, info.exact_match) == ("stopped", "stopped by the user", 0.95)
    with pytest.raises(sc.InvalidInput, match="ends as one of"):
        history.finish_run(run_id, "running")


def test_curves_rename_delete(history):
    a = history.record_run("reverse", sc.settings_for("reverse"), sc.ModelConfig(), TRAIN,
                           [chunk(1), chunk(2), chunk(3)])
    b = history.record_run("reverse", sc.settings_for("reverse"), sc.ModelConfig(units=8), TRAIN,
                           [chunk(1)])
    history.rename(a, "  big model ")
    curves = history.curves([a, b])
    assert len(curves) == 4 and set(curves.run_id) == {a, b}
    assert set(curves[curves.run_id == a]["name"]) == {"big model"}
    assert {"samples_seen", "train_loss", "val_loss", "token_accuracy", "exact_match"} <= set(curves)
    assert history.curves([]).empty and len(history.curves()) == 4
    with pytest.raises(sc.InvalidInput, match="cannot be empty"):
        history.rename(a, "   ")
    with pytest.raises(sc.InvalidInput, match="at most"):
        history.rename(a, "x" * 101)
    with pytest.raises(sc.InvalidInput, match="no run 999"):
        history.rename(999, "ghost")
    assert history.delete(a) and not history.delete(a)
    assert list(history.list_runs().id) == [b] and len(history.curves()) == 1
    with pytest.raises(sc.InvalidInput, match=f"no run {a}"):
        history.get(a)


def test_survives_restart(tmp_path):
    path = tmp_path / "sub" / "h.sqlite3"
    run_id = History(path).record_run("addition", sc.settings_for("addition", operators="+-"),
                                      MODEL, TRAIN, [chunk(1)], name="kept")
    again = History(path)
    assert list(again.list_runs()["name"]) == ["kept"]
    assert again.get(run_id).settings.operators == "+-"


def test_default_path_uses_env(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQ2SEQ_LAB_DATA", str(tmp_path / "lab"))
    assert data_dir() == tmp_path / "lab" and data_dir().is_dir()
    assert History().path == default_path() == tmp_path / "lab" / "history.sqlite3"


def test_concurrent_threads(history):
    errors = []

    def writer(tag):
        try:
            for i in range(15):
                run_id = history.start_run("reverse", sc.settings_for("reverse"), sc.ModelConfig(),
                                           TRAIN, name=f"{tag}{i}")
                history.add_chunk(run_id, chunk(1))
                history.finish_run(run_id)
        except Exception as err:  # noqa: BLE001
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(t,)) for t in "abc"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    runs = history.list_runs()
    assert len(runs) == 45 and runs.id.is_unique and set(runs.status) == {"finished"}
    assert len(history.curves()) == 45


# Loads seq2seq_core.history without the package's __init__ (which imports Keras), so two
# extra processes start in well under a second.
CHILD = """
import sys, types
pkg = types.ModuleType("seq2seq_core"); pkg.__path__ = [sys.argv[1]]
sys.modules["seq2seq_core"] = pkg
from seq2seq_core.history import History
h = History(sys.argv[2])
for i in range(20):
    rid = h.start_run("reverse", {"n_in": 6}, {"arch": "teacher", "units": 4}, {}, name=sys.argv[3])
    h.add_chunk(rid, dict(chunk=1, samples_seen=10, train_seconds=1.0, batch_losses=[1.0],
                          batch_accuracies=[0.5], train_loss=1.0, token_accuracy=0.5, val_loss=1.0,
                          val_token_accuracy=0.5, exact_match=0.1, samples_per_second=10.0))
    h.finish_run(rid)
"""


def test_concurrent_processes(history):
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, str(ROOT / "seq2seq_core"),
                               str(history.path), f"proc{k}"], stderr=subprocess.PIPE, text=True)
             for k in range(2)]
    for i in range(10):  # this process writes too
        history.record_run("reverse", sc.settings_for("reverse"), sc.ModelConfig(), TRAIN, [chunk(1)])
    for p in procs:
        assert p.wait(timeout=60) == 0, p.stderr.read()
    runs = history.list_runs()
    assert len(runs) == 50 and runs.id.is_unique
    assert (runs["name"] == "proc0").sum() == 20 and (runs["name"] == "proc1").sum() == 20


def test_csv(history):
    history.record_run("dates", DATES, MODEL, TRAIN, [chunk(1)], name='with, "quotes"')
    frame = pd.read_csv(io.StringIO(history.to_csv()))
    assert list(frame["name"]) == ['with, "quotes"']
    assert (set(RUN_COLUMNS) - {"owner"}) | {"settings", "model_config", "train_config"} \
        <= set(frame.columns)
    assert "owner" not in frame.columns  # who owns which run stays on the server
    assert "MMM d, yy" in frame["settings"][0]
    assert pd.read_csv(io.StringIO(History(history.path.with_name("empty.db")).to_csv())).empty


def test_recorder_tracks_a_real_trainer(history):
    task = sc.make_task("reverse", n_in=3, n_out=2, cardinality=5)
    model = sc.Seq2Seq.build(task, sc.ModelConfig(units=8))
    trainer = sc.Trainer(model, sc.TrainConfig(batch_size=32, max_samples=192, chunk_batches=3,
                                               eval_samples=20))
    rec = history.track(trainer, name="tracked")
    trainer.run(on_chunk=rec)
    rec.finish()
    info = history.get(rec.run_id)
    assert info.status == "finished" and info.reason == trainer.reason
    assert len(info.chunks) == 2 and info.samples_seen == 192
    assert info.params == model.count_params()
    assert info.chunks == tuple(trainer.snapshot().history)


def test_background_training_is_recorded_to_the_end(tmp_path):
    import seq2seq_core as sc
    from seq2seq_core.history import History
    history = History(tmp_path / "bg.sqlite3")
    task = sc.make_task("reverse", n_in=3, n_out=2, cardinality=5)
    trainer = sc.Trainer(sc.Seq2Seq.build(task, sc.ModelConfig(units=8)),
                         sc.TrainConfig(max_samples=640, chunk_batches=5, batch_size=32, eval_samples=50))
    recorder = history.track(trainer, name="background")
    trainer.start(on_chunk=recorder, on_end=recorder.finish)
    trainer.join(60)
    runs = history.list_runs()
    assert runs["status"].tolist() == ["finished"] and runs["chunks"].tolist() == [4]
    assert runs["samples_seen"].tolist() == [640]
