"""The two executors against real Ray (no mocks): one protocol suite that the in-process
executor and the Ray executor must both pass, then what only Ray does (a pool of reused
workers, sweeps and studies with several trainings at once, Stop across workers), and that
the app starts without importing Ray.

A local Ray of 2 CPUs runs for this module, started the way the app starts it
(`executors.ray_executor().ensure()`). Trainings are tiny (the reverse task on 5 values,
16 units), so each one takes a second or two of training; nothing here asserts timings.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import seq2seq_core as sc
from seq2seq_core import executors
from seq2seq_core.budget import parameter_count
from seq2seq_core.decoding import Decoder
from seq2seq_core.evaluation import evaluate
from seq2seq_core.history import History
from seq2seq_core.jobs import Training, TrainingJob
from seq2seq_core.status import Status
from seq2seq_core.study import StudyConfig, saved_studies, study_runner
from seq2seq_core.sweep import Sweep, SweepConfig, saved_sweeps

ROOT = Path(__file__).resolve().parents[1]
LOOPBACK = "127.0.0.1"

# Reverse the first 2 of 3 integers in 1..5: a 16-unit network gets 95% exact match on its
# held-out examples within about a second of training on one core (94-98% on 500 fresh ones).
TASK = sc.make_task("reverse", n_in=3, n_out=2, cardinality=5)
MODEL = sc.ModelConfig(units=16)
PROBE_SEED = 99  # the held-out inputs both sides decode to compare models


def budget(**overrides) -> sc.TrainConfig:
    """A fast training: small batches and chunks, few scored examples per chunk."""
    values = dict(batch_size=32, learning_rate=0.02, chunk_batches=10, eval_samples=50,
                  max_samples=20_000_000, max_seconds=60.0, target_accuracy=None)
    return sc.TrainConfig(**{**values, **overrides})


def training(**overrides) -> Training:
    values = dict(task=TASK, model_config=MODEL, train_config=budget())
    return Training(**{**values, **overrides})


def where_trained(model) -> dict:
    """A `Training.after`: what the trained model is like where it trained (pickled by
    value to a Ray worker; see the ray_ex fixture)."""
    probe = model.task.held_out(40, seed=PROBE_SEED)
    return {"pid": os.getpid(), "params": model.count_params(),
            "predicted": Decoder(model).predict_ids(probe.source).tolist()}


def broken_after(model):
    raise ZeroDivisionError("scoring went wrong")


def wait_for(condition, timeout: float, what: str, every: float = 0.05):
    """Poll `condition()` until it is truthy (returns it) or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g} s for {what}")
        time.sleep(every)


def chunks(job) -> int:
    return len(job.snapshot().history)


def finish(job, timeout: float = 120) -> sc.Snapshot:
    job.join(timeout)
    assert not job.is_alive, f"the training did not end within {timeout} s"
    return job.snapshot()


def stop_all(*jobs) -> None:
    for job in jobs:
        job.stop()
    for job in jobs:
        job.join(60)


# ---- the executors ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ray_ex():
    """This process's Ray executor with a local Ray of 2 CPUs, started through the executor
    (as the app and the CLI start it) and shut down after the module."""
    import ray
    from ray import cloudpickle

    ex = executors.ray_executor()
    ex.num_cpus = 2
    ex.ensure()
    assert ray.is_initialized() and ex.started
    assert ex.start_seconds is not None and ex.start_seconds > 0
    # `Training.after` functions defined here travel to the workers by value: a worker
    # cannot import this test module.
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        yield ex
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
        executors.shutdown()
    assert not ray.is_initialized() and not ex.started


@pytest.fixture(params=["local", "ray"])
def executor(request):
    """Each protocol test runs once in this process and once on Ray."""
    if request.param == "local":
        return executors.LOCAL
    return request.getfixturevalue("ray_ex")


def test_the_ray_executor_started_a_local_ray_of_two_cpus(ray_ex):
    import ray

    assert ray.is_initialized()
    assert ray.cluster_resources().get("CPU") == 2
    cap = ray_ex.capacity()
    assert (cap.executor, cap.cpus, cap.gpus, cap.nodes, cap.started) == ("ray", 2, 0, 1, True)
    assert cap.workers == 2 and cap.describe() == "Ray (local): 2 CPUs, 0 GPUs"
    assert executors.ray_executor() is ray_ex  # one per process
    with pytest.raises(sc.InvalidInput, match="cannot also attach to 10.0.0.5:6379"):
        executors.ray_executor("10.0.0.5:6379")
    assert executors.LOCAL.capacity().executor == "local" and executors.LOCAL.name == "local"


