"""Inside the cell (`gates`) checked against the network itself: every recurrent layer's h and
c at every step equal what the model's own Keras layers compute (their output sequences,
returned final states and their cells stepped one token at a time), for every architecture,
cell and input option; the slow-motion equations hold; the searches find what they should."""
import json
from dataclasses import dataclass
from functools import lru_cache

import keras
import numpy as np
import pytest
import tensorflow as tf

import seq2seq_core as sc
from seq2seq_core.decoding import Decoder, Trace
from seq2seq_core.features import token_features
from seq2seq_core.gates import (GATE_NAMES, SIGMOID, SPREAD_FLOOR, CellTrace, LayerGates,
                                Match, Matches, cell_trace,
                                cell_traces, fire_alike, matches_sentence, reacting_units,
                                slow_motion)
from seq2seq_core.whatif import forced_decode

TOL = 1e-5
TEXT = "1 2 3 4 5"  # the trained attention model writes 3 2 1
TRAINED = "trained attention (conftest)"
TASKS = {"reverse": {"n_in": 5, "n_out": 3, "cardinality": 12}, "addition": {},
         "dates": {}, "translation": {"max_pairs": 30, "holdout": 0.0}}
M = sc.ModelConfig
CONFIGS = {
    "lstm teacher": ("reverse", M(units=8)),
    "lstm attention": ("reverse", M(arch="attention", units=8)),
    "lstm repeat": ("reverse", M(arch="repeat", units=8)),
    "gru teacher": ("reverse", M(cell="gru", units=8)),
    "gru attention": ("reverse", M(arch="attention", cell="gru", units=8)),
    "gru repeat": ("reverse", M(arch="repeat", cell="gru", units=8)),
    "lstm bidirectional, 2 layers": ("reverse", M(units=8, layers=2, bidirectional=True)),
    "gru bidirectional, 2 layers, attention": (
        "reverse", M(arch="attention", cell="gru", units=8, layers=2, bidirectional=True)),
    "lstm embedding 6": ("reverse", M(units=8, embedding=6)),
    "lstm reversed source": ("reverse", M(units=8, reverse_source=True)),
    "addition (characters)": ("addition", M(arch="attention", units=12)),
    "dates (30 steps, not unrolled)": ("dates", M(cell="gru", units=12)),
    "repeat, 2 layers, decoder units 12": ("reverse", M(arch="repeat", units=8,
                                                        decoder_units=12, layers=2)),
    "translation (end symbol)": ("translation", M(units=8)),
    # skips the padding before a short sentence, in both directions and both layers
    "translation, bidirectional GRU, 2 layers, attention": (
        "translation", M(arch="attention", cell="gru", units=8, layers=2, bidirectional=True)),
}


@lru_cache(maxsize=None)
def task(name: str):
    return sc.make_task(name, **TASKS[name])


@lru_cache(maxsize=None)
def build(name: str) -> sc.Seq2Seq:
    """The untrained model of CONFIGS[name], its recurrent biases drawn at random: they start
    at zero (but the LSTM forget gate's), so every bias term then counts in the numbers."""
    task_name, config = CONFIGS[name]
    model = sc.Seq2Seq.build(task(task_name), config, seed=1)
    rng = np.random.default_rng(1)
    for layer in model.layers.encoders + model.layers.decoders:
        parts = [layer.forward_layer, layer.backward_layer] \
            if isinstance(layer, keras.layers.Bidirectional) else [layer]
        for cell in (x.cell for x in parts):
            cell.bias.assign(rng.normal(0, 0.5, cell.bias.shape).astype(np.float32))
    return model


def text_for(model) -> str:
    return TEXT if model.task.name == "reverse" else model.task.example_inputs()[0]


# ---- the references: Keras' own layers -----------------------------------------------------------
@dataclass(frozen=True)
class KerasLayer:
    """One recurrent layer (one direction) as Keras runs it over one input, in reading order:
    `h` from the layer's output sequence, `stepped` every state (h, then c for LSTM) after
    each step of its cell stepped by hand, `final` the states the layer returned and
    `initial` the states it started from."""

    h: np.ndarray
    stepped: list
    final: list
    initial: list


