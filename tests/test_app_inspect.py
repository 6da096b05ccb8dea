"""The Inspect page, driven headless with Streamlit's AppTest."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import seq2seq_core as sc

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "inspect.py")
TIMEOUT = 120


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
    assert "not a seq2seq-lab model file" in at.error[0].value
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
    assert [h.value for h in at.header] == ["Step-by-step decoder", "Encoder states", "Evaluation"]


def test_the_page_starts_from_an_example_input_with_every_chart(model):
    at = page(model)
    box = at.text_input(key="inspect_input")
    assert box.label == "Input"
    assert box.value == model.task.example_inputs()[0]
    assert box.placeholder == model.task.example_inputs()[0]
    marks = [json.dumps(c) for c in charts(at)]
    # step bars, overview, h and c heatmaps, final h and c, projection scatter
    assert len(marks) == 7
    assert any("your input" in m for m in marks)


@pytest.mark.parametrize("text", ["1 2 99 4", "1 x 3 4", "", "   ", "1 2 3 4 5", "1 2"])
def test_invalid_input_shows_the_task_message(model, text):
    with pytest.raises(sc.InvalidInput) as err:
        model.task.validate(text)
    at = type_input(page(model), text)
    assert [e.value for e in at.error] == [str(err.value)]
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
    assert charts(at)[0]["title"] == "Step 2: chose '5'"


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
    assert len(charts(at)) == 8  # the per-position chart joins the others
    # typing keeps the evaluation on screen
    type_input(at, "1 2 3 4")
    assert {m.label for m in at.metric} == {"Exact match", "Token accuracy", "Examples scored"}


def test_another_model_resets_the_page_and_handles_layers_and_gru():
    task = sc.make_task("addition")
    gru = sc.Seq2Seq.build(task, sc.ModelConfig(cell="gru", units=8, layers=2, bidirectional=True))
    at = page(gru)
    assert at.text_input(key="inspect_input").value == task.example_inputs()[0]
    assert at.radio(key="inspect_layer").value == 2
    at.radio(key="inspect_layer").set_value(1).run()
    assert not at.exception
    # GRU: one heatmap (no cell state) and one final-state chart
    assert len(charts(at)) == 5
    assert any("bidirectional" in c.value for c in at.caption)
