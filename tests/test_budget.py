"""The cost of a run known before it is built: exact parameter counts, memory estimates that
cover what a run takes, and the server limits read from the environment."""
from __future__ import annotations

import itertools

import pytest

import seq2seq_core as sc
from seq2seq_core.budget import ServerLimits, check_run, estimate, parameter_count
from seq2seq_core.presets import PRESETS

TASKS = {
    "reverse": sc.make_task("reverse", n_in=5, n_out=3, cardinality=12),
    "addition": sc.make_task("addition"),
    "translation": sc.make_task("translation", max_pairs=40),
    "dates": sc.make_task("dates", formats=("dd/mm/yyyy",)),
}
CONFIGS = [
    dict(arch=arch, cell=cell, bidirectional=bi, layers=layers, embedding=emb, attention=att,
         decoder_units=dec)
    for arch, cell, bi, layers, emb, att, dec in itertools.product(
        ["repeat", "teacher", "attention"], ["lstm", "gru"], [False, True], [1, 2], [0, 5],
        ["bahdanau", "luong", "dot"], [None, 9])
    if (arch == "attention" or att == "bahdanau") and (arch == "repeat" or dec is None)
]


@pytest.mark.parametrize("task_name", list(TASKS))
def test_parameter_count_is_exactly_keras(task_name):
    task = TASKS[task_name]
    for i, values in enumerate(CONFIGS):
        if i % 4 != list(TASKS).index(task_name):  # each task a quarter of the grid
            continue
        config = sc.ModelConfig(units=6, **values)
        assert parameter_count(task, config) == sc.Seq2Seq.build(task, config).count_params(), config


def test_seed_003_network_by_formula():
    assert parameter_count(TASKS["addition"], sc.ModelConfig(arch="repeat", units=75,
                                                             decoder_units=50)) == 52_212


def test_every_preset_fits_a_class_server():
    limits = ServerLimits()
    for preset in PRESETS:
        task = sc.make_task(preset.task, preset.settings)
        cost = check_run(task, preset.model, preset.train, limits)
        assert cost.params > 0 and cost.peak_bytes < limits.max_run_mb * 1e6, preset.name


def test_memory_grows_with_batch_units_and_attention():
    task = TASKS["translation"]
    small = estimate(task, sc.ModelConfig(units=32), sc.TrainConfig(batch_size=32))
    bigger_batch = estimate(task, sc.ModelConfig(units=32), sc.TrainConfig(batch_size=512))
    attention = estimate(task, sc.ModelConfig(arch="attention", units=32),
                         sc.TrainConfig(batch_size=512))
    assert small.train_bytes < bigger_batch.train_bytes < attention.train_bytes
    assert small.params < attention.params


def test_limits_from_the_environment():
    limits = ServerLimits.from_env({"SEQ2SEQ_MAX_PARAMS": "1000", "SEQ2SEQ_MAX_RUN_SECONDS": "60",
                                    "SEQ2SEQ_JOBS_PER_SESSION": "2", "SEQ2SEQ_MAX_RUN_MB": "lots",
                                    "SEQ2SEQ_MAX_TRAININGS": "0", "SEQ2SEQ_JOBS_PER_ADDRESS": "0"})
    assert limits.max_params == 1000 and limits.max_seconds == 60.0
    assert limits.jobs_per_session == 2
    assert limits.max_run_mb == ServerLimits().max_run_mb  # unreadable: the default stays
    assert limits.max_trainings == ServerLimits().max_trainings  # below 1: ignored
    assert limits.jobs_per_address == 0  # 0 turns the per-address cap off
    with pytest.raises(sc.InvalidInput, match="SEQ2SEQ_MAX_PARAMS"):
        check_run(TASKS["reverse"], sc.ModelConfig(units=64), sc.TrainConfig(), limits)


class Job:
    """A job that holds a slot until stopped."""
    is_alive = True

    def start(self):
        pass

    def stop(self):
        self.is_alive = False


def test_registry_caps_jobs_per_owner():
    from ui.session import Registry, TrainingCapReached

    reg = Registry(is_open=lambda sid: True)
    first = Job()
    reg.register(first, "tab 1", limit=4, owner="alice", per_owner=1, label="a training")
    with pytest.raises(TrainingCapReached, match="already running a training"):
        reg.register(Job(), "tab 2", limit=4, owner="alice", per_owner=1)  # her second tab
    reg.register(Job(), "tab 3", limit=4, owner="bob", per_owner=1)
    reg.register(Job(), "tab 4", limit=4, owner="teacher", per_owner=None)
    reg.register(Job(), "tab 4", limit=4, owner="teacher", per_owner=None)
    with pytest.raises(TrainingCapReached, match="most it allows at once"):
        reg.register(Job(), "tab 5", limit=4, owner="carol", per_owner=1)
    first.stop()
    with reg.slot("tab 1", owner="alice", per_owner=1):
        assert reg.active() == 4
    assert reg.active() == 3
    reg.stop_all()


def test_registry_caps_jobs_per_address():
    """Fresh cookies make a new owner id, but not a new computer."""
    from ui.session import Registry, TrainingCapReached

    reg = Registry(is_open=lambda sid: True)
    for owner in ("cookie 1", "cookie 2"):
        reg.register(Job(), owner, limit=8, owner=owner, per_owner=1, address="10.0.0.7",
                     per_address=2)
    with pytest.raises(TrainingCapReached, match="network address"):
        reg.register(Job(), "cookie 3", limit=8, owner="cookie 3", per_owner=1,
                     address="10.0.0.7", per_address=2)
    reg.register(Job(), "other pc", limit=8, owner="x", per_owner=1, address="10.0.0.8",
                 per_address=2)
    reg.stop_all()


def test_registry_counts_jobs_on_ray_apart_from_jobs_in_this_process():
    """Trainings on a Ray cluster do not use up the server's own slots (evaluations, model
    loads), and the other way round; one person's cap counts both."""
    from ui.session import Registry, TrainingCapReached

    reg = Registry(is_open=lambda sid: True)
    for i in range(3):
        reg.register(Job(), f"tab {i}", limit=3, owner=f"s{i}", pool="ray")
    with pytest.raises(TrainingCapReached, match="running on the Ray cluster, the most"):
        reg.register(Job(), "tab 9", limit=3, owner="s9", pool="ray")
    with reg.slot("tab 9", owner="s9", limit=1):  # this process still has room
        assert reg.active() == 4
    with pytest.raises(TrainingCapReached, match="You are already running"):
        reg.register(Job(), "tab 0", limit=8, owner="s0", per_owner=1)
    reg.stop_all()


def test_a_students_sweep_gets_at_most_the_servers_share_of_ray(monkeypatch):
    from ui import executor

    monkeypatch.setenv("SEQ2SEQ_WORKERS_PER_JOB", "3")
    assert ServerLimits.from_env().workers_per_job == 3
    monkeypatch.setattr("ui.identity.is_teacher", lambda: False)
    assert [executor.allowed_workers(n, 9) for n in (1, 2, 3, 64)] == [1, 2, 3, 3]
    assert executor.allowed_workers(8, 2) == 2  # never more than it has trainings
    monkeypatch.setattr("ui.identity.is_teacher", lambda: True)
    assert executor.allowed_workers(8, 9) == 8
