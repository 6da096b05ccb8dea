"""The Inspect page's views: opening a run, the decoder, strategies, forcing, encoder, scores."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

import seq2seq_core as sc
from seq2seq_core.charts import inspection as charts
from seq2seq_core.charts.progress import learned_last, position_heatmap
from seq2seq_core.explain import describe_model, feeds_back_note, handoff_note, seen_note
from seq2seq_core.inspection import project_final_states
from seq2seq_core.mt_metrics import BLEU_HELP, CHRF_HELP
from seq2seq_core.strategies import (DecodeSettings, beam_table, compare_strategies,
                                     forcing_comparison)
from seq2seq_core.vocab import PAD_LABEL, PAD_MARK, SPACE_LABEL, short_label

from . import current, identity, shelf, training
from .cache import forget, remembered
from .form import setting_input
from .history import get_history
from .session import TrainingCapReached, job_slot
from .text import md
from .widgets import keep_within

PROJECTION_POINTS = 300
PROJECTION_SEED = 0
EVAL_MIN, EVAL_MAX, EVAL_DEFAULT = 100, 5000, 1000
SAVED = "inspect_saved"  # the page's widget values, kept while another page is shown
STRATEGY_DEFAULTS = {"inspect_beam_width": DecodeSettings.width,
                     "inspect_alpha": DecodeSettings.alpha,
                     "inspect_temperature": DecodeSettings.temperature,
                     "inspect_seed": DecodeSettings.seed}
WIDGET_KEYS = ("inspect_input", "inspect_step", "inspect_eval_n", "inspect_layer",
               "inspect_expected", *STRATEGY_DEFAULTS)


# ---- the model to show: the address's run, recent runs, the Train page ---------------------
def linked_run() -> int | None:
    """The run named in the page address (`?run=12`), if it names one."""
    raw = st.query_params.get("run", "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 12 else None


def reopen_linked_run() -> None:
    """After a reload (or from a link) the session has no model: reopen the address's run."""
    run = linked_run()
    if run is None or current.model() is not None:
        return
    with st.spinner(f"Reopening run #{run}…"):
        error = current.open_run(run)
    if error:
        st.warning(f"Could not reopen run #{run} from the page address: {md(error)}",
                   icon=":material/history:")
        if not isinstance(error, current.Busy):  # a busy server: a later reload may work
            st.query_params.pop("run", None)


def show_in_address() -> None:
    """Keep the address naming the shown run, so a reload comes back to it."""
    run = current.run_id()
    if run is None:
        st.query_params.pop("run", None)
    elif st.query_params.get("run") != str(run):
        st.query_params["run"] = str(run)


def open_clicked(run: int) -> None:
    """An Open button's callback: the run's model becomes current, or the error is kept."""
    if error := current.open_run(run):
        st.session_state["inspect_open_error"] = error


def recent_runs(limit: int = 6) -> None:
    """The runs whose models were kept, to open with one click."""
    runs = current.openable_runs(limit)
    if error := st.session_state.pop("inspect_open_error", None):
        st.error(md(error))
    if runs.empty:
        return
    st.subheader("Your recent runs" if not identity.is_teacher() else "Recent runs", anchor=False)
    for _, row in runs.iterrows():
        name, button = st.columns([5, 1], vertical_alignment="center")
        name.markdown(md(current.run_label(row)))
        button.button("Open", key=f"inspect_open_{int(row['id'])}", on_click=open_clicked,
                      args=(int(row["id"]),), icon=":material/search:", width="stretch")


def train_page_link() -> None:
    """A link to the Train page, or where to find it when the page runs on its own."""
    try:
        st.page_link("app_pages/train.py", label="Go to the Train page",
                     icon=":material/model_training:")
    except st.errors.StreamlitAPIException:
        # The page runs on its own (not via app.py's navigation): no page to link to.
        st.caption("Open the Train page from the navigation menu.")


# ---- per-model state ---------------------------------------------------------------------
def reset_for(model: sc.Seq2Seq) -> bool:
    """A new model: start from one of its task's example inputs, drop cached results.
    True when it did (the model changed)."""
    state = st.session_state
    if state.get("inspect_model_ref") is model:
        return False
    state["inspect_model_ref"] = model
    state.pop(SAVED, None)
    state["inspect_input"] = model.task.example_inputs()[0]
    state["inspect_step"] = 1
    forget("inspect_projection", "inspect_eval", "inspect_last_text", "inspect_layer",
           "inspect_expected", "inspect_expected_for", "inspect_strategies", "inspect_forcing",
           "inspect_chunks", "inspect_positions")
    return True


