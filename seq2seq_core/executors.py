"""Where trainings run: in threads of this process, or in Ray workers (a local Ray or a cluster).

Both executors turn a `jobs.Training` into a `jobs.TrainingJob`. `LOCAL` (in-process, the
default) starts as fast as ever and needs no cluster. `RayExecutor` starts a local Ray on
its first training (with the CPUs this server allows), or attaches to a cluster given by
`--address` or `$SEQ2SEQ_RAY_ADDRESS`; Ray is imported only then, so the app starts
without it. Each training runs in a long-lived worker actor that trains one model at a
time (its TensorFlow import is paid once) and goes back to a pool when the training ends.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from .budget import parameter_count
from .errors import InvalidInput
from .jobs import Training
from .settings import setting
from .status import Status
from .training import Background, Snapshot, Trainer, check_watched, snapshot_of

log = logging.getLogger(__name__)

EXECUTOR_ENV = "SEQ2SEQ_EXECUTOR"  # "local" (default) or "ray": where Train-page runs go
ADDRESS_ENV = "SEQ2SEQ_RAY_ADDRESS"  # a Ray cluster to attach to, e.g. 10.0.0.5:6379
CPUS_ENV = "SEQ2SEQ_RAY_CPUS"  # CPUs a local Ray may use (default: all of them)
CPUS_PER_TRAINING_ENV = "SEQ2SEQ_RAY_CPUS_PER_TRAINING"  # Ray CPUs one training holds
GPUS_PER_TRAINING_ENV = "SEQ2SEQ_RAY_GPUS_PER_TRAINING"  # default: 0.25 where GPUs exist
NAMES = ("local", "ray")
LABELS = {"local": "this server's process", "ray": "a Ray worker"}  # where one training runs
PACKAGE = Path(__file__).resolve().parent
POLL_SECONDS = 0.5
START_SECONDS = 120.0  # Ray must start (or attach) within this
CAPACITY_SECONDS = 5.0  # how long the cluster's size, once asked, is shown without asking again
IDLE_SECONDS = 120.0  # an idle worker is ended after this long
SILENT_SECONDS = 300.0  # a worker that answers no poll for this long is taken for lost
WORKER_LOST = ("The Ray worker training this run stopped unexpectedly (it crashed, ran out of "
               "memory or lost its machine), so this run failed. Other runs are not affected; "
               "start it again, perhaps with fewer units or a smaller batch.")


@dataclass(frozen=True)
class Placement:
    """How a sweep or a study runs its trainings."""

    workers: int = setting(1, "Trainings at once", low=1, high=64,
                           help="How many of its models train at the same time, each in its "
                                "own Ray worker process (1: one after another in this server's "
                                "process, no Ray needed). The default is what this machine or "
                                "cluster offers; more than that wait for a free worker.")


@dataclass(frozen=True)
class Capacity:
    """What an executor offers: CPUs and GPUs, and whether it has started."""

    executor: str
    cpus: float
    gpus: float = 0.0
    nodes: int = 1
    address: str = ""
    started: bool = True
    per_training: float = 1.0  # Ray CPUs one training holds
    error: str = ""  # why Ray could not be asked (it is unreachable)

    @property
    def workers(self) -> int:
        """How many trainings it runs at once (1 for this process: one after another)."""
        if self.executor != "ray":
            return 1
        return max(1, int(self.cpus // max(self.per_training, 1e-9)))

    def describe(self, show_address: bool = True) -> str:
        """ "Ray (local): 2 CPUs, 0 GPUs" and the like, for the page's sidebar."""
        if self.executor == "local":
            return f"In this server's process ({_count(self.cpus, 'CPU')}, one training per thread)"
        where = (f"cluster at {self.address}" if show_address else "a cluster") \
            if self.address else "local"
        if self.error:
            return f"Ray ({where}): unreachable now ({self.error})"
        if not self.started:
            verb = "connects" if self.address else "starts"
            size = f"up to {_count(self.cpus, 'CPU')}" if self.cpus else "its CPUs and GPUs"
            return f"Ray ({where}): {verb} with the first training, {size}"
        nodes = f", {self.nodes} nodes" if self.nodes > 1 else ""
        return f"Ray ({where}): {_count(self.cpus, 'CPU')}, {_count(self.gpus, 'GPU')}{nodes}"


