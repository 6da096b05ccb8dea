"""Network construction: the seeds' parameter counts and every architecture option."""
import numpy as np
import pytest

import seq2seq_core as sc
from seq2seq_core.decoding import Decoder


def test_seed_003_repeat_model_has_52212_parameters():
    model = sc.Seq2Seq.build(sc.make_task("addition"),
                             sc.ModelConfig(arch="repeat", units=75, decoder_units=50))
    assert model.count_params() == 52_212
    rows = {r["layer"]: r["parameters"] for r in model.summary()}
    assert rows["encoder_1"] == 26_400 and rows["decoder_1"] == 25_200 and rows["output"] == 612


def test_seed_001_teacher_model_parameters():
    model = sc.Seq2Seq.build(sc.make_task("reverse"), sc.ModelConfig(units=128))
    assert model.count_params() == 2 * 4 * (128 * (51 + 128) + 128) + 128 * 51 + 51


@pytest.mark.parametrize("arch", ["teacher", "repeat", "attention"])
@pytest.mark.parametrize("options", [
    {}, {"cell": "gru"}, {"layers": 3}, {"bidirectional": True}, {"embedding": 8},
    {"reverse_source": True, "dropout": 0.2}, {"cell": "gru", "layers": 2, "bidirectional": True},
])
def test_every_option_builds_and_decodes(arch, options):
    task = sc.make_task("dates")
    model = sc.Seq2Seq.build(task, sc.ModelConfig(arch=arch, units=8, **options))
    pairs = task.sample(np.random.default_rng(0), 4)
    probs = np.asarray(model.train_model(model.model_inputs(pairs.source, pairs.target)))
    assert probs.shape == (4, task.target_len, task.target_vocab.size)
    assert np.allclose(probs.sum(-1), 1, atol=1e-4)
    assert Decoder(model).predict_ids(pairs.source).shape == (4, task.target_len)


def test_reversed_source_keeps_padding_on_the_left():
    task = sc.make_task("addition")
    model = sc.Seq2Seq.build(task, sc.ModelConfig(reverse_source=True, units=4))
    ids = task.encode_inputs(["3+10+7"])
    assert task.source_text(model.prepare_source(ids)[0]) == "7+01+3"


def test_teacher_forcing_input_is_target_shifted_after_start():
    task = sc.make_task("reverse")
    model = sc.Seq2Seq.build(task, sc.ModelConfig(units=4))
    target = np.array([[40, 36, 20]])
    assert model.teacher_inputs(target).tolist() == [[0, 40, 36]]


def test_same_seed_same_weights():
    task = sc.make_task("reverse")
    a = sc.Seq2Seq.build(task, sc.ModelConfig(units=8), seed=3).train_model.get_weights()
    b = sc.Seq2Seq.build(task, sc.ModelConfig(units=8), seed=3).train_model.get_weights()
    assert all(np.array_equal(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize("values,message", [
    ({"arch": "teacher", "units": 16, "decoder_units": 32}, "repeat architecture"),
    ({"layers": 4}, "between 1 and 3"),
    ({"units": 100_000}, "between 1 and 1024"),
    ({"cell": "rnn"}, "one of lstm, gru"),
])
def test_bad_model_settings(values, message):
    with pytest.raises(sc.InvalidInput, match=message):
        sc.ModelConfig(**values)


@pytest.mark.parametrize("kind", ["bahdanau", "luong", "dot"])
def test_attention_weights_are_output_by_input_steps_and_sum_to_one(kind):
    task = sc.make_task("dates")
    model = sc.Seq2Seq.build(task, sc.ModelConfig(arch="attention", attention=kind, units=8))
    trace = Decoder(model).trace("3 March 2021")
    assert trace.attention.shape == (len(trace.steps), task.source_len)
    assert np.allclose(trace.attention.sum(axis=1), 1.0, atol=1e-5)
    padding = np.array([tok == "⟨pad⟩" for tok in trace.input_tokens])
    assert padding.any() and np.allclose(trace.attention[:, padding], 0.0)
    assert np.allclose(trace.steps[0].attention, trace.attention[0])
