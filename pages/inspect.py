"""Inspect: decode one input step by step, look at the encoder's states, score the model.

Reads the model from `st.session_state["model"]` (set by the Train page, or loaded here
from a saved file). Every key this page keeps in session state starts with "inspect_".
"""
from __future__ import annotations

import numpy as np
import streamlit as st

import seq2seq_core as sc
from seq2seq_core.charts import inspection as charts
from seq2seq_core.inspection import project_final_states

TOP_K = 5
PROJECTION_POINTS = 300
PROJECTION_SEED = 0
EVAL_MIN, EVAL_MAX, EVAL_DEFAULT = 100, 5000, 1000
_MD_SPECIAL = set("\\`*_{}[]()#+-.!|<>~$:")


def md(text: str) -> str:
    """Escape text so markdown shows it literally."""
    return "".join("\\" + c if c in _MD_SPECIAL else c for c in str(text))


# ---- loading a model ---------------------------------------------------------------------
def load_model_ui() -> None:
    """Upload a saved model: a good file replaces the model, a bad one changes nothing."""
    upload = st.file_uploader(
        "Load a saved model file", key="inspect_upload",
        help=f"A model saved from the Train page (a {sc.persistence.SUFFIX} file).")
    if upload is None:
        return
    if st.session_state.get("inspect_upload_id") == upload.file_id:
        return  # already handled this file on an earlier rerun
    try:
        with st.spinner("Loading the model..."):
            model = sc.from_bytes(upload.getvalue())
    except sc.ModelFileError as err:
        st.error(f"Could not load {upload.name}: {err}")
        return
    st.session_state["inspect_upload_id"] = upload.file_id
    st.session_state["model"] = model
    st.rerun()


def train_page_link() -> None:
    try:
        st.page_link("pages/train.py", label="Go to the Train page",
                     icon=":material/model_training:")
    except st.errors.StreamlitAPIException:
        # The page runs on its own (not via app.py's navigation): no page to link to.
        st.caption("Open the Train page from the navigation menu.")


# ---- per-model state ---------------------------------------------------------------------
def reset_for(model: sc.Seq2Seq) -> None:
    """A new model: start from one of its task's example inputs, drop cached results."""
    state = st.session_state
    if state.get("inspect_model_ref") is model:
        return
    state["inspect_model_ref"] = model
    state.pop("inspect_saved", None)
    state["inspect_input"] = model.task.example_inputs()[0]
    state["inspect_step"] = 1
    for key in ("inspect_projection", "inspect_eval", "inspect_last_text", "inspect_layer"):
        state.pop(key, None)


WIDGET_KEYS = ("inspect_input", "inspect_step", "inspect_eval_n", "inspect_layer")


def restore_widgets() -> None:
    """Streamlit forgets a widget's value while another page is shown: put it back."""
    saved = st.session_state.get("inspect_saved", {})
    for key, value in saved.items():
        if key not in st.session_state:
            st.session_state[key] = value


def save_widgets() -> None:
    st.session_state["inspect_saved"] = {
        key: st.session_state[key] for key in WIDGET_KEYS if key in st.session_state}


def random_input(model: sc.Seq2Seq) -> None:
    task = model.task
    split = "train" if getattr(task, "evaluates_on_training_pairs", False) else "valid"
    ids = task.sample(np.random.default_rng(), 1, split).source[0]
    st.session_state["inspect_input"] = task.source_text(ids)


def cached_projection(model: sc.Seq2Seq):
    """The PCA map of final states, computed once per model."""
    cached = st.session_state.get("inspect_projection")
    if cached is None or cached[0] is not model:
        with st.spinner("Encoding a few hundred random inputs..."):
            cached = (model, project_final_states(model, PROJECTION_POINTS, PROJECTION_SEED))
        st.session_state["inspect_projection"] = cached
    return cached[1]


def move_step(delta: int, n_steps: int) -> None:
    current = st.session_state.get("inspect_step", 1)
    st.session_state["inspect_step"] = int(min(max(current + delta, 1), n_steps))


