"""The Inspect page's what-if views: force an output token, edit an input token, and the
training examples nearest the input. Every key they keep starts with "inspect_"."""
from __future__ import annotations

import numpy as np
import streamlit as st

import seq2seq_core as sc
from seq2seq_core.charts import whatif as charts
from seq2seq_core.neighbours import NeighbourIndex, NeighbourSettings, pool_limit
from seq2seq_core.vocab import SPACE_LABEL, plural
from seq2seq_core.whatif import (NO_FEEDBACK, edit_input, forced_decode, forcible_ids,
                                 input_tokens, replacements)

from .cache import forget, remembered
from .form import setting_input
from .inspector import cached_projection, section
from .session import TrainingCapReached, job_slot
from .text import md
from .widgets import keep_within

FORCE_STEP, FORCE_TOKEN = "inspect_force_step", "inspect_force_token"
EDIT_POSITION, EDIT_TOKEN = "inspect_edit_position", "inspect_edit_token"
NEIGHBOURS_K = "inspect_neighbours_k"
INDEX, INDEX_ERROR = "inspect_neighbours", "inspect_neighbours_error"
SCALE_POOL = 500  # examples the typical distance is taken over before the pool is built
WIDGETS = (FORCE_STEP, FORCE_TOKEN, EDIT_POSITION, EDIT_TOKEN, NEIGHBOURS_K)  # kept by the page
SLOTS = ("inspect_force_for", "inspect_force_token_for", "inspect_forced", "inspect_edit_for",
         "inspect_edit_token_for", "inspect_edit", INDEX, INDEX_ERROR, "inspect_near",
         "inspect_scale")  # what these views remember for one model


def reset() -> None:
    """A new model: its tokens, positions and pools differ, so start these views afresh."""
    forget(FORCE_STEP, FORCE_TOKEN, EDIT_POSITION, EDIT_TOKEN, *SLOTS)
def kept_forced(model: sc.Seq2Seq, text: str):
    """The forced decode this view keeps for `model` and input `text`, if it changes a token
    (what the cell view's decoder may follow); else None."""
    kept = st.session_state.get("inspect_forced")
    if kept is None:
        return None
    key, forced = kept
    return forced if key[0] is model and key[1] == text and not forced.is_greedy else None


FORCED_ROW = "background-color: #fff4e6; font-weight: bold"
CHANGED_CELL = "color: #d9480f; font-weight: bold"


def _quoted(text: str) -> str:
    """An output or input in bold for a sentence, escaped; '(empty)' for nothing."""
    return f"**{md(text)}**" if text else "**(empty)**"


def _reset(owner: str, value, keys: dict) -> None:
    """Give widgets `keys` (key -> value) these values when what they belong to changed."""
    state = st.session_state
    if state.get(owner) != value:
        state[owner] = value
        state.update(keys)


# ---- force a token -------------------------------------------------------------------------
def token_options(model: sc.Seq2Seq, step) -> list[str]:
    """The labels a step can be forced to: its top-k first, then the rest of the vocabulary."""
    vocab = model.task.target_vocab
    top = [label for label, _ in step.top]
    return top + [vocab.label(i) for i in forcible_ids(vocab) if vocab.label(i) not in top]


def forcing_section(model: sc.Seq2Seq, trace) -> None:
    section(
        "What if? Force a token",
        "Each token the decoder writes is fed back in as its next input. Overrule it once: "
        "pick a step, write another token there, and the decoder carries on greedily from "
        "your token. If the rest of the output changes, the later steps depended on that "
        "choice.")
    if not model.config.feeds_back:
        st.info(NO_FEEDBACK, icon=":material/info:")
        return
    steps = trace.steps
    _reset("inspect_force_for", trace.input_text, {FORCE_STEP: 1})
    keep_within(FORCE_STEP, range(1, len(steps) + 1), 1)
    left, right = st.columns(2)
    step = left.selectbox(
        "Step to force", list(range(1, len(steps) + 1)), key=FORCE_STEP,
        format_func=lambda s: f"step {s} (greedy wrote '{steps[s - 1].token}')",
        help="The output step whose token you overrule (1 = the first token written).")
    chosen = steps[step - 1]
    options = token_options(model, chosen)
    shares = dict(chosen.top)
    runner_up = chosen.top[1][0] if len(chosen.top) > 1 else chosen.token
    _reset("inspect_force_token_for", (trace.input_text, step), {FORCE_TOKEN: runner_up})
    keep_within(FORCE_TOKEN, options, runner_up)
    token = right.selectbox(
        "Token to write there", options, key=FORCE_TOKEN,
        format_func=lambda t: (f"{t}  ({shares[t]:.1%}{', greedy' if t == chosen.token else ''})"
                               if t in shares else t),
        help="The step's most likely tokens come first, with the model's probability; any "
             "other token of the output vocabulary follows.")
    try:
        forced = remembered("inspect_forced", (model, trace.input_text, step, token),
                            lambda: forced_decode(model, trace.input_text, step, token,
                                                  k=len(chosen.top), original=trace))
    except sc.InvalidInput as err:
        st.info(md(err), icon=":material/info:")
        return
    _forcing_verdict(forced)
    was, now = st.columns(2)
    was.markdown(f"Original output: {_quoted(forced.original_text)}")
    now.markdown(f"What-if output: {_quoted(forced.output_text)}")
    st.dataframe(_styled(forced), hide_index=True, width="stretch")
    st.caption("The shaded row is the step you forced; orange tokens differ from the "
               "original. p is the model's probability of the token written at that step "
               "(at the forced step: of your token); top-k lists the what-if decoder's most "
               "likely tokens at each step.")
    st.altair_chart(charts.forced_chart(forced), width="stretch")


