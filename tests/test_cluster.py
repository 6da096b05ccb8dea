"""Trainings on a two-node Ray cluster on this machine (`ray.cluster_utils.Cluster`), driven
through the CLI: a sweep with a cell on each node, `train --address`, and a node lost in the
middle of a sweep.

One process holds at most one Ray driver, so this process never calls ray.init: it only
starts the cluster's nodes (a head and a worker node of 1 CPU each, both on 127.0.0.1), and
every driver is a `python -m seq2seq_core ... --address` subprocess.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from seq2seq_core.executors import ADDRESS_ENV, EXECUTOR_ENV, WORKER_LOST
from seq2seq_core.history import DB_NAME, History

ROOT = Path(__file__).resolve().parents[1]
LOOPBACK = "127.0.0.1"
PYTHON = str(ROOT / ".venv" / "bin" / "python")
PYTHON = PYTHON if Path(PYTHON).exists() else sys.executable
# A tiny sweep: addition with 2 or 3 terms, 16 or 24 units, every cell on its time budget.
SWEEP = ["sweep", "--task", "addition", "--vary", "n_terms=2,3", "--units", "16,24",
         "--set", "chunk_batches=5", "--set", "eval_samples=50", "--workers", "2", "--record"]


class Nodes:
    """The cluster and its worker node (the one a test may take away and replace)."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.worker = None

    @property
    def address(self) -> str:
        return self.cluster.address

    def add_worker(self):
        self.worker = self.cluster.add_node(num_cpus=1, node_ip_address=LOOPBACK)
        self.cluster.wait_for_nodes()
        return self.worker


@pytest.fixture(scope="module")
def nodes():
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray
    from ray.cluster_utils import Cluster

    from seq2seq_core import executors

    executors.shutdown()  # a Ray that earlier tests (e.g. a page's parallel study) started
    assert not ray.is_initialized(), "this process must not be a Ray driver"
    cluster = Cluster(initialize_head=True, connect=False,
                      head_node_args={"num_cpus": 1, "node_ip_address": LOOPBACK})
    try:
        found = Nodes(cluster)
        found.add_worker()
        assert found.address.startswith(LOOPBACK + ":")
        yield found
    finally:
        cluster.shutdown()
    assert not ray.is_initialized()


def cli_env(data: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in (ADDRESS_ENV, EXECUTOR_ENV, "RAY_ADDRESS")}
    # No RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER here: the executor itself keeps a loopback
    # --address on loopback (Ray would otherwise rewrite it to this machine's network IP).
    env.update(SEQ2SEQ_LAB_DATA=str(data), TF_CPP_MIN_LOG_LEVEL="2",
               RAY_USAGE_STATS_ENABLED="0")
    return env


def cli(args: list[str], data: Path, timeout: float = 240) -> tuple[dict, list[str]]:
    """Run the CLI; its last stdout line parsed as JSON, and all its stdout lines."""
    done = subprocess.run([PYTHON, "-m", "seq2seq_core", *args], cwd=ROOT, env=cli_env(data),
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-4000:])
    lines = done.stdout.strip().splitlines()
    return json.loads(lines[-1]), lines


def test_a_sweep_on_a_two_node_cluster(nodes, tmp_path):
    summary, lines = cli([*SWEEP, "--set", "max_seconds=3", "--address", nodes.address],
                         tmp_path)
    assert lines[0].endswith("4 cells, 2 at a time (ray)"), lines[0]
    assert (summary["executor"], summary["workers"], summary["status"]) == ("ray", 2, "finished")
    assert summary["task"] == "addition" and summary["vary"] == "n_terms"
    assert isinstance(summary["wall_seconds"], float) and summary["wall_seconds"] > 0
    assert summary["capacity"] == f"Ray (cluster at {nodes.address}): 2 CPUs, 0 GPUs, 2 nodes"
    cells = summary["cells"]
    assert [(c["n_terms"], c["units"]) for c in cells] == [(2, 16), (2, 24), (3, 16), (3, 24)]
    for cell in cells:
        assert cell["status"] == "finished", cell
        assert 0 <= cell["exact_match"] <= 1 and cell["train_seconds"] > 0
        assert cell["samples_seen"] > 0 and cell["params"] > 0
    runs = History(tmp_path / DB_NAME).list_runs()
    assert len(runs) == 4 and set(runs.status) == {"finished"}
    assert sorted(runs.id) == sorted(c["run_id"] for c in cells)
    assert all("CPU" in device for device in runs.device)


