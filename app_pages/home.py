"""Home: what the app is, the models on the shelf ready to inspect, and one-click presets
that fill in the Train page."""
import streamlit as st

from seq2seq_core.presets import FAST_DEMOS, SEED_EXAMPLES
from ui import form, shelf, training
from ui.text import md

st.title("seq2seq-lab")
st.markdown(
    "Train **encoder-decoder** recurrent networks (LSTM or GRU) **live**, then look inside "
    "them. An *encoder* reads a sequence (integers, a sum, a date, an English sentence) and "
    "squeezes it into a few hundred numbers; a *decoder* writes the answer one token at a "
    "time from those numbers. **Pick a preset below**, press Start on the Train page and "
    "watch it learn; then **Inspect** it with your own inputs.")

if training.is_active():
    st.info(f"Training in progress: {md(st.session_state.get('run_label', ''))}. "
            "Open the Train page to watch it.")

# Models trained beforehand come first: a teacher opens one in class without waiting.
shelf.ready_to_inspect("home_shelf")


def choose(preset) -> None:
    form.apply_preset(preset)
    st.session_state["_go_train"] = True


def cards(presets, columns: int, prefix: str) -> None:
    cols = st.columns(columns)
    for i, preset in enumerate(presets):
        with cols[i % columns].container(border=True):
            st.markdown(f"**{preset.name}**")
            st.caption(preset.description)
            st.button("Use this preset", key=f"{prefix}_{i}", on_click=choose, args=(preset,),
                      type="primary" if preset.fast else "secondary", width="stretch")


st.subheader("Fast demos: high accuracy in well under a minute")
cards(FAST_DEMOS, 4, "fast")
st.subheader("The original examples")
st.caption("The examples this app started from, numbered as its source documents (seed 001, "
           "003) and the Keras lstm_seq2seq example, with their own settings: slower, and the "
           "baseline the fast demos beat.")
cards(SEED_EXAMPLES, 3, "seed")

if st.session_state.pop("_go_train", False):
    st.switch_page("app_pages/train.py")