def random_input(model: sc.Seq2Seq) -> None:
    """The Random input button's callback: an input drawn from the task's held-out split
    (its training pairs where nothing is held out)."""
    task = model.task
    split = "train" if getattr(task, "evaluates_on_training_pairs", False) else "valid"
    ids = task.sample(np.random.default_rng(), 1, split).source[0]
    st.session_state["inspect_input"] = task.source_text(ids)


def cached_projection(model: sc.Seq2Seq):
    """The PCA map of final states, computed once per model."""
    def compute():
        with st.spinner("Encoding a few hundred random inputs..."):
            return project_final_states(model, PROJECTION_POINTS, PROJECTION_SEED)
    return remembered("inspect_projection", (model,), compute)


def move_step(delta: int, n_steps: int) -> None:
    """The Prev/Next buttons' callback: move the output step, within 1..n_steps."""
    step = st.session_state.get("inspect_step", 1)
    st.session_state["inspect_step"] = int(min(max(step + delta, 1), n_steps))


# ---- views ---------------------------------------------------------------------------------
def model_caption(model: sc.Seq2Seq) -> str:
    """Task, network, size and where the model came from, on one line."""
    where = (f"run #{current.run_id()}" if current.run_id() is not None else
             shelf.where_from(current.source()) if current.source() else "trained in this tab")
    return " · ".join([model.task.title, describe_model(model.config),
                       f"{model.count_params():,} parameters", where])


def show_result(trace) -> None:
    """The prediction next to the expected output, and whether they match."""
    if trace.outside:
        st.info(f"**Outside what it learned.** {md(trace.outside)}", icon=":material/explore:")
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


def section(title: str, explanation: str) -> None:
    """A view's heading with the short explanation beneath it."""
    st.header(title, anchor=False)
    st.caption(explanation)


def decoder_section(model: sc.Seq2Seq, trace) -> None:
    section(
        "Step-by-step decoder",
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
            f":orange[**{md(s.token)}**]" if s.index == step.index else md(s.token)
            for s in steps[: step.index + 1])
        st.markdown(f"Tokens chosen: {chosen}")
        msg = f"At step {step.index + 1} the model chose **{md(step.token)}** with probability " \
              f"**{step.probability:.1%}**."
        if len(step.top) > 1:
            label, prob = step.top[1]
            msg += f" Runner-up: **{md(label)}** ({prob:.1%})."
        st.markdown(msg)
        st.caption(feeds_back_note(model.config))

    if trace.attention is not None:
        attention_view(model, trace, step)

    st.markdown("**All steps at a glance**")
    st.caption("Each column is one output step, each row a candidate ranked by probability "
               "(row 1 is the token chosen). Dark cells are confident choices; the current "
               "step is outlined.")
    st.altair_chart(charts.steps_overview(trace, step.index), width="stretch")


def attention_view(model: sc.Seq2Seq, trace, step) -> None:
    """Attention weights: all steps as a heatmap, the current step as bars."""
    st.subheader("Attention", anchor=False)
    st.caption(
        "This decoder does not have to squeeze the whole input into one final state: at every "
        "step it looks back at all the encoder's states. The attention weights say how much it "
        "looks at each input token (they add up to 100% per step). A dark cell means that "
        "input token mattered most for the token written at that step; the outlined row is "
        "the current step.")
    tokens = trace.input_tokens
    outputs = [s.token for s in trace.steps]
    visible = [t for t in tokens if t != PAD_LABEL]
    notes = []
    if model.config.reverse_source:
        notes.append("This model reads the input backwards, so the columns run from the last "
                     "token to the first.")
    if len(visible) < len(tokens):
        notes.append("Padding is left out: the model gives it no attention.")
    if notes:
        st.caption(" ".join(notes))
    st.markdown(f"**The input as the decoder sees it while writing '{md(step.token)}' "
                f"(step {step.index + 1})**: the darker a tile, the more attention it gets.")
    st.altair_chart(charts.attended_input(step.attention, tokens), width="stretch",
                    key="inspect_attended")
    heat = charts.attention_heatmap(trace.attention, tokens, outputs, current=step.index)
    bars = charts.attention_step(step.attention, tokens,
                                 title=f"Step {step.index + 1}: where it looked to write "
                                       f"'{step.token}'")
    if len(visible) <= 12:
        left, right = st.columns([3, 2])
    else:
        left, right = st.container(), st.container()
    left.altair_chart(heat, width="stretch")
    right.altair_chart(bars, width="stretch")
    weights = np.asarray(step.attention, dtype=float)
    order = [i for i in np.argsort(-weights, kind="stable")
             if tokens[i] != PAD_LABEL][:2]
    looked = [f"**{md(tokens[i])}** ({weights[i]:.0%})" for i in order if weights[i] >= 0.1]
    if looked:
        right.markdown(f"To write **{md(step.token)}** at step {step.index + 1} the decoder "
                       f"looked mostly at {' and '.join(looked)}.")


