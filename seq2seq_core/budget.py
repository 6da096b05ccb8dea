"""What a run costs (parameters, memory) and what a shared server allows, known before any
network is built.

`parameter_count` is exact (a test compares it with Keras for every architecture), so a page
or a link can show a network's size without allocating it. `estimate` adds the memory of one
training step and of one evaluation batch; `ServerLimits.check` refuses, with a message
that says what is allowed, what a class server cannot afford. The limits come from
environment variables, so a teacher sets them once for the server.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, fields

from .config import ModelConfig, TrainConfig
from .errors import InvalidInput
from .model_store import KeepModels

log = logging.getLogger(__name__)

FLOAT = 4
# Floats kept per unit and step for the backward pass (gates, states, their tanh).
ACTIVATIONS = {"lstm": 12, "gru": 10}
# Graph tracing and compilation of one network's steps (measured: benchmarks/costs.py).
OVERHEAD_BYTES = 64 * 1024 * 1024
EVAL_BATCH = 1024  # rows decoded at once (decoding.BATCH)
DRAW_ROWS = 8192   # rows sampled at once (feeding.Feeder)


def _rnn_params(cell: str, units: int, inputs: int) -> int:
    if cell == "lstm":
        return 4 * units * (inputs + units + 1)
    return 3 * units * (inputs + units + 2)  # GRU, reset_after=True as Keras builds it


def decoder_input_size(task) -> int:
    """The target vocabulary, plus a start symbol where the task has none of its own."""
    vocab = task.target_vocab
    return vocab.size if vocab.start is not None else vocab.size + 1


def _features(config: ModelConfig, vocab_size: int) -> int:
    return config.embedding or vocab_size


def parameter_count(task, config: ModelConfig) -> int:
    """The trainable parameters of the network `models.build_layers` makes, by formula."""
    c = config
    directions = 2 if c.bidirectional else 1
    total = task.source_vocab.size * c.embedding
    width = _features(c, task.source_vocab.size)
    for _ in range(c.layers):
        total += directions * _rnn_params(c.cell, c.units, width)
        width = c.state_units
    width = c.state_units if c.arch == "repeat" else _features(c, decoder_input_size(task))
    if c.feeds_back:
        total += decoder_input_size(task) * c.embedding
    for _ in range(c.layers):
        total += _rnn_params(c.cell, c.dec_units, width)
        width = c.dec_units
    if c.arch == "attention":
        total += (c.state_units + c.dec_units + 1) * c.dec_units  # combine
        if c.attention == "bahdanau":
            total += c.dec_units * c.dec_units + c.dec_units      # query projection + scale
        if c.attention != "dot":
            total += c.state_units * c.dec_units                  # key projection
    return total + (c.dec_units + 1) * task.target_vocab.size


@dataclass(frozen=True)
class Cost:
    """A run's size: parameters, and bytes of one training step and one evaluation batch."""

    params: int
    train_bytes: int
    eval_bytes: int

    @property
    def peak_bytes(self) -> int:
        return max(self.train_bytes, self.eval_bytes)


def _activation_floats(task, c: ModelConfig, rows: int) -> int:
    s_len, t_len = task.source_len, task.target_len
    per = ACTIVATIONS[c.cell]
    directions = 2 if c.bidirectional else 1
    floats = rows * (s_len * _features(c, task.source_vocab.size)
                     + t_len * _features(c, decoder_input_size(task)))
    floats += c.layers * rows * per * (s_len * c.units * directions + t_len * c.dec_units)
    floats += 3 * rows * t_len * task.target_vocab.size
    if c.arch == "attention":
        width = c.dec_units if c.attention == "bahdanau" else 1
        floats += 2 * rows * t_len * s_len * width  # scores and their gradient
    return floats


def estimate(task, model_config: ModelConfig, train_config: TrainConfig) -> Cost:
    """Parameters and memory of training `model_config` on `task` with `train_config`."""
    params = parameter_count(task, model_config)
    weights = 4 * params * FLOAT  # weights, gradients and Adam's two moments
    draw = min(DRAW_ROWS, train_config.batch_size * train_config.chunk_batches)
    samples = draw * (task.source_len + task.target_len) * 4 * FLOAT
    c = model_config
    train = (OVERHEAD_BYTES + weights + samples
             + FLOAT * _activation_floats(task, c, train_config.batch_size))
    rows = min(train_config.eval_samples, EVAL_BATCH)
    kept = rows * task.target_len * (task.target_vocab.size + c.dec_units + task.source_len)
    memory = rows * task.source_len * c.state_units * c.layers
    forward = _activation_floats(task, c, rows) // 3  # no backward pass when scoring
    evaluation = OVERHEAD_BYTES + params * FLOAT + FLOAT * (kept + memory + forward)
    return Cost(params, int(train), int(evaluation))