# ---- views ---------------------------------------------------------------------------------
def task_pads_with_space(model: sc.Seq2Seq) -> bool:
    vocab = model.task.source_vocab
    return not vocab.separator and vocab.tokens[vocab.pad] == " "


def model_caption(model: sc.Seq2Seq) -> str:
    c, task = model.config, model.task
    arch = "teacher forcing" if c.arch == "teacher" else "repeat vector"
    parts = [task.title, f"{c.cell.upper()} {c.units} units", arch]
    if c.layers > 1:
        parts.append(f"{c.layers} layers")
    if c.bidirectional:
        parts.append("bidirectional")
    if c.reverse_source:
        parts.append("source reversed")
    parts.append(f"{model.count_params():,} parameters")
    return " · ".join(parts)


def show_result(trace) -> None:
    cols = st.columns(3)
    with cols[0]:
        st.caption("Predicted output")
        st.subheader(md(trace.output_text) if trace.output_text else "(empty)", anchor=False)
    with cols[1]:
        st.caption("Expected output")
        expected = md(trace.expected) if trace.expected is not None else "unknown"
        st.subheader(expected, anchor=False)
    with cols[2]:
        if trace.correct is True:
            st.success("Right: the prediction matches the expected output.",
                       icon=":material/check_circle:")
        elif trace.correct is False:
            st.warning("Wrong: the prediction differs from the expected output.",
                       icon=":material/cancel:")
        else:
            st.info("The task does not know the answer for this input.", icon=":material/help:")


def decoder_section(trace) -> None:
    st.header("Step-by-step decoder", anchor=False)
    st.caption(
        "The decoder writes the output one token at a time. At every step it gives each "
        "possible next token a probability and picks the most likely one (greedy decoding). "
        "A tall orange bar means the model is sure; several similar bars mean it is guessing.")
    steps = trace.steps
    n = len(steps)
    if not n:
        st.info("The decoder produced no steps.")
        return
    if st.session_state.get("inspect_last_text") != trace.input_text:
        st.session_state["inspect_last_text"] = trace.input_text
        st.session_state["inspect_step"] = 1
    st.session_state["inspect_step"] = int(min(max(st.session_state.get("inspect_step", 1), 1), n))
    if n > 1:
        prev, slider, nxt = st.columns([1, 6, 1], vertical_alignment="bottom")
        prev.button("◀ Prev", key="inspect_prev", on_click=move_step, args=(-1, n),
                    disabled=st.session_state["inspect_step"] <= 1, width="stretch")
        slider.slider("Output step", 1, n, key="inspect_step")
        nxt.button("Next ▶", key="inspect_next", on_click=move_step, args=(1, n),
                   disabled=st.session_state["inspect_step"] >= n, width="stretch")
    step = steps[st.session_state["inspect_step"] - 1]

    left, right = st.columns([3, 2])
    with left:
        st.altair_chart(charts.step_probabilities(step), width="stretch")
    with right:
        st.caption("Output so far")
        st.subheader(md(step.output_so_far) if step.output_so_far else "(nothing yet)",
                     anchor=False)
        chosen = " ".join(
            f":orange[**{md(s.token)}**]" if s.index == step.index else f"`{s.token}`"
            for s in steps[: step.index + 1])
        st.markdown(f"Tokens chosen: {chosen}")
        msg = f"At step {step.index + 1} the model chose **{md(step.token)}** with probability " \
              f"**{step.probability:.1%}**."
        if len(step.top) > 1:
            label, prob = step.top[1]
            msg += f" Runner-up: **{md(label)}** ({prob:.1%})."
        st.markdown(msg)
        st.caption("Each chosen token is fed back in as the decoder's next input, so an early "
                   "mistake can throw off the steps after it.")

    st.markdown("**All steps at a glance**")
    st.caption("Each column is one output step, each row a candidate ranked by probability "
               "(row 1 is the token chosen). Dark cells are confident choices; the current "
               "step is outlined.")
    st.altair_chart(charts.steps_overview(trace, step.index), width="stretch")


