"""The Inspect page, driven headless with Streamlit's AppTest."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import seq2seq_core as sc
from seq2seq_core.decoding import Decoder
from seq2seq_core.strategies import forcing_comparison

from conftest import shown

PAGE = str(Path(__file__).resolve().parents[1] / "app_pages" / "inspect.py")
TIMEOUT = 120
SECTIONS = ["Step-by-step decoder", "What if? Force a token", "Decoding strategies",
            "Teacher forcing vs free running", "Encoder states", "Inside the cell",
            "Encoder what-if", "Nearest training examples", "Evaluation"]


@pytest.fixture(scope="module")
def model():
    """reverse: 4 integers in 1..8, first 2 reversed; a few seconds of training."""
    task = sc.make_task("reverse", n_in=4, n_out=2, cardinality=8)
    m = sc.Seq2Seq.build(task, sc.ModelConfig(units=32))
    sc.Trainer(m, sc.TrainConfig(target_accuracy=0.95, max_seconds=60, batch_size=128,
                                 learning_rate=0.01)).run()
    return m


def page(model=None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    if model is not None:
        at.session_state["model"] = model
    at.run()
    assert not at.exception
    return at


def big_texts(at) -> list[str]:
    """The subheaders' text (predicted, expected, output so far, section sub-titles)."""
    return [s.value for s in at.subheader]


def charts(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]


def flat(spec: dict) -> str:
    """A spec as text, with titles wrapped into lines joined again."""
    return json.dumps(spec, ensure_ascii=False).replace('", "', " ")


def type_input(at, text: str) -> AppTest:
    at.text_input(key="inspect_input").input(text).run()
    assert not at.exception
    return at


def test_no_model_shows_a_message_and_a_file_loader():
    at = page()
    assert any("no model" in i.value.lower() for i in at.info)
    assert len(at.file_uploader) == 1
    assert not at.text_input
    assert not at.error


def test_a_corrupt_model_file_shows_an_error_and_changes_nothing():
    at = page()
    at.file_uploader[0].upload("broken.s2s", b"this is not a model").run()
    assert not at.exception
    assert len(at.error) == 1
    assert "not a seq2seq-lab model" in shown(at.error[0].value)
    assert "model" not in at.session_state


def test_a_saved_model_file_loads_and_is_inspected(model):
    at = page()
    at.file_uploader[0].upload("reverse.s2s", sc.to_bytes(model)).run()
    assert not at.exception
    assert isinstance(at.session_state["model"], sc.Seq2Seq)
    assert at.text_input(key="inspect_input").label == "Input"
    assert not at.error


def test_typed_input_is_decoded_with_expected_and_predicted(model):
    at = type_input(page(model), "1 2 3 4")
    assert not at.error
    predicted, expected = big_texts(at)[:2]
    assert expected == "2 1" and predicted == "2 1"
    assert any("Right" in s.value for s in at.success)
    assert [h.value for h in at.header] == SECTIONS


def test_the_page_starts_from_an_example_input_with_every_chart(model):
    at = page(model)
    box = at.text_input(key="inspect_input")
    assert box.label == "Input"
    assert box.value == model.task.example_inputs()[0]
    assert box.placeholder == model.task.example_inputs()[0]
    marks = [json.dumps(c) for c in charts(at)]
    # step bars, overview, forced token, strategies, forcing, h and c heatmaps, final h and c,
    # projection, the cell's gate heatmaps (encoder, decoder), memory kept per step and the
    # units that react, edited-input map (the neighbours map waits for its Find button)
    assert len(marks) == 15
    assert any("your input" in m for m in marks)


@pytest.mark.parametrize("text", ["1 2 99 4", "1 x 3 4", "", "   ", "1 2 3 4 5", "1 2"])
def test_invalid_input_shows_the_task_message(model, text):
    with pytest.raises(sc.InvalidInput) as err:
        model.task.validate(text)
    at = type_input(page(model), text)
    assert [shown(e.value) for e in at.error] == [str(err.value)]
    assert not at.get("vega_lite_chart") or all(
        "your input" not in json.dumps(c) for c in charts(at))
    assert [h.value for h in at.header] == ["Evaluation"]  # the rest waits for a valid input


