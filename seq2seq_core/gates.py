"""Inside the cell: every gate and state of every recurrent layer at every step.

The numbers come from `ModelFunctions.gates` / `cell_gates`, which recompute each layer from
its own kernel, recurrent kernel and bias in one compiled call (their `h` and `c` equal the
Keras layers' to float rounding, tested), so the pictures never drift from the network.
The encoder's layers are listed per direction, each step in the order that direction reads
the input; the decoder's along its greedy decode, or along a forced one (`whatif`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf

from .budget import EVAL_BATCH
from .compiled import GATE_NAMES
from .errors import InvalidInput
from .inspection import BATCH_BYTES, FLOAT
from .limits import check_int
from .vocab import plural

if TYPE_CHECKING:
    from .models import Seq2Seq
    from .whatif import Forced

STATES = {"lstm": ("c", "h"), "gru": ("h",)}
GATES = {kind: tuple(n for n in names if n not in STATES[kind])
         for kind, names in GATE_NAMES.items()}
SIGMOID = {"lstm": ("i", "f", "o"), "gru": ("z", "r")}  # the gates valued in (0, 1)
KEEP = {"lstm": "f", "gru": "z"}  # the gate that keeps the old memory (1) or drops it (0)
MEANING = {
    "i": "input gate: how much of the candidate is written into the memory",
    "f": "forget gate: how much of the old memory is kept",
    "g": "candidate: the new content proposed for the memory",
    "o": "output gate: how much of the memory is shown as the hidden state",
    "c": "cell state: the memory",
    "h": "hidden state: what the next layer and the next step read",
    "z": "update gate: how much of the old state is kept",
    "r": "reset gate: how much of the old state the candidate looks at",
    "candidate": "candidate: the new state proposed",
}
SHORT = {name: (rest.strip() if head == name else head)
         for name, (head, _, rest) in ((n, m.partition(":")) for n, m in MEANING.items())}
SATURATED = (0.1, 0.9)  # a sigmoid gate below the first or above the second has decided
MAX_TOP = 64            # units "units that react" lists at most
SAMPLE = 200            # fresh inputs searched for the same firing pattern
MAX_SAMPLE = 2000
SPREAD_FLOOR = 0.05     # added to a unit's spread before dividing by it (values lie in ±1)


@dataclass(frozen=True)
class LayerGates:
    """One recurrent layer (one direction of a bidirectional one) over one input.

    `values[name]` is (steps, units) for each name in GATE_NAMES[cell], step 0 first in the
    order this layer reads: `positions[t]` is the input position (encoder, after any source
    reversal) or output position (decoder) of step t, `tokens[t]` the token it reads
    (encoder) or writes (decoder). `initial` holds h (and c) before the first step.
    """

    side: str
    layer: int
    cell: str
    direction: str
    tokens: tuple[str, ...]
    positions: tuple[int, ...]
    values: dict
    initial: dict

    @property
    def names(self) -> tuple[str, ...]:
        return GATE_NAMES[self.cell]

    @property
    def steps(self) -> int:
        return len(self.positions)

    @property
    def units(self) -> int:
        return int(self.values["h"].shape[1])

    @property
    def key(self) -> str:
        """'encoder 1', 'encoder 1 backward', 'decoder 2': a unique name within a trace."""
        back = " backward" if self.direction == "backward" else ""
        return f"{self.side} {self.layer + 1}{back}"

    @property
    def title(self) -> str:
        """'Encoder layer 1, backward (reads right to left)' for a heading."""
        where = {"forward": "", "backward": ", backward (reads right to left)"}
        bi = where[self.direction] if self.side == "encoder" else ""
        return f"{self.side.capitalize()} layer {self.layer + 1}{bi}"

    def before(self, name: str, step: int) -> np.ndarray:
        """State `name` ('h' or 'c') just before `step`: the previous step's, or the initial."""
        return self.values[name][step - 1] if step > 0 else self.initial[name]

    def to_json(self) -> dict:
        steps = [{n: [float(v) for v in self.values[n][t]] for n in self.names}
                 for t in range(self.steps)]
        return {"layer": self.layer, "cell": self.cell, "direction": self.direction,
                "positions": list(self.positions), "tokens": list(self.tokens), "steps": steps}


