"""`python -m seq2seq_core gates`: every gate of every layer for one input, as JSON or a table,
with --force, and the same errors as `predict`."""
import io
import json
from contextlib import redirect_stderr, redirect_stdout

import numpy as np
import pytest

import seq2seq_core as sc
from seq2seq_core import cli, gates
from seq2seq_core.decoding import Decoder
from seq2seq_core.whatif import NO_FEEDBACK


def _trained(task, config, seconds):
    model = sc.Seq2Seq.build(task, config, seed=1)
    sc.Trainer(model, sc.TrainConfig(batch_size=128, learning_rate=0.01, target_accuracy=0.97,
                                     max_seconds=seconds, eval_samples=300)).run()
    return model


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """name -> (model, saved path): a trained LSTM teacher (4 integers in 1..9, first 2
    reversed), a 2-layer bidirectional GRU with attention trained a few seconds, and an
    untrained repeat model (addition)."""
    folder = tmp_path_factory.mktemp("gates")
    built = {
        "lstm": _trained(sc.make_task("reverse", n_in=4, n_out=2, cardinality=9),
                         sc.ModelConfig(units=32), 20),
        "gru": _trained(sc.make_task("reverse", n_in=5, n_out=3, cardinality=12),
                        sc.ModelConfig(arch="attention", cell="gru", units=16,
                                       bidirectional=True, layers=2, embedding=8), 3),
        "repeat": sc.Seq2Seq.build(sc.make_task("addition"),
                                   sc.ModelConfig(arch="repeat", units=12, decoder_units=10)),
    }
    return {k: (m, str(sc.save(m, folder / f"{k}.s2s"))) for k, m in built.items()}


