"""Inside the cell (Inspect, and Train's watched inputs): every gate of a recurrent layer
step by step, one unit in slow motion, and the units that react to chosen steps.

Every key it keeps in session state starts with "inspect_cell_" (Inspect) or "train_cell_"
(Train). The numbers come from `seq2seq_core.gates`, recomputed from the layers' weights.
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import streamlit as st

import seq2seq_core as sc
from seq2seq_core import gates
from seq2seq_core.charts import cell as charts
from seq2seq_core.training import GATES_EVERY
from seq2seq_core.vocab import PAD_LABEL, PAD_MARK, SPACE_LABEL, plural

from .cache import forget, remembered, same
from .inspector import section
from .session import TrainingCapReached, job_slot
from .text import md
from .whatif import kept_forced
from .widgets import keep_within

P = "inspect_cell_"
LAYER_ENC, LAYER_DEC, UNITS, FOLLOW = P + "encoder", P + "decoder", P + "units", P + "follow"
SLOW_LAYER, SLOW_UNIT, SLOW_STEP, PLAYING = P + "slow_layer", P + "slow_unit", P + "slow_step", \
    P + "playing"
REACT_LAYER, REACT_NAME, REACT_STEPS, REACT_K = P + "react_layer", P + "react_name", \
    P + "react_steps", P + "react_k"
MATCHES, MATCHES_ERROR = P + "matches", P + "matches_error"
WIDGETS = (LAYER_ENC, LAYER_DEC, UNITS, FOLLOW, SLOW_LAYER, SLOW_UNIT, REACT_LAYER, REACT_NAME,
           REACT_K)
SLOTS = (P + "trace", SLOW_STEP, PLAYING, P + "tick", P + "slow_for", MATCHES, MATCHES_ERROR,
         P + "react_for", P + "spec_encoder", P + "spec_decoder")
SHOWN_UNITS = 16   # units drawn at first
MAX_SHOWN = 48     # units one heatmap draws at most
PLAY_SECONDS = 1.0
HALF_ROOM, FULL_ROOM = 560, 660  # pixels of a half-width column and of Train's main column
FOLLOW_GREEDY, FOLLOW_FORCED = "greedy decode", "forced decode"


def reset() -> None:
    """A new model: its layers, units and steps differ, so start these views afresh."""
    forget(*WIDGETS, *SLOTS, *[k for k in st.session_state if str(k).startswith(REACT_STEPS)])


def _cell_trace(model: sc.Seq2Seq, trace) -> gates.CellTrace:
    forced = kept_forced(model, trace.input_text)
    if forced is not None and model.config.feeds_back:
        st.radio("The decoder follows", (FOLLOW_GREEDY, FOLLOW_FORCED), key=FOLLOW,
                 horizontal=True,
                 help=f"The forced decode is the what-if view's: step {forced.step} forced "
                      f"to '{md(forced.token)}', greedy after it.")
    if st.session_state.get(FOLLOW) != FOLLOW_FORCED:
        forced = None
    return remembered(P + "trace", (model, trace.input_text, forced),
                      lambda: gates.cell_trace(model, trace.input_text, forced).check_finite())


def cell_section(model: sc.Seq2Seq, trace) -> None:
    section(
        "Inside the cell",
        "Each recurrent layer is a cell applied once per step. Its gates are numbers between "
        "0 and 1 for every unit: they decide what the memory keeps, what it writes and what "
        "it shows. These are recomputed from the layer's own weights and equal what the "
        "network computed.")
    ct = _cell_trace(model, trace)
    if ct.forced_step is not None:
        st.caption(f"The decoder's columns follow the forced decode: output "
                   f"**{md(ct.output_text) or '(empty)'}**.")
    heatmaps(ct)
    st.divider()
    slow_motion_view(ct)
    st.divider()
    reacting_view(model, ct)


# ---- the gates as heatmaps ---------------------------------------------------------------------
def _units_range(units: int, key: str) -> range:
    """The units the heatmaps draw: a range slider when there are more than fit."""
    if units <= SHOWN_UNITS:
        return range(units)
    default = (1, SHOWN_UNITS)
    chosen = st.session_state.get(key)
    if not (isinstance(chosen, tuple) and len(chosen) == 2 and 1 <= chosen[0] <= chosen[1]
            <= units and chosen[1] - chosen[0] < MAX_SHOWN):
        st.session_state[key] = default
    low, high = st.slider(f"Units drawn (of {units})", 1, units, key=key,
                          help=f"At most {MAX_SHOWN} at a time, so every row stays readable.")
    if high - low >= MAX_SHOWN:
        high = low + MAX_SHOWN - 1
        st.caption(f"Drawing units {low} to {high}: at most {MAX_SHOWN} at a time.")
    return range(low - 1, high)


def top_encoder(layers) -> str:
    """The key of the top encoder layer's forward direction (else the first layer's)."""
    keys = [x.key for x in layers if x.side == "encoder" and x.direction == "forward"]
    return keys[-1] if keys else layers[0].key


def _layer_pick(label: str, layers, key: str, where) -> gates.LayerGates:
    """A layer chosen by title; the top encoder layer (forward) at first."""
    keys = [x.key for x in layers]
    keep_within(key, keys, top_encoder(layers))
    titles = {x.key: x.title for x in layers}
    chosen = where.selectbox(label, keys, key=key, format_func=titles.get)
    return layers[keys.index(chosen)]


def heatmap_spec(layer: gates.LayerGates, units: range) -> dict:
    """A layer's gate heatmaps as a Vega-Lite spec, built once per layer and unit range
    (Back, Next and every other click rerun the page; building them each time would not)."""
    return remembered(P + "spec_" + layer.side, (layer, units.start, units.stop),
                      lambda: charts.gate_heatmaps(layer, units, room=HALF_ROOM).to_dict())


def heatmaps(ct: gates.CellTrace) -> None:
    left, right = st.columns(2)
    enc = _layer_pick("Encoder layer", ct.encoder, LAYER_ENC, left)
    dec = _layer_pick("Decoder layer", ct.decoder, LAYER_DEC, right)
    units = _units_range(max(enc.units, dec.units), UNITS)
    for where, layer, what in ((left, enc, "input token it reads"),
                               (right, dec, "output token it writes")):
        with where:
            shown = range(units.start, min(units.stop, layer.units))
            if not layer.steps:
                st.info("This layer took no steps for this input.")
            elif not shown:
                st.info(f"{layer.title} has {plural(layer.units, 'unit')}: move the units "
                        f"drawn to start at {layer.units} or below to see them.")
            else:
                st.vega_lite_chart(heatmap_spec(layer, shown))
                st.caption(f"{layer.title}: each column is a step, labelled with the {what}; "
                           f"each row a unit ({plural(layer.units, 'unit')} in all).")
    st.caption(_legend(enc.cell))
    st.markdown("**Where does the network keep or drop its memory?**")
    st.altair_chart(charts.keep_summary([enc, dec]), width="stretch")
    st.caption(keep_sentence(enc) + " " + keep_sentence(dec))


def _legend(cell: str) -> str:
    names = gates.GATE_NAMES[cell]
    return " · ".join(f"**{n}** ({gates.SHORT[n]}): {gates.MEANING[n].split(': ', 1)[1]}"
                      for n in names)


def keep_sentence(layer: gates.LayerGates) -> str:
    """'Encoder layer 1 keeps most at step 3 ('+', mean forget gate 0.91) and least at …'."""
    if not layer.steps:
        return ""
    name = gates.KEEP[layer.cell]
    mean = layer.values[name].mean(axis=1)
    hi, lo = int(mean.argmax()), int(mean.argmin())
    gate = gates.SHORT[name]
    return (f"{layer.title} keeps the most of its memory at step {hi + 1} "
            f"('{md(layer.tokens[hi])}', mean {gate} {mean[hi]:.2f}) and the least at step "
            f"{lo + 1} ('{md(layer.tokens[lo])}', {mean[lo]:.2f}).")


# ---- slow motion -------------------------------------------------------------------------------
def _move(delta: int, steps: int) -> None:
    state = st.session_state
    state[SLOW_STEP] = int(np.clip(state.get(SLOW_STEP, 0) + delta, 0, steps - 1))
    state[PLAYING] = False


def _play(steps: int) -> None:
    """Play from the current step (from the first when at the last), or pause."""
    state = st.session_state
    if state.get(PLAYING):
        state[PLAYING] = False
        return
    if state.get(SLOW_STEP, 0) >= steps - 1:
        state[SLOW_STEP] = 0
    state[PLAYING], state[P + "tick"] = True, None  # the clock starts when it is drawn


def slow_motion_view(ct: gates.CellTrace) -> None:
    st.subheader("Slow motion: one step, one unit", anchor=False)
    st.caption("Follow one unit through the cell's equations, step by step, with the numbers "
               "this input produced. Back and Next move one step; Play walks through them.")
    layers = [x for x in ct.layers if x.steps]
    left, right = st.columns(2)
    layer = _layer_pick("Layer", layers, SLOW_LAYER, left)
    keep_within(SLOW_UNIT, range(1, layer.units + 1), 1)
    unit = right.number_input("Unit", 1, layer.units, step=1, key=SLOW_UNIT,
                              help=f"1 to {layer.units}; the units that react (below) are "
                                   "good ones to follow.")
    state = st.session_state
    if not same(state.get(P + "slow_for"), (ct, layer.key)):  # another input or layer: stop
        state[P + "slow_for"], state[PLAYING] = (ct, layer.key), False
    keep_within(SLOW_STEP, range(layer.steps), 0)
    run_every = PLAY_SECONDS if state.get(PLAYING) else None
    st.fragment(run_every=run_every)(_slow_frame)(layer, int(unit) - 1)


def _advance(steps: int) -> bool:
    """While playing, a step on once PLAY_SECONDS have passed since the last; at the last
    step playing ends. True when it just ended (the page then reruns to stop the timer)."""
    state = st.session_state
    if not state.get(PLAYING):
        return False
    if state.get(P + "tick") is None:
        state[P + "tick"] = time.monotonic()
        return False
    if time.monotonic() - state[P + "tick"] < PLAY_SECONDS * 0.9:
        return False
    state[SLOW_STEP] = min(state[SLOW_STEP] + 1, steps - 1)
    state[P + "tick"] = time.monotonic()
    if state[SLOW_STEP] >= steps - 1:
        state[PLAYING] = False
        return True
    return False


def _slow_frame(layer: gates.LayerGates, unit: int) -> None:
    """The step's controls, diagram and equations: a fragment, so Back, Next and Play
    redraw only this, and while playing it reruns itself each PLAY_SECONDS."""
    state = st.session_state
    ended = _advance(layer.steps)
    step, playing = state[SLOW_STEP], bool(state.get(PLAYING))
    back, nxt, play, where = st.columns([1, 1, 1, 3], vertical_alignment="center")
    back.button("Back", key=P + "back", icon=":material/skip_previous:", on_click=_move,
                args=(-1, layer.steps), disabled=step == 0, width="stretch")
    nxt.button("Next", key=P + "next", icon=":material/skip_next:", on_click=_move,
               args=(1, layer.steps), disabled=step >= layer.steps - 1, width="stretch")
    play.button("Pause" if playing else "Play", key=P + "play", on_click=_play,
                args=(layer.steps,), width="stretch", disabled=layer.steps < 2,
                icon=":material/pause:" if playing else ":material/play_arrow:")
    where.caption(f"Step {step + 1} of {layer.steps}")
    sm = gates.slow_motion(layer, step, unit)
    st.image(charts.cell_diagram(sm, layer.title), width="content")
    for lhs, formula, value in sm.equations():
        st.markdown(f"`{lhs}` = {md(formula)} = **{gates.number(value)}**")
    st.caption(slow_sentence(sm))
    if ended:
        st.rerun()  # the whole page, so the fragment is drawn again without its timer


def slow_sentence(sm: gates.SlowMotion) -> str:
    """What this step did to the unit's memory, in words."""
    t = sm.terms
    if sm.cell == "lstm":
        keep = "keeps" if t["f"] > 0.5 else "forgets"
        write = "writes a lot" if t["i"] > 0.5 else "writes little"
        return (f"At '{md(sm.token)}' the forget gate {keep} the old memory "
                f"(f = {t['f']:.2f}) and the input gate {write} (i = {t['i']:.2f}); the output "
                f"gate shows {t['o']:.0%} of tanh(c).")
    keep = "keeps the old state" if t["z"] > 0.5 else "takes the candidate"
    return (f"At '{md(sm.token)}' the update gate {keep} (z = {t['z']:.2f}); the reset gate "
            f"lets the candidate see {t['r']:.0%} of the old state.")