def test_the_local_ray_is_on_loopback_only(ray_ex):
    import ray

    addresses = {n["NodeManagerAddress"] for n in ray.nodes() if n.get("Alive")}
    assert addresses == {LOOPBACK}, f"the local Ray's node is at {addresses}"
    assert ray.get_runtime_context().gcs_address.startswith(LOOPBACK + ":")


# ---- the protocol suite: both executors ---------------------------------------------------
def test_a_job_speaks_the_training_job_protocol_before_it_starts(executor, request):
    job = executor.train(training())
    assert isinstance(job, TrainingJob)


def test_start_then_snapshot_shows_progress_and_chunks(executor):
    job = executor.train(training(train_config=budget(max_seconds=5.0)))
    assert job.executor == executor.name
    assert job.status == Status.READY and not job.is_alive
    assert (job.task, job.model_config) == (TASK, MODEL)
    assert job.train_config == budget(max_seconds=5.0)
    records, chunk_threads, ends = [], set(), []

    def on_chunk(record):
        records.append(record)
        chunk_threads.add(threading.current_thread())

    def on_end():
        ends.append((job.status, threading.current_thread()))

    job.start(on_chunk=on_chunk, on_end=on_end)
    assert job.status.active  # at once, even while it waits for a worker: Stop works
    try:
        wait_for(lambda: chunks(job), 90, "the first chunk")
        snap = job.snapshot()
        assert snap.status == Status.RUNNING and job.is_alive
        assert 0 < snap.progress < 1 and snap.samples_seen > 0 and snap.train_seconds > 0
        assert snap.latest.chunk == len(snap.history) and snap.seconds_left is not None
        assert snap.live and all(p.input for p in snap.live)
    finally:
        final = finish(job)
    assert final.status == Status.FINISHED, (final.status, final.error)
    assert final.reason == "used the time budget of 5 s"
    assert final.progress == 1.0 and final.seconds_left == 0.0 and final.train_seconds >= 5.0
    history = final.history
    assert [r.chunk for r in history] == list(range(1, len(history) + 1)) and len(history) >= 2
    assert all(a.samples_seen < b.samples_seen for a, b in zip(history, history[1:]))
    assert final.samples_seen == history[-1].samples_seen
    # the callbacks: once per chunk, in order, then on_end once, in threads of this process
    assert records == list(history)
    assert len(ends) == 1 and ends[0][0] == Status.FINISHED
    main = threading.main_thread()
    assert main not in chunk_threads and ends[0][1] is not main


def test_a_run_reaches_its_target_and_brings_its_model_back(executor):
    job = executor.train(training(model_config=sc.ModelConfig(arch="attention", units=16),
                                  train_config=budget(target_accuracy=0.95,
                                                      eval_samples=100),
                                  after=where_trained))
    job.start()
    snap = finish(job)
    assert isinstance(job, TrainingJob)
    assert snap.status == Status.FINISHED, (snap.status, snap.reason, snap.error)
    assert snap.reason.startswith("reached ") and snap.latest.exact_match >= 0.95
    assert snap.train_seconds < 60  # the target ended it, not the time budget
    # the real number: the model that came back, on fresh held-out examples
    model = job.model
    assert model is job.model  # loaded once
    assert evaluate(model, 500, seed=4242).exact_match >= 0.85  # 0.94 to 0.98 seen
    data = job.result()
    assert isinstance(data, bytes) and len(data) > 1000
    loaded = sc.from_bytes(data)
    probe = TASK.held_out(40, seed=PROBE_SEED)
    decoded = Decoder(model).predict_ids(probe.source)
    np.testing.assert_array_equal(Decoder(loaded).predict_ids(probe.source), decoded)
    assert evaluate(loaded, 200, seed=7).exact_match == evaluate(model, 200, seed=7).exact_match
    # what it reports about itself
    built = sc.Seq2Seq.build(TASK, job.model_config).count_params()
    assert job.params == model.count_params() == loaded.count_params() == built
    assert job.device and "CPU" in job.device and snap.device == job.device
    # Training.after ran where it trained, on the model that came back
    outcome = job.outcome
    assert outcome["params"] == job.params and outcome["predicted"] == decoded.tolist()
    if executor.name == "local":
        assert outcome["pid"] == os.getpid()
    else:
        assert outcome["pid"] != os.getpid()


