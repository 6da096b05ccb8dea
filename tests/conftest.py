"""Shared test fixtures: AppTest that runs app.py like `streamlit run` does, and cleanup."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


# Where pytest-xdist runs what (`--dist loadgroup`): a module's tests stay together on one
# worker, so its module fixtures are built once; the modules that start Ray, and those
# that start a browser, each share a group, so two local Rays or two Chromiums never run
# at once on the two cores.
SERIAL_GROUPS = {"ray": ("test_executors", "test_cluster", "test_app_ray"),
                 "browser": ("test_browser", "test_browser_layout")}


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items):
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1]
        group = next((g for g, names in SERIAL_GROUPS.items() if module in names), module)
        item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture(autouse=True)
def lab_data(tmp_path, monkeypatch):
    """Every test gets its own data folder (run history): tests never write to ~."""
    path = tmp_path / "lab-data"
    monkeypatch.setenv("SEQ2SEQ_LAB_DATA", str(path))
    return path


@pytest.fixture(scope="session")
def attention_model():
    """reverse: 5 integers in 1..12, first 3 reversed, with Bahdanau attention, trained to 95%
    exact match. Shared, read-only: the strategy tests and the Inspect page tests use it.

    It fails here, not in the tests that use it, when it misses that target (a machine too
    slow to reach it within the time budget)."""
    import seq2seq_core as sc
    task = sc.make_task("reverse", n_in=5, n_out=3, cardinality=12)
    model = sc.Seq2Seq.build(task, sc.ModelConfig(arch="attention", units=32), seed=2)
    trainer = sc.Trainer(model, sc.TrainConfig(batch_size=128, learning_rate=0.01,
                                               target_accuracy=0.95, max_seconds=90))
    trainer.run()
    target = trainer.config.target_accuracy
    reached = trainer.history[-1].exact_match if trainer.history else 0.0
    assert trainer.status == sc.Status.FINISHED and reached >= target, (
        f"the shared attention model reached {reached:.1%} exact match, not its target of "
        f"{target:.0%} ({trainer.status}: {trainer.reason or trainer.error}, after "
        f"{trainer.train_seconds:.0f} s of training); the tests that use it expect a trained "
        "model")
    return model


@pytest.fixture
def app_test():
    """An AppTest factory for app.py, which runs every page through st.navigation.

    The pages live in `app_pages/`, not `pages/`: with a `pages/` folder next to app.py,
    Streamlit runs a page file alone (skipping app.py) whenever it has not yet seen
    st.navigation, e.g. for the first visitor of a fresh server who opens a deep link.
    """
    def make(timeout: float = 120):
        from streamlit.testing.v1 import AppTest
        return AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)

    yield make
    from ui.session import REGISTRY
    REGISTRY.stop_all()


@pytest.fixture
def no_failures(monkeypatch):
    """A fresh count of wrong teacher passwords (it is process-wide), no waiting."""
    monkeypatch.setattr("ui.identity._FAILURES", {})
    monkeypatch.setattr("ui.identity.FAILURE_DELAY_S", 0.0)
    monkeypatch.setenv("SEQ2SEQ_TEACHER_PASSWORD", "s3cret")


class BusyTraining:
    """A training started by another session: holds a place under the cap until stopped."""
    is_alive = True

    def start(self) -> None:
        pass

    def stop(self) -> None:
        self.is_alive = False


@pytest.fixture
def cap_reached(monkeypatch):
    """The server allows one training at a time, and another session holds it."""
    from ui.session import REGISTRY
    monkeypatch.setenv("SEQ2SEQ_MAX_TRAININGS", "1")
    busy = BusyTraining()
    REGISTRY.register(busy, "another session")
    yield busy
    busy.stop()


def shown(markdown: str) -> str:
    """What a person reads in a markdown element: backslash escapes and invisible word
    joiners (ui.text keeps addresses from becoming links with them) removed."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")


def open_reverse_sweep(app_test, values: dict):
    """The Sweep page on the reverse task (its callback picks n_in and teacher forcing),
    with `values` put into its widgets."""
    at = app_test(timeout=180)
    at.run()
    at.switch_page("app_pages/sweep.py").run()
    at.radio(key="sweep_task").set_value("reverse").run()
    assert (at.session_state["sweep_key"], at.session_state["sweep_arch"]) == ("n_in", "teacher")
    for key, value in values.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    return at
