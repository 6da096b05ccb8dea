"""Each task trained to a stated accuracy; traces, batched decoding and save/load on the results."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import seq2seq_core as sc
from seq2seq_core.decoding import Decoder
from seq2seq_core.shelf import Shelf

ROOT = Path(__file__).resolve().parents[1]

FAST = sc.TrainConfig(batch_size=256, learning_rate=0.01, max_seconds=150, eval_samples=300)

SETUPS = {
    "reverse": ({}, sc.ModelConfig(units=128), 0.97),
    "addition": ({}, sc.ModelConfig(arch="repeat", units=75, decoder_units=50), 0.95),
    "dates": ({"formats": ("dd/mm/yyyy", "d MMMM yyyy"), "first_year": 1990, "last_year": 2029},
              sc.ModelConfig(units=64), 0.90),
    "translation": ({"max_pairs": 40, "holdout": 0.0}, sc.ModelConfig(units=64), 0.90),
}


def _train(name):
    settings, model_cfg, target = SETUPS[name]
    task = sc.make_task(name, **settings)
    model = sc.Seq2Seq.build(task, model_cfg, seed=1)
    batch = 32 if name == "translation" else FAST.batch_size
    cfg = sc.TrainConfig(**{**FAST.__dict__, "batch_size": batch, "target_accuracy": target,
                            "chunk_batches": 10 if name == "translation" else 25})
    trainer = sc.Trainer(model, cfg)
    trainer.run()
    return model, trainer, target


@pytest.fixture(scope="module", params=sorted(SETUPS))
def trained(request):
    return request.param, *_train(request.param)


def test_reaches_stated_accuracy(trained):
    name, model, trainer, target = trained
    assert trainer.status == "finished", trainer.reason + trainer.error
    result = sc.evaluate(model, 1000, seed=99)
    assert result.exact_match >= target - 0.05, (name, result.exact_match)
    history = trainer.snapshot().history
    assert history[-1].exact_match >= target
    assert history[0].train_loss > history[-1].train_loss


def test_trace_matches_batched_prediction(trained):
    name, model, _, _ = trained
    task = model.task
    pairs = task.held_out(20, seed=5)
    texts = [task.source_text(row) for row in pairs.source]
    batched = Decoder(model).predict(texts)
    for text, out in zip(texts, batched):
        trace = Decoder(model).trace(text, k=3)
        assert trace.output_text == out
        assert len(trace.steps[0].top) == 3
        assert trace.steps[0].top[0][0] == trace.steps[0].token
        assert trace.encoder_hidden.shape[1] == task.source_len
        assert trace.steps[-1].output_so_far.strip() == out


def test_trace_on_seed_examples():
    model, _, _ = _train("reverse")
    trace = Decoder(model).trace("20 36 40 10 34 28")
    assert trace.output_text == "40 36 20" == trace.expected
    assert [s.token for s in trace.steps] == ["40", "36", "20"]
    assert trace.encoder_cell is not None and trace.final_state["c"].shape == (128,)
    assert all(0.5 < s.probability <= 1.0 for s in trace.steps)


def test_save_load_round_trip(trained, tmp_path):
    name, model, _, _ = trained
    path = sc.save(model, tmp_path / f"{name}.s2s")
    again = sc.load(path)
    pairs = model.task.held_out(50, seed=3)
    assert np.array_equal(Decoder(model).predict_ids(pairs.source),
                          Decoder(again).predict_ids(pairs.source))
    assert again.task.describe() == model.task.describe()


def test_training_is_reproducible():
    def losses():
        task = sc.make_task("reverse", n_in=4, n_out=2, cardinality=10)
        model = sc.Seq2Seq.build(task, sc.ModelConfig(units=16), seed=4)
        trainer = sc.Trainer(model, sc.TrainConfig(seed=4, chunk_batches=5, batch_size=64))
        return [trainer.run_chunk().batch_losses for _ in range(2)]
    assert losses() == losses()


def test_background_thread_pause_resume_stop():
    task = sc.make_task("reverse", n_in=4, n_out=2, cardinality=10)
    trainer = sc.Trainer(sc.Seq2Seq.build(task, sc.ModelConfig(units=16)),
                         sc.TrainConfig(chunk_batches=2, batch_size=32, eval_samples=50))
    trainer.start()
    while not trainer.snapshot().history:
        trainer.join(0.05)
    trainer.pause()
    trainer.join(0.5)
    paused_at = trainer.snapshot().samples_seen
    trainer.join(0.5)
    assert trainer.status == "paused" and trainer.snapshot().samples_seen == paused_at
    trainer.resume()
    while trainer.snapshot().samples_seen == paused_at:
        trainer.join(0.05)
    trainer.stop()
    trainer.join(10)
    assert not trainer.is_alive and trainer.status == "stopped"
    assert trainer.reason == "stopped by the user"


@pytest.mark.parametrize("data,message", [
    (b"not a zip", "not a zip archive"),
    (b"PK\x05\x06" + b"\x00" * 18, "lacks lab.json"),
])
def test_corrupt_model_files(data, message):
    with pytest.raises(sc.ModelFileError, match=message):
        sc.from_bytes(data)


def test_model_file_with_wrong_description(tmp_path):
    import io
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("lab.json", json.dumps({"format": "seq2seq-lab/1", "task": "reverse",
                                            "settings": {"n_in": 999}, "model": {}}))
        zf.writestr("model.keras", b"junk")
    with pytest.raises(sc.ModelFileError, match="task settings are not valid"):
        sc.from_bytes(buf.getvalue())


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "seq2seq_core", *args], capture_output=True,
                          text=True, cwd=ROOT)


def test_cli_train_predict_evaluate(tmp_path):
    path = tmp_path / "rev.s2s"
    sets = ["n_in=4", "n_out=2", "cardinality=9", "units=32", "batch_size=128", "learning_rate=0.01"]
    out = _cli("train", "--task", "reverse", *[a for s in sets for a in ("--set", s)],
               "--until-accuracy", "0.97", "--max-seconds", "90", "--save", str(path),
               "--probe", "1 2 3 4", "--probe", "9 9 1 1", "--save-to-shelf", "Rev-4")
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert summary["exact_match"] >= 0.9 and summary["samples_seen"] > 0 and summary["train_seconds"] > 0
    chunks = len([line for line in out.stdout.splitlines() if line.startswith("samples ")])
    assert [p["input"] for p in summary["probes"]] == ["1 2 3 4", "9 9 1 1"]
    assert all(len(p["outputs"]) == chunks for p in summary["probes"])
    pred = _cli("predict", "--model", str(path), "1 2 3 4", "5 6 7 8", "9 9 1 1")
    assert pred.stdout.split("\n")[:2] == ["2 1", "6 5"]
    assert [p["outputs"][-1] for p in summary["probes"]] == pred.stdout.split("\n")[::2][:2]
    shelved = Shelf().entries()  # the data folder the test's environment names
    assert summary["shelf"] == "rev-4" and [e.name for e in shelved] == ["rev-4"]
    assert shelved[0].exact_match == summary["exact_match"]
    assert Decoder(Shelf().load("rev-4")).predict(["1 2 3 4"]) == ["2 1"]
    forced = _cli("predict", "--model", str(path), "--force", "1=9", "--json", "1 2 3 4")
    assert forced.returncode == 0, forced.stderr
    result = json.loads(forced.stdout.strip().splitlines()[-1])
    assert result["forced"] == {"step": 1, "token": "9"} and result["original"] == "2 1"
    assert [s["token"] for s in result["steps"]] == result["output"].split()
    assert result["output"].split()[0] == "9" and len(result["steps"]) == 2
    near = _cli("neighbours", "--model", str(path), "--k", "3", "--pool", "500", "--json",
                "1 2 3 4")
    assert near.returncode == 0, near.stderr
    rows = json.loads(near.stdout.strip().splitlines()[-1])
    assert len(rows) == 3 and [r["distance"] for r in rows] == sorted(r["distance"] for r in rows)
    for row in rows:
        first = row["input"].split()[:2]
        assert row["expected"] == " ".join(first[::-1])
    ev = _cli("evaluate", "--model", str(path), "--samples", "200")
    assert json.loads(ev.stdout.strip().splitlines()[-1])["exact_match"] >= 0.9
    bad = _cli("predict", "--model", str(path), "1 2 x 4")
    assert bad.returncode == 2 and "Not an integer between 1 and 9: 'x'" in bad.stderr
    unknown = _cli("train", "--task", "reverse", "--set", "colour=blue")
    assert unknown.returncode == 2 and "Unknown setting 'colour'" in unknown.stderr
