"""Ray through the app (AppTest, a real local Ray): where trainings run in the sidebar, the
teacher's switch, a Train-page run on a Ray worker handed to Inspect, a sweep with two cells
at once."""
from __future__ import annotations

import time

import pytest

from conftest import open_reverse_sweep, shown
from seq2seq_core import executors
from seq2seq_core.history import History
from test_app_class import _submit
from test_app_train import open_train


@pytest.fixture(scope="module")
def ray_up():
    """A local Ray of two CPUs for this module, started the way the app starts it."""
    ex = executors.ray_executor()
    ex.num_cpus = 2
    ex.ensure()
    yield ex
    executors.shutdown()


@pytest.fixture
def on_ray(ray_up):
    """The server sends Train-page runs to Ray for one test."""
    executors.select("ray")
    yield ray_up
    executors.select("local")


def sidebar_text(at) -> str:
    return " | ".join(shown(c.value) for c in at.sidebar.caption)


def test_the_sidebar_says_where_trainings_run_and_the_teacher_can_switch(app_test, no_failures):
    at = app_test()
    at.run()
    assert "Trainings run: In this server's process" in sidebar_text(at)
    assert not [r for r in at.radio if r.key == "w_executor"]  # students cannot switch
    at.text_input(key="teacher_attempt").set_value("s3cret")
    _submit(at)
    try:
        at.radio(key="w_executor").set_value("ray").run()
        assert executors.selected_name() == "ray"
        assert "Trainings run: Ray (local)" in sidebar_text(at)
    finally:
        executors.select("local")


def test_a_train_page_run_on_ray_reaches_inspect(app_test, on_ray):
    at = open_train(app_test)
    at.button(key="btn_start").click().run()
    assert not at.exception, at.exception
    job = at.session_state["trainer"]
    assert job.executor == "ray"
    job.join(120)
    snap = job.snapshot()
    assert snap.status == "finished", (snap.status, snap.error)
    at.run()
    assert not at.exception, at.exception
    assert any("Trains in a Ray worker · CPU" in shown(c.value) for c in at.caption)
    assert at.get("progress")[0].value == 100
    model = at.session_state["model"]  # came back as .s2s bytes, loaded in this process
    assert model is job.model and model.count_params() == job.params
    run = History(History().path).list_runs().iloc[0]
    assert run["status"] == "finished" and run["device"].startswith("CPU")
    at.switch_page("app_pages/inspect.py").run()
    assert not at.exception, at.exception


def test_a_sweep_trains_two_cells_at_once_on_ray(app_test, ray_up):
    at = open_reverse_sweep(app_test, {
        "sweep_values": "2, 3", "sweep_units": "4, 8", "sweep_batch": 8, "sweep_lr": 0.01,
        "sweep_samples": 10_000_000, "sweep_seconds": 3.0, "sweep_target": 0.0,
        "sweep_workers": 2})
    assert any("2 at a time" in shown(c.value) for c in at.caption)
    at.button(key="sweep_start").click().run()
    assert not at.exception, at.exception
    sweep = at.session_state["sweep_obj"]
    assert (sweep.executor, sweep.workers) == ("ray", 2)
    most, deadline = 0, time.monotonic() + 120
    while sweep.is_alive and time.monotonic() < deadline:
        most = max(most, len(sweep.progress().running))
        time.sleep(0.2)
    assert most == 2
    at.run()
    assert not at.exception, at.exception
    assert at.get("progress")[0].proto.text == "Finished: 4 of 4 cells trained"
    assert at.dataframe[0].value["status"].tolist() == ["finished"] * 4
    runs = History().list_runs(sweep.sweep_id)
    assert len(runs) == 4 and set(runs["status"]) == {"finished"}
