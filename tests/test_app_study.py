"""The "Why attention?" page, driven headless with Streamlit's AppTest."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui.keras_state import keep_keras_state_between_reruns

PAGE = str(Path(__file__).resolve().parents[1] / "app_pages" / "study.py")
TIMEOUT = 120


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    """Record the study's runs in a throwaway history."""
    monkeypatch.setenv("SEQ2SEQ_LAB_DATA", str(tmp_path))
    return tmp_path


@pytest.fixture
def page():
    made = []

    keep_keras_state_between_reruns()  # as app.py does before any page runs

    def make() -> AppTest:
        at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
        at.run()
        assert not at.exception
        made.append(at)
        return at

    yield make
    for at in made:  # never leave a study training behind
        runner = at.session_state["study_runner"] if "study_runner" in at.session_state else None
        if runner is not None:
            runner.stop()
            runner.join(60)


def test_the_page_explains_the_study_and_waits_for_start(page):
    at = page()
    assert at.title[0].value == "Why attention?"
    text = " ".join(m.value for m in at.markdown)
    assert "Bahdanau" in text and "Sutskever" in text
    assert at.text_input(key="study_lengths").value == "4, 8, 12, 16"
    assert any("press **Start**" in i.value for i in at.info)
    assert not at.button(key="study_start").disabled
    assert at.button(key="study_stop").disabled
    assert not at.error


def test_translation_suggests_its_own_lengths(page):
    at = page()
    at.radio(key="study_task").set_value("translation").run()
    assert not at.exception
    assert at.text_input(key="study_lengths").value == "8, 12, 16, 22"
    assert any("2 models" in c.value for c in at.caption)


@pytest.mark.parametrize("lengths,message", [
    ("", "between 1 and 8 lengths"),
    ("4, eight", "whole numbers"),
    ("1", "between 2 and 40"),
])
def test_bad_lengths_show_a_message_and_block_start(page, lengths, message):
    at = page()
    at.text_input(key="study_lengths").input(lengths).run()
    assert not at.exception
    assert len(at.error) == 1 and message in at.error[0].value
    assert at.button(key="study_start").disabled


def test_a_tiny_study_runs_in_the_background_and_draws_its_result(page, data_dir):
    at = page()
    at.text_input(key="study_lengths").input("3").run()
    at.number_input(key="study_units").set_value(16).run()
    at.number_input(key="study_seconds").set_value(3).run()
    at.button(key="study_start").click().run()
    assert not at.exception and not at.error
    runner = at.session_state["study_runner"]
    assert runner is not None
    assert [h.value for h in at.header] == ["Running"]
    assert at.button(key="study_start").disabled and not at.button(key="study_stop").disabled
    assert at.text_input(key="study_lengths").disabled  # settings are locked while it runs
    runner.join(TIMEOUT)
    progress = runner.snapshot()
    assert progress.status == "finished", progress.error

    at.run()  # what the polling fragment's full rerun does
    assert not at.exception and not at.error
    assert [h.value for h in at.header] == ["Results"]
    assert at.session_state["study_runner"] is None
    table = at.dataframe[0].value
    assert sorted(table["variant"]) == ["attention", "no attention"]
    assert (table["length"] == 3).all() and table["exact_match"].between(0, 1).all()
    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    assert spec["layer"][0]["mark"]["type"] == "line"
    assert spec["layer"][0]["encoding"]["y"]["field"] == "exact_match"
    assert any("exact match vs" in m.value for m in at.markdown)

    # the results survive another rerun, and Start is free again
    at.run()
    assert [h.value for h in at.header] == ["Results"] and len(at.dataframe) == 1
    assert not at.button(key="study_start").disabled

    # both models went into the run history
    from seq2seq_core.history import History
    runs = History().list_runs()
    assert len(runs) == 2 and set(runs["sweep_id"]) == {"study:reverse:attention"}


def test_stopping_a_study_keeps_what_finished(page):
    at = page()
    at.text_input(key="study_lengths").input("3, 20").run()
    at.number_input(key="study_units").set_value(16).run()
    at.number_input(key="study_seconds").set_value(60).run()
    at.button(key="study_start").click().run()
    runner = at.session_state["study_runner"]
    at.button(key="study_stop").click().run()
    assert not at.exception
    runner.join(TIMEOUT)
    progress = runner.snapshot()
    assert progress.status == "stopped", progress.error
    assert progress.done < progress.total
    at.run()
    assert not at.exception
    assert [h.value for h in at.header] == ["Results"]
    assert any("stopped" in w.value for w in at.warning)


def test_a_study_saved_in_the_history_can_be_shown_again(page):
    from seq2seq_core.history import History
    from seq2seq_core.study import StudyConfig

    pytest.importorskip("seq2seq_core.study").saved_studies  # noqa: B018 - needs the saved-studies API
    cfg = StudyConfig(lengths=(4, 8), units=16)
    rows = [{"variant": v, "length": n, "exact_match": acc, "samples": 100, "train_seconds": 3.0}
            for v, n, acc in (("no attention", 4, 1.0), ("no attention", 8, 0.5),
                              ("attention", 4, 1.0), ("attention", 8, 0.99))]
    History().save_results("study", "reverse: attention", cfg, rows)
    at = page()
    at.button(key="study_show_saved").click().run()
    assert not at.exception
    assert [h.value for h in at.header] == ["Results"]
    assert len(at.dataframe[0].value) == 4
    assert any("At 8 integers" in m.value for m in at.markdown)