def test_step_controls_walk_through_the_output(model):
    at = type_input(page(model), "5 3 7 1")
    assert at.slider(key="inspect_step").value == 1
    assert big_texts(at)[2] == "3"
    at.button(key="inspect_next").click().run()
    assert not at.exception
    assert at.slider(key="inspect_step").value == 2
    assert big_texts(at)[2] == "3 5"
    at.button(key="inspect_prev").click().run()
    assert at.slider(key="inspect_step").value == 1
    at.slider(key="inspect_step").set_value(2).run()
    assert big_texts(at)[2] == "3 5"
    title = charts(at)[0]["title"]
    assert (title["text"] if isinstance(title, dict) else title) == "Step 2: chose '5'"


def test_random_input_draws_a_valid_input(model):
    at = page(model)
    before = at.text_input(key="inspect_input").value
    texts = set()
    for _ in range(3):
        at.button(key="inspect_random").click().run()
        assert not at.exception
        text = at.text_input(key="inspect_input").value
        model.task.validate(text)
        texts.add(text)
        assert not at.error
        assert big_texts(at)[1] == model.task.answer(text)
    assert texts - {before}


def test_evaluation_runs_on_the_chosen_number_of_samples(model):
    at = page(model)
    assert any("press Evaluate" in i.value for i in at.info)
    at.number_input(key="inspect_eval_n").set_value(200).run()
    at.button(key="inspect_evaluate").click().run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Examples scored"] == "200"
    assert float(metrics["Exact match"].rstrip("%")) > 80
    assert len(charts(at)) == 16  # the per-position chart joins the others
    # typing keeps the evaluation on screen
    type_input(at, "1 2 3 4")
    assert {"Exact match", "Token accuracy", "Examples scored"} <= {m.label for m in at.metric}


def test_another_model_resets_the_page_and_handles_layers_and_gru():
    task = sc.make_task("addition")
    gru = sc.Seq2Seq.build(task, sc.ModelConfig(cell="gru", units=8, layers=2, bidirectional=True))
    at = page(gru)
    assert at.text_input(key="inspect_input").value == task.example_inputs()[0]
    assert at.radio(key="inspect_layer").value == 2
    at.radio(key="inspect_layer").set_value(1).run()
    assert not at.exception
    # GRU: one heatmap (no cell state) and one final-state chart, and the cell's four
    assert len(charts(at)) == 13
    assert any("bidirectional" in c.value for c in at.caption)


# ---- attention, decoding strategies, teacher forcing ------------------------------------------
def chart_data(at) -> list[tuple[dict, list]]:
    """(spec, its data tables as DataFrames) per chart: Streamlit ships the data apart."""
    from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
    return [(json.loads(c.proto.spec),
             [convert_arrow_bytes_to_pandas_df(d.data.data) for d in c.proto.datasets])
            for c in at.get("vega_lite_chart")]


def is_attention_heatmap(spec: dict) -> bool:
    layer = spec.get("layer", [{}])[0]
    return (layer.get("encoding", {}).get("color", {}).get("legend") or {}).get("title") == "attention"


def frames(at) -> list:
    return [d.value for d in at.dataframe]


def frame_with(at, column: str):
    found = [f for f in frames(at) if column in f.columns]
    assert found, f"no table with a {column!r} column"
    return found[0]


def test_attention_view_shows_the_weights_and_follows_the_step(attention_model):
    at = type_input(page(attention_model), "1 2 3 4 5")
    assert "Attention" in big_texts(at)
    assert "attention (bahdanau), LSTM" in at.caption[0].value
    specs = [flat(c) for c in charts(at)]
    heat = [tables for spec, tables in chart_data(at) if is_attention_heatmap(spec)]
    assert len(heat) == 1, "no attention heatmap"
    rows = heat[0][0]
    trace = Decoder(attention_model).trace("1 2 3 4 5")
    assert len(rows) == trace.attention.size
    assert set(rows.loc[rows["current"], "out_step"]) == {0}
    assert rows["weight"].to_numpy() == pytest.approx(trace.attention.reshape(-1), abs=1e-6)
    assert any("where it looked to write '3'" in s for s in specs)
    assert any("looked mostly at" in m.value for m in at.markdown)
    strip = [tables[0] for spec, tables in chart_data(at)
             if spec.get("layer", [{}])[0].get("mark", {}).get("cornerRadius") == 4]
    assert len(strip) == 1, "no strip of attended input tokens"
    assert list(strip[0]["input"]) == "1 2 3 4 5".split()
    assert list(strip[0]["weight"]) == pytest.approx(list(trace.attention[0][-5:]), abs=1e-6)
    at.slider(key="inspect_step").set_value(3).run()
    assert not at.exception
    assert any("where it looked to write '1'" in flat(c) for c in charts(at))
    assert any("while writing '1' (step 3)" in m.value for m in at.markdown)