# ---- units that react --------------------------------------------------------------------------
def _default_steps(layer: gates.LayerGates, labels) -> tuple[str, str]:
    """A step worth asking about: the first that reads a sign (such as '+'), else the first
    that is not padding."""
    blank = (SPACE_LABEL, PAD_MARK, PAD_LABEL)
    tokens = layer.tokens
    signs = [t for t, tok in enumerate(tokens)
             if len(tok) == 1 and not tok.isalnum() and not tok.isspace() and tok not in blank]
    first = signs[0] if signs else next((t for t, tok in enumerate(tokens) if tok not in blank), 0)
    return (labels[first], labels[first])


def _steps_key(ct: gates.CellTrace, layer: gates.LayerGates) -> str:
    """The steps slider's key: a new one (with its default steps) for each input and layer,
    as a range slider's default cannot be set through session state."""
    state, owner = st.session_state, (ct.input_text, layer.key)
    mark = state.get(P + "react_for")
    if mark is None or mark[0] != owner:
        number = 0 if mark is None else mark[1] + 1
        if mark is not None:
            state.pop(f"{REACT_STEPS}_{mark[1]}", None)
        mark = state[P + "react_for"] = (owner, number)
    return f"{REACT_STEPS}_{mark[1]}"


def reacting_view(model: sc.Seq2Seq, ct: gates.CellTrace) -> None:
    st.subheader("Units that react", anchor=False)
    st.caption("Pick some steps: the units whose value there differs most from their value "
               "at the other steps are listed and drawn. Then search fresh inputs for the "
               "steps where the same units fire the same way, and see which tokens those are.")
    layers = [x for x in ct.layers if x.steps > 1]
    if not layers:
        st.info("Every layer took a single step for this input: pick an input with more.")
        return
    a, b, c = st.columns([2, 1, 1])
    layer = _layer_pick("Layer", layers, REACT_LAYER, a)
    keep_within(REACT_NAME, layer.names, "h")
    name = b.selectbox("Value", layer.names, key=REACT_NAME,
                       format_func=lambda n: f"{n} ({gates.SHORT[n]})")
    most = min(gates.MAX_TOP, layer.units)
    keep_within(REACT_K, range(1, most + 1), min(5, most))
    k = c.number_input("Units", 1, most, step=1, key=REACT_K)
    labels = charts.step_labels(layer)
    first, last = st.select_slider("Steps", labels, value=_default_steps(layer, labels),
                                   key=_steps_key(ct, layer), help="One step, or a range of them.")
    chosen = list(range(labels.index(first), labels.index(last) + 1))
    try:
        found = gates.reacting_units(layer, name, chosen, int(k))
    except sc.InvalidInput as err:
        st.info(md(err), icon=":material/info:")
        return
    units = [r.unit for r in found]
    st.dataframe(pd.DataFrame({"unit": [u + 1 for u in units],
                               "at the chosen steps": [r.inside for r in found],
                               "elsewhere": [r.outside for r in found],
                               "difference (in spreads)": [r.score for r in found]}),
                 hide_index=True, width="stretch",
                 column_config={c: st.column_config.NumberColumn(format="%.3f")
                                for c in ("at the chosen steps", "elsewhere",
                                          "difference (in spreads)")})
    st.altair_chart(charts.unit_lines(layer, name, units, chosen), width="stretch")
    search = (model, ct, layer.key, name, tuple(units), tuple(chosen))
    st.button("Find where they fire alike", key=P + "find", icon=":material/travel_explore:",
              on_click=_find, args=(model, layer, name, found, search),
              help=f"Decodes {gates.SAMPLE} fresh inputs of this task and looks at every step.")
    matches_view(st.session_state.get(MATCHES), search)