def test_stop_ends_the_run(executor):
    job = executor.train(training(after=where_trained))
    job.start()
    try:
        wait_for(lambda: chunks(job) >= 2, 90, "two chunks")
    finally:
        job.stop()
    snap = finish(job, 60)
    assert snap.status == Status.STOPPED and snap.reason == "stopped by the user"
    assert snap.train_seconds < 60 and snap.samples_seen > 0
    assert job.outcome is None  # `after` runs on finished runs only
    assert sc.from_bytes(job.result()).count_params() == job.params  # a stopped run keeps its model


def test_pause_holds_the_run_steps_one_batch_and_resume_continues_it(executor):
    job = executor.train(training())
    began = time.monotonic()
    job.start()
    try:
        wait_for(lambda: chunks(job), 90, "the first chunk")
        job.pause()
        wait_for(lambda: job.status == Status.PAUSED, 10, "the run to show paused")
        time.sleep(1.5)  # a chunk scored just before the pause may still arrive (Ray polls)
        held = job.snapshot()
        assert held.status == Status.PAUSED and job.is_alive
        time.sleep(3.0)
        later = job.snapshot()
        assert later.status == Status.PAUSED
        assert len(later.history) == len(held.history)
        assert later.samples_seen == held.samples_seen
        # while paused: watch an input, then step exactly one batch, which decodes it
        with pytest.raises(sc.InvalidInput, match="Watched input '1 2 9'"):
            job.watch(["1 2 9"])
        job.watch(["1 2 3"])
        assert job.step_batch()
        wait_for(lambda: chunks(job) == len(held.history) + 1, 30, "the stepped batch")
        stepped = job.snapshot()
        assert len(stepped.history[-1].batch_losses) == 1
        assert stepped.samples_seen == held.samples_seen + 32
        assert [text for text, _ in stepped.history[-1].watched] == ["1 2 3"]
        # its gates after that chunk came along (from the worker, on Ray), one per input
        (cell,) = stepped.cells
        assert cell.input_text == "1 2 3" and cell.output_text == stepped.history[-1].watched[0][1]
        assert stepped.history[-1].gate_saturation == (pytest.approx(cell.saturation()),)
        assert [x.key for x in cell.layers] == ["encoder 1", "decoder 1"]
        assert stepped.status == Status.PAUSED
        job.resume()
        wait_for(lambda: chunks(job) > len(held.history), 30, "a chunk after resume")
        assert job.status == Status.RUNNING
    finally:
        job.stop()
    snap = finish(job, 60)
    assert snap.status == Status.STOPPED
    # the 4.5 s it was held paused are not training time
    assert snap.train_seconds < time.monotonic() - began - 4.0


def test_resume_right_after_pause_is_not_lost(executor, request):
    job = executor.train(training(train_config=budget(chunk_batches=3)))
    job.start()
    try:
        wait_for(lambda: chunks(job), 90, "the first chunk")
        for attempt in range(6):
            job.pause()
            job.resume()
            time.sleep(0.6)  # both reached the worker; a chunk under way may still arrive
            seen = chunks(job)
            wait_for(lambda: chunks(job) > seen, 8,
                     f"a new chunk after pause+resume number {attempt + 1}")
        assert job.status == Status.RUNNING
    finally:
        job.stop()
        job.join(60)


def test_a_recorder_stores_the_run(executor, tmp_path):
    history = History(tmp_path / "h.sqlite3")
    job = executor.train(training(train_config=budget(max_samples=32 * 10 * 3)))  # 3 chunks
    recorder = history.track(job, name="tracked")
    assert history.list_runs()["status"].tolist() == ["running"]
    job.start(on_chunk=recorder, on_end=recorder.finish)
    snap = finish(job)
    assert snap.status == Status.FINISHED and snap.reason == "trained on 960 samples"
    assert recorder.ended
    info = history.get(recorder.run_id)
    assert (info.name, info.status, info.reason) == ("tracked", "finished", snap.reason)
    assert info.chunks == snap.history and len(info.chunks) == 3
    assert info.samples_seen == 960 and info.params == job.params
    assert info.exact_match == snap.latest.exact_match
    assert info.device == job.device and "CPU" in info.device
    assert (info.model_config, info.train_config, info.settings) == (
        MODEL, job.train_config, TASK.settings)
    assert History(history.path).list_runs()["device"].tolist() == [job.device]