def encoder_section(model: sc.Seq2Seq, trace) -> None:
    st.header("Encoder states", anchor=False)
    st.caption(
        "The encoder reads the input one token at a time. After each token it updates its "
        "hidden state: a list of numbers (one per unit) that is its memory of what it has "
        "read so far. Red is positive, blue negative.")
    config = model.config
    layers = trace.encoder_hidden.shape[0]
    layer = 1
    if layers > 1:
        if st.session_state.get("inspect_layer") not in range(1, layers + 1):
            st.session_state["inspect_layer"] = layers
        layer = st.radio("Encoder layer", list(range(1, layers + 1)), horizontal=True,
                         key="inspect_layer",
                         help="Layer 1 reads the input tokens; each later layer reads the "
                              "states of the layer below.")
    # Short labels keep every column labelled; "·" stands for padding.
    tokens = ["·" if t == "⟨pad⟩" else t for t in trace.input_tokens]
    notes = []
    if config.reverse_source:
        notes.append("This model reads the input backwards, so the columns run from the last "
                     "token to the first.")
    if config.bidirectional:
        notes.append(f"The encoder is bidirectional: units 0-{config.units - 1} read "
                     f"left to right, units {config.units}-{2 * config.units - 1} right to left.")
    if "·" in tokens:
        notes.append("· marks padding that fills the input up to its full length.")
    if "␣" in tokens:
        notes.append("␣ marks a space" + (" (here also the padding that fills the input up "
                                          "to its full length)." if task_pads_with_space(model)
                                          else "."))
    if notes:
        st.caption(" ".join(notes))

    hidden = trace.encoder_hidden[layer - 1]
    cell = None if trace.encoder_cell is None else trace.encoder_cell[layer - 1]
    if cell is not None:
        # Side by side for short inputs; stacked, full width, for long ones.
        hcol, ccol = st.columns(2) if len(tokens) <= 12 else (st.container(), st.container())
        with hcol:
            st.altair_chart(charts.state_heatmap(hidden, tokens, "Hidden state h", (-1, 1)),
                            width="stretch")
        with ccol:
            st.altair_chart(charts.state_heatmap(cell, tokens, "Cell state c"),
                            width="stretch")
        st.caption("The LSTM keeps two vectors: the cell state c is its long-term memory "
                   "(it can grow large), the hidden state h (between -1 and 1) is what it "
                   "shows to the next step and the next layer.")
    else:
        st.altair_chart(charts.state_heatmap(hidden, tokens, "Hidden state h", (-1, 1)),
                        width="stretch")

    st.subheader("Final state", anchor=False)
    handoff = ("becomes the decoder's starting state" if config.arch == "teacher"
               else "is repeated as the decoder's input at every output step")
    st.caption(f"After the last token, the top layer's state {handoff}: everything the decoder "
               "knows about the input has to fit in these numbers.")
    final = trace.final_state
    if "c" in final:
        fh, fc = st.columns(2)
        fh.altair_chart(charts.final_state(final["h"], "final h", (-1, 1)),
                        width="stretch")
        fc.altair_chart(charts.final_state(final["c"], "final c"), width="stretch")
    else:
        st.altair_chart(charts.final_state(final["h"], "final h", (-1, 1)),
                        width="stretch")

    st.subheader("Map of final states", anchor=False)
    projection = cached_projection(model)
    point = projection.place(final["h"])
    st.altair_chart(charts.projection_scatter(projection, point, trace.input_text),
                    width="stretch")
    st.caption(
        f"Each dot is the final hidden state of one of {len(projection.texts)} random inputs, "
        f"squashed from {len(final['h'])} numbers to 2 with PCA (principal component analysis), "
        f"which keeps the directions in which the states differ most "
        f"({float(np.sum(projection.explained)):.0%} of the variation here). Colour shows the "
        f"{projection.property_name}: if similar colours cluster, the encoder has learned to "
        "track it. The orange diamond is your input.")