STRATEGY_HELP = """
- **Greedy** takes the single most likely token at every step. Fast, but one early choice
  can rule out a better output.
- **Beam search** keeps the *width* most promising partial outputs at every step, extends
  each by every token and keeps the best *width* again. It ranks them by score = log
  probability ÷ length<sup>α</sup>: α = 0 favours short outputs, larger α evens that out.
  Width 1 is exactly greedy.
- **Sampling** draws every token at random from the model's probabilities. The
  *temperature* reshapes them first: below 1 the likely tokens get likelier (close to
  greedy), above 1 the choice gets more random. The same *seed* gives the same draw.
"""


def cached_strategies(model: sc.Seq2Seq, trace, width: int, alpha: float,
                      temperature: float, seed: int):
    """(decoded, beam table rows) for the trace's input and these settings, computed once
    per model, input and settings; greedy is the trace itself, beam search runs once."""
    def compute():
        with st.spinner("Decoding with greedy, beam search and sampling..."):
            comparison = compare_strategies(model, trace.input_text, width=width,
                                            temperature=temperature, seed=seed, alpha=alpha,
                                            greedy=trace)
            return comparison.decoded, beam_table(model, comparison.beam)
    key = (model, trace.input_text, width, round(alpha, 4), round(temperature, 4), seed)
    return remembered("inspect_strategies", key, compute)


def strategies_section(model: sc.Seq2Seq, trace) -> None:
    section(
        "Decoding strategies",
        "The model gives every possible next token a probability; a decoding strategy "
        "decides which token to write. Here are three, on the same input.")
    st.markdown(STRATEGY_HELP, unsafe_allow_html=True)
    state = st.session_state
    for key, value in STRATEGY_DEFAULTS.items():
        state.setdefault(key, value)
    c1, c2, c3, c4 = st.columns(4)
    width = setting_input(c1, DecodeSettings, "width", key="inspect_beam_width")
    alpha = setting_input(c2, DecodeSettings, "alpha", key="inspect_alpha")
    temperature = setting_input(c3, DecodeSettings, "temperature", key="inspect_temperature")
    seed = setting_input(c4, DecodeSettings, "seed", key="inspect_seed")
    try:
        decoded, beams = cached_strategies(model, trace, int(width), float(alpha),
                                           float(temperature), int(seed))
    except (sc.InvalidInput, ValueError) as err:
        st.error(md(str(err)))
        return

    left, right = st.columns([3, 2])
    with left:
        st.dataframe(
            charts.strategy_table(decoded, trace.expected), hide_index=True, width="stretch",
            column_config={
                "probability": st.column_config.NumberColumn(
                    format="percent", help="The model's probability of the whole output: "
                                           "the product of its token probabilities."),
                "log probability": st.column_config.NumberColumn(format="%.3f"),
                "right": st.column_config.TextColumn(help="Matches the expected output?"),
            })
        greedy, beam = decoded[0], decoded[1]
        if not model.config.feeds_back:
            st.caption("This repeat-vector decoder never reads its previous token, so each "
                       "step's probabilities do not depend on earlier choices: greedy already "
                       "finds the most probable output and beam search cannot beat it.")
        elif beam.text != greedy.text:
            st.info(f"Beam search found **{md(beam.text) or '(empty)'}** "
                    f"({beam.probability:.1%}), where greedy wrote "
                    f"**{md(greedy.text) or '(empty)'}** ({greedy.probability:.1%}): keeping "
                    "several candidates paid off.",
                    icon=":material/alt_route:")
        else:
            st.caption("Greedy and beam search agree here: the greedy choice was also the most "
                       "probable output the beam found.")
    with right:
        st.altair_chart(charts.strategy_probabilities(decoded), width="stretch")

    st.subheader("Beam search step by step", anchor=False)
    st.caption(f"After each step beam search keeps the {width} best partial output"
               f"{'s' if width > 1 else ''}, best first, with their score in brackets (log "
               "probability ÷ length^α: closer to 0 is better). ✓ marks an output that has "
               "ended. A beam can drop out when its extensions score lower than others.")
    st.dataframe(charts.beam_grid(beams), hide_index=True, width="stretch")
    with st.expander("Every beam with its log probability"):
        st.dataframe(pd.DataFrame(beams), hide_index=True, width="stretch",
                     column_config={"log probability": st.column_config.NumberColumn(format="%.3f"),
                                    "score": st.column_config.NumberColumn(format="%.3f")})


