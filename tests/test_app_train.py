"""Train page through AppTest: a tiny model trained from the UI, errors shown, uploads checked."""
from __future__ import annotations

import pytest

from conftest import shown
from ui import session

TINY = {"w_task": "reverse", "w_reverse_n_in": 3, "w_reverse_n_out": 2,
        "w_reverse_cardinality": 5, "w_units": 8, "w_batch_size": 16, "w_max_samples": 100,
        "w_learning_rate": 0.01, "w_lecture_pace": False}


def open_train(app_test, **values):
    at = app_test()
    at.run()
    at.switch_page("app_pages/train.py").run()
    for key, value in {**TINY, **values}.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception
    return at


def errors(at) -> str:
    return " | ".join(shown(e.value) for e in at.error)


def infos(at) -> str:
    return " | ".join(shown(i.value) for i in at.info)


def test_train_page_shows_summary_and_parameter_count(app_test):
    at = open_train(app_test)
    assert not at.error
    summary = [e for e in at.expander if "parameters" in e.label]
    assert summary, "model summary expander missing"
    assert any("Next run" in m.value and "parameters" in m.value for m in at.markdown)
    assert at.button(key="btn_start").disabled is False
    assert at.button(key="btn_stop").disabled is True


def test_tiny_model_trains_through_the_ui(app_test):
    at = open_train(app_test)
    at.button(key="btn_start").click().run()
    assert not at.exception, at.exception
    trainer = at.session_state["trainer"]
    trainer.join(90)
    assert trainer.status == "finished", (trainer.status, trainer.error)
    at.run()  # AppTest never fires run_every: rerun by hand
    assert not at.exception
    assert len(at.get("vega_lite_chart")) == 2  # loss, accuracy
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Exact match"].endswith("%") and metrics["Validation loss"] != "—"
    progress = at.get("progress")[0]
    assert progress.value == 100 and "Finished" in progress.text
    live = at.table[-1].value
    assert list(live.columns) == ["input", "expected", "predicted", ""]
    assert set(live[""]) <= {"✓", "✗"}
    # the contract with the Inspect page
    assert at.session_state["model"] is trainer.model
    assert at.session_state["train_config"] is trainer.config
    at.switch_page("app_pages/inspect.py").run()
    assert not at.exception
    at.switch_page("app_pages/home.py").run()
    assert not at.exception


def test_pause_resume_stop(app_test):
    at = open_train(app_test, w_max_samples=10_000_000, w_max_seconds=300.0)
    at.button(key="btn_start").click().run()
    trainer = at.session_state["trainer"]
    at.button(key="btn_pause").click().run()
    assert trainer.status == "paused"
    assert at.button(key="btn_start").disabled  # one run per tab
    at.button(key="btn_resume").click().run()
    assert trainer.status == "running"
    at.session_state["w_units"] = 9  # changing widgets does not touch the running training
    at.run()
    assert trainer.is_alive and at.session_state["trainer"] is trainer
    at.button(key="btn_stop").click().run()
    trainer.join(90)
    assert trainer.status == "stopped"
    at.run()
    assert not at.exception
    assert at.session_state["model"] is trainer.model


@pytest.mark.parametrize("values, message", [
    ({"w_reverse_n_out": 5}, "cannot exceed"),
    ({"w_task": "dates", "w_dates_first_year": 2000, "w_dates_last_year": 1990}, "first year"),
    ({"w_task": "dates", "w_dates_formats": []}, "Formats must be one or more of"),
    ({"w_task": "addition", "w_addition_operators": []}, "Operators must be"),
    ({"w_task": "addition", "w_addition_n_terms": 1, "w_addition_variable_terms": True},
     "at least 2 terms"),
    ({"w_task": "translation", "w_translation_max_length": 4}, "at least 10 are needed"),
])
def test_invalid_settings_show_their_message(app_test, values, message):
    at = open_train(app_test, **values)
    assert message in errors(at), errors(at)
    assert at.button(key="btn_start").disabled


def upload(at, data: bytes, name="pairs.tsv"):
    at.session_state["w_translation_source"] = "upload"
    at.run()
    at.file_uploader[0].set_value((name, data, "text/tab-separated-values"))
    at.run()
    assert not at.exception
    return at


def test_malformed_uploads_show_their_message(app_test):
    at = open_train(app_test, w_task="translation")
    upload(at, b"\x00\x01binary\x00" * 10)
    assert "not a text file" in errors(at)
    upload(at, b"no tab here\nnor here\n")
    assert "usable pairs" in errors(at)
    assert at.button(key="btn_start").disabled


def test_upload_reports_pairs_and_skipped_lines(app_test):
    at = open_train(app_test, w_task="translation")
    good = "".join(f"word {i}\tmot {i}\n" for i in range(12))
    upload(at, (good + "broken line\nword 1\tdouble\n").encode())
    assert not at.error, errors(at)
    assert any("Read 12 pairs from 14 lines" in s.value for s in at.success)
    skipped = at.dataframe[0].value
    assert list(skipped["line"]) == [13, 14]
    assert "no tab" in skipped["why it was skipped"][0]


def test_cap_on_concurrent_trainings(app_test, cap_reached):
    at = open_train(app_test)
    at.button(key="btn_start").click().run()
    assert not at.exception
    assert "most it allows at once (1)" in errors(at)
    assert "trainer" not in at.session_state


def test_sweep_stops_trainings_of_closed_sessions():
    class Fake:
        is_alive = True
        stopped = False
        def start(self): pass
        def stop(self): self.stopped = True

    open_ids = {"a"}
    reg = session.Registry(is_open=lambda sid: sid in open_ids, sweep_seconds=3600,
                           grace_seconds=5)
    a, b = Fake(), Fake()
    reg.register(a, "a", limit=4)
    reg.register(b, "b", limit=4)
    assert reg.sweep(now=1000.0) == []  # b just looks closed: grace period
    stopped = reg.sweep(now=1006.0)
    assert len(stopped) == 1 and b.stopped and not a.stopped
    assert reg.active() == 1


def test_session_is_open_asks_the_runtime_and_falls_back_outside_it(monkeypatch):
    """Outside a Streamlit server nobody can tell, so the sweeper never stops that job;
    inside one, the runtime's answer decides."""
    from streamlit import runtime

    class Job:
        is_alive, stopped = True, False
        def start(self): pass
        def stop(self): self.stopped = True

    reg = session.Registry(sweep_seconds=3600, grace_seconds=5)  # the real session_is_open
    job = Job()
    reg.register(job, "a closed tab", limit=4)
    assert session.session_is_open("a closed tab") is None
    assert reg.sweep(now=1000.0) == [] and reg.sweep(now=2000.0) == [] and not job.stopped

    class Runtime:
        def is_active_session(self, session_id): return session_id == "an open tab"

    monkeypatch.setattr(runtime, "exists", lambda: True)
    monkeypatch.setattr(runtime, "get_instance", Runtime)
    assert session.session_is_open("an open tab") is True
    assert session.session_is_open("a closed tab") is False
    assert reg.sweep(now=3000.0) == [] and not job.stopped  # closed: the grace period starts
    assert len(reg.sweep(now=3006.0)) == 1 and job.stopped
    monkeypatch.setattr(runtime, "get_instance", lambda: 1 / 0)  # internals changed
    assert session.session_is_open("an open tab") is None