def zeros(model, units: int) -> list:
    return [tf.zeros([1, units]) for _ in range(model.nets.n_states)]


def step_cell(cell, x, initial, read=None) -> list:
    """Each state of `cell` after every step over x (1, steps, features), (steps, units);
    where `read` (steps,) is False the step is skipped, as Keras skips masked steps."""
    states, out = list(initial), []
    for t in range(x.shape[1]):
        if read is None or read[t]:
            _, states = cell(x[:, t], states, training=False)
        out.append([np.asarray(s)[0] for s in states])
    return [np.stack(s) for s in zip(*out)]


def skipped(h, stepped, reads):
    """Keras' output sequence, but at skipped (padding) steps the state carried over, which
    is what a trace shows there: Keras' backward direction writes zeros at those steps."""
    if reads is None:
        return h
    return np.where(reads[:, None], h, stepped[0])


def padding_mask(model, read):
    """Where a bucketed model's encoder reads a token (None: it reads padding too)."""
    if not model.task.bucketed:
        return None
    return tf.constant(read != model.task.source_vocab.pad)


def keras_encoder(model, read):
    """The encoder's KerasLayers (a bidirectional layer as forward then backward, the backward
    half of its output read in reverse) and each layer's final states as the decoder gets
    them (the two directions joined, as `models._encode` does)."""
    n = model.nets.n_states
    x = token_features(model.layers.source_input, tf.constant(read))
    mask = padding_mask(model, read)
    reads = None if mask is None else np.asarray(mask)[0]
    layers, finals = [], []
    for layer in model.layers.encoders:
        out = layer(x, mask=mask)
        seq, states = np.asarray(out[0])[0], [np.asarray(s)[0] for s in out[1:]]
        if isinstance(layer, keras.layers.Bidirectional):
            fwd, bwd = layer.forward_layer.cell, layer.backward_layer.cell
            start = zeros(model, fwd.units)
            back = None if reads is None else reads[::-1]
            ahead, behind = step_cell(fwd, x, start, reads), \
                step_cell(bwd, tf.reverse(x, [1]), start, back)
            layers += [KerasLayer(skipped(seq[:, :fwd.units], ahead, reads), ahead, states[:n],
                                  start),
                       KerasLayer(skipped(seq[::-1, fwd.units:], behind, back), behind,
                                  states[n:], start)]
            finals.append([np.concatenate([a, b]) for a, b in zip(states[:n], states[n:])])
        else:
            start = zeros(model, layer.cell.units)
            layers.append(KerasLayer(seq, step_cell(layer.cell, x, start, reads), states,
                                     start))
            finals.append(states)
        x = out[0]
    return layers, finals


def keras_decoder(model, fed, finals):
    """The decoder's KerasLayers: reading the features of the token ids `fed` from the
    encoder's final states, or (repeat) the repeated top encoder h from zeros."""
    steps = len(fed)
    if model.config.feeds_back:
        y = token_features(model.layers.target_input, tf.constant([fed], tf.int32))
        starts = [[tf.constant(s[None]) for s in f] for f in finals]
    else:
        repeat = model.nets.train.get_layer("repeat")
        y = repeat(tf.constant(finals[-1][0][None]))[:, :steps]
        starts = [zeros(model, layer.cell.units) for layer in model.layers.decoders]
    out = []
    for layer, start in zip(model.layers.decoders, starts):
        res = layer(y, initial_state=start if model.config.feeds_back else None)
        out.append(KerasLayer(np.asarray(res[0])[0], step_cell(layer.cell, y, start),
                              [np.asarray(s)[0] for s in res[1:]], start))
        y = res[0]
    return out


def fed_tokens(model, written) -> list[int]:
    """What the decoder reads before each written token: the start symbol, then each token."""
    return [model.start_id] + list(written)[:-1]


def network_argmax(model, text: str, written) -> list[int]:
    """The training network's argmax at each written position, fed `written` (teacher
    forcing): greedy tokens are exactly those it picks itself."""
    src = model.task.encode_inputs([text])
    target = np.zeros((1, model.task.target_len), np.int32)
    target[0, :len(written)] = written
    probs = np.asarray(model.train_model(model.model_inputs(src, target), training=False))
    return [int(i) for i in probs[0, :len(written)].argmax(-1)]