def _mark_wrong(table: pd.DataFrame, diverges_at: int | None):
    """Styler: predictions that differ from the expected token in red, the divergence row bold."""
    def style(row):
        out = []
        for col in row.index:
            css = ""
            if col.endswith("predicted") and row["expected"] and row[col] != row["expected"]:
                css = "background-color: #ffe3e3; color: #c92a2a; font-weight: bold"
            elif diverges_at is not None and row["step"] == diverges_at:
                css = "background-color: #fff4e6"
            out.append(css)
        return out
    return table.style.apply(style, axis=1).format(
        {"teacher forcing: probability": "{:.1%}", "free running: probability": "{:.1%}"},
        na_rep="")


def forcing_section(model: sc.Seq2Seq, trace) -> None:
    section(
        "Teacher forcing vs free running",
        "While training, the decoder is fed the true previous token at every step (teacher "
        "forcing). When it is used for real nobody knows the true output, so it is fed its own "
        "previous prediction (free running). After one wrong token, free running continues from "
        "an input it never saw in training, and mistakes can snowball.")
    if not model.config.feeds_back:
        st.info("This repeat-vector model has **no feedback**: its decoder never reads the "
                "previous token, only the repeated summary of the input. So teacher forcing and "
                "free running are the same here, and both columns below are identical.",
                icon=":material/info:")
    state = st.session_state
    if state.get("inspect_expected_for") != trace.input_text:
        state["inspect_expected_for"] = trace.input_text
        state["inspect_expected"] = trace.expected or ""
    expected = st.text_input(
        "Expected output", key="inspect_expected",
        help="Prefilled with the right answer when the task knows it. Change a token to see "
             "what teacher forcing does when it is fed something else.")
    if not expected.strip():
        st.info("Type the output you expect to compare the two ways of decoding.")
        return
    try:
        result = remembered("inspect_forcing", (model, trace.input_text, expected),
                            lambda: forcing_comparison(model, trace.input_text, expected, trace))
    except sc.InvalidInput as err:
        st.info(f"This output cannot be compared: {md(str(err))}", icon=":material/info:")
        return
    d = result.diverges_at
    if d is None:
        st.success("Free running never leaves the expected output: fed its own tokens, the "
                   "model writes exactly what teacher forcing would feed it.",
                   icon=":material/check_circle:")
    elif result.feeds_back:
        st.warning(f"Free running leaves the expected output at **step {d}** (shaded). From "
                   "there on the two decoders are fed different previous tokens: teacher "
                   "forcing keeps getting the expected one, free running its own prediction, so "
                   "their later predictions can differ too.", icon=":material/call_split:")
    else:
        st.warning(f"The model's output differs from the expected output at **step {d}** "
                   "(shaded); without feedback that mistake does not affect the next steps.",
                   icon=":material/call_split:")
    left, right = st.columns([3, 2], vertical_alignment="center")
    with left:
        st.altair_chart(charts.forcing_chart(result.rows, d), width="stretch")
    with right:
        st.markdown("**How to read this**")
        st.caption("Blue bars: teacher forcing, fed the expected previous token. Orange bars: "
                   "free running, fed its own previous prediction. Each bar's height is the "
                   "probability of the token predicted at that step, shown above it; pale bars "
                   "are predictions that differ from the expected token"
                   + (", and the shaded step is where free running first leaves the expected "
                      "output." if d is not None else "."))
        st.caption(("In the table, “fed” is the previous token the decoder reads at that step; "
                    if result.feeds_back else "In the table, ")
                   + "red cells are predictions that differ from the expected token.")
    table = charts.forcing_table(result.rows, result.feeds_back)
    st.dataframe(_mark_wrong(table, d), hide_index=True, width="stretch")


