"""Encoder states read step by step agree with Keras' own outputs; PCA is stable."""
import numpy as np
import pytest

import seq2seq_core as sc
from seq2seq_core.decoding import Decoder
from seq2seq_core.inspection import encoder_states, pca, project_final_states


@pytest.mark.parametrize("options", [{}, {"cell": "gru", "layers": 2}, {"bidirectional": True, "reverse_source": True}])
def test_step_states_match_the_keras_encoder(options):
    task = sc.make_task("dates")
    model = sc.Seq2Seq.build(task, sc.ModelConfig(units=8, **options))
    source = task.sample(np.random.default_rng(0), 5).source
    states = encoder_states(model, source)
    keras_out = [np.asarray(t) for t in model.nets.encoder(model.prepare_source(source))]
    assert np.allclose(states.hidden[-1], keras_out[0], atol=1e-5)
    assert np.allclose(states.final_hidden, keras_out[-model.nets.n_states], atol=1e-5)
    assert (states.cell is None) == (options.get("cell") == "gru")
    assert states.hidden.shape == (options.get("layers", 1), 5, task.source_len, model.config.state_units)


def test_pca_signs_are_stable_and_variance_ordered():
    rng = np.random.default_rng(0)
    data = rng.normal(size=(200, 6)) * np.array([5, 2, 1, 1, 1, 1])
    mean, comps, explained = pca(data)
    _, comps_neg, _ = pca(-data)
    assert np.allclose(np.abs(comps), np.abs(comps_neg))
    for c in (comps, comps_neg):
        assert (c[np.arange(2), np.abs(c).argmax(axis=1)] > 0).all()
    assert explained[0] > explained[1] > 0.1


def test_projection_places_an_input_in_the_same_plane():
    task = sc.make_task("addition")
    model = sc.Seq2Seq.build(task, sc.ModelConfig(units=16))
    proj = project_final_states(model, n=120, seed=1)
    assert proj.coords.shape == (120, 2) and proj.property_name == "value of the expression"
    trace = Decoder(model).trace(proj.texts[0])
    assert np.allclose(proj.place(trace.final_state["h"]), proj.coords[0], atol=1e-4)
    assert proj.values[0] == int(task.answer(proj.texts[0]))