def test_a_failing_training_reports_its_error(executor, tmp_path):
    history = History(tmp_path / "h.sqlite3")
    job = executor.train(training(train_config=budget(max_samples=320), after=broken_after))
    recorder = history.track(job)
    job.start(on_chunk=recorder, on_end=recorder.finish)
    snap = finish(job)
    assert snap.status == Status.FAILED and snap.reason == "training failed"
    assert snap.error == "ZeroDivisionError: scoring went wrong"
    info = history.get(recorder.run_id)
    assert (info.status, info.error) == ("failed", snap.error)


# ---- what only Ray does --------------------------------------------------------------------
@pytest.mark.parametrize("config", [
    dict(arch="attention", attention="luong"), dict(arch="repeat", decoder_units=11),
    dict(cell="gru", layers=2, bidirectional=True, embedding=4)])
def test_a_ray_handle_knows_its_parameters_before_it_trains(ray_ex, config):
    model_config = sc.ModelConfig(units=8, **config)
    job = ray_ex.train(training(model_config=model_config))  # not started: no worker yet
    assert job.params == parameter_count(TASK, model_config)
    assert job.params == sc.Seq2Seq.build(TASK, model_config).count_params()


def test_a_worker_is_reused_for_the_next_training(ray_ex):
    first = ray_ex.train(training(train_config=budget(max_samples=640), after=where_trained))
    first.start()
    assert finish(first).status == Status.FINISHED
    idle = ray_ex.idle_workers()
    assert idle >= 1  # its worker went back to the pool
    second = ray_ex.train(training(train_config=budget(max_samples=640), after=where_trained))
    second.start()
    try:
        wait_for(lambda: second.snapshot().device, 60, "the second training to begin")
        assert ray_ex.idle_workers() < idle  # it took a worker from the pool
    finally:
        snap = finish(second)
    assert snap.status == Status.FINISHED
    assert second.outcome["pid"] == first.outcome["pid"]  # the same worker process
    assert ray_ex.idle_workers() >= 1


def test_a_training_waiting_for_a_worker_gets_the_next_free_one(ray_ex):
    first, second = ray_ex.train(training()), ray_ex.train(training())
    waiting = ray_ex.train(training(train_config=budget(max_samples=640)))
    try:
        first.start()
        second.start()
        wait_for(lambda: chunks(first) and chunks(second), 90, "two trainings on the 2 CPUs")
        waiting.start()
        time.sleep(2.0)
        snap = waiting.snapshot()  # no CPU left: it waits for a worker, and Stop would work
        assert (snap.status, snap.reason, snap.device) == (
            Status.RUNNING, "waiting for a Ray worker", "")
        first.stop()
        first.join(60)
        assert first.status == Status.STOPPED
        wait_for(lambda: chunks(waiting), 20,
                 "the waiting training to begin once the first one freed its worker")
        assert finish(waiting, 60).status == Status.FINISHED
    finally:
        stop_all(waiting, second, first)


def _sweep_config(seconds: float) -> SweepConfig:
    return SweepConfig(task="reverse", settings=sc.settings_for("reverse", n_out=1, cardinality=5),
                       complexity_key="n_in", complexity_values=(2, 3), units_values=(4, 8),
                       model_config=sc.ModelConfig(units=4),
                       train_config=budget(max_seconds=seconds, chunk_batches=5,
                                           eval_samples=20))


def test_a_sweep_trains_two_cells_at_once_on_ray(ray_ex, tmp_path):
    import ray

    # Two workers that have paid for their TensorFlow import: this test is about a sweep
    # training two cells at once, not about how fast a busy machine starts a process (a
    # cell done before a new worker is up hands its worker on, as the pool should).
    warm = [w for w in (ray_ex.take_idle(), ray_ex.take_idle()) if w is not None]
    warm += [ray_ex.new_worker() for _ in range(2 - len(warm))]
    ray.get([w.pid.remote() for w in warm], timeout=180)
    for worker in warm:
        ray_ex.release(worker)
    history = History(tmp_path / "h.sqlite3")
    sweep = Sweep(_sweep_config(2.5), history, executor=ray_ex, workers=2)
    assert (sweep.executor, sweep.workers) == ("ray", 2)
    sweep.start()
    most = 0
    deadline = time.monotonic() + 240
    while sweep.is_alive and time.monotonic() < deadline:
        progress = sweep.progress()
        assert len(progress.running) <= 2
        most = max(most, sum(1 for _, share in progress.running if share > 0))
        time.sleep(0.05)
    sweep.join(10)
    assert not sweep.is_alive
    assert most == 2, "never saw two cells training at the same time"
    progress = sweep.progress()
    assert (progress.status, progress.done, progress.trained, progress.fraction) == (
        "finished", 4, 4, 1.0)
    results = sweep.results()
    assert results.status.tolist() == ["finished"] * 4
    assert (results.train_seconds >= 2.5).all() and results.exact_match.between(0, 1).all()
    runs = history.list_runs(sweep.sweep_id)
    assert len(runs) == 4 and set(runs.status) == {"finished"}
    assert sorted(runs.id) == sorted(results.run_id)
    assert all("CPU" in d for d in runs.device)
    assert saved_sweeps(history)["config"][0]["status"] == "finished"