@dataclass(frozen=True)
class Case:
    """One model over one input: the CellTrace under test, the Decoder's greedy trace, and
    the Keras references (encoder layers, their final states, decoder layers)."""

    model: sc.Seq2Seq
    text: str
    read: np.ndarray
    trace: CellTrace
    greedy: Trace
    encoder: list
    finals: list
    decoder: list


def make_case(model) -> Case:
    text = text_for(model)
    read = model.prepare_source(model.task.encode_inputs([text]))
    greedy = Decoder(model).trace(text)
    encoder, finals = keras_encoder(model, read)
    written = [s.token_id for s in greedy.steps]
    return Case(model, text, read, cell_trace(model, text), greedy, encoder, finals,
                keras_decoder(model, fed_tokens(model, written), finals))


@pytest.fixture(scope="module", params=[*CONFIGS, TRAINED])
def case(request) -> Case:
    if request.param == TRAINED:
        return make_case(request.getfixturevalue("attention_model"))
    return make_case(build(request.param))


def gap(a, b) -> float:
    """The largest difference between two arrays of one shape (inf for two shapes)."""
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b), initial=0.0)) if a.shape == b.shape else np.inf


def close(a, b, tol=TOL) -> bool:
    return gap(a, b) <= tol


def assert_layer_matches(gates: LayerGates, ref: KerasLayer):
    """h per step (output sequence and stepped cell), c per step, final and initial states."""
    names = ("h", "c")[:len(ref.stepped)]
    assert close(gates.values["h"], ref.h), (gates.key, gap(gates.values["h"], ref.h))
    for name, stepped, final, start in zip(names, ref.stepped, ref.final, ref.initial):
        assert close(gates.values[name], stepped), (gates.key, name,
                                                    gap(gates.values[name], stepped))
        assert close(gates.values[name][-1], final), name
        assert close(gates.initial[name], np.asarray(start)[0]), name


# ---- every layer equals the network's ------------------------------------------------------------
def test_encoder_layers_equal_the_keras_layers(case):
    cfg, trace, read = case.model.config, case.trace, case.read[0]
    directions = ("forward", "backward") if cfg.bidirectional else ("forward",)
    assert [(x.layer, x.direction) for x in trace.encoder] == \
        [(i, d) for i in range(cfg.layers) for d in directions]
    assert len(trace.encoder) == len(case.encoder)
    assert trace.source_ids == tuple(int(i) for i in read)
    labels = [case.model.task.source_vocab.label(int(i)) for i in read]
    size = len(read)
    for gates, ref in zip(trace.encoder, case.encoder):
        order = list(range(size))[::-1 if gates.direction == "backward" else 1]
        assert (gates.side, gates.cell, gates.steps, gates.units) == \
            ("encoder", cfg.cell, size, cfg.units)
        assert gates.positions == tuple(order)
        assert gates.tokens == tuple(labels[p] for p in order)
        assert set(gates.values) == set(GATE_NAMES[cfg.cell])
        assert_layer_matches(gates, ref)


def test_decoder_layers_equal_the_keras_layers_fed_the_greedy_tokens(case):
    model, trace, greedy = case.model, case.trace, case.greedy
    assert trace.output_text == greedy.output_text
    written = [s.token_id for s in greedy.steps]
    assert network_argmax(model, case.text, written) == written
    assert [x.key for x in trace.decoder] == [f"decoder {j + 1}"
                                              for j in range(model.config.layers)]
    for j, (gates, ref) in enumerate(zip(trace.decoder, case.decoder)):
        assert (gates.side, gates.layer, gates.direction) == ("decoder", j, "forward")
        assert gates.steps == len(greedy.steps) and gates.units == model.config.dec_units
        assert gates.tokens == tuple(s.token for s in greedy.steps)
        assert gates.positions == tuple(range(len(greedy.steps)))
        assert_layer_matches(gates, ref)