def test_train_with_an_address(nodes, tmp_path):
    saved = tmp_path / "model.s2s"
    summary, lines = cli(["train", "--task", "reverse", "--set", "n_in=3", "--set", "n_out=2",
                          "--set", "cardinality=5", "--set", "units=16", "--set",
                          "batch_size=32", "--set", "learning_rate=0.02", "--set",
                          "chunk_batches=10", "--set", "eval_samples=100",
                          "--until-accuracy", "0.95", "--max-seconds", "60",
                          "--eval-samples", "300", "--save", str(saved),
                          "--address", nodes.address], tmp_path)
    assert f"Ray (cluster at {nodes.address}): 2 CPUs, 0 GPUs, 2 nodes" in lines[0]
    assert summary["executor"] == "ray" and "CPU" in summary["device"]
    assert summary["stopped_because"].startswith("reached ")
    assert summary["exact_match"] >= 0.85 and summary["eval_samples"] == 300
    assert summary["saved"] == str(saved) and saved.stat().st_size > 1000
    import seq2seq_core as sc
    assert sc.load(saved).count_params() == summary["params"]


def _wait_for_two_training(history_path: Path, process, timeout: float = 150):
    """Wait until two runs of the sweep have trained a chunk (both nodes busy)."""
    deadline = time.monotonic() + timeout
    history = None
    while time.monotonic() < deadline:
        assert process.poll() is None, "the sweep ended before its cells trained"
        if history is None and history_path.exists():
            history = History(history_path)
        if history is not None:
            runs = history.list_runs()
            busy = runs[(runs.status == "running") & (runs.chunks > 0)]
            if len(busy) == 2:
                return history
        time.sleep(0.3)
    raise AssertionError(f"two cells did not train at once within {timeout} s")


def test_a_lost_node_fails_only_the_cell_it_trained(nodes, tmp_path):
    """The worker node goes away in the middle of two cells: the cell it trained fails with
    WORKER_LOST, the sweep goes on and every other cell finishes."""
    args = [PYTHON, "-m", "seq2seq_core", *SWEEP, "--set", "max_seconds=7", "--set",
            "target_accuracy=none", "--set", "max_samples=20000000",
            "--address", nodes.address]
    process = subprocess.Popen(args, cwd=ROOT, env=cli_env(tmp_path), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        history = _wait_for_two_training(tmp_path / DB_NAME, process)
        nodes.cluster.remove_node(nodes.worker, allow_graceful=False)
        # No machine replaces it: the cells still to come take the head's worker, handed
        # over from the pool as soon as the other cell is done with it.
        out, err = process.communicate(timeout=180)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 1, (out[-2000:], err[-4000:])  # a cell failed
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["status"] == "finished" and summary["error"] == ""
    cells = summary["cells"]
    failed = [i for i, c in enumerate(cells) if c["status"] == "failed"]
    assert len(failed) == 1 and failed[0] in (0, 1), cells  # one of the two cells training
    lost = cells[failed[0]]
    assert lost["reason"] == WORKER_LOST and "stopped unexpectedly" in lost["reason"]
    assert lost["exact_match"] is None and lost["train_seconds"] is None
    others = [c for i, c in enumerate(cells) if i != failed[0]]
    assert [c["status"] for c in others] == ["finished"] * 3, cells
    assert all(c["train_seconds"] >= 7 for c in others)
    runs = history.list_runs()
    assert len(runs) == 4 and "running" not in set(runs.status)
    assert sorted(runs.status) == ["failed", "finished", "finished", "finished"]
    info = history.get(lost["run_id"])
    assert (info.status, info.reason, info.error) == ("failed", "the Ray worker stopped",
                                                       WORKER_LOST)
    assert info.chunks  # it had trained when its node went away
    assert summary["capacity"].startswith(f"Ray (cluster at {nodes.address}): 1 CPU,")
