"""The Inspect page's what-if views, driven headless with Streamlit's AppTest."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import seq2seq_core as sc
from seq2seq_core.neighbours import NeighbourIndex
from seq2seq_core.whatif import NO_FEEDBACK, edit_input, forced_decode

from conftest import shown

PAGE = str(Path(__file__).resolve().parents[1] / "app_pages" / "inspect.py")


def page(model, text: str | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state["model"] = model
    at.run()
    assert not at.exception
    if text is not None:
        at.text_input(key="inspect_input").input(text).run()
        assert not at.exception
    return at


def frame_with(at, column: str):
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert found, f"no table with a {column!r} column"
    return found[0]


def said(at) -> list[str]:
    """The text of every notice and markdown element, as a person reads it (no bold)."""
    return [shown(e.value).replace("**", "") for kind in ("success", "warning", "info", "markdown")
            for e in getattr(at, kind)]


def test_forcing_a_token_shows_the_new_continuation(attention_model):
    at = page(attention_model, "1 2 3 4 5")
    assert "What if? Force a token" in [h.value for h in at.header]
    at.selectbox(key="inspect_force_step").set_value(2).run()
    at.selectbox(key="inspect_force_token").set_value("12").run()
    assert not at.exception and not at.error
    forced = forced_decode(attention_model, "1 2 3 4 5", 2, "12")
    assert forced.output_text != forced.original_text == "3 2 1"
    assert f"What-if output: {forced.output_text}" in said(at)
    assert "Original output: 3 2 1" in said(at)
    verdict = [t for t in said(at) if t.startswith("Forcing '12' at step 2")]
    assert verdict and f"the output becomes {forced.output_text}" in verdict[0]
    table = frame_with(at, "what-if")
    assert list(table["original"]) == ["3", "2", "1"]
    assert list(table["what-if"]) == [s.token for s in forced.steps]
    assert table["what-if"][1] == "12"
    # the greedy token itself changes nothing, and says so
    at.selectbox(key="inspect_force_token").set_value("2").run()
    assert any(t.startswith("'2' is the token greedy chose at step 2") for t in said(at))


def test_a_repeat_model_explains_why_forcing_does_not_apply_and_edits_are_checked():
    task = sc.make_task("addition")
    at = page(sc.Seq2Seq.build(task, sc.ModelConfig(arch="repeat", units=8, decoder_units=6)),
              "3+4+5")
    assert NO_FEEDBACK in [i.value for i in at.info]
    assert not [s for s in at.selectbox if s.key == "inspect_force_step"]
    at.selectbox(key="inspect_edit_token").set_value("+").run()
    assert not at.exception and not at.error
    with pytest.raises(sc.InvalidInput) as err:
        task.validate("++4+5")
    assert f"This edit makes an input the task does not take: {err.value}" in said(at)
    assert "Nearest training examples" in [h.value for h in at.header]


def test_encoder_what_if_and_the_nearest_training_examples(attention_model):
    index = NeighbourIndex.build(attention_model)  # the page's pool: same seed, same examples
    seen = attention_model.task.source_text(index.source[7])
    at = page(attention_model, seen)
    at.selectbox(key="inspect_edit_position").set_value(2).run()
    at.selectbox(key="inspect_edit_token").set_value("11" if seen.split()[1] != "11" else "10")
    at.run()
    assert not at.exception and not at.error
    token = at.selectbox(key="inspect_edit_token").value
    moved = edit_input(attention_model, seen, 2, token)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Distance moved"] == f"{moved.distance:.3f}" and moved.distance > 0
    assert metrics["Output"] == ("changed" if moved.output_changed else "unchanged")
    assert any(t == f"Input {seen} → {moved.edited_text}  \nOutput {moved.output} → "
                    f"{moved.edited_output}" for t in said(at))
    # the pool is encoded only when asked for, once per model
    assert "inspect_neighbours_k" not in [n.key for n in at.number_input]
    at.button(key="inspect_find_neighbours").click().run()
    at.number_input(key="inspect_neighbours_k").set_value(3).run()
    table = frame_with(at, "model's output")
    assert len(table) == 3 and table["input"][0] == seen and table["distance"][0] == 0
    assert list(table["distance"]) == sorted(table["distance"])
    assert any("is in the pool (distance 0)" in t for t in said(at))
    assert [n.input for n in index.nearest(seen, 3)] == list(table["input"])
