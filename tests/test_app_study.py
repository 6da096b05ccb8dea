"""The "Why attention?" page, driven headless with Streamlit's AppTest."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import shown
from streamlit.testing.v1 import AppTest

from seq2seq_core import executors
from ui.text import duration
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
    assert at.text_input(key="study_lengths").value == "8, 16, 24"
    at_once = min(6, executors.default_workers())  # what this machine offers
    rounds = -(-6 // at_once)  # trainings one after another
    expected = f"6 models, {at_once} at a time, × up to 30 s ≈ {duration(rounds * 30.0)}"
    assert any(expected in c.value for c in at.caption), [c.value for c in at.caption]
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


def start_small(at, units: int, **numbers):
    """Set the number inputs `numbers` (key suffix -> value), then units, 3 s a model and
    one model at a time in this process, and press Start."""
    for key, value in {**numbers, "units": units, "seconds": 3.0, "workers": 1}.items():
        at.number_input(key=f"study_{key}").set_value(value).run()
    at.button(key="study_start").click().run()


def test_a_tiny_study_runs_in_the_background_and_draws_its_result(page, data_dir):
    at = page()
    at.text_input(key="study_lengths").input("3").run()
    start_small(at, 16)
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
    assert "nan" not in " ".join(m.value for m in [*at.markdown, *at.caption]).lower()

    # the results survive another rerun, and Start is free again
    at.run()
    assert [h.value for h in at.header] == ["Results"] and len(at.dataframe) == 1
    assert not at.button(key="study_start").disabled

    # both models went into the run history
    from seq2seq_core.history import History
    runs = History().list_runs()
    assert len(runs) == 2 and set(runs["sweep_id"]) == {runner.tag}
    assert runner.tag.startswith("study:reverse:attention:")
    assert sorted(runs["name"]) == ["study: reverse length 3, attention",
                                    "study: reverse length 3, no attention"]


def test_stop_counts_finished_models_and_leaves_out_the_one_cut_short(page):
    at = page()
    at.text_input(key="study_lengths").input("3, 20").run()
    start_small(at, 8)  # one after another, in-process
    runner = at.session_state["study_runner"]
    assert runner.executor.name == "local"
    deadline = time.monotonic() + TIMEOUT
    while not (runner.done == 1 and runner.snapshot().running) and time.monotonic() < deadline:
        time.sleep(0.05)  # the second model is training
    at.button(key="study_stop").click().run()
    assert not at.exception
    runner.join(TIMEOUT)
    progress = runner.snapshot()
    assert progress.status == "stopped", progress.error
    assert (progress.done, runner.finished_models) == (2, 1)
    at.run()
    assert not at.exception
    assert [h.value for h in at.header] == ["Results"]
    assert [shown(w.value) for w in at.warning] == [
        ("Stopped: 1 of 4 models finished: the chart shows only those. The model cut short "
         "(attention, input length 3) is left out.")]
    table = at.dataframe[0].value
    assert list(zip(table["variant"], table["length"])) == [("no attention", 3)]
    import pyarrow as pa
    chart = at.get("vega_lite_chart")[0]
    data = pd.concat(pa.ipc.open_stream(d.data.data).read_pandas() for d in chart.proto.datasets)
    assert set(zip(data["variant"], data["length"])) == {("no attention", 3)}


def test_two_saved_studies_are_two_entries_with_human_names(page):
    from seq2seq_core.history import History
    from seq2seq_core.study import StudyConfig, study_name

    rows = [{"variant": v, "length": 8, "exact_match": 1.0, "samples": 100, "train_seconds": 3.0}
            for v in ("no attention", "attention")]
    for cfg in (StudyConfig(lengths=(8,), units=16), StudyConfig(lengths=(8,), units=32)):
        History().save_results("study", study_name(cfg), cfg, rows)
    at = page()
    labels = at.selectbox(key="study_saved_pick").options
    assert len(labels) == 2 and labels[0] != labels[1]
    assert [label.split(" · ", 1)[1] for label in labels] == [  # after the date, newest first
        "Reverse integers, lengths 8: no attention vs attention · 32 units, 30 s",
        "Reverse integers, lengths 8: no attention vs attention · 16 units, 30 s"]


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
    assert any("At 8 integers" in m.value and "a clear win for attention" in m.value
               for m in at.markdown)


# ---- train short, test long ------------------------------------------------------------------
def test_length_generalization_explains_itself_and_checks_its_settings(page):
    at = page()
    at.text_input(key="study_lengths").input("3, 5").run()
    at.radio(key="study_kind").set_value("generalization").run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "Train short, test long" in text and "shaded" in text and "Bahdanau" not in text
    assert (at.number_input(key="study_trained").value,
            at.number_input(key="study_longer").value) == (8, 4)
    assert any("2 models" in c.value for c in at.caption)
    at.radio(key="study_gen_task").set_value("addition").run()  # addition's own lengths
    assert (at.number_input(key="study_trained").value,
            at.number_input(key="study_longer").value) == (3, 3)
    at.number_input(key="study_trained").set_value(7).run()
    assert [shown(e.value) for e in at.error] == [
        "Addition handles at most 8 terms: 7 trained + 3 longer is 10."]
    assert at.button(key="study_start").disabled
    at.radio(key="study_gen_task").set_value("dates").run()
    assert not at.error and not at.button(key="study_start").disabled
    at.multiselect(key="study_unseen").set_value(["dd/mm/yyyy"]).run()
    assert [shown(e.value) for e in at.error] == [
        "A format cannot be both trained and unseen: 'dd/mm/yyyy'."]
    assert at.button(key="study_start").disabled
    at.radio(key="study_kind").set_value("lengths").run()  # the other kind kept its settings
    assert at.text_input(key="study_lengths").value == "3, 5" and not at.error
    assert "Bahdanau" in " ".join(m.value for m in at.markdown)


def test_a_tiny_length_generalization_study_draws_its_curve_and_verdict(page):
    from seq2seq_core.study import GeneralizationConfig, generalization_verdict
    from ui.text import md

    at = page()
    at.radio(key="study_kind").set_value("generalization").run()
    start_small(at, 16, trained=3, longer=2)
    assert not at.exception and not at.error
    runner = at.session_state["study_runner"]
    assert runner.tag.startswith("study:reverse:generalization:")
    runner.join(TIMEOUT)
    assert runner.snapshot().status == "finished", runner.snapshot().error

    at.run()  # what the polling fragment's full rerun does
    assert not at.exception and not at.error
    assert [h.value for h in at.header] == ["Results"]
    cfg = at.session_state["study_results"]["config"]
    assert cfg == GeneralizationConfig(trained=3, longer=2, units=16, max_seconds=3.0)
    table = at.dataframe[0].value
    for variant in ("no attention", "attention"):
        rows = table[table["variant"] == variant]
        assert list(rows["length"]) == [1, 2, 3, 4, 5]
        assert list(rows["trained"]) == [True, True, True, False, False]
    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert marks[:4] == ["rect", "rule", "text", "line"]
    sentence = generalization_verdict(table, cfg)
    assert sentence and any(m.value == md(sentence) for m in at.markdown)
    assert any("Shaded: what both models trained on" in c.value for c in at.caption)
    assert any("trained on lengths 1-3, tested to 5" in c.value for c in at.caption)


def test_a_saved_length_generalization_study_can_be_shown_again(page):
    from seq2seq_core.history import History
    from seq2seq_core.study import GeneralizationConfig, saved_config, study_name

    cfg = GeneralizationConfig(task="dates", formats=("dd/mm/yyyy",),
                               unseen=("yyyy/mm/dd", "d MMMM yyyy"), units=16)
    scores = {"no attention": (0.97, 0.0, 0.1), "attention": (0.99, 0.05, 0.6)}
    rows = [{"variant": v, "format": f, "trained": f == "dd/mm/yyyy", "exact_match": s,
             "samples": 100, "train_seconds": 3.0}
            for v, values in scores.items() for f, s in zip(cfg.points, values)]
    History().save_results("study", study_name(cfg), saved_config(cfg), rows)
    at = page()
    labels = at.selectbox(key="study_saved_pick").options
    assert [label.split(" · ", 1)[1] for label in labels] == [
        "Dates → ISO, trained on 1 format, 2 unseen: no attention vs attention · 16 units, 30 s"]
    at.button(key="study_show_saved").click().run()
    assert not at.exception
    assert [h.value for h in at.header] == ["Results"]
    assert list(at.dataframe[0].value["format"][:3]) == list(cfg.points)
    said = " ".join(shown(m.value) for m in at.markdown)
    assert ("Without attention, exact match falls from 97% on the trained formats to 5% on "
            "the unseen ones; with attention, from 99% to 32%.") in said
    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    assert spec["layer"][0]["encoding"]["x"]["field"] == "format"