def test_models_without_attention_have_no_attention_view(model):
    at = page(model)
    assert "Attention" not in big_texts(at)
    assert not any(is_attention_heatmap(spec) for spec, _ in chart_data(at))


def test_strategies_compare_three_ways_and_width_one_is_greedy(attention_model):
    at = type_input(page(attention_model), "4 10 2 8 1")
    table = frame_with(at, "strategy")
    assert len(table) == 3
    assert [s.split()[0] for s in table["strategy"]] == ["greedy", "beam", "sampling"]
    assert table["probability"].between(0, 1).all()
    assert "beam 3" in frame_with(at, "beam 1").columns  # the default width keeps 3 beams
    at.slider(key="inspect_beam_width").set_value(1).run()
    assert not at.exception
    table = frame_with(at, "strategy")
    assert table["strategy"][1] == "beam search (width 1)"
    assert table["output"][0] == table["output"][1]
    assert table["probability"][0] == pytest.approx(table["probability"][1])
    grid = frame_with(at, "beam 1")
    assert list(grid.columns) == ["step", "beam 1"] and len(grid) == 3
    # a fixed seed draws the same sample again
    at.slider(key="inspect_temperature").set_value(2.0).run()
    first = frame_with(at, "strategy")["output"][2]
    at.number_input(key="inspect_seed").set_value(7).run()
    at.number_input(key="inspect_seed").set_value(0).run()
    assert frame_with(at, "strategy")["output"][2] == first


def test_forcing_matches_for_the_right_answer_and_diverges_for_a_wrong_one(attention_model):
    at = type_input(page(attention_model), "1 2 3 4 5")
    box = at.text_input(key="inspect_expected")
    assert box.value == "3 2 1"  # prefilled with the task's answer
    assert any("never leaves the expected output" in s.value for s in at.success)
    table = frame_with(at, "teacher forcing: fed")
    assert list(table["teacher forcing: fed"]) == ["⟨start⟩", "3", "2"]
    box.input("3 9 1").run()
    assert not at.exception
    assert any("step 2" in w.value for w in at.warning)
    table = frame_with(at, "teacher forcing: fed")
    assert list(table["teacher forcing: fed"]) == ["⟨start⟩", "3", "9"]
    assert list(table["free running: fed"]) == ["⟨start⟩", "3", "2"]
    forcing = [c for c in charts(at) if "teacher forcing" in json.dumps(c)]
    assert forcing and any("mark" in layer and layer["mark"].get("type") == "rect"
                           for layer in forcing[0]["layer"])  # the divergence step shaded
    # a new input starts from its own answer again
    type_input(at, "5 4 3 2 1")
    assert at.text_input(key="inspect_expected").value == "3 4 5"


@pytest.mark.parametrize("expected", ["3 2 1 0", "3 x 1"])
def test_invalid_expected_output_shows_its_message(attention_model, expected):
    with pytest.raises(sc.InvalidInput) as err:
        forcing_comparison(attention_model, "1 2 3 4 5", expected)
    at = type_input(page(attention_model), "1 2 3 4 5")
    at.text_input(key="inspect_expected").input(expected).run()
    assert not at.exception and not at.error
    assert f"This output cannot be compared: {err.value}" in [shown(i.value) for i in at.info]
    assert [h.value for h in at.header] == SECTIONS  # the rest of the page still works


def test_repeat_model_notes_that_it_has_no_feedback():
    task = sc.make_task("reverse", n_in=4, n_out=2, cardinality=8)
    repeat = sc.Seq2Seq.build(task, sc.ModelConfig(arch="repeat", units=8))
    at = page(repeat)
    assert any("no feedback" in i.value for i in at.info)
    table = frame_with(at, "teacher forcing: predicted")
    assert list(table["teacher forcing: predicted"]) == list(table["free running: predicted"])
    assert "Attention" not in big_texts(at)