def encoder_section(model: sc.Seq2Seq, trace) -> None:
    section(
        "Encoder states",
        "The encoder reads the input one token at a time. After each token it updates its "
        "hidden state: a list of numbers (one per unit) that is its memory of what it has "
        "read so far. Red is positive, blue negative.")
    config = model.config
    layers = trace.encoder_hidden.shape[0]
    layer = 1
    if layers > 1:
        keep_within("inspect_layer", range(1, layers + 1), layers)
        layer = st.radio("Encoder layer", list(range(1, layers + 1)), horizontal=True,
                         key="inspect_layer",
                         help="Layer 1 reads the input tokens; each later layer reads the "
                              "states of the layer below.")
    tokens = [short_label(t) for t in trace.input_tokens]  # short labels keep every row labelled
    notes = []
    if config.reverse_source:
        notes.append("This model reads the input backwards, so the rows run from the last "
                     "token to the first.")
    if config.bidirectional:
        notes.append(f"The encoder is bidirectional: units 0-{config.units - 1} read "
                     f"left to right, units {config.units}-{2 * config.units - 1} right to left.")
    if PAD_MARK in tokens:
        notes.append(f"{PAD_MARK} marks padding that fills the input up to its full length.")
    if SPACE_LABEL in tokens:
        notes.append(f"{SPACE_LABEL} marks a space"
                     + (" (here also the padding that fills the input up to its full length)."
                        if model.task.source_vocab.pads_with_space else "."))
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
    st.caption(handoff_note(config))
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
    section(
        "Evaluation",
        "How often is the model right? Exact match counts an output as right only if every "
        "token is right. " + seen_note(model.task.possible_inputs(), samples_seen(),
                                       model.task.generated))
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
        try:
            with job_slot("an evaluation (Inspect page)"), \
                    st.spinner(f"Decoding {int(samples):,} examples..."):
                state["inspect_eval"] = (model, sc.evaluate(model, int(samples), seed=seed))
        except TrainingCapReached as err:
            st.warning(md(err), icon=":material/hourglass_top:")
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
    if ev.chrf is not None:
        m1, t1, t2, m2, m3 = st.columns(5)
        t1.metric("chrF", f"{ev.chrf:.1f}", help=CHRF_HELP)
        t2.metric("BLEU", f"{ev.bleu:.1f}", help=BLEU_HELP)
    else:
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


def learning_section(model: sc.Seq2Seq) -> None:
    """The error at each output position over the chunks of this model's run, where the
    run is known (trained in this tab, or opened from the history)."""
    history = run_chunks()
    if model.task.target_len < 2 or sum(bool(r.position_accuracy) for r in history) < 2:
        return
    st.divider()
    section("How it learned, position by position",
            f"Each column is one chunk of this model's training, each row one "
            f"{model.task.unit} of the output: the darker a cell, the more held-out outputs "
            "got that position wrong after that chunk. Which part of the answer did it learn "
            "first, which last?")
    chart = remembered("inspect_positions", (model,),
                       lambda: position_heatmap(history, model.task.unit))
    st.altair_chart(chart, width="stretch")
    st.caption(learned_last(history, model.task.unit))


def run_chunks() -> tuple:
    """The chunks of the current model's run (ChunkRecords), where they are known."""
    t = training.trainer()
    if t is not None and training.published_model() is current.model():
        return t.snapshot().history
    def compute():
        if (run := current.run_id()) is None:
            return ()
        try:
            return get_history().get(run).chunks
        except sc.InvalidInput:
            return ()
    return remembered("inspect_chunks", (current.model(),), compute)


def samples_seen() -> int | None:
    """How many samples the current model's run trained on, where that is known (a
    continued run counts only its own)."""
    t = training.trainer()
    if t is not None and training.published_model() is current.model():
        return t.snapshot().samples_seen
    def compute():
        if (run := current.run_id()) is None:
            return None
        try:
            return get_history().get(run).samples_seen
        except sc.InvalidInput:
            return None
    return remembered("inspect_seen", (current.model(),), compute)