@dataclass(frozen=True)
class ServerLimits:
    """What one run may cost on this server. Each field is read from its environment
    variable (`ENV`), so a teacher sets them once; the defaults suit a 2-core server with
    about 4 GB for a class."""

    max_params: int = 3_000_000       # parameters of one network
    max_run_mb: int = 1024            # estimated memory of one training or evaluation
    max_seconds: float = 1200.0       # the longest time budget of one training
    max_eval_samples: int = 5000      # held-out examples scored after each chunk
    max_trainings: int = 4            # trainings, sweeps and studies running at once
    jobs_per_session: int = 1         # of those, how many one browser may run
    jobs_per_address: int = 2         # ... and one network address (0: no such limit)
    models_per_owner: int = 5         # trained models kept per person (oldest removed first)
    models_mb: int = 2048             # all kept models together, in MB (oldest removed first)
    workers_per_job: int = 4          # Ray trainings one person's sweep or study runs at once

    ENV = {"max_params": "SEQ2SEQ_MAX_PARAMS", "max_run_mb": "SEQ2SEQ_MAX_RUN_MB",
           "max_seconds": "SEQ2SEQ_MAX_RUN_SECONDS", "max_eval_samples": "SEQ2SEQ_MAX_EVAL_SAMPLES",
           "max_trainings": "SEQ2SEQ_MAX_TRAININGS", "jobs_per_session": "SEQ2SEQ_JOBS_PER_SESSION",
           "jobs_per_address": "SEQ2SEQ_JOBS_PER_ADDRESS",
           "models_per_owner": "SEQ2SEQ_MODELS_PER_OWNER", "models_mb": "SEQ2SEQ_MODELS_MB",
           "workers_per_job": "SEQ2SEQ_WORKERS_PER_JOB"}
    MAY_BE_ZERO = ("jobs_per_address",)

    @classmethod
    def from_env(cls, environ=None) -> "ServerLimits":
        """The limits set in the environment; a missing or unreadable value keeps its default."""
        environ = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            raw = environ.get(cls.ENV[f.name], "").strip()
            if not raw:
                continue
            kind = float if isinstance(f.default, float) else int
            try:
                value = kind(raw)
            except ValueError:
                log.warning("ignoring %s=%r: not a number", cls.ENV[f.name], raw)
                continue
            lowest = 0 if f.name in cls.MAY_BE_ZERO else 1
            if value < lowest:
                log.warning("ignoring %s=%r: must be at least %d", cls.ENV[f.name], raw, lowest)
                continue
            values[f.name] = value
        return cls(**values)

    def keep_models(self) -> KeepModels:
        """How many trained models the run history keeps (per person and in total)."""
        return KeepModels(self.models_per_owner, self.models_mb * 1024 * 1024)

    def _refuse(self, what: str, field: str) -> InvalidInput:
        return InvalidInput(f"{what} This server's limit can be changed by the teacher with "
                            f"the environment variable {self.ENV[field]}.")

    def check_params(self, params: int) -> None:
        if params > self.max_params:
            raise self._refuse(f"This network has {params:,} parameters; this server allows at "
                               f"most {self.max_params:,}. Use fewer units or layers.",
                               "max_params")

    def check(self, cost: Cost, train_config: TrainConfig | None = None) -> None:
        """Raise InvalidInput saying what is too big and what is allowed."""
        self.check_params(cost.params)
        mb = cost.peak_bytes / 1e6
        if mb > self.max_run_mb:
            raise self._refuse(f"This run would need about {mb:,.0f} MB of memory; this server "
                               f"allows {self.max_run_mb:,} MB a run. Use a smaller batch size, "
                               "fewer units or shorter sequences.", "max_run_mb")
        if train_config is None:
            return
        if train_config.max_seconds > self.max_seconds:
            raise self._refuse(f"The time budget is {train_config.max_seconds:,.0f} s; this "
                               f"server allows at most {self.max_seconds:,.0f} s a run.",
                               "max_seconds")
        if train_config.eval_samples > self.max_eval_samples:
            raise self._refuse(f"{train_config.eval_samples:,} examples scored per chunk; this "
                               f"server allows at most {self.max_eval_samples:,}.",
                               "max_eval_samples")


def check_run(task, model_config: ModelConfig, train_config: TrainConfig,
              limits: ServerLimits) -> Cost:
    """The run's cost, or InvalidInput if the server cannot afford it."""
    cost = estimate(task, model_config, train_config)
    limits.check(cost, train_config)
    return cost


def check_runs(runs, train_config: TrainConfig, limits: ServerLimits) -> None:
    """Check every (label, task, model config) of a sweep or study before any of them starts."""
    for label, task, model_config in runs:
        try:
            check_run(task, model_config, train_config, limits)
        except InvalidInput as err:
            raise InvalidInput(f"{label}: {err}") from None
