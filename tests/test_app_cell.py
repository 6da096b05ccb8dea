"""Inside the cell on the Inspect and Train pages, driven headless with AppTest: the numbers
the page shows are the ones `seq2seq_core.gates` computes from the network."""
from __future__ import annotations

import json
import time

import numpy as np
import pytest

import seq2seq_core as sc
from seq2seq_core import gates
from seq2seq_core.whatif import forced_decode

from seq2seq_core.charts import cell as cell_charts
from conftest import shown
from test_app_train import open_train
from ui import cell as gates_ui
from test_app_watch import run_to_end
from test_app_whatif import page, said

P = "inspect_cell_"


@pytest.fixture(scope="module")
def gru_model():
    """addition, 2 layers, bidirectional GRU with attention; untrained (exact numbers are
    what is checked here, not what it learned)."""
    task = sc.make_task("addition")
    return sc.Seq2Seq.build(task, sc.ModelConfig(arch="attention", cell="gru", units=12,
                                                 layers=2, bidirectional=True), seed=3)


def steps_slider(at):
    return [s for s in at.select_slider if s.label == "Steps"][0]


def equations(at) -> list[str]:
    return [t for t in said(at) if t.startswith("`c(t)`") or t.startswith("`h(t)`")]


def expected_equations(sm: gates.SlowMotion) -> list[str]:
    return [f"`{lhs}` = {formula} = {gates.number(value)}"
            for lhs, formula, value in sm.equations()]


def test_lstm_gates_slow_motion_back_next_play(attention_model):
    text = "1 2 3 4 5"
    at = page(attention_model, text)
    assert "Inside the cell" in [h.value for h in at.header]
    ct = gates.cell_trace(attention_model, text)
    assert [o for o in at.selectbox(key=P + "encoder").options] == ["Encoder layer 1"]
    assert at.selectbox(key=P + "decoder").value == "decoder 1"
    captions = " ".join(c.value for c in at.caption)
    enc = ct.find("encoder 1")
    assert gates.MEANING["f"].split(": ", 1)[1] in captions
    mean_f = enc.values["f"].mean(axis=1)
    assert f"mean forget gate {mean_f.max():.2f}" in captions
    # slow motion starts at step 1 of the last layer listed first (the encoder's top layer)
    assert at.selectbox(key=P + "slow_layer").value == "encoder 1"
    assert equations(at) == expected_equations(gates.slow_motion(enc, 0, 0))
    assert at.button(key=P + "back").disabled is True
    at.button(key=P + "next").click().run()
    at.button(key=P + "next").click().run()
    assert equations(at) == expected_equations(gates.slow_motion(enc, 2, 0))
    assert "Step 3 of 5" in [c.value for c in at.caption]
    at.button(key=P + "back").click().run()
    assert equations(at) == expected_equations(gates.slow_motion(enc, 1, 0))
    at.number_input(key=P + "slow_unit").set_value(7).run()
    assert equations(at) == expected_equations(gates.slow_motion(enc, 1, 6))
    at.selectbox(key=P + "slow_layer").set_value("decoder 1").run()
    dec = ct.find("decoder 1")
    assert "Step 2 of 3" in [c.value for c in at.caption]  # the same step, of 3 2 1
    assert equations(at) == expected_equations(gates.slow_motion(dec, 1, 6))
    # Play: the click itself stays on the step; each rerun a second later moves one on
    # (AppTest never fires run_every, so the test reruns by hand), and at the last it stops
    at.button(key=P + "back").click().run()
    at.button(key=P + "play").click().run()
    assert at.session_state[P + "playing"] is True
    assert at.button(key=P + "play").label == "Pause"
    assert "Step 1 of 3" in [c.value for c in at.caption]
    for now in ("Step 2 of 3", "Step 3 of 3"):
        time.sleep(gates_ui.PLAY_SECONDS)
        at.run()
        assert now in [c.value for c in at.caption]
    assert at.session_state[P + "playing"] is False
    assert at.button(key=P + "play").label == "Play"
    assert equations(at) == expected_equations(gates.slow_motion(dec, 2, 6))
    at.button(key=P + "play").click().run()  # at the end, Play starts again from step 1
    assert "Step 1 of 3" in [c.value for c in at.caption]
    at.button(key=P + "play").click().run()
    assert at.session_state[P + "playing"] is False
    assert not at.exception and not at.error
    assert at.get("image"), "no cell diagram drawn"


