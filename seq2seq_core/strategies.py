"""Decoding strategies beyond greedy: beam search, sampling with temperature, and
teacher-forced vs free-running predictions.

Beam search is written by hand over a small `Stepper` interface rather than taken from a
library: keras-hub's samplers expect a causal language model's prompt/cache layout, and the
inspector needs every step's beams and scores, which they do not expose. The same code runs
on a trained Seq2Seq (through `ModelStepper`) and on any hand-built stepper in the tests.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import tensorflow as tf

from .decoding import Decoder, Trace
from .models import Seq2Seq
from .settings import check_fields, setting
from .vocab import START_LABEL


class Stepper:
    """A decoder seen one step at a time, for one input, over a batch of hypotheses.

    `advance(tokens, state)` takes the previous token of each hypothesis and its state (a
    list of arrays with one row per hypothesis) and returns next-token probabilities
    (rows x vocabulary) and the new state.
    """

    start: int
    end: int | None
    max_steps: int

    def initial(self) -> list[np.ndarray]:
        raise NotImplementedError

    def advance(self, tokens: np.ndarray, state: list[np.ndarray]):
        raise NotImplementedError


def take_rows(state: list[np.ndarray], rows) -> list[np.ndarray]:
    return [a[np.asarray(rows, dtype=int)] for a in state]


@dataclass(frozen=True)
class Hypothesis:
    """A partial or finished output: its tokens, log probability and normalised score."""

    tokens: tuple[int, ...]
    log_prob: float
    score: float
    finished: bool


@dataclass(frozen=True)
class BeamSearch:
    """The best hypothesis and the beams kept after every step."""

    best: Hypothesis
    steps: tuple[tuple[Hypothesis, ...], ...]


@dataclass(frozen=True)
class DecodeSettings:
    """How Inspect's strategies decode: the beam's width and length normalisation, and the
    sampling temperature and seed."""

    width: int = setting(3, "Beam width", low=1, high=10, step=1, slider=True,
                         help="How many partial outputs beam search keeps at every step.")
    alpha: float = setting(0.7, "Length normalisation α", low=0.0, high=1.5, step=0.1,
                           slider=True,
                           help="Beam score = log probability ÷ length^α. 0 = plain log "
                                "probability (short outputs win), 1 = average per token.")
    temperature: float = setting(1.0, "Temperature", low=0.05, high=3.0, step=0.05,
                                 slider=True,
                                 help="Sampling only: below 1 sharper (closer to greedy), "
                                      "above 1 flatter (more random).")
    seed: int = setting(0, "Sampling seed", low=0, high=1_000_000, step=1,
                        help="Sampling only: the same seed draws the same output.")

    def __post_init__(self):
        check_fields(self)


def _checked(**values) -> None:
    """Some DecodeSettings values checked against their Specs (InvalidInput if one is off)."""
    replace(DecodeSettings(), **values)


def normalised(log_prob: float, length: int, alpha: float) -> float:
    """Log probability divided by length ** alpha, so long outputs are not penalised unduly."""
    return log_prob / max(length, 1) ** alpha


def beam_search(stepper: Stepper, width: int = 3, alpha: float = 0.7) -> BeamSearch:
    """Keep the `width` best-scoring hypotheses at every step until all have ended."""
    _checked(width=width, alpha=alpha)
    alive = [Hypothesis((), 0.0, 0.0, False)]
    finished: list[Hypothesis] = []
    state = stepper.initial()
    history = []
    for _ in range(stepper.max_steps):
        last = np.array([h.tokens[-1] if h.tokens else stepper.start for h in alive])
        probs, state = stepper.advance(last, state)
        logp = np.log(np.maximum(probs, 1e-12))
        candidates = []
        for row, hyp in enumerate(alive):
            for tok in np.argsort(-logp[row], kind="stable")[:width]:
                tokens = hyp.tokens + (int(tok),)
                total = hyp.log_prob + float(logp[row, tok])
                done = stepper.end is not None and tok == stepper.end
                candidates.append((row, Hypothesis(tokens, total, normalised(total, len(tokens), alpha), done)))
        pool = [(-1, h) for h in finished] + candidates
        pool.sort(key=lambda item: -item[1].score)
        kept = pool[:width]
        finished = [h for _, h in kept if h.finished]
        rows = [row for row, h in kept if not h.finished]
        alive = [h for _, h in kept if not h.finished]
        history.append(tuple(h for _, h in kept))
        if not alive:
            break
        state = take_rows(state, rows)
    final = finished + [Hypothesis(h.tokens, h.log_prob, h.score, True) for h in alive]
    best = max(final, key=lambda h: h.score)
    return BeamSearch(best, tuple(history))


def beam_table(model: Seq2Seq, result: BeamSearch) -> list[dict]:
    """The beams kept after each step as rows: step, rank, text so far, log prob, score."""
    return [{"step": t + 1, "rank": r + 1, "output so far": _text(model, h.tokens),
             "log probability": h.log_prob, "score": h.score, "finished": h.finished}
            for t, beams in enumerate(result.steps) for r, h in enumerate(beams)]


@dataclass(frozen=True)
class Sampled:
    """One sampled output with the model's probability of each chosen token."""

    tokens: tuple[int, ...]
    probabilities: tuple[float, ...]
    log_prob: float


