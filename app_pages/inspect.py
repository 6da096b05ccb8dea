"""Inspect: decode one input step by step, force a token and see what follows, see where
attention looks, compare decoding strategies and teacher forcing with free running, look at
the encoder's states (what an edited input does to them, the nearest training examples),
open the cell (its gates, one unit in slow motion, the units that react), score the model.

Shows the session's current model (`ui.current`: a finished or stopped training, an
uploaded file, or a kept run of the history). The page address names the run it shows
(`?run=12`), so a reload reopens it. Every key this page keeps in session state starts with
"inspect_".
"""
from __future__ import annotations

import streamlit as st

from seq2seq_core.decoding import Decoder
from ui import cell, current, models, scoring, shelf, whatif, widgets
from ui import inspector as view
from ui.text import md, shown_errors

MAX_INPUT_CHARS = 500
KEPT = view.WIDGET_KEYS + whatif.WIDGETS + cell.WIDGETS  # widget values kept while another page is shown

st.title("Inspect")
view.reopen_linked_run()
model = current.model()
if model is None:
    st.info("There is no model to inspect yet. Train one on the Train page (it appears here "
            "when training finishes or you stop it), open one of your recent runs, or load a "
            "model file you saved earlier.")
    shelf.ready_to_inspect("inspect_shelf")
    view.recent_runs()
    view.train_page_link()
    models.upload_ui("inspect_upload", "Load a saved model file")
    st.stop()

view.show_in_address()
if view.reset_for(model):
    whatif.reset()
    cell.reset()
widgets.restore(view.SAVED)
st.caption(view.model_caption(model))

examples = model.task.example_inputs()
# A run cut short by a page switch saved nothing: start again from an example input.
st.session_state.setdefault("inspect_input", examples[0])
box, button = st.columns([4, 1], vertical_alignment="bottom")
with button:
    st.button("Random input", key="inspect_random", on_click=view.random_input, args=(model,),
              width="stretch")
with box:
    text = st.text_input("Input", key="inspect_input", placeholder=examples[0],
                         max_chars=MAX_INPUT_CHARS,
                         help="Examples: " + "  |  ".join(md(e) for e in examples))
    widgets.save(view.SAVED, KEPT)  # kept even if a page switch cuts this run short
    trace = None
    with shown_errors("Decoding"):
        trace = Decoder(model).trace(text)

if trace is not None:
    with shown_errors("The result"):
        view.show_result(trace)
    for name, section in (("The step-by-step decoder", view.decoder_section),
                          ("The forced token", whatif.forcing_section),
                          ("Decoding strategies", view.strategies_section),
                          ("Teacher forcing vs free running", view.forcing_section),
                          ("The encoder states", view.encoder_section),
                          ("Inside the cell", cell.cell_section),
                          ("The encoder what-if", whatif.encoder_edit_section),
                          ("The nearest training examples", whatif.neighbours_section)):
        st.divider()
        with shown_errors(name):
            section(model, trace)
else:
    st.info("Fix the input above to see how the model decodes it.")
st.divider()
with shown_errors("The evaluation"):
    view.evaluation_section(model)
with shown_errors("Scoring a test file"):
    scoring.test_file_section(model)
with shown_errors("How it learned"):
    view.learning_section(model)

widgets.save(view.SAVED, KEPT)
with st.expander("Open a different model"):
    shelf.ready_to_inspect("inspect_shelf")
    view.recent_runs()
    models.upload_ui("inspect_upload", "Load a saved model file")