def test_a_study_on_ray_gives_rows_for_every_model(ray_ex, tmp_path):
    history = History(tmp_path / "h.sqlite3")
    cfg = StudyConfig(task="reverse", comparison="attention", lengths=(3, 4), units=8,
                      cardinality=5, max_seconds=3.0, eval_samples=50, batch_size=32)
    runner = study_runner(cfg, history, executor=ray_ex, workers=2)
    assert runner.workers == 2 and len(runner.plans) == 4
    runner.start()
    runner.join(240)
    assert not runner.is_alive
    assert runner.status == Status.FINISHED, runner.error
    rows = runner.result()
    assert sorted((r["variant"], r["length"]) for r in rows) == [
        ("attention", 3), ("attention", 4), ("no attention", 3), ("no attention", 4)]
    assert all(0 <= r["exact_match"] <= 1 and r["samples"] == 50 and r["train_seconds"] > 0
               for r in rows)
    runs = history.list_runs(runner.tag)
    assert len(runs) == 4 and set(runs.status) == {"finished"}
    assert len(saved_studies(history)) == 1


def test_stop_during_a_ray_sweep(ray_ex, tmp_path):
    history = History(tmp_path / "h.sqlite3")
    sweep = Sweep(_sweep_config(60.0), history, executor=ray_ex, workers=2)
    sweep.start()
    try:
        wait_for(lambda: sum(1 for _, share in sweep.progress().running if share > 0) == 2,
                 120, "two cells training", every=0.2)
    finally:
        sweep.stop()
    sweep.join(60)
    assert not sweep.is_alive
    progress = sweep.progress()
    assert progress.status == Status.STOPPED and progress.done == 2 and progress.trained == 0
    assert [c.index for c in progress.cut_short] == [0, 1]
    results = sweep.results()
    assert results.status.tolist() == ["cut short", "cut short", "not run", "not run"]
    assert results[["exact_match", "train_seconds"]].isna().all().all()
    runs = history.list_runs(sweep.sweep_id)
    assert len(runs) == 2 and runs.status.tolist() == ["stopped", "stopped"]
    assert (runs.train_seconds < 60).all() and (runs.chunks > 0).all()
    assert saved_sweeps(history)["config"][0]["status"] == "stopped"


# ---- the app without Ray -----------------------------------------------------------------
APP_WITHOUT_RAY = """
import json, os, sys
from streamlit.testing.v1 import AppTest

seen = {}
at = AppTest.from_file("app.py", default_timeout=60).run()
seen["home"] = ("ray" in sys.modules, [e.value for e in at.exception])
for page in ("app_pages/sweep.py", "app_pages/study.py"):
    at.switch_page(page).run()
    seen[page] = ("ray" in sys.modules, [e.value for e in at.exception])
os.environ["SEQ2SEQ_EXECUTOR"] = "ray"  # even with every training going to Ray
at = AppTest.from_file("app.py", default_timeout=60).run()
seen["home, executor ray"] = ("ray" in sys.modules, [e.value for e in at.exception])
print(json.dumps(seen))
"""


def test_starting_the_app_does_not_import_ray(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in (executors.EXECUTOR_ENV, executors.ADDRESS_ENV)}
    env.update(SEQ2SEQ_LAB_DATA=str(tmp_path / "lab"), TF_CPP_MIN_LOG_LEVEL="2")
    done = subprocess.run([sys.executable, "-c", APP_WITHOUT_RAY], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"home": [False, []], "app_pages/sweep.py": [False, []],
                    "app_pages/study.py": [False, []], "home, executor ray": [False, []]}