def sample(stepper: Stepper, temperature: float = 1.0, seed: int = 0) -> Sampled:
    """Draw each token from the softmax at `temperature` (seeded, so reproducible)."""
    _checked(temperature=temperature, seed=seed)
    rng = np.random.default_rng(seed)
    state, token = stepper.initial(), stepper.start
    tokens, probs = [], []
    for _ in range(stepper.max_steps):
        p, state = stepper.advance(np.array([token]), state)
        p = p[0].astype(np.float64)
        logits = np.log(np.maximum(p, 1e-12)) / temperature
        q = np.exp(logits - logits.max())
        token = int(rng.choice(len(q), p=q / q.sum()))
        tokens.append(token)
        probs.append(float(p[token]))
        if stepper.end is not None and token == stepper.end:
            break
    return Sampled(tuple(tokens), tuple(probs), float(np.sum(np.log(np.maximum(probs, 1e-12)))))


class ModelStepper(Stepper):
    """A trained Seq2Seq as a Stepper for one typed input."""

    def __init__(self, model: Seq2Seq, text: str):
        self.model = model
        task = model.task
        self.source = model.prepare_source(task.encode_inputs([text]))
        self.start, self.end, self.max_steps = model.start_id, task.target_vocab.end, task.target_len
        fns = model.functions
        if model.config.feeds_back:
            states, memory = fns.begin(tf.constant(self.source))
            self._states = [s.numpy() for s in states]
            self._memory = [m.numpy() for m in memory]
        else:
            self._table = fns.table(tf.constant(self.source)).numpy()[0]

    def initial(self):
        if not self.model.config.feeds_back:
            return [np.zeros(1, dtype=int)]
        return list(self._states)

    def advance(self, tokens, state):
        if not self.model.config.feeds_back:
            t = state[0]
            return self._table[np.minimum(t, self.max_steps - 1)], [t + 1]
        n = len(tokens)
        memory = [np.repeat(m, n, axis=0) for m in self._memory]
        probs, new = self.model.functions.step(
            tf.constant(tokens, tf.int32), [tf.constant(s) for s in state],
            [tf.constant(m) for m in memory])
        return probs.numpy(), [s.numpy() for s in new]


@dataclass(frozen=True)
class Decoded:
    """One strategy's output for the side-by-side comparison."""

    strategy: str
    text: str
    probability: float
    log_prob: float
    token_probabilities: tuple[float, ...]


def _text(model: Seq2Seq, tokens) -> str:
    return model.task.target_text(np.array(tokens, dtype=int))


def _probs_of(stepper: Stepper, tokens) -> tuple[float, ...]:
    """The model's probability of each token of a given continuation, step by step."""
    state, prev, out = stepper.initial(), stepper.start, []
    for tok in tokens:
        p, state = stepper.advance(np.array([prev]), state)
        out.append(float(p[0, tok]))
        prev = tok
    return tuple(out)


@dataclass(frozen=True)
class Comparison:
    """Greedy, beam search and sampling on one input (`decoded`, in that order), and the
    beam search itself, every step's beams, so nobody has to run it again to show them."""

    decoded: tuple[Decoded, ...]
    beam: BeamSearch