def _count(n: float, word: str) -> str:
    n = int(n) if float(n).is_integer() else n
    return f"{n:g} {word}" + ("" if n == 1 else "s")


class InProcess:
    """Trainings in daemon threads of this process (`training.Trainer`)."""

    name = "local"
    label = LABELS["local"]
    started = True

    def prepare(self) -> None:
        """Nothing to start."""

    def train(self, training: Training) -> Trainer:
        return Trainer.of(training)

    def capacity(self) -> Capacity:
        return Capacity("local", float(os.cpu_count() or 1))


LOCAL = InProcess()


def _env_number(name: str, default: float, low: float = 0.0, high: float = 1e6) -> float:
    """A number from the environment within [low, high]; else (logged) the default."""
    raw = os.environ.get(name, "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        log.warning("ignoring %s=%r: not a number from %g to %g", name, raw, low, high)
        return default
    return value


class RayExecutor:
    """Trainings in Ray worker actors; Ray starts (or attaches) on the first training."""

    name = "ray"
    label = LABELS["ray"]

    def __init__(self, address: str | None = None, num_cpus: int | None = None):
        self.address = address or os.environ.get(ADDRESS_ENV, "").strip() or None
        self.num_cpus = num_cpus or int(_env_number(CPUS_ENV, os.cpu_count() or 1, 1, 4096))
        self.cpus_per_training = _env_number(CPUS_PER_TRAINING_ENV, 1.0, 0.25, 256)
        self.start_seconds: float | None = None  # what starting (or attaching to) Ray took
        self._lock = threading.Lock()
        self._idle: list[tuple[object, float]] = []
        self._actor_class = None
        self._release = threading.Event()  # set by shutdown(): the Ray thread may end
        self._starting = threading.Lock()  # held while Ray starts (not the pool's lock)
        self._seen: tuple[float, Capacity] | None = None  # the last capacity asked, and when

    # ---- Ray itself -------------------------------------------------------------------------
    @property
    def started(self) -> bool:
        return "ray" in sys.modules and sys.modules["ray"].is_initialized()

    def ensure(self) -> None:
        """Start a local Ray, or attach to the cluster, unless this process already has.

        Ray is started from a thread of its own that lives until `shutdown()`: Linux ends a
        local Ray's processes when the *thread* that started them ends (PR_SET_PDEATHSIG),
        and a Streamlit script thread ends with every rerun.
        """
        with self._starting:
            if self.started:
                return
            ready, failure = threading.Event(), []

            def keep() -> None:
                try:
                    self._init()
                except BaseException as err:  # noqa: BLE001 - raised in the caller below
                    failure.append(err)
                ready.set()
                if not failure:
                    self._release.wait()
            self._release = threading.Event()
            threading.Thread(target=keep, name="seq2seq-ray", daemon=True).start()
            if not ready.wait(START_SECONDS):
                raise InvalidInput(f"Ray did not start within {START_SECONDS:.0f} s.")
            if failure:
                raise failure[0]

    def prepare(self) -> None:
        """Start Ray now (before a sweep's first training), so its cost is paid once."""
        self.ensure()

    def _init(self) -> None:
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # nothing leaves the machine
        if self.address:
            _check_reachable(self.address)
        if not self.address or _is_loopback(self.address):
            _stay_on_loopback()
        import ray

        began = time.perf_counter()
        options = {"include_dashboard": False, "log_to_driver": False,
                   "logging_level": logging.WARNING, "configure_logging": False}
        env = {"TF_CPP_MIN_LOG_LEVEL": "2", "RAY_USAGE_STATS_ENABLED": "0",
               "TF_FORCE_GPU_ALLOW_GROWTH": "true"}
        # A driver that loses the cluster's head must not end this process (the server):
        # Ray's default is to exit after 60 s without it.
        os.environ.setdefault("RAY_gcs_rpc_server_reconnect_timeout_s", "86400")
        if self.address:
            # Other machines get this package from the cluster; they need the project's
            # requirements installed (README: "Bigger than one machine").
            ray.init(address=self.address, runtime_env={"py_modules": [str(PACKAGE)],
                                                        "env_vars": env}, **options)
        else:
            # "local": a Ray of its own, even if another runs on this machine.
            ray.init(address="local", num_cpus=self.num_cpus, _node_ip_address="127.0.0.1",
                     object_store_memory=200 * 2**20,
                     runtime_env={"env_vars": {**env, "PYTHONPATH": str(PACKAGE.parent)}},
                     **options)
        self.start_seconds = time.perf_counter() - began
        log.info("Ray started in %.1f s", self.start_seconds)

    def capacity(self) -> Capacity:
        """The cluster's CPUs and GPUs once Ray runs (asked at most every CAPACITY_SECONDS:
        every page shows it); before that, what a local one would get."""
        if not self.started:
            return Capacity("ray", 0.0 if self.address else float(self.num_cpus),
                            address=self.address or "", started=False,
                            per_training=self.cpus_per_training)
        seen = self._seen
        if seen is not None and time.monotonic() - seen[0] < CAPACITY_SECONDS:
            return seen[1]
        try:
            import ray

            total = ray.cluster_resources()
            nodes = sum(1 for n in ray.nodes() if n.get("Alive"))
            found = Capacity("ray", float(total.get("CPU", 0)), float(total.get("GPU", 0)),
                             nodes, self.address or "", True, self.cpus_per_training)
        except Exception as err:  # noqa: BLE001 - the head is gone: say so, keep the page
            found = Capacity("ray", 0.0, address=self.address or "", per_training=
                             self.cpus_per_training, error=type(err).__name__)
        self._seen = (time.monotonic(), found)
        return found

    # ---- trainings and the worker pool -----------------------------------------------------
    def train(self, training: Training) -> "RayTraining":
        self.ensure()
        return RayTraining(self, training)

    def _worker_class(self):
        import ray

        from .workers import TrainingWorker

        if self._actor_class is None:
            gpus = _env_number(GPUS_PER_TRAINING_ENV,
                               0.25 if ray.cluster_resources().get("GPU", 0) else 0.0, 0, 1)
            self._actor_class = ray.remote(TrainingWorker).options(
                num_cpus=self.cpus_per_training, num_gpus=gpus, max_concurrency=4,
                max_restarts=0)
        return self._actor_class

    def acquire(self):
        """(worker, fresh): an idle worker from the pool, or a new one (fresh; Ray starts it
        when resources free up)."""
        if (idle := self.take_idle()) is not None:
            return idle, False
        return self.new_worker(), True

    def new_worker(self):
        """A new worker actor (Ray starts it once resources are free)."""
        threads = max(1, round(2 * self.cpus_per_training))
        return self._worker_class().remote(threads)

    def take_idle(self):
        """An idle worker from the pool (None if there is none)."""
        with self._lock:
            self._end_idle(time.monotonic())
            return self._idle.pop()[0] if self._idle else None

    def release(self, worker) -> None:
        """Back to the pool, for the next training."""
        with self._lock:
            self._idle.append((worker, time.monotonic()))
        timer = threading.Timer(IDLE_SECONDS + 1.0, self._end_idle_now)
        timer.daemon = True
        timer.start()

    def discard(self, worker) -> None:
        import ray

        try:
            ray.kill(worker, no_restart=True)
        except Exception:  # noqa: BLE001 - already gone
            pass

    def _end_idle_now(self) -> None:
        with self._lock:
            self._end_idle(time.monotonic())

    def _end_idle(self, now: float) -> None:
        """End workers idle for longer than IDLE_SECONDS (caller holds the lock)."""
        keep = []
        for worker, since in self._idle:
            if now - since > IDLE_SECONDS:
                self.discard(worker)
            else:
                keep.append((worker, since))
        self._idle = keep

    def idle_workers(self) -> int:
        with self._lock:
            return len(self._idle)

    def shutdown(self) -> None:
        """End the pool's workers (and a local Ray this executor started)."""
        with self._lock:
            for worker, _ in self._idle:
                self.discard(worker)
            self._idle = []
            self._actor_class = None
        if self.started:
            sys.modules["ray"].shutdown()
        self._release.set()


class RayTraining(Background):
    """A training in a Ray worker, seen from this process (the job protocol).

    A watcher thread here starts it, polls the worker every POLL_SECONDS for new chunks
    (so `snapshot()` never waits on the network), calls `on_chunk` / `on_end`, and brings
    the trained model back as `.s2s` bytes when the training ends.
    """

    executor = "ray"

    def __init__(self, owner: RayExecutor, training: Training):
        self.training = training
        self.task = training.task
        self.model_config = training.model_config
        self.train_config = training.train_config
        self.params = parameter_count(training.task, training.model_config)
        self.device = ""
        self.outcome = None
        self._owner = owner
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._worker = None
        self._history: list = []
        self._live: tuple = ()
        self._cells: tuple = ()  # sent with new chunks only
        self._seen, self._secs = 0, 0.0
        self._status, self._reason, self._error = Status.READY, "waiting for a Ray worker", ""
        self._sent = 0  # pause/resume/step/stop calls sent to the worker, numbered
        self._watches = 0  # watched-input lists sent to the worker, numbered
        self._number = 0  # which of its worker's trainings this is
        self._held = None  # the worker acquired for it (to give back or end on failure)
        self._data: bytes | None = None
        self._model = None

    # ---- control ------------------------------------------------------------------------------
    @property
    def status(self) -> Status:
        return self._status

    def start(self, on_chunk=None, on_end=None) -> None:
        """Start watching; it counts as running (Stop works) while it waits for a worker."""
        with self._lock:
            if self.is_alive or self._status.ended:
                return
            self._status = Status.RUNNING
        self._launch(lambda: self._watch(on_chunk, on_end), "seq2seq-ray-training")

    def _control(self, action: str, status: Status | None = None, only_if=None) -> None:
        """Send pause/resume/stop to this training's worker (never to the next training a
        reused worker takes), numbered so the worker applies them in order."""
        with self._lock:
            if self._worker is None or self._status.ended or \
                    (only_if is not None and self._status != only_if):
                return
            self._sent += 1
            seq, worker, number = self._sent, self._worker, self._number
            if status is not None:
                self._status = status
        worker.control.remote(number, seq, action)

    def pause(self) -> None:
        self._control("pause", Status.PAUSED, only_if=Status.RUNNING)

    def resume(self) -> None:
        self._control("resume", Status.RUNNING, only_if=Status.PAUSED)

    def step_batch(self) -> bool:
        """One batch of the paused training; its chunk arrives with the next poll."""
        with self._lock:
            if self._status != Status.PAUSED or self._worker is None:
                return False
        self._control("step", only_if=Status.PAUSED)
        return True

    def watch(self, texts) -> None:
        """Watch these inputs (checked here first); sent to the worker now, or with the
        training when it begins."""
        clean = check_watched(self.task, texts)
        with self._lock:
            self.training = replace(self.training, watched=clean)
            self._watches += 1
            worker, number, seq = self._worker, self._number, self._watches
        if worker is not None and not self._status.ended:
            worker.watch.remote(number, seq, clean)

    def stop(self) -> None:
        self._stop.set()
        self._control("stop")

    # ---- the watcher ------------------------------------------------------------------------
    def _watch(self, on_chunk, on_end) -> None:
        import ray
        from ray.exceptions import RayError, RayTaskError

        try:
            worker, begun = self._begin()
            if worker is None:
                self._end(Status.STOPPED, "stopped before a Ray worker was free")
                return
            device, number = ray.get(begun)
            with self._lock:
                self.training = replace(self.training, start_from=None)  # the worker has it
                self.device, self._number, self._reason = device, number, ""
                self._worker = worker
                self._watches += 1
                watched, seq = self.training.watched, self._watches
            worker.watch.remote(number, seq, watched)  # they may have changed while it began
            if self._stop.is_set():
                self._control("stop")
            while not self._poll(worker, on_chunk).status.ended:
                time.sleep(POLL_SECONDS)
            ref = worker.finish.remote(len(self._history), self.training.keep_model)
            state, self.outcome, self._data = ray.get(ref, timeout=SILENT_SECONDS)
            self._take(state, on_chunk)
            self._end(state.status, state.reason, state.error)
            self._owner.release(worker)
        except RayTaskError as err:  # the training code raised inside the worker
            self._end(Status.FAILED, "training failed", _cause(err))
            if self._held is not None:
                self._owner.release(self._held)
        except (RayError, TimeoutError) as err:
            log.warning("Ray worker lost: %s", err)
            self._end(Status.FAILED, "the Ray worker stopped", WORKER_LOST)
            if self._held is not None:
                self._owner.discard(self._held)
        except Exception as err:  # noqa: BLE001 - reported to the page, never raised into it
            log.exception("Ray training failed")
            self._end(Status.FAILED, "training failed", f"{type(err).__name__}: {err}")
            if self._held is not None:
                self._owner.discard(self._held)
        finally:
            if on_end is not None:
                on_end()

    def _begin(self):
        """A worker that began this training: (worker, its begin() ref), or (None, None) if
        stopped first. A new worker may wait for free resources; meanwhile a pooled worker
        that turns idle (it holds resources) takes the training over, and the new one ends.
        A pooled worker found dead is replaced by a new one, once."""
        import ray
        from ray.exceptions import RayActorError

        worker, fresh = self._owner.acquire()
        self._held = worker
        begun = worker.begin.remote(self.training)
        while True:
            if ray.wait([begun], timeout=POLL_SECONDS)[0]:
                if fresh:
                    return worker, begun
                try:
                    ray.get(begun, timeout=SILENT_SECONDS)
                    return worker, begun
                except RayActorError:  # it died while it waited in the pool
                    self._owner.discard(worker)
                    worker, fresh = self._owner.new_worker(), True
                    self._held, begun = worker, worker.begin.remote(self.training)
                    continue
            if self._stop.is_set():
                self._owner.discard(worker)
                self._held = None
                return None, None
            if fresh and (idle := self._owner.take_idle()) is not None:
                self._owner.discard(worker)
                worker, fresh = idle, False
                self._held, begun = worker, worker.begin.remote(self.training)

    def _poll(self, worker, on_chunk):
        """One poll; a worker briefly unavailable is asked again until SILENT_SECONDS."""
        import ray
        from ray.exceptions import ActorUnavailableError

        deadline = time.monotonic() + SILENT_SECONDS
        while True:
            try:
                state = ray.get(worker.poll.remote(len(self._history)), timeout=SILENT_SECONDS)
                break
            except ActorUnavailableError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(POLL_SECONDS)
        self._take(state, on_chunk)
        # An ended one is marked once its model is back; a pause or resume not yet applied
        # there keeps the status it set here.
        with self._lock:
            if not state.status.ended and not self._status.ended and state.control >= self._sent:
                self._status = state.status
        return state

    def _take(self, state, on_chunk) -> None:
        with self._lock:
            self._history.extend(state.records)
            self._live, self._seen, self._secs = state.live, state.samples_seen, state.train_seconds
            if state.records:
                self._cells = state.cells
            self.device = state.device or self.device
        if on_chunk is not None:
            for record in state.records:
                on_chunk(record)

    def _end(self, status: Status, reason: str, error: str = "") -> None:
        """The final status; from here on no control reaches the worker (it may be reused)."""
        with self._lock:
            self._status, self._reason, self._error = status, reason, error
            self._worker = None

    # ---- reading --------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        with self._lock:
            return snapshot_of(self.train_config, self._status, self._reason, self._history,
                               self._live, self._seen, self._secs, self._error, self.device,
                               self._cells)

    def result(self) -> bytes:
        """The trained model's `.s2s` bytes, once the training ended with one."""
        if threading.current_thread() is not self._thread:
            self.join()
        if self._data is None and self._model is not None:
            from .persistence import to_bytes
            return to_bytes(self._model)
        if self._data is None:
            raise InvalidInput("This training brought no model back (it was stopped before "
                               "it trained, or it failed).")
        return self._data

    @property
    def model(self):
        """The trained model, loaded (and checked) from its bytes on first use; None while
        it trains, or when none came back (never waits)."""
        if self._model is None and self._data is not None and not self.is_alive:
            from .persistence import from_bytes
            self._model, self._data = from_bytes(self._data), None  # one copy is enough
        return self._model


def _stay_on_loopback() -> None:
    """Keep a one-machine Ray on 127.0.0.1: Ray 2.60 rewrites a loopback address to the
    machine's network address (so its servers listen on every interface) unless it is told
    that this is a one-machine Ray. Ray reads that switch when it is imported (the workers
    inherit it through the environment); where this process imported Ray already, the
    switch is set on the imported module too."""
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    constants = sys.modules.get("ray._private.ray_constants")
    if constants is not None:
        constants.ENABLE_RAY_CLUSTER = False


def _is_loopback(address: str) -> bool:
    host = address.split("://")[-1].rsplit(":", 1)[0]
    return host in ("127.0.0.1", "localhost", "::1")


def _check_reachable(address: str, seconds: float = 5.0) -> None:
    """A clear error at once for an address where no Ray answers (Ray itself retries for
    a minute or more)."""
    import socket

    host, _, port = address.split("://")[-1].rpartition(":")
    if not host or not port.isdigit():
        raise InvalidInput(f"A Ray address is HOST:PORT, e.g. 10.0.0.5:6379; got {address!r}.")
    try:
        socket.create_connection((host, int(port)), timeout=seconds).close()
    except OSError as err:
        raise InvalidInput(f"No Ray cluster answers at {address} ({err.strerror or err}). Start "
                           "one there with `ray start --head --port=PORT`, or check "
                           f"${ADDRESS_ENV} / --address.") from None


def _cause(err) -> str:
    cause = getattr(err, "cause", None)
    return f"{type(cause).__name__}: {cause}" if cause is not None else str(err).splitlines()[0]


# ---- which executor this server uses ---------------------------------------------------------
_RAY: RayExecutor | None = None
_SELECTED: str | None = None
_GUARD = threading.Lock()


def ray_executor(address: str | None = None) -> RayExecutor:
    """This process's Ray executor (one per process: Ray attaches to one cluster)."""
    global _RAY
    with _GUARD:
        if _RAY is None:
            _RAY = RayExecutor(address)
        elif address and address != _RAY.address:
            raise InvalidInput(f"This process already uses Ray at {_RAY.address or 'a local Ray'}; "
                               f"it cannot also attach to {address}.")
        return _RAY


def selected_name() -> str:
    """Where Train-page runs go: the teacher's choice, else $SEQ2SEQ_EXECUTOR, else local."""
    name = _SELECTED or os.environ.get(EXECUTOR_ENV, "").strip().lower() or "local"
    return name if name in NAMES else "local"


def select(name: str) -> None:
    """The teacher's setting: run every Train-page training here ("local") or on Ray."""
    global _SELECTED
    if name not in NAMES:
        raise InvalidInput(f"Choose an executor from {', '.join(NAMES)}; got {name!r}.")
    _SELECTED = name


def selected():
    return ray_executor() if selected_name() == "ray" else LOCAL


def for_runs(workers: int):
    """Where a sweep's or a study's trainings run: on Ray when it runs several at once or
    when the server runs everything on Ray, else in this process."""
    return ray_executor() if workers > 1 or selected_name() == "ray" else LOCAL


def capacity():
    """The selected executor's capacity, without starting Ray."""
    return selected().capacity()


def default_workers() -> int:
    """Trainings at once that a sweep proposes: what Ray (started or to start here) trains at
    once; 1 where Ray is not installed."""
    import importlib.util

    from .settings import spec

    if "ray" not in sys.modules and importlib.util.find_spec("ray") is None:
        return 1
    return int(min(ray_executor().capacity().workers, spec(Placement, "workers").high))


def shutdown() -> None:
    """End this process's Ray workers and its connection to Ray (the CLI, at exit)."""
    if _RAY is not None:
        _RAY.shutdown()