def _run(*argv):
    """cli.main's exit code, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(list(argv))
    return code, out.getvalue(), err.getvalue()


def _json(path, *argv):
    code, out, err = _run("gates", "--model", path, "--json", *argv)
    assert code == 0, err
    return json.loads(out.strip().splitlines()[-1], parse_constant=_not_json)


def _not_json(name):
    raise AssertionError(f"{name} is not a JSON number")


TEXTS = {"lstm": "1 2 3 4", "gru": "3 12 7 1 9", "repeat": "3+10+7"}


@pytest.fixture(scope="module")
def plain(models):
    """name -> the JSON of `gates --json` on TEXTS[name], run once."""
    return {name: _json(path, TEXTS[name]) for name, (_, path) in models.items()}


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_json_matches_the_model(models, plain, name):
    model = models[name][0]
    text, cfg = TEXTS[name], model.config
    out = plain[name]
    task = model.task
    assert out["input"] == text
    assert out["source_ids"] == model.prepare_source(task.encode_inputs([text]))[0].tolist()
    assert out["output"] == Decoder(model).predict([text])[0]
    assert "forced" not in out
    names = list(gates.GATE_NAMES[cfg.cell])
    directions = ["forward", "backward"] if cfg.bidirectional else ["forward"]
    assert [(x["layer"], x["direction"]) for x in out["encoder"]] == \
        [(k, d) for k in range(cfg.layers) for d in directions]
    assert [x["layer"] for x in out["decoder"]] == list(range(cfg.layers))
    source = [task.source_vocab.label(i) for i in out["source_ids"]]
    for layer in out["encoder"]:
        order = list(range(len(source)))[::1 if layer["direction"] == "forward" else -1]
        assert layer["positions"] == order and layer["tokens"] == [source[p] for p in order]
    sides = [(x, cfg.units) for x in out["encoder"]] + [(x, cfg.dec_units) for x in out["decoder"]]
    for layer, units in sides:
        assert layer["cell"] == cfg.cell and len(layer["steps"]) == len(layer["positions"])
        for step in layer["steps"]:
            assert list(step) == names
            assert all(len(v) == units and all(isinstance(x, float) for x in v)
                       for v in step.values())


@pytest.mark.parametrize("name", ["lstm", "gru"])
def test_decoder_h_is_the_traced_state(models, plain, name):
    text = TEXTS[name]
    trace = Decoder(models[name][0]).trace(text)
    top = plain[name]["decoder"][-1]
    assert top["tokens"] == [s.token for s in trace.steps]
    assert len(top["steps"]) == len(trace.steps)
    for step, traced in zip(top["steps"], trace.steps):
        np.testing.assert_allclose(step["h"], traced.state, atol=1e-5)


def test_2_layer_bidirectional_gru_shape(plain):
    out = plain["gru"]
    assert [x["direction"] for x in out["encoder"]] == ["forward", "backward"] * 2
    assert [len(x["steps"][0]["h"]) for x in out["encoder"]] == [16] * 4
    assert [len(x["steps"][0]["z"]) for x in out["decoder"]] == [32, 32]
    assert list(out["decoder"][0]["steps"][0]) == ["z", "r", "candidate", "h"]
    assert len(out["decoder"]) == 2


@pytest.mark.parametrize("name,force", [("lstm", "1=9"), ("gru", "2=5")])
def test_force_writes_the_token_as_predict_does(models, plain, name, force):
    model, path = models[name]
    text = TEXTS[name]
    code, out, err = _run("predict", "--model", path, "--force", force, "--json", text)
    assert code == 0, err
    predicted = json.loads(out.strip().splitlines()[-1])
    forced = _json(path, "--force", force, text)
    step, token = force.split("=")
    assert forced["forced"] == {"step": int(step), "token": token} == predicted["forced"]
    assert forced["output"] == predicted["output"] != Decoder(model).predict([text])[0]
    assert forced["output"].split()[int(step) - 1] == token
    top = forced["decoder"][-1]
    assert top["tokens"] == [s["token"] for s in predicted["steps"]]
    assert forced["encoder"] == plain[name]["encoder"]


BAD = [
    ("lstm", [], "1 2 x 4", "Not an integer between 1 and 9: 'x'"),
    ("lstm", [], "", "The input is empty."),
    ("lstm", [], "1 2 3 4 5 6 7", "The input has 7 integers; this task takes exactly 4"),
    ("lstm", ["--force", "3=1"], "1 2 3 4", "Step 3 is not a step of this output"),
    ("lstm", ["--force", "x=1"], "1 2 3 4", "--force expects STEP=TOKEN"),
    ("lstm", ["--force", "1=77"], "1 2 3 4", "'77' is not a token this model writes."),
    ("gru", [], "1 2 3", "The input has 3 integers; this task takes exactly 5"),
    ("repeat", [], "3+10 7", "There is a space inside a number"),
    ("repeat", ["--force", "1=3"], "3+10+7", NO_FEEDBACK),
]


@pytest.mark.parametrize("name,extra,text,fragment", BAD)
def test_bad_input_fails_as_predict_does(models, name, extra, text, fragment):
    path = models[name][1]
    predicted = _run("predict", "--model", path, *extra, text)
    code, out, err = _run("gates", "--model", path, "--json", *extra, text)
    assert (code, out, err) == predicted
    assert code == 2 and err.startswith("error: ") and fragment.lower() in err.lower()
    assert len(err.strip().splitlines()) == 1


def test_table_has_a_header_per_layer(models):
    model, path = models["gru"]
    text = TEXTS["gru"]
    code, out, err = _run("gates", "--model", path, text)
    assert code == 0, err
    lines = out.splitlines()
    trace = gates.cell_trace(model, text)
    assert lines[:2] == [f"input: {text}", f"output: {trace.output_text}"]
    headers = [line for line in lines if "layer" in line]
    assert headers == [f"encoder layer {k} {d} (gru, 16 units)"
                       for k in (1, 2) for d in ("forward", "backward")] + \
        ["decoder layer 1 (gru, 32 units)", "decoder layer 2 (gru, 32 units)"]
    top = trace.decoder[-1]
    rows = lines[lines.index(headers[-1]) + 1:]
    assert len(rows) == top.steps
    h = top.values["h"][0]
    assert rows[0].split()[:2] == ["1", repr(top.tokens[0])]
    assert f"h {h.mean():.2f} [{h.min():.2f}..{h.max():.2f}]" in rows[0]
    z = trace.encoder[1].values["z"][0]
    first = lines[lines.index(headers[1]) + 1]
    assert f"z {z.mean():.2f} [{z.min():.2f}..{z.max():.2f}]" in first
    assert first.split()[1] == repr(trace.encoder[1].tokens[0]) == "'9'"


def test_table_says_what_was_forced(models):
    path = models["lstm"][1]
    predicted = _run("predict", "--model", path, "--force", "1=9", "1 2 3 4")[1]
    code, out, err = _run("gates", "--model", path, "--force", "1=9", "1 2 3 4")
    assert code == 0, err
    assert out.splitlines()[:3] == ["input: 1 2 3 4", f"output: {predicted.strip()}",
                                    "forced: '9' at step 1"]
    assert predicted.split()[0] == "9"


def test_a_diverged_model_is_an_error_not_invalid_json(tmp_path):
    task = sc.make_task("reverse", n_in=4, n_out=2, cardinality=9)
    model = sc.Seq2Seq.build(task, sc.ModelConfig(units=8), seed=1)
    net = model.train_model
    net.set_weights([np.full_like(w, np.nan) for w in net.get_weights()])
    path = str(sc.save(model, tmp_path / "nan.s2s"))
    code, out, err = _run("gates", "--model", path, "--json", "1 2 3 4")
    assert code == 2 and out == ""
    assert err == ("error: The model's encoder 1 computes values that are not finite numbers "
                   "(NaN or infinite): its training diverged.\n")
