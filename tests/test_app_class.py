"""A class on one server, through AppTest: two students' sessions at once, the teacher role,
and the limits a shared server sets. Nothing one student does may cost another their work."""
from __future__ import annotations

import sqlite3
import time

import pytest

import seq2seq_core as sc
from seq2seq_core.history import History

from conftest import shown
from test_app_train import errors, open_train

# A training that runs until stopped (long budget), small enough to start fast.
LONG = {"w_max_samples": 20_000_000, "w_max_seconds": 600.0, "w_chunk_batches": 5}


def student(app_test, **values):
    return open_train(app_test, **{**LONG, **values})


def start(at):
    at.button(key="btn_start").click().run()
    assert not at.exception, at.exception
    trainer = at.session_state["trainer"]
    deadline = time.monotonic() + 60
    while not trainer.snapshot().history and time.monotonic() < deadline:
        trainer.join(0.1)
    assert trainer.snapshot().history, trainer.error
    return trainer


def run_ids(at) -> list[int]:
    at.switch_page("app_pages/experiments.py").run()
    assert not at.exception, at.exception
    return [int(i) for i in at.dataframe[0].value["id"]]


def test_two_students_cannot_touch_each_others_work(app_test):
    alice, bob = student(app_test), student(app_test)
    assert alice.session_state["_owner_id"] != bob.session_state["_owner_id"]
    a_trainer, b_trainer = start(alice), start(bob)
    history = History()
    a_run, b_run = sorted(history.list_runs()["id"])

    # Bob sees both runs, but may manage only his own.
    assert sorted(run_ids(bob)) == [a_run, b_run]
    table = bob.dataframe[0].value
    assert dict(zip(table["id"], table["yours"])) == {a_run: False, b_run: True}
    options = bob.selectbox(key="exp_manage").options
    assert len(options) == 1 and options[0].startswith(f"#{b_run} ")
    with pytest.raises(sc.InvalidInput, match="not yours"):
        history.delete(a_run, by=bob.session_state["_owner_id"])
    with pytest.raises(sc.InvalidInput, match="not yours"):
        history.rename(a_run, "mine now", by=bob.session_state["_owner_id"])
    # Not even its owner deletes a run while it trains.
    with pytest.raises(sc.InvalidInput, match="still training"):
        history.delete(a_run, by=alice.session_state["_owner_id"])
    assert bob.button(key="exp_delete").disabled

    # Alice may not take a second slot: a sweep while she trains.
    alice.switch_page("app_pages/sweep.py").run()
    alice.session_state["sweep_seconds"] = 5.0
    alice.run()
    alice.button(key="sweep_start").click().run()
    assert "You are already running a training (Train page)" in errors(alice)
    assert "sweep_obj" not in alice.session_state

    for trainer in (a_trainer, b_trainer):
        trainer.stop()
        trainer.join(60)
    assert a_trainer.status == b_trainer.status == "stopped"
    runs = history.list_runs().set_index("id")
    assert runs.loc[a_run, "status"] == "stopped" and runs.loc[a_run, "chunks"] >= 1
    assert runs.loc[a_run, "name"] != "mine now"
    assert history.get(a_run).chunks == tuple(a_trainer.snapshot().history)
    history.delete(b_run, by=bob.session_state["_owner_id"])  # his own, now stopped
    assert history.exists(a_run) and not history.exists(b_run)


def test_the_teacher_manages_every_run(app_test, no_failures):
    history = History()
    run = history.record_run("reverse", sc.settings_for("reverse"), sc.ModelConfig(),
                             sc.TrainConfig(), name="someone's run", owner="browser-other")
    teacher = student(app_test)
    teacher.switch_page("app_pages/experiments.py").run()
    assert any("none of the runs above is yours" in c.value for c in teacher.caption)
    teacher.text_input(key="teacher_attempt").set_value("guess")
    _submit(teacher)
    assert "not the teacher password" in errors(teacher)
    teacher.text_input(key="teacher_attempt").set_value("s3cret")
    _submit(teacher)
    assert teacher.session_state["_teacher"] is True
    assert teacher.selectbox(key="exp_manage").value == run
    teacher.text_input(key="exp_new_name").set_value("renamed by the teacher").run()
    teacher.button(key="exp_rename").click().run()
    assert history.get(run).name == "renamed by the teacher"


