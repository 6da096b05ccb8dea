"""Translation through the app: an uploaded corpus gets the settings measured for real
corpora proposed, trains with chrF and BLEU on its curves, and Inspect scores an uploaded
test file with the same numbers `score_pairs` gives."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

import seq2seq_core as sc
from seq2seq_core.decoding import Decoder
from seq2seq_core.evaluation import score_pairs
from seq2seq_core.presets import CORPUS_PRESET
from test_app_train import errors, open_train, upload

PAIRS = sc.phrasebook().pairs[:120]
TSV = "".join(f"{a}\t{b}\n" for a, b in PAIRS).encode()
SMALL = {"w_task": "translation", "w_units": 8, "w_batch_size": 16, "w_max_samples": 320,
         "w_chunk_batches": 5, "w_translation_max_pairs": 120, "w_translation_holdout": 0.25}


def test_an_upload_proposes_the_measured_settings(app_test):
    at = upload(open_train(app_test, **SMALL), TSV)
    assert not at.error, errors(at)
    assert any("Settings measured for real corpora" in i.value for i in at.info)
    at.button(key="btn_corpus_preset").click().run()
    assert not at.exception
    model, train = CORPUS_PRESET.model, CORPUS_PRESET.train
    assert at.session_state["w_arch"] == model.arch == "attention"
    assert at.session_state["w_units"] == model.units
    assert at.session_state["w_embedding"] == model.embedding
    assert at.session_state["w_batch_size"] == train.batch_size
    assert at.session_state["w_schedule"] == train.schedule
    assert at.session_state["w_translation_source"] == "upload"  # the pairs stay the upload
    assert not any("Settings measured" in i.value for i in at.info)
    assert any("Using the settings measured for real corpora" in c.value for c in at.caption)


def test_training_an_upload_draws_chrf_and_bleu(app_test):
    at = upload(open_train(app_test, **SMALL), TSV)
    at.button(key="btn_start").click().run()
    trainer = at.session_state["trainer"]
    trainer.join(120)
    assert trainer.status == "finished", (trainer.status, trainer.error)
    at.run()
    assert not at.exception
    history = trainer.history
    assert len(history) >= 3 and all(r.chrf is not None and r.bleu is not None for r in history)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["chrF"] == f"{history[-1].chrf:.1f}"
    chart = at.get("vega_lite_chart")[1].proto
    assert "held-out chrF" in chart.spec and "held-out BLEU" in chart.spec
    bold = [pa.ipc.open_stream(d.data.data).read_pandas() for d in chart.datasets
            if d.name == "bold"][0]
    drawn = bold.loc[bold["series"].str.startswith("held-out chrF"), "value"]
    np.testing.assert_allclose(drawn, [r.chrf / 100 for r in history], rtol=1e-9)


@pytest.fixture(scope="module")
def small_model():
    task = sc.make_task("translation", max_pairs=120, holdout=0.25)
    return sc.Seq2Seq.build(task, sc.ModelConfig(units=8), seed=1)


def test_inspect_scores_an_uploaded_test_file(app_test, small_model):
    at = app_test()
    at.run()
    at.session_state["model"] = small_model
    at.switch_page("app_pages/inspect.py").run()
    assert not at.exception
    at.button(key="inspect_evaluate").click().run()
    assert "chrF" in {m.label for m in at.metric}
    test_pairs = PAIRS[:30] + (("Où est le chat?", "x"),)  # 'ù' is no English character
    data = "".join(f"{a}\t{b}\n" for a, b in test_pairs).encode()
    uploader = [u for u in at.file_uploader if "Test pairs" in u.label][0]
    uploader.set_value(("test.tsv", data, "text/tab-separated-values"))
    at.run()
    at.button(key="inspect_test_go").click().run()
    assert not at.exception
    expected = score_pairs(small_model, sc.parse_pairs(data, name="test.tsv"))
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["chrF"] == f"{expected.scores.chrf:.1f}"
    assert metrics["BLEU"] == f"{expected.scores.bleu:.1f}"
    assert metrics["Pairs"] == "31"
    assert any("1 of the sentences cannot be read" in w.value for w in at.warning)
    rows = [f for f in at.dataframe if "reference" in f.value.columns][0].value
    assert list(rows["output"]) == list(expected.outputs)
    # beam search: its own outputs, the beam's width in the result
    at.radio(key="inspect_test_how").set_value("beam").run()
    at.button(key="inspect_test_go").click().run()
    beam = score_pairs(small_model, sc.parse_pairs(data, name="test.tsv"), 3)
    rows = [f for f in at.dataframe if "reference" in f.value.columns][0].value
    assert list(rows["output"]) == list(beam.outputs)
    assert {m.label: m.value for m in at.metric}["chrF"] == f"{beam.scores.chrf:.1f}"


def test_a_malformed_test_file_gets_its_message(app_test, small_model):
    at = app_test()
    at.run()
    at.session_state["model"] = small_model
    at.switch_page("app_pages/inspect.py").run()
    uploader = [u for u in at.file_uploader if "Test pairs" in u.label][0]
    uploader.set_value(("test.tsv", b"no tab\n" * 20, "text/tab-separated-values"))
    at.run()
    assert not at.exception
    assert any("usable pairs" in e.value for e in at.error)


@pytest.mark.parametrize("level", ["char", "word", "subword"])
def test_each_token_level_trains_from_the_form(app_test, level):
    at = upload(open_train(app_test, **SMALL, w_translation_level=level,
                           w_translation_subwords=300), TSV)
    assert not at.error, errors(at)
    assert at.radio(key="w_translation_level").value == level
    assert at.number_input(key="w_translation_subwords").disabled == (level != "subword")
    at.button(key="btn_start").click().run()
    trainer = at.session_state["trainer"]
    trainer.join(120)
    assert trainer.status == "finished", (trainer.status, trainer.error)
    assert trainer.task.settings.level == level
    at.run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["chrF"] == f"{trainer.history[-1].chrf:.1f}"
    assert "held-out chrF" in at.get("vega_lite_chart")[1].proto.spec


def test_inspect_shows_the_steps_of_a_word_level_model(app_test):
    task = sc.make_task("translation", max_pairs=120, holdout=0.25, level="word")
    model = sc.Seq2Seq.build(task, sc.ModelConfig(arch="attention", units=8), seed=1)
    at = app_test()
    at.run()
    at.session_state["model"] = model
    at.switch_page("app_pages/inspect.py").run()
    assert not at.exception, at.exception
    text = task.example_inputs()[0]
    trace = Decoder(model).trace(text)
    shown = " ".join(str(f.value.to_dict()) for f in at.dataframe)
    first = trace.steps[0]
    assert first.token.startswith("▁") or first.token in task.target_vocab.index
    assert first.token in shown  # the step table names the word pieces
    assert not at.error