def _forcing_verdict(forced) -> None:
    token, step = md(forced.token), forced.step
    if forced.is_greedy:
        st.info(f"'{token}' is the token greedy chose at step {step}, so nothing changes: the "
                f"output stays {_quoted(forced.output_text)}. Pick another token to see what "
                "happens.", icon=":material/info:")
    elif forced.changed_from is None:
        st.success(f"Forcing '{token}' at step {step} leaves the rest as it was: the decoder "
                   f"writes the same tokens after it, and the output becomes "
                   f"{_quoted(forced.output_text)}.", icon=":material/check_circle:")
    else:
        st.warning(f"Forcing '{token}' at step {step} changes the rest: from step "
                   f"{forced.changed_from} on the decoder writes other tokens, and the output "
                   f"becomes {_quoted(forced.output_text)} (was "
                   f"{_quoted(forced.original_text)}).", icon=":material/call_split:")


def _styled(forced):
    """The forced decode's table, the forced row shaded and changed tokens in orange."""
    rows = charts.forced_rows(forced)

    def style(row):
        flags = rows.loc[row.name]
        return [FORCED_ROW if flags["forced"] else
                CHANGED_CELL if col == "what-if" and flags["differs"] else ""
                for col in row.index]
    return charts.forced_table(forced).style.apply(style, axis=1).format(
        {"original p": "{:.1%}", "what-if p": "{:.1%}"}, na_rep="")


# ---- edit an input token -------------------------------------------------------------------
def built_index(model: sc.Seq2Seq) -> NeighbourIndex | None:
    """The pool of training examples and their final states, once it was built for this
    model (`build_index`); None before."""
    kept = st.session_state.get(INDEX)
    return kept[1] if kept is not None and kept[0] is model else None


def build_index(model: sc.Seq2Seq) -> None:
    """Encode the pool (the Find button's callback), under a job slot: on a shared server it
    is one of the costlier things a page does, so it is done only when asked for."""
    try:
        with job_slot("finding the nearest training examples (Inspect page)"), \
                st.spinner(f"Encoding up to {pool_limit(model):,} training examples..."):
            st.session_state[INDEX] = (model, NeighbourIndex.build(model))
    except TrainingCapReached as err:
        st.session_state[INDEX_ERROR] = str(err)


def typical_distance(model: sc.Seq2Seq) -> float:
    """How far apart two training inputs' final states typically are: from the pool when it
    was built, else from a small sample (cheap enough for every page run)."""
    if (index := built_index(model)) is not None:
        return index.typical_distance()
    return remembered("inspect_scale", (model,),
                      lambda: NeighbourIndex.build(model, SCALE_POOL).typical_distance())


def _label(token: str) -> str:
    return f"{SPACE_LABEL} (space)" if token == " " else token


def encoder_edit_section(model: sc.Seq2Seq, trace) -> None:
    task = model.task
    section(
        "Encoder what-if",
        f"Change one {task.unit} of the input and see how far the encoder's summary of it, "
        "its final hidden state, moves, and whether the output changes. A small move that "
        "changes the output shows a fragile decision; a big move with the same output shows "
        "what the decoder does not need.")
    tokens = input_tokens(model, trace.input_text)
    options = list(replacements(model))
    _reset("inspect_edit_for", trace.input_text, {EDIT_POSITION: 1})
    keep_within(EDIT_POSITION, range(1, len(tokens) + 1), 1)
    left, right = st.columns(2)
    position = left.selectbox(
        f"Position ({task.unit})", list(range(1, len(tokens) + 1)), key=EDIT_POSITION,
        format_func=lambda p: f"{p}: '{_label(tokens[p - 1])}'",
        help=f"Which {task.unit} of the input to replace, counted from the left.")
    old = tokens[position - 1]
    other = next((t for t in options[options.index(old) + 1:] + options if t != old), old) \
        if old in options else options[0]
    _reset("inspect_edit_token_for", (trace.input_text, position), {EDIT_TOKEN: other})
    keep_within(EDIT_TOKEN, options, other)
    token = right.selectbox("Replace it with", options, key=EDIT_TOKEN, format_func=_label,
                            help=f"Any {task.unit} the model reads. The edited input must "
                                 "still be one the task takes.")
    try:
        moved = remembered("inspect_edit", (model, trace.input_text, position, token),
                           lambda: edit_input(model, trace.input_text, position, token))
    except sc.InvalidInput as err:
        st.info(f"This edit makes an input the task does not take: {md(err)}",
                icon=":material/info:")
        return
    _edit_result(model, moved)