def test_the_greedy_trace_and_the_encoder_trace_agree(case):
    """The Decoder's own encoder states (another compiled function) equal the gates' h."""
    greedy, trace, cfg = case.greedy, case.trace, case.model.config
    per = 2 if cfg.bidirectional else 1
    for i in range(cfg.layers):
        both = trace.encoder[per * i:per * (i + 1)]
        for name, seen in (("h", greedy.encoder_hidden), ("c", greedy.encoder_cell)):
            if name in both[0].values:
                joined = [x.values[name][::1 if x.direction == "forward" else -1] for x in both]
                assert close(seen[i], np.concatenate(joined, -1)), (i, name)


def test_gates_stay_in_their_ranges_and_saturation_counts_them(case):
    low = high = total = 0
    for layer in case.trace.layers:
        for name in layer.names:
            v = layer.values[name]
            assert v.dtype == np.float32 and np.isfinite(v).all()
            if name in SIGMOID[layer.cell]:
                assert v.min() >= 0 and v.max() <= 1, name
                low, high = low + (v < 0.1).sum(), high + (v > 0.9).sum()
                total += v.size
            elif name != "c":
                assert v.min() >= -1 and v.max() <= 1, name
    assert total == sum(x.steps * x.units for x in case.trace.layers) * \
        len(SIGMOID[case.model.config.cell])
    assert case.trace.saturation() == pytest.approx((low + high) / total, abs=1e-12)


def test_the_trained_model_has_decided_gates(attention_model):
    """Training pushes gates to 0 or 1: a trained model saturates, an untrained one barely."""
    trained = cell_trace(attention_model, TEXT).saturation()
    assert 0.1 < trained < 1
    assert cell_trace(build("lstm attention"), TEXT).saturation() < trained / 4


def test_a_reversed_source_is_read_reversed():
    model = build("lstm reversed source")
    trace = cell_trace(model, "1 2 3 4 12")
    assert trace.source_ids == tuple(model.task.encode_inputs(["12 4 3 2 1"])[0])
    assert trace.encoder[0].tokens == ("12", "4", "3", "2", "1")
    same = cell_trace(build("lstm teacher"), "1 2 3 4 12")
    assert same.encoder[0].tokens == ("1", "2", "3", "4", "12")


# ---- forced decodes -----------------------------------------------------------------------------
@pytest.mark.parametrize("step, token", [(1, "12"), (2, "9"), (3, "3")])
def test_a_forced_trace_follows_the_forced_tokens(attention_model, step, token):
    model = attention_model
    forced = forced_decode(model, TEXT, step, token)
    trace = cell_trace(model, TEXT, forced)
    written = [s.token_id for s in forced.steps]
    assert trace.forced_step == step and trace.output_text == forced.output_text
    assert written[step - 1] == int(token)
    read = model.prepare_source(model.task.encode_inputs([TEXT]))
    encoder, finals = keras_encoder(model, read)
    for gates, ref in zip(trace.encoder, encoder):
        assert_layer_matches(gates, ref)
    for gates, ref in zip(trace.decoder, keras_decoder(model, fed_tokens(model, written),
                                                       finals)):
        assert gates.tokens == tuple(s.token for s in forced.steps)
        assert gates.steps == len(written)
        assert_layer_matches(gates, ref)


def test_a_forced_decode_of_another_input_is_refused(attention_model):
    forced = forced_decode(attention_model, TEXT, 2, "9")
    with pytest.raises(sc.InvalidInput, match="The forced decode belongs to another input"):
        cell_trace(attention_model, "5 4 3 2 1", forced)
    with pytest.raises(sc.InvalidInput, match="Not an integer between 1 and 12"):
        cell_trace(attention_model, "1 2 99 4 5")


def test_a_forced_end_symbol_shortens_the_decoder():
    model = build("translation (end symbol)")
    text = text_for(model)
    forced = forced_decode(model, text, 2, "⟨end⟩")
    trace = cell_trace(model, text, forced)
    assert [x.steps for x in trace.decoder] == [2]
    assert trace.decoder[0].tokens[-1] == model.task.target_vocab.label(
        model.task.target_vocab.end)
    read = model.prepare_source(model.task.encode_inputs([text]))
    _, finals = keras_encoder(model, read)
    ref = keras_decoder(model, fed_tokens(model, [s.token_id for s in forced.steps]), finals)
    assert_layer_matches(trace.decoder[0], ref[0])