def _find(model, layer, name, found, search) -> None:
    """Search a fresh sample (the button's callback) under a job slot: a few hundred
    decodes, cheap, but one student's button should not be pressed a thousand times at once."""
    state = st.session_state
    state.pop(MATCHES_ERROR, None)
    kept = state.get(MATCHES)
    if kept is not None and same(kept[0], search):
        return  # the same fixed sample again: the same answer, already shown
    try:
        with job_slot("finding units that fire alike (Inspect page)"):
            matches = gates.fire_alike(model, layer.key, name, [r.unit for r in found],
                                       [r.inside for r in found], [r.outside for r in found])
        state[MATCHES] = (search, matches)
    except TrainingCapReached as err:
        state[MATCHES_ERROR] = str(err)


def _marked(match: gates.Match) -> str:
    """The tokens the layer read (or wrote), in its order, the matching one in brackets."""
    return " ".join(f"**[{md(tok)}]**" if t == match.step else md(tok)
                    for t, tok in enumerate(match.tokens))


def matches_view(kept, search) -> None:
    if error := st.session_state.get(MATCHES_ERROR):
        st.warning(md(error))
    if kept is None or not same(kept[0], search):
        return
    matches = kept[1]
    st.markdown(md(gates.matches_sentence(matches)))
    if matches.hits:
        rows = pd.DataFrame({"input": [md(m.text) for m in matches.hits],
                             "its steps, the match in brackets":
                                 [_marked(m) for m in matches.hits],
                             "distance": [m.distance for m in matches.hits]})
        st.table(rows.style.format({"distance": "{:.3f}"}), hide_index=True)
        counts = ", ".join(f"'{md(tok)}' {n}" for tok, n in matches.counts[:8])
        st.caption(f"Tokens at the matching steps: {counts}. A step matches when the units' "
                   f"values there are within {matches.radius:.3f} (root mean square) of the "
                   "chosen steps' values: half the distance to their values elsewhere.")