def _edit_result(model: sc.Seq2Seq, moved) -> None:
    scale = typical_distance(model)
    m1, m2, m3 = st.columns(3)
    m1.metric("Distance moved", f"{moved.distance:.3f}",
              help="Euclidean distance between the final hidden states before and after.")
    m2.metric("Cosine similarity", "—" if np.isnan(moved.cosine) else f"{moved.cosine:.3f}",
              help="1: the state points the same way; 0: at right angles.")
    m3.metric("Output", "changed" if moved.output_changed else "unchanged")
    st.markdown(f"Input {_quoted(moved.input_text)} → {_quoted(moved.edited_text)}  \n"
                f"Output {_quoted(moved.output)} → {_quoted(moved.edited_output)}")
    if not np.isnan(scale):
        st.caption(f"For scale: two training inputs' final states are typically {scale:.3f} "
                   "apart (the median over random pairs).")
    projection = cached_projection(model)
    st.altair_chart(charts.moved_state_map(projection, projection.place(moved.before),
                                           projection.place(moved.after), moved.input_text,
                                           moved.edited_text), width="stretch")
    st.caption("The map of final states from the encoder view: the black ring is your input, "
               "the orange diamond the edited one. The map keeps only 2 of the state's "
               f"{len(moved.before)} numbers' directions, so the distance above (over all of "
               "them) can differ from what the picture suggests.")


# ---- nearest training examples -------------------------------------------------------------
def neighbours_section(model: sc.Seq2Seq, trace) -> None:
    task = model.task
    section(
        "Nearest training examples",
        "Which training examples does the encoder find most like your input? These are the "
        "ones whose final hidden states lie closest to your input's (Euclidean distance over "
        "all the state's numbers), nearest first. If their answers differ from what your "
        "input needs, the model may mix them up.")
    index = built_index(model)
    if error := st.session_state.pop(INDEX_ERROR, ""):
        st.warning(md(error), icon=":material/hourglass_top:")
    if index is None:
        st.button(f"Find them among {plural(pool_limit(model), 'training example')}",
                  key="inspect_find_neighbours", on_click=build_index, args=(model,),
                  icon=":material/travel_explore:",
                  help="Encodes the training examples once for this model (a few seconds "
                       "for a big one); after that every input's neighbours show at once.")
        return
    st.session_state.setdefault(NEIGHBOURS_K, NeighbourSettings.k)
    k = int(setting_input(st, NeighbourSettings, "k", key=NEIGHBOURS_K))
    near = remembered("inspect_near", (model, trace.input_text, k),
                      lambda: index.nearest(trace.input_text, k))
    if task.generated:
        pool = (f"The pool: {plural(len(index), 'distinct input')} among {index.drawn:,} "
                "examples drawn from the task's training generator (a fixed sample; training "
                "draws fresh ones every batch).")
    else:
        total = len(task.split_pairs("train")) if hasattr(task, "split_pairs") else len(index)
        pool = (f"The pool: the model's {plural(len(index), 'training pair')}."
                if len(index) >= total else f"The pool: {len(index):,} of the model's {total:,} training pairs (a "
                     "wide encoder keeps fewer states), so an input not found here may still "
                     "have been trained on.")
    st.caption(pool)
    if near and near[0].distance == 0:
        st.success(f"Your input {_quoted(near[0].input)} is in the pool (distance 0): "
                   + ("the model was trained on it." if not task.generated else
                      "the generator draws it, so the model has likely met it in training."),
                   icon=":material/history_edu:")
    st.dataframe(charts.neighbours_table(near), hide_index=True, width="stretch",
                 column_config={"distance": st.column_config.NumberColumn(format="%.3f"),
                                "right": st.column_config.TextColumn(
                                    help="Is the model's output for it the expected one?")})
    projection = cached_projection(model)
    st.altair_chart(charts.neighbours_map(
        projection, projection.place(index.state_of(trace.input_text)), trace.input_text,
        [projection.place(n.state) for n in near], [n.input for n in near]), width="stretch")
    st.caption("Your input (orange diamond) and its nearest examples (rings numbered by "
               "rank) on the map of final states. Near in all the state's numbers is not "
               "always near on this 2-D picture.")