@dataclass(frozen=True)
class CellTrace:
    """Every recurrent layer of a model over one input: the encoder's layers (forward then
    backward per layer) and the decoder's, along the decode that wrote `output_text`
    (greedy, or forced at `forced_step`, 1-based)."""

    input_text: str
    output_text: str
    source_ids: tuple[int, ...]
    encoder: tuple[LayerGates, ...]
    decoder: tuple[LayerGates, ...]
    forced_step: int | None = None

    @property
    def layers(self) -> tuple[LayerGates, ...]:
        return self.encoder + self.decoder

    def find(self, key: str) -> LayerGates:
        for layer in self.layers:
            if layer.key == key:
                return layer
        raise InvalidInput(f"This model has no {key!r}; it has "
                           f"{', '.join(x.key for x in self.layers)}.")

    def saturation(self) -> float:
        """Share of sigmoid gate values below 0.1 or above 0.9, over every layer and step."""
        return saturation(self.layers)

    def check_finite(self) -> "CellTrace":
        """Itself, or InvalidInput when a value is NaN or infinite (a diverged model): no
        picture, equation or JSON number can show one."""
        for layer in self.layers:
            if not all(np.isfinite(v).all() for v in layer.values.values()):
                raise InvalidInput(f"The model's {layer.key} computes values that are not "
                                   "finite numbers (NaN or infinite): its training diverged.")
        return self

    def to_json(self) -> dict:
        return {"input": self.input_text, "source_ids": list(self.source_ids),
                "output": self.output_text,
                "encoder": [x.to_json() for x in self.encoder],
                "decoder": [x.to_json() for x in self.decoder]}


def saturation(layers) -> float:
    """Share of sigmoid gate values (i, f, o; z, r) below 0.1 or above 0.9; NaN if none."""
    low, high = SATURATED
    values = [x.values[n] for x in layers for n in SIGMOID[x.cell] if x.steps]
    count = sum(v.size for v in values)
    if not count:
        return float("nan")
    return float(sum(((v < low) | (v > high)).sum() for v in values) / count)


# ---- computing them ----------------------------------------------------------------------------
def _row_bytes(model: Seq2Seq) -> int:
    """Bytes of every gate and state of one input, all layers and directions."""
    cfg, task = model.config, model.task
    names = len(GATE_NAMES[cfg.cell])
    enc = cfg.layers * task.source_len * cfg.state_units
    dec = cfg.layers * task.target_len * cfg.dec_units
    return (enc + dec) * names * FLOAT