# ---- slow motion --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["lstm bidirectional, 2 layers",
                                  "gru bidirectional, 2 layers, attention",
                                  "repeat, 2 layers, decoder units 12"])
def test_slow_motion_terms_satisfy_the_cell_equations(name):
    model = build(name)
    trace = cell_trace(model, TEXT)
    by_key = {x.key: x for x in trace.layers}
    for layer in trace.layers:
        for t in range(layer.steps):
            for u in sorted({0, 3, layer.units - 1}):
                check_slow_motion(layer, t, u, previous(model, by_key, layer, t))


def previous(model, by_key, layer: LayerGates, t: int) -> dict:
    """h (and c) just before step t: the last step's, zeros for the encoder (and the repeat
    decoder), the encoder layer's final states (directions joined) for the decoder."""
    if t:
        return {n: layer.values[n][t - 1] for n in layer.initial}
    if layer.side == "encoder" or not model.config.feeds_back:
        return {n: np.zeros(layer.units, np.float32) for n in layer.initial}
    keys = [f"encoder {layer.layer + 1}"]
    if model.config.bidirectional:
        keys.append(f"encoder {layer.layer + 1} backward")
    return {n: np.concatenate([by_key[k].values[n][-1] for k in keys]) for n in layer.initial}


def check_slow_motion(layer: LayerGates, t: int, u: int, before: dict):
    sm = slow_motion(layer, t, u)
    terms = sm.terms
    assert (sm.cell, sm.step, sm.unit, sm.token) == (layer.cell, t, u, layer.tokens[t])
    for n in layer.names:
        assert terms[n] == float(layer.values[n][t, u])
    assert terms["h_prev"] == float(before["h"][u])
    if layer.cell == "lstm":
        assert terms["c_prev"] == float(before["c"][u])
        assert terms["kept"] == pytest.approx(terms["f"] * terms["c_prev"], abs=1e-12)
        assert terms["written"] == pytest.approx(terms["i"] * terms["g"], abs=1e-12)
        assert terms["c"] == pytest.approx(terms["kept"] + terms["written"], abs=1e-6)
        assert terms["h"] == pytest.approx(terms["o"] * np.tanh(terms["c"]), abs=1e-6)
        assert [e[0] for e in sm.equations()] == ["c(t)", "h(t)"]
        assert [e[2] for e in sm.equations()] == [terms["c"], terms["h"]]
    else:
        assert terms["kept"] == pytest.approx(terms["z"] * terms["h_prev"], abs=1e-12)
        assert terms["written"] == pytest.approx((1 - terms["z"]) * terms["candidate"],
                                                 abs=1e-12)
        assert terms["h"] == pytest.approx(terms["kept"] + terms["written"], abs=1e-6)
        [(left, formula, value)] = sm.equations()
        assert left == "h(t)" and value == terms["h"] and formula.startswith("z·h(t−1)")


def test_slow_motion_writes_its_numbers_into_the_equations():
    layer = LayerGates("decoder", 0, "lstm", "forward", ("a",), (0,),
                       {"i": np.array([[0.5]]), "f": np.array([[0.25]]),
                        "g": np.array([[-0.5]]), "o": np.array([[1.0]]),
                        "c": np.array([[-0.125]]), "h": np.array([[np.tanh(-0.125)]])},
                       {"h": np.array([0.0]), "c": np.array([0.5])})
    (c_left, c_formula, c_value), (h_left, h_formula, _) = slow_motion(layer, 0, 0).equations()
    assert (c_left, h_left, c_value) == ("c(t)", "h(t)", -0.125)
    assert c_formula == "f·c(t−1) + i·g = 0.250×0.500 + 0.500×(−0.500) = 0.125 + (−0.250)"
    assert h_formula.startswith("o·tanh(c(t)) = 1.000×tanh(")
    assert h_formula.endswith("tanh(−0.125) = 1.000×(−0.124)")


