"""Home page: renders, and every preset fills the Train page with valid settings."""
from __future__ import annotations

import pytest

import seq2seq_core as sc
from seq2seq_core.presets import FAST_DEMOS, PRESETS, SEED_EXAMPLES, preset_named


def test_presets_match_the_seed_examples():
    add = preset_named("Seed 003: addition (repeat, LSTM 75/50)")
    assert (add.task, add.model.arch, add.model.cell) == ("addition", "repeat", "lstm")
    assert (add.model.units, add.model.decoder_units) == (75, 50)
    assert (add.train.max_samples, add.train.batch_size, add.train.learning_rate) == (75_000, 32, 0.001)
    rev = preset_named("Seed 001: reverse (teacher forcing, 128)")
    assert (rev.model.arch, rev.model.units, rev.train.max_samples, rev.train.batch_size) == \
        ("teacher", 128, 100_000, 32)
    keras = preset_named("Keras example: character-level translation")
    assert (keras.model.arch, keras.model.units, keras.train.batch_size) == ("teacher", 256, 64)
    assert keras.settings.corpus == "phrasebook" and keras.settings.holdout == 0.0
    assert {p.task for p in FAST_DEMOS} == {"reverse", "addition", "translation", "dates"}
    assert all(p.fast for p in FAST_DEMOS) and not any(p.fast for p in SEED_EXAMPLES)


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.name)
def test_every_preset_builds_a_task(preset):
    task = sc.make_task(preset.task, preset.settings)
    assert task.source_len > 0 and task.target_len > 0


def test_home_renders(app_test):
    at = app_test()
    at.run()
    assert not at.exception
    assert at.title[0].value == "seq2seq-lab"
    assert len(at.button) == len(PRESETS)


@pytest.mark.parametrize("index", range(len(PRESETS)))
def test_preset_fills_the_train_page(app_test, index):
    preset = PRESETS[index]
    at = app_test()
    at.run()
    key = f"fast_{index}" if index < len(FAST_DEMOS) else f"seed_{index - len(FAST_DEMOS)}"
    at.button(key=key).click().run()
    assert not at.exception
    assert at.title[0].value == "Train"  # st.switch_page went to the Train page
    assert not at.error, [e.value for e in at.error]
    state = at.session_state
    assert state["preset"] == preset.name and state["w_task"] == preset.task
    assert state["w_units"] == preset.model.units and state["w_arch"] == preset.model.arch
    assert state["w_batch_size"] == preset.train.batch_size
    assert state["w_learning_rate"] == preset.train.learning_rate
    assert state["w_max_samples"] == preset.train.max_samples
    assert any("parameters" in e.label for e in at.expander)  # model summary shown
    assert at.button(key="btn_start").disabled is False


def test_reruns_leave_keras_alone_so_background_builds_are_safe(app_test, monkeypatch):
    """Streamlit clears Keras's session after every run, which resets layer-name counters in
    all threads and breaks a model a sweep or study thread is building; app.py turns it off."""
    import keras
    from keras.src.backend.common import global_state

    from streamlit.runtime.scriptrunner import script_runner

    def streamlits_own_cleanup() -> None:  # what Streamlit 1.67 does after every run
        keras.backend.clear_session()

    monkeypatch.setattr(script_runner, "_clean_problem_modules", streamlits_own_cleanup)
    keras.layers.Dense(1)  # make sure Keras has global state to lose
    before = global_state.GLOBAL_STATE_TRACKER
    at = app_test()
    at.run()
    at.run()
    assert not at.exception
    assert global_state.GLOBAL_STATE_TRACKER is before