def compare_strategies(model: Seq2Seq, text: str, width: int = 3, temperature: float = 1.0,
                       seed: int = 0, alpha: float = 0.7,
                       greedy: Trace | None = None) -> Comparison:
    """Greedy, beam search and sampling on the same input, with their probabilities.

    `greedy` is a trace of `text` already decoded, if there is one, so it is not decoded again.
    """
    greedy = Decoder(model).trace(text) if greedy is None else greedy
    g_tokens = [s.token_id for s in greedy.steps]
    g_probs = tuple(s.probability for s in greedy.steps)
    stepper = ModelStepper(model, text)  # advancing leaves it as it was: one serves all three
    beam = beam_search(stepper, width, alpha)
    best = beam.best
    drawn = sample(stepper, temperature, seed)
    rows = [("greedy", g_tokens, g_probs),
            (f"beam search (width {width})", best.tokens, _probs_of(stepper, best.tokens)),
            (f"sampling (T={temperature:g}, seed {seed})", drawn.tokens, drawn.probabilities)]
    out = []
    for name, tokens, probs in rows:
        logp = float(np.sum(np.log(np.maximum(probs, 1e-12))))
        out.append(Decoded(name, _text(model, tokens), float(np.exp(logp)), logp, tuple(probs)))
    return Comparison(tuple(out), beam)


@dataclass(frozen=True)
class ForcingRow:
    """One output step under teacher forcing (fed the expected previous token) and free
    running (fed its own): the token label fed, the one predicted and its probability.

    `expected` is "" past the expected output's end; the free_ fields are "" (probability
    NaN) past the end of free running's own output.
    """

    step: int
    expected: str
    forced_input: str
    forced_prediction: str
    forced_probability: float
    free_input: str
    free_prediction: str
    free_probability: float

    def modes(self) -> dict[str, tuple[str, str, float]]:
        """(fed, prediction, probability) of "teacher forcing" and of "free running"."""
        return {"teacher forcing": (self.forced_input, self.forced_prediction,
                                    self.forced_probability),
                "free running": (self.free_input, self.free_prediction, self.free_probability)}


@dataclass(frozen=True)
class ForcingComparison:
    """Per-step predictions fed the true previous token vs the model's own.

    `diverges_at` is the first step where the free-running output leaves the expected one
    (None if it never does).
    """

    rows: tuple[ForcingRow, ...]
    diverges_at: int | None
    feeds_back: bool


def forcing_comparison(model: Seq2Seq, text: str, expected: str,
                       free: Trace | None = None) -> ForcingComparison:
    """Teacher forcing vs free running on `text`; `free` is a trace of `text` already decoded,
    if there is one, so it is not decoded again."""
    task, vocab = model.task, model.task.target_vocab
    target = task.encode_targets([expected])
    source = task.encode_inputs([text])
    forced = np.asarray(model.train_model(model.model_inputs(source, target), training=False))[0]
    free = Decoder(model).trace(text) if free is None else free
    mask = task.target_mask(target)[0].astype(bool)
    steps = max(int(mask.sum()), len(free.steps))
    prev_true, prev_free, rows, diverges = model.start_id, model.start_id, [], None

    def fed(token: int) -> str:
        return START_LABEL if t == 0 else vocab.label(token)
    for t in range(min(steps, task.target_len)):
        f_tok = int(forced[t].argmax())
        step = free.steps[t] if t < len(free.steps) else None
        rows.append(ForcingRow(
            step=t + 1,
            expected=vocab.label(target[0, t]) if mask[t] else "",
            forced_input=fed(prev_true),
            forced_prediction=vocab.label(f_tok), forced_probability=float(forced[t, f_tok]),
            free_input=fed(prev_free) if step else "",
            free_prediction=step.token if step else "",
            free_probability=step.probability if step else float("nan"),
        ))
        if diverges is None and mask[t] and (step is None or step.token_id != target[0, t]):
            diverges = t + 1
        prev_true = int(target[0, t])
        prev_free = step.token_id if step else prev_free
    return ForcingComparison(tuple(rows), diverges, model.config.feeds_back)


__all__ = ["BeamSearch", "Comparison", "DecodeSettings", "Decoded", "ForcingComparison",
           "ForcingRow", "Hypothesis", "ModelStepper", "Sampled", "Stepper", "beam_search",
           "beam_table", "compare_strategies", "forcing_comparison", "sample"]