def test_gru_layers_per_direction_and_units_that_react(gru_model):
    text = "12+3+45"
    at = page(gru_model, text)
    assert not at.exception and not at.error
    ct = gates.cell_trace(gru_model, text)
    keys = [x.key for x in ct.layers]
    assert at.selectbox(key=P + "slow_layer").options == [x.title for x in ct.layers]
    assert "encoder 1 backward" in keys and "decoder 2" in keys
    at.selectbox(key=P + "slow_layer").set_value("encoder 2 backward").run()
    sm = gates.slow_motion(ct.find("encoder 2 backward"), 0, 0)
    assert equations(at) == expected_equations(sm)
    assert all("z·h(t−1)" in e for e in equations(at))
    # units that react: the default steps are the first '+' the chosen layer reads
    at.selectbox(key=P + "react_layer").set_value("encoder 1").run()
    layer = ct.find("encoder 1")
    plus = layer.tokens.index("+")
    assert steps_slider(at).value == (f"{plus + 1}. +", f"{plus + 1}. +")
    at.number_input(key=P + "react_k").set_value(4).run()
    found = gates.reacting_units(layer, "h", [plus], 4)
    table = [d.value for d in at.dataframe if "difference (in spreads)" in d.value.columns][0]
    assert list(table["unit"]) == [r.unit + 1 for r in found]
    assert list(table["at the chosen steps"]) == pytest.approx([r.inside for r in found])
    at.button(key=P + "find").click().run()
    matches = gates.fire_alike(gru_model, "encoder 1", "h", [r.unit for r in found],
                               [r.inside for r in found], [r.outside for r in found])
    assert gates.matches_sentence(matches) in said(at)
    assert not at.exception and not at.error
    # a range of steps lists the units for the range
    steps_slider(at).set_value(("1. ␣", f"{plus + 1}. +")).run()
    ranged = gates.reacting_units(layer, "h", range(plus + 1), 4)
    table = [d.value for d in at.dataframe if "difference (in spreads)" in d.value.columns][0]
    assert list(table["unit"]) == [r.unit + 1 for r in ranged]


def test_units_beyond_a_smaller_layer_say_so_and_a_diverged_model_is_named(gru_model):
    at = page(gru_model, "12+3+45")  # encoder layers 12 units a direction, decoder 24
    at.slider(key=P + "units").set_value((13, 24)).run()
    assert not at.exception and not at.error
    assert "Encoder layer 2 has 12 units: move the units drawn to start at 12 or below to " \
           "see them." in [i.value for i in at.info]
    decoder = gates.cell_trace(gru_model, "12+3+45").find("decoder 1")
    drawn = at.session_state[P + "spec_decoder"][1]  # the spec the page drew, kept
    assert drawn == cell_charts.gate_heatmaps(decoder, range(12, 24),
                                              room=gates_ui.HALF_ROOM).to_dict()
    broken = sc.Seq2Seq.build(gru_model.task, gru_model.config, seed=3)
    layer = broken.layers.encoders[0].forward_layer.cell
    layer.kernel.assign(np.full(layer.kernel.shape, np.nan, np.float32))
    at = page(broken, "12+3+45")
    assert "The model's encoder 1 computes values that are not finite numbers (NaN or " \
           "infinite): its training diverged." in [shown(e.value) for e in at.error]


def test_the_decoder_can_follow_the_forced_decode(attention_model):
    text = "1 2 3 4 5"
    at = page(attention_model, text)
    at.selectbox(key="inspect_force_step").set_value(1).run()
    at.selectbox(key="inspect_force_token").set_value("12").run()
    follow = at.radio(key=P + "follow")
    assert follow.options == ["greedy decode", "forced decode"]
    follow.set_value("forced decode").run()
    forced = forced_decode(attention_model, text, 1, "12")
    ct = gates.cell_trace(attention_model, text, forced)
    assert ct.decoder[0].tokens[0] == "12"
    assert any(f"follow the forced decode: output {forced.output_text}" in t
               for t in [c.value.replace("**", "") for c in at.caption])
    at.selectbox(key=P + "slow_layer").set_value("decoder 1").run()
    assert equations(at) == expected_equations(gates.slow_motion(ct.decoder[0], 0, 0))


def test_train_page_redraws_a_watched_inputs_gates_and_their_saturation(app_test,
                                                                        monkeypatch):
    from seq2seq_core import training
    monkeypatch.setattr(training, "GATES_EVERY", 0.0)  # after every chunk of this tiny run
    at = open_train(app_test, w_seed=3, w_chunk_batches=2)
    at.text_area(key="w_watch_inputs").input("1 2 3\n4 4 5").run()
    trainer = run_to_end(at, "btn_start")
    if [b for b in at.button if b.key == "btn_skip_replay"]:
        at.button(key="btn_skip_replay").click().run()  # the view shows once the replay ends
    snap = trainer.snapshot()
    assert [c.input_text for c in snap.cells] == ["1 2 3", "4 4 5"]
    shares = [r.gate_saturation for r in snap.history]
    assert len(shares) >= 2 and all(len(s) == 2 for s in shares)
    assert at.selectbox(key="train_cell_input").options == ["1 2 3", "4 4 5"]
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert any("gate values below 0.1" in json.dumps(s) for s in specs)
    captions = " ".join(c.value for c in at.caption)
    assert f"{shares[0][0]:.0%} at first, {shares[-1][0]:.0%} now" in captions
    drawn = at.session_state["train_cell_spec"][1]  # the latest chunk's gates, as drawn
    layer = snap.cells[0].find("encoder 1")
    assert drawn == cell_charts.gate_heatmaps(layer, range(8), room=gates_ui.FULL_ROOM).to_dict()
    at.selectbox(key="train_cell_input").set_value("4 4 5").run()
    captions = " ".join(c.value for c in at.caption)
    assert f"output **{snap.cells[1].output_text}**" in captions
    assert not at.exception
