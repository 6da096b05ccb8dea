"""Statuses: one enum for runs and job runners, one for sweep cells, and what each implies."""
import json

import pytest

import seq2seq_core as sc
from seq2seq_core.history import History
from seq2seq_core.status import ACTIVE, ENDED, KEEPS_MODEL, CellStatus, Status
from seq2seq_core.sweep import TRAINED

RUN = ("reverse", sc.settings_for("reverse"), sc.ModelConfig(), sc.TrainConfig())


@pytest.fixture
def history(tmp_path):
    return History(tmp_path / "h.sqlite3")


def test_values_are_the_strings_already_saved():
    assert [s.value for s in Status] == ["ready", "running", "paused", "finished", "stopped",
                                         "failed"]
    assert [s.value for s in CellStatus] == ["finished", "cut short", "failed", "pending",
                                             "not run"]
    assert json.dumps({"status": Status.STOPPED}) == '{"status": "stopped"}'
    assert f"{Status.PAUSED}" == "paused" and Status("paused") is Status.PAUSED


def test_a_status_round_trips_through_the_history(history, tmp_path):
    run_id = history.record_run(*RUN, status=Status.STOPPED, reason="stopped by the user")
    info = History(tmp_path / "h.sqlite3").get(run_id)  # read back as another process would
    assert info.status == "stopped" and info.status == Status.STOPPED
    assert Status(info.status) is Status.STOPPED
    assert history.list_runs().status.tolist() == [Status.STOPPED]
    assert history.list_runs().status.tolist() == ["stopped"]


def test_only_ended_statuses_end_a_run(history):
    run_id = history.start_run(*RUN)
    for status in (Status.READY, Status.RUNNING, Status.PAUSED, "cut short"):
        with pytest.raises(sc.InvalidInput, match="one of finished, stopped, failed"):
            history.finish_run(run_id, status)
    history.finish_run(run_id, Status.FAILED, error="boom")
    assert history.get(run_id).status == Status.FAILED


def test_a_run_is_active_while_its_stored_status_is(history, tmp_path):
    """Another process reads the stored string: running and paused runs are active."""
    run_id = history.start_run(*RUN)
    other = History(tmp_path / "h.sqlite3")
    assert other.is_active(run_id)
    history.set_status(run_id, Status.PAUSED)
    assert other.is_active(run_id)
    history.finish_run(run_id, Status.FINISHED)
    assert not other.is_active(run_id)


def test_derived_sets_are_what_the_pages_rely_on():
    assert ACTIVE == {"running", "paused"}  # Train page: Start off, Stop on
    assert ENDED == {"finished", "stopped", "failed"}  # Study page: collect the rows
    assert KEEPS_MODEL == {"finished", "stopped"}  # Train page: the model goes to Inspect
    assert KEEPS_MODEL < ENDED and not ACTIVE & ENDED
    assert not Status.READY.active and not Status.READY.ended  # started, not yet training
    for status in Status:
        assert (status.active, status.ended, status.keeps_model) == \
            (status in ACTIVE, status in ENDED, status in KEEPS_MODEL)
    assert "paused" in ACTIVE and "stopped" in KEEPS_MODEL  # strings read from SQLite


def test_a_cell_status_from_its_runs_status():
    assert {s: CellStatus.of(s) for s in Status} == {
        Status.FINISHED: CellStatus.FINISHED, Status.STOPPED: CellStatus.CUT_SHORT,
        Status.FAILED: CellStatus.FAILED, Status.READY: CellStatus.PENDING,
        Status.RUNNING: CellStatus.PENDING, Status.PAUSED: CellStatus.PENDING}
    assert CellStatus.of("stopped") == "cut short"  # a status string from the History
    assert TRAINED is CellStatus.FINISHED