def _submit(at) -> None:
    """Press the teacher form's Unlock button."""
    for button in at.button:
        if button.proto.label == "Unlock":
            button.click().run()
            return
    raise AssertionError("no Unlock button")


def test_guessing_the_teacher_password_is_capped_for_the_whole_server(app_test, no_failures,
                                                                       monkeypatch):
    monkeypatch.setattr("ui.identity.MAX_FAILURES_SERVER", 7)
    first = student(app_test)
    for _ in range(5):
        first.text_input(key="teacher_attempt").set_value("wrong")
        _submit(first)
    first.text_input(key="teacher_attempt").set_value("s3cret")
    _submit(first)
    assert "Too many wrong passwords from this browser" in errors(first)
    assert not first.session_state["_teacher"] if "_teacher" in first.session_state else True

    again = student(app_test)  # a reload, a new tab or cleared cookies: a new session
    for _ in range(2):
        again.text_input(key="teacher_attempt").set_value("wrong")
        _submit(again)
    again.text_input(key="teacher_attempt").set_value("s3cret")
    _submit(again)
    assert "locked" in errors(again) and "on this server" in errors(again)
    assert "_teacher" not in again.session_state or not again.session_state["_teacher"]


def test_one_person_one_job_counts_evaluations(app_test, attention_model):
    at = student(app_test)
    trainer = start(at)
    at.session_state["model"] = attention_model
    at.switch_page("app_pages/inspect.py").run()
    at.button(key="inspect_evaluate").click().run()
    assert not at.exception
    warnings = " | ".join(shown(w.value) for w in at.warning)
    assert "You are already running a training (Train page)" in warnings
    trainer.stop()
    trainer.join(60)
    at.button(key="inspect_evaluate").click().run()
    assert any(m.label == "Exact match" for m in at.metric)


def test_a_run_whose_history_row_vanishes_keeps_training_and_says_so(app_test):
    at = student(app_test)
    trainer = start(at)
    run_id = int(History().list_runs()["id"][0])
    with sqlite3.connect(History().path) as db:  # someone removes it behind the app's back
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("DELETE FROM chunks WHERE run_id=?", (run_id,))
        db.execute("DELETE FROM runs WHERE id=?", (run_id,))
    seen = trainer.snapshot().samples_seen
    deadline = time.monotonic() + 60
    while trainer.snapshot().samples_seen == seen and time.monotonic() < deadline:
        trainer.join(0.2)
    trainer.join(1.0)
    assert trainer.status == "running" and trainer.snapshot().samples_seen > seen
    at.run()
    assert any("no longer recorded" in shown(w.value) for w in at.warning)
    trainer.stop()
    trainer.join(60)
    assert trainer.status == "stopped"


def test_a_link_to_a_huge_network_builds_nothing(app_test):
    at = app_test()
    at.query_params.update({"task": "reverse", "n_in": "40", "n_out": "40", "units": "1024",
                            "layers": "3", "bidirectional": "1", "cardinality": "500"})
    at.run()
    began = time.perf_counter()
    at.switch_page("app_pages/train.py").run()
    assert not at.exception
    assert time.perf_counter() - began < 10
    assert "this server allows at most 3,000,000" in errors(at)
    assert "_draft_model" not in at.session_state
    assert at.button(key="btn_start").disabled


def test_server_limits_come_from_the_environment(app_test, monkeypatch):
    monkeypatch.setenv("SEQ2SEQ_MAX_PARAMS", "5000")
    monkeypatch.setenv("SEQ2SEQ_MAX_RUN_SECONDS", "30")
    at = student(app_test, w_units=32)
    assert "this server allows at most 5,000" in errors(at)
    at.session_state["w_units"] = 4
    at.run()
    assert "at most 30 s a run" in errors(at) and "SEQ2SEQ_MAX_RUN_SECONDS" in errors(at)