@pytest.mark.parametrize("step, unit, message", [
    (-1, 0, "Step must be between 0 and 4; got -1."),
    (5, 0, "Step must be between 0 and 4; got 5."),
    (True, 0, "Step must be a whole number"),
    (0, 8, "Unit must be between 0 and 7; got 8."),
    (0, -1, "Unit must be between 0 and 7; got -1."),
    (0, 1.5, "Unit must be a whole number"),
])
def test_bad_slow_motion_steps_and_units_are_refused(step, unit, message):
    layer = cell_trace(build("gru teacher"), TEXT).encoder[0]
    with pytest.raises(sc.InvalidInput) as err:
        slow_motion(layer, step, unit)
    assert message in str(err.value)


# ---- several inputs at once ---------------------------------------------------------------------
@pytest.mark.parametrize("name", ["gru bidirectional, 2 layers, attention", TRAINED,
                                  "translation (end symbol)"])
def test_cell_traces_equal_each_cell_trace(name, request):
    model = request.getfixturevalue("attention_model") if name == TRAINED else build(name)
    texts = [TEXT, "12 7 7 1 3", "9 8 7 6 5"] if model.task.name == "reverse" else \
        model.task.example_inputs()
    many = cell_traces(model, texts)
    assert len(many) == 3 and cell_traces(model, []) == ()
    for text, got in zip(texts, many):
        one = cell_trace(model, text)
        assert (got.input_text, got.output_text, got.source_ids, got.forced_step) == \
            (one.input_text, one.output_text, one.source_ids, one.forced_step)
        assert [x.key for x in got.layers] == [x.key for x in one.layers]
        for a, b in zip(got.layers, one.layers):
            assert (a.tokens, a.positions, a.cell) == (b.tokens, b.positions, b.cell)
            for n in a.names:
                assert np.array_equal(a.values[n], b.values[n]), (text, a.key, n)
            for n in a.initial:
                assert np.array_equal(a.initial[n], b.initial[n]), (text, a.key, n)


# ---- units that react, and where else they fire alike -------------------------------------------
def hand_layer() -> LayerGates:
    """A GRU layer of 5 steps and 6 units, quiet but for unit 3, which jumps at step 2."""
    rng = np.random.default_rng(0)
    values = {n: (rng.normal(size=(5, 6)) * 0.01).astype(np.float32)
              for n in GATE_NAMES["gru"]}
    values["h"][2, 3] += 1.0
    return LayerGates("encoder", 0, "gru", "forward", tuple("abcde"), tuple(range(5)), values,
                      {"h": np.zeros(6, np.float32)})


def test_the_unit_that_jumps_reacts_most():
    layer = hand_layer()
    h = layer.values["h"].astype(np.float64)
    found = reacting_units(layer, "h", [2], k=3)
    assert len(found) == 3 and found[0].unit == 3
    assert found[0].inside == pytest.approx(h[2, 3], abs=1e-12)
    assert found[0].outside == pytest.approx(h[[0, 1, 3, 4], 3].mean(), abs=1e-12)
    inside, outside = h[2], h[[0, 1, 3, 4]].mean(0)
    score = np.abs(inside - outside) / (h[[0, 1, 3, 4]].std(0) + SPREAD_FLOOR)
    assert found[0].score > 5 * found[1].score  # the jump stands out from the noise
    assert [r.unit for r in found] == list(np.argsort(-score)[:3])
    assert [r.score for r in found] == pytest.approx(sorted(score)[::-1][:3], abs=1e-9)
    assert len(reacting_units(layer, "h", (2, 2, 4), k=64)) == 6
    assert reacting_units(layer, "h", np.array([2]), k=1) == found[:1]