def evaluation_section(model: sc.Seq2Seq) -> None:
    st.header("Evaluation", anchor=False)
    st.caption("How often is the model right on examples it has not been shown? Exact match "
               "counts an output as right only if every token is right.")
    state = st.session_state
    count_col, button_col = st.columns([3, 1], vertical_alignment="bottom")
    state.setdefault("inspect_eval_n", EVAL_DEFAULT)
    samples = count_col.number_input("Samples", EVAL_MIN, EVAL_MAX, step=100,
                                     key="inspect_eval_n",
                                     help="How many fresh examples to decode and score.")
    if button_col.button("Evaluate", type="primary", key="inspect_evaluate",
                         width="stretch"):
        seed = state.get("inspect_eval_seed", 12345) + 1
        state["inspect_eval_seed"] = seed
        with st.spinner(f"Decoding {int(samples):,} examples..."):
            state["inspect_eval"] = (model, sc.evaluate(model, int(samples), seed=seed))
    cached = state.get("inspect_eval")
    if cached is None or cached[0] is not model:
        st.info("Choose how many examples to score and press Evaluate.")
        return
    ev = cached[1]
    if ev.on_training_pairs:
        st.warning("This corpus has no held-out pairs, so these are training pairs: a high score "
                   "shows the model has memorised them, not that it generalises.")
    elif not model.task.generated:
        st.caption(f"Scored on the corpus's held-out pairs ({ev.samples:,} of them).")
    m1, m2, m3 = st.columns(3)
    m1.metric("Exact match", f"{ev.exact_match:.1%}")
    m2.metric("Token accuracy", f"{ev.token_accuracy:.1%}")
    m3.metric("Examples scored", f"{ev.samples:,}")
    left, right = st.columns(2)
    with left:
        st.markdown("**Accuracy per output position**")
        st.altair_chart(charts.per_position_accuracy(ev.per_position), width="stretch")
        st.caption("Share of examples whose token at each position is right. Later positions "
                   "are often harder: the decoder builds on its own earlier choices.")
    with right:
        wrong = (int((~ev.exact).sum()) if ev.exact is not None
                 else int(round((1 - ev.exact_match) * ev.samples)))
        st.markdown(f"**Mistakes** ({wrong:,} of {ev.samples:,})")
        if ev.mistakes.empty:
            st.success("No mistakes: every output was exactly right.")
        else:
            st.dataframe(ev.mistakes, hide_index=True, width="stretch")
            if wrong > len(ev.mistakes):
                st.caption(f"Showing the first {len(ev.mistakes)}.")


# ---- page ------------------------------------------------------------------------------------
st.title("Inspect")
model = st.session_state.get("model")
if model is None:
    st.info("There is no model to inspect yet. Train one on the Train page (it appears here "
            "when training finishes or you stop it), or load a model you saved earlier.")
    train_page_link()
    load_model_ui()
    st.stop()

reset_for(model)
restore_widgets()
task = model.task
st.caption(model_caption(model))

examples = task.example_inputs()
box, button = st.columns([4, 1], vertical_alignment="bottom")
with button:
    st.button("Random input", key="inspect_random", on_click=random_input, args=(model,),
              width="stretch")
with box:
    text = st.text_input("Input", key="inspect_input", placeholder=examples[0],
                         help="Examples: " + "  |  ".join(examples))
    trace = None
    try:
        trace = model.decoder.trace(text, k=TOP_K)
    except sc.InvalidInput as err:
        st.error(str(err))

if trace is not None:
    show_result(trace)
    st.divider()
    decoder_section(trace)
    st.divider()
    encoder_section(model, trace)
else:
    st.info("Fix the input above to see how the model decodes it.")
st.divider()
evaluation_section(model)

save_widgets()
with st.expander("Load a different model"):
    load_model_ui()