# ---- Train: the watched inputs' gates while it learns ------------------------------------------
T = "train_cell_"
TRAIN_INPUT, TRAIN_LAYER = T + "input", T + "layer"


def saturation_rows(history) -> list[dict]:
    """One row per chunk and watched input: samples seen, the input, its gate saturation."""
    return [{"samples": r.samples_seen, "input": text, "saturation": share}
            for r in history for (text, _), share in zip(r.watched, r.gate_saturation)]


def saturation_sentence(rows) -> str:
    """'Decisive gate values: 3% at first, 27% now.' for the chosen input's rows."""
    shares = [r["saturation"] for r in rows if r["saturation"] == r["saturation"]]
    if len(shares) < 2:
        return ""
    return (f"Decisive gate values (below 0.1 or above 0.9): {shares[0]:.0%} at first, "
            f"{shares[-1]:.0%} now. As the network learns, more gates open or close all "
            "the way. The gates are recomputed after a chunk every "
            f"{GATES_EVERY:g} s of training or so.")


def training_view(t, history, cells) -> None:
    """The gates of one watched input after the latest chunk, redrawn per chunk, and the
    share of decisive gate values over training (charts kept until a chunk is added, as
    building them on every poll would slow the training beside them)."""
    if not cells or not history:
        return
    at = next((r.chunk for r in reversed(history) if r.gate_saturation), None)
    st.markdown("**Inside the cell while it learns:** the gates of a watched input"
                + (f" after chunk {at}" if at is not None else ""))
    texts = [c.input_text for c in cells]
    keep_within(TRAIN_INPUT, texts, texts[0])
    left, right = st.columns(2)
    text = left.selectbox("Watched input", texts, key=TRAIN_INPUT)
    ct = cells[texts.index(text)]
    layers = [x for x in ct.layers if x.steps]
    layer = _layer_pick("Layer", layers, TRAIN_LAYER, right)
    shown = range(min(layer.units, SHOWN_UNITS))
    try:
        ct.check_finite()
    except sc.InvalidInput as err:
        st.info(md(err), icon=":material/info:")
        return
    spec = remembered(T + "spec", (layer, shown.stop),
                      lambda: charts.gate_heatmaps(layer, shown, room=FULL_ROOM).to_dict())
    st.vega_lite_chart(spec, key="chart_cell_gates")
    st.caption(f"{layer.title}, units 1 to {len(shown)} of {layer.units}, output "
               f"**{md(ct.output_text) or '(empty)'}**. " + _legend(layer.cell))
    rows = saturation_rows(history)
    curve = remembered(T + "curve", (t, len(history)),
                       lambda: charts.saturation_curve(rows).to_dict())
    st.vega_lite_chart(curve, width="stretch", key="chart_cell_saturation")
    st.caption(saturation_sentence([r for r in rows if r["input"] == text]))