@pytest.mark.parametrize("name, steps, k, message", [
    ("h", range(5), 8, "Pick some of the steps, not all of them: a unit reacts to the chosen "
                       "steps when it differs there from the others."),
    ("h", [], 8, "Pick at least one step."),
    ("h", [5], 8, "Step must be between 0 and 4; got 5."),
    ("h", [-1, 2], 8, "Step must be between 0 and 4; got -1."),
    ("c", [2], 8, "A GRU layer has no 'c'; it has z, r, candidate, h."),
    ("h", [2], 0, "Units to list must be between 1 and 64; got 0."),
    ("h", [2], 65, "Units to list must be between 1 and 64; got 65."),
])
def test_bad_reacting_unit_choices_say_what_is_allowed(name, steps, k, message):
    with pytest.raises(sc.InvalidInput) as err:
        reacting_units(hand_layer(), name, steps, k)
    assert str(err.value) == message


SAMPLE = 40


@pytest.mark.parametrize("key", ["encoder 1", "decoder 1"])
def test_a_steps_own_pattern_is_found_at_distance_zero(attention_model, key):
    model, task = attention_model, attention_model.task
    texts = [task.source_text(r) for r in task.map_inputs(SAMPLE, 3).source]
    layer = cell_trace(model, texts[5]).find(key)
    units, step = [0, 4, 9, 17], 1
    values = layer.values["h"][:, units].astype(np.float64)
    pattern, outside = values[step], np.delete(values, step, 0).mean(0)
    found = fire_alike(model, key, "h", units, pattern, outside, n=SAMPLE, seed=3, shown=10**4)
    radius = float(np.sqrt(np.mean((pattern - outside) ** 2))) / 2
    assert found.radius == pytest.approx(radius, abs=1e-12) and found.inputs == SAMPLE
    assert found.hits[0].distance <= 1e-6
    assert any(m.text == texts[5] and m.step == step and m.distance <= 1e-6
               for m in found.hits)
    expected, steps = [], 0
    for trace in cell_traces(model, texts):
        mine = trace.find(key)
        steps += mine.steps
        dist = np.sqrt(np.mean((mine.values["h"][:, units] - pattern) ** 2, axis=1))
        expected += [(trace.input_text, int(t)) for t in np.flatnonzero(dist <= radius)]
    assert found.steps == steps
    hits = [(m.text, m.step) for m in found.hits]
    assert len(hits) == sum(c for _, c in found.counts)
    assert sorted(hits) == sorted(expected)
    assert [m.distance for m in found.hits] == sorted(m.distance for m in found.hits)
    assert all(m.distance <= radius and m.token == m.tokens[m.step] for m in found.hits)
    counted = {}
    for m in found.hits:
        counted[m.token] = counted.get(m.token, 0) + 1
    assert dict(found.counts) == counted
    by_step = {}
    for m in found.hits:
        by_step[m.step + 1] = by_step.get(m.step + 1, 0) + 1
    assert dict(found.at_steps) == by_step
    top, count = found.counts[0]
    where = f"They fire the same way at {len(hits):,} of {steps:,} steps in {SAMPLE} fresh inputs"
    token = f"the token there is '{top}' in {count:,} of them ({count / len(hits):.0%})"
    step, times = found.at_steps[0]
    if times > count:
        assert matches_sentence(found) == (
            f"{where}, at step {step} in {times:,} of them ({times / len(hits):.0%}), while "
            f"{token}: these units follow the position more than the token.")
    else:
        assert matches_sentence(found) == f"{where}; {token}."


def test_units_that_follow_the_position_are_said_to():
    hit = Match("1 2 3", ("1", "2", "3"), 0, 0.0)
    by_token = Matches(4, 12, (hit,), (("1", 3), ("7", 1)), 0.1, ((1, 3), (2, 1)))
    assert matches_sentence(by_token) == (
        "They fire the same way at 4 of 12 steps in 4 fresh inputs; the token there is '1' "
        "in 3 of them (75%).")
    by_step = Matches(4, 12, (hit,), (("1", 2), ("7", 1), ("9", 1)), 0.1, ((1, 4),))
    assert matches_sentence(by_step) == (
        "They fire the same way at 4 of 12 steps in 4 fresh inputs, at step 1 in 4 of them "
        "(100%), while the token there is '1' in 2 of them (50%): these units follow the "
        "position more than the token.")