def batch_size(model: Seq2Seq) -> int:
    """Inputs whose gates one call computes, so a call's arrays stay within BATCH_BYTES."""
    return int(min(EVAL_BATCH, max(1, BATCH_BYTES // _row_bytes(model))))


def _decoded_steps(model: Seq2Seq, tokens: np.ndarray) -> int:
    """Steps up to and including the end symbol, as `Decoder.trace` shows them."""
    return int(model.task.target_mask(tokens[None])[0].sum())


def _arrays(model: Seq2Seq, read: np.ndarray, feed: np.ndarray | None = None):
    """Token ids (None when fed) and gate arrays (numpy) of prepared source ids: along the
    greedy decode, or reading `feed` (n, T)."""
    fns = model.functions
    if feed is None:
        tokens, (enc, dec, init) = fns.gates(tf.constant(read))
        tokens = tokens.numpy()
    else:
        tokens, (enc, dec, init) = None, fns.cell_gates(tf.constant(read), tf.constant(feed))
    as_np = [[[a.numpy() for a in values] for values in group] for group in (enc, dec, init)]
    return tokens, as_np


def _layers(model: Seq2Seq, row: int, read, written, steps: int, arrays) -> tuple:
    """The LayerGates of input `row`: its encoder layers and decoder layers."""
    cfg, task = model.config, model.task
    enc, dec, init = arrays
    names, states = GATE_NAMES[cfg.cell], STATES[cfg.cell]
    source = tuple(task.source_vocab.label(int(i)) for i in read[row])
    size = len(source)
    encoder = []
    for k, values in enumerate(enc):
        backward = cfg.bidirectional and k % 2 == 1
        layer = k // 2 if cfg.bidirectional else k
        order = tuple(range(size - 1, -1, -1)) if backward else tuple(range(size))
        zeros = np.zeros(values[0].shape[-1], np.float32)
        encoder.append(LayerGates(
            "encoder", layer, cfg.cell, "backward" if backward else "forward",
            tuple(source[p] for p in order), order,
            {n: v[row] for n, v in zip(names, values)}, {n: zeros for n in states}))
    vocab = task.target_vocab
    out = tuple(vocab.label(int(t)) for t in written[row][:steps])
    decoder = []
    for j, (values, start) in enumerate(zip(dec, init)):
        first = dict(zip(("h", "c"), (s[row] for s in start)))
        decoder.append(LayerGates(
            "decoder", j, cfg.cell, "forward", out, tuple(range(steps)),
            {n: v[row][:steps] for n, v in zip(names, values)}, first))
    return tuple(encoder), tuple(decoder)


def cell_trace(model: Seq2Seq, text: str, forced: Forced | None = None) -> CellTrace:
    """Every gate of every recurrent layer for one typed input (InvalidInput as `predict`):
    along the greedy decode, or along `forced` (a `whatif.forced_decode` of this input)."""
    task = model.task
    clean = task.validate(text)
    read = model.prepare_source(task.encode_inputs([clean]))
    if forced is not None:
        if forced.input_text != clean:
            raise InvalidInput("The forced decode belongs to another input.")
        ids = [s.token_id for s in forced.steps]
        written = np.zeros((1, task.target_len), np.int32)
        written[0, :len(ids)] = ids
        _, arrays = _arrays(model, read, _feed(model, written))
        steps, output = len(ids), forced.output_text
    else:
        written, arrays = _arrays(model, read)
        steps = _decoded_steps(model, written[0])
        output = task.target_text(written[0])
    encoder, decoder = _layers(model, 0, read, written, steps, arrays)
    return CellTrace(clean, output, tuple(int(i) for i in read[0]), encoder, decoder,
                     None if forced is None else forced.step)


def _feed(model: Seq2Seq, written: np.ndarray) -> np.ndarray:
    """The tokens a decoder reads before each step when it wrote `written` (n, T)."""
    start = np.full((len(written), 1), model.start_id, np.int32)
    return np.concatenate([start, written[:, :-1]], axis=1).astype(np.int32)


def cell_traces(model: Seq2Seq, texts, written: np.ndarray | None = None
                ) -> tuple[CellTrace, ...]:
    """Greedy CellTraces of several already-checked inputs, in calls of `batch_size` rows.

    `written` are their greedy token ids when already decoded (the Train page's watched
    inputs, decoded by the held-out check): then the call only recomputes the layers.
    """
    texts = list(texts)
    if not texts:
        return ()
    task = model.task
    read = model.prepare_source(task.encode_inputs(texts))
    out, size = [], batch_size(model)
    for i in range(0, len(texts), size):
        part = read[i:i + size]
        if written is None:
            ids, arrays = _arrays(model, part)
        else:
            ids = np.asarray(written[i:i + size], np.int32)
            _, arrays = _arrays(model, part, _feed(model, ids))
        for row in range(len(part)):
            steps = _decoded_steps(model, ids[row])
            enc, dec = _layers(model, row, part, ids, steps, arrays)
            out.append(CellTrace(texts[i + row], task.target_text(ids[row]),
                                 tuple(int(x) for x in part[row]), enc, dec))
    return tuple(out)


# ---- slow motion -------------------------------------------------------------------------------
@dataclass(frozen=True)
class SlowMotion:
    """One unit at one step, every term of its cell's equations with its number.

    LSTM: c(t) = f·c(t−1) + i·g and h(t) = o·tanh(c(t)); GRU (Keras, reset after):
    h(t) = z·h(t-1) + (1 - z)·candidate. `terms` names each value (gates, previous and new
    states, and the products the sums are made of).
    """

    cell: str
    step: int
    unit: int
    token: str
    terms: dict

    def equations(self) -> list[tuple[str, str, float]]:
        """(left side, the formula with its numbers, its value) per equation, in order."""
        t = {k: _num(v) for k, v in self.terms.items()}
        if self.cell == "lstm":
            return [
                ("c(t)", f"f·c(t−1) + i·g = {t['f']}×{t['c_prev']} + {t['i']}×{t['g']} = "
                         f"{t['kept']} + {t['written']}", self.terms["c"]),
                ("h(t)", f"o·tanh(c(t)) = {t['o']}×tanh({_num(self.terms['c'], False)}) = "
                         f"{t['o']}×{t['tanh_c']}",
                 self.terms["h"])]
        keep = _num(1 - self.terms["z"])
        return [("h(t)", f"z·h(t−1) + (1−z)·candidate = {t['z']}×{t['h_prev']} + "
                         f"{keep}×{t['candidate']} = {t['kept']} + {t['written']}",
                 self.terms["h"])]


def number(value: float) -> str:
    """A value as the views write it: 3 decimals, a real minus sign, never '−0.000'."""
    text = f"{float(value):.3f}"
    return "0.000" if text == "-0.000" else text.replace("-", "−")


def _num(value: float, brackets: bool = True) -> str:
    """A term for an equation: `number`, a negative one in brackets (unless it already
    stands inside a function's)."""
    text = number(value)
    return f"({text})" if brackets and text.startswith("−") else text


def slow_motion(layer: LayerGates, step: int, unit: int) -> SlowMotion:
    """The terms of `layer`'s equations for `unit` at `step` (0-based), from its numbers."""
    if not layer.steps:
        raise InvalidInput("This layer took no steps.")
    check_int("Step", step, 0, layer.steps - 1)
    check_int("Unit", unit, 0, layer.units - 1)
    v = {n: float(layer.values[n][step][unit]) for n in layer.names}
    h_prev = float(layer.before("h", step)[unit])
    if layer.cell == "lstm":
        c_prev = float(layer.before("c", step)[unit])
        terms = {**v, "c_prev": c_prev, "h_prev": h_prev, "kept": v["f"] * c_prev,
                 "written": v["i"] * v["g"], "tanh_c": float(np.tanh(np.float32(v["c"])))}
    else:
        terms = {**v, "h_prev": h_prev, "kept": v["z"] * h_prev,
                 "written": (1 - v["z"]) * v["candidate"]}
    return SlowMotion(layer.cell, step, unit, layer.tokens[step], terms)


# ---- units that react --------------------------------------------------------------------------
@dataclass(frozen=True)
class Reacting:
    """A unit whose value at the chosen steps differs from its value at the others:
    `inside`/`outside` are the two means, `score` their difference over the unit's spread
    at the other steps (plus SPREAD_FLOOR, so a unit that never moves elsewhere does not
    rank by noise alone)."""

    unit: int
    inside: float
    outside: float
    score: float


def reacting_units(layer: LayerGates, name: str, steps, k: int = 8) -> tuple[Reacting, ...]:
    """The `k` units of `layer` whose `name` values at `steps` (0-based) differ most from
    their values at the other steps, most different first."""
    check_int("Units to list", k, 1, MAX_TOP)
    if name not in layer.names:
        raise InvalidInput(f"A {layer.cell.upper()} layer has no {name!r}; it has "
                           f"{', '.join(layer.names)}.")
    chosen = sorted({int(s) for s in steps})
    if not chosen:
        raise InvalidInput("Pick at least one step.")
    for step in (chosen[0], chosen[-1]):
        check_int("Step", step, 0, layer.steps - 1)
    if len(chosen) == layer.steps:
        raise InvalidInput("Pick some of the steps, not all of them: a unit reacts to the "
                           "chosen steps when it differs there from the others.")
    values = layer.values[name].astype(np.float64)
    mask = np.zeros(layer.steps, bool)
    mask[chosen] = True
    inside, outside = values[mask].mean(0), values[~mask].mean(0)
    score = np.abs(inside - outside) / (values[~mask].std(0) + SPREAD_FLOOR)
    order = np.argsort(-score, kind="stable")[:min(k, layer.units)]
    return tuple(Reacting(int(u), float(inside[u]), float(outside[u]), float(score[u]))
                 for u in order)


@dataclass(frozen=True)
class Match:
    """A step of a fresh input where the chosen units fire as at the chosen steps."""

    text: str
    tokens: tuple[str, ...]
    step: int
    distance: float

    @property
    def token(self) -> str:
        return self.tokens[self.step]


@dataclass(frozen=True)
class Matches:
    """Where the chosen units fire the same way in `inputs` fresh inputs: the nearest
    steps first, the tokens and the step numbers (1-based) of every matching step counted,
    most first, and the radius used (half the distance between the pattern and the units'
    values at the other steps)."""

    inputs: int
    steps: int
    hits: tuple[Match, ...]
    counts: tuple[tuple[str, int], ...]
    radius: float
    at_steps: tuple[tuple[int, int], ...] = ()


def fire_alike(model: Seq2Seq, key: str, name: str, units, pattern, outside,
               n: int = SAMPLE, seed: int = 1, shown: int = 12) -> Matches:
    """Search `n` fresh task inputs for steps where `units` of layer `key` have values
    `name` near `pattern` (their mean at the chosen steps): within half the distance from
    `pattern` to `outside` (their mean elsewhere), measured as root mean square."""
    check_int("Sample size", n, 1, MAX_SAMPLE)
    units = [int(u) for u in units]
    pattern, outside = np.asarray(pattern, np.float64), np.asarray(outside, np.float64)
    radius = float(np.sqrt(np.mean((pattern - outside) ** 2))) / 2
    texts = [model.task.source_text(r) for r in model.task.map_inputs(n, seed).source]
    hits, total = [], 0
    size = batch_size(model)
    for i in range(0, len(texts), size):
        for trace in cell_traces(model, texts[i:i + size]):
            layer = trace.find(key)
            if not layer.steps:
                continue
            values = layer.values[name][:, units].astype(np.float64)
            dist = np.sqrt(np.mean((values - pattern) ** 2, axis=1))
            total += layer.steps
            hits += [Match(trace.input_text, layer.tokens, int(t), float(dist[t]))
                     for t in np.flatnonzero(dist <= radius)]
    hits.sort(key=lambda m: m.distance)
    return Matches(len(texts), total, tuple(hits[:shown]), _ranked(m.token for m in hits),
                   radius, _ranked(m.step + 1 for m in hits))


def _ranked(values) -> tuple:
    """(value, count) pairs, the most frequent first (ties in value order)."""
    counts: dict = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def matches_sentence(matches: Matches) -> str:
    """Where the units fire alike, in words: at which token mostly, or, when the step
    tells more than the token, at which step (the units then track position, not content)."""
    if not matches.hits:
        return (f"They fire this way nowhere else in {plural(matches.inputs, 'fresh input')}: "
                "the pattern is particular to this input.")
    found = sum(c for _, c in matches.counts)
    top, count = matches.counts[0]
    where = (f"They fire the same way at {found:,} of {matches.steps:,} steps in "
             f"{plural(matches.inputs, 'fresh input')}")
    token = f"the token there is '{top}' in {count:,} of them ({count / found:.0%})"
    if matches.at_steps and matches.at_steps[0][1] > count:
        step, times = matches.at_steps[0]
        return (f"{where}, at step {step} in {times:,} of them ({times / found:.0%}), while "
                f"{token}: these units follow the position more than the token.")
    return f"{where}; {token}."