def test_a_pattern_nowhere_else_says_so(attention_model):
    found = fire_alike(attention_model, "encoder 1", "h", [0, 1], [5.0, 5.0], [5.0, 5.0],
                       n=10, seed=1)
    assert found.hits == () and found.counts == () and found.radius == 0.0
    assert found.inputs == 10 and found.steps == 10 * attention_model.task.source_len
    assert matches_sentence(found) == ("They fire this way nowhere else in 10 fresh inputs: "
                                       "the pattern is particular to this input.")
    one = Matches(1, 5, (), (), 0.1)
    assert matches_sentence(one) == ("They fire this way nowhere else in 1 fresh input: the "
                                     "pattern is particular to this input.")
    with pytest.raises(sc.InvalidInput, match="This model has no 'encoder 2'; it has "
                                              "encoder 1, decoder 1."):
        fire_alike(attention_model, "encoder 2", "h", [0], [0.0], [1.0], n=5)
    with pytest.raises(sc.InvalidInput, match="Sample size must be between 1 and 2000"):
        fire_alike(attention_model, "encoder 1", "h", [0], [0.0], [1.0], n=0)


# ---- JSON ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["lstm bidirectional, 2 layers", "gru repeat"])
def test_the_json_holds_every_number(name):
    model = build(name)
    trace = cell_trace(model, TEXT)
    data = trace.to_json()
    text = json.dumps(data, allow_nan=False)
    assert json.loads(text) == data
    assert data["input"] == TEXT and data["output"] == trace.output_text
    assert data["source_ids"] == [int(i) for i in model.task.encode_inputs([TEXT])[0]]
    for side in ("encoder", "decoder"):
        layers = getattr(trace, side)
        assert len(data[side]) == len(layers)
        for got, layer in zip(data[side], layers):
            assert (got["layer"], got["cell"], got["direction"]) == \
                (layer.layer, model.config.cell, layer.direction)
            assert got["tokens"] == list(layer.tokens)
            assert got["positions"] == list(layer.positions)
            assert len(got["steps"]) == layer.steps
            for t, step in enumerate(got["steps"]):
                assert list(step) == list(GATE_NAMES[model.config.cell])
                for n, numbers in step.items():
                    assert all(type(v) is float for v in numbers)
                    assert numbers == [float(v) for v in layer.values[n][t]]
    if model.config.bidirectional:
        assert [x["direction"] for x in data["encoder"]] == ["forward", "backward"] * 2
        assert [x["layer"] for x in data["encoder"]] == [0, 0, 1, 1]


def test_layer_keys_and_titles():
    trace = cell_trace(build("lstm bidirectional, 2 layers"), TEXT)
    assert [x.key for x in trace.layers] == [
        "encoder 1", "encoder 1 backward", "encoder 2", "encoder 2 backward",
        "decoder 1", "decoder 2"]
    assert trace.find("encoder 2 backward").title == \
        "Encoder layer 2, backward (reads right to left)"
    assert trace.find("decoder 2").title == "Decoder layer 2"
    assert trace.find("encoder 1").before("h", 0).tolist() == [0.0] * 8
    with pytest.raises(sc.InvalidInput, match="This model has no 'decoder 3'"):
        trace.find("decoder 3")


def test_a_greedy_decode_that_ends_early_stops_the_decoder_there():
    model = sc.Seq2Seq.build(task("translation"), M(units=8), seed=2)
    dense, end = model.nets.train.get_layer("output_dense"), model.task.target_vocab.end
    bias = np.zeros(dense.bias.shape, np.float32)
    bias[end] = 50.0
    dense.bias.assign(bias)
    text = text_for(model)
    greedy, trace = Decoder(model).trace(text), cell_trace(model, text)
    assert len(greedy.steps) == 1 and greedy.steps[0].token_id == end
    assert trace.output_text == greedy.output_text == ""
    assert trace.decoder[0].steps == 1 and trace.decoder[0].tokens == (greedy.steps[0].token,)
    read = model.prepare_source(model.task.encode_inputs([text]))
    _, finals = keras_encoder(model, read)
    assert_layer_matches(trace.decoder[0], keras_decoder(model, [model.start_id], finals)[0])
