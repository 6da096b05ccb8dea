"""Inspect's "Score a test file": a translation model's chrF, BLEU and exact match on an
uploaded file of sentence pairs, greedy or with beam search.

The file is read like a training upload (`corpus.parse_pairs`: size, line and length
limits, bad lines skipped with their reason); beam search decodes one sentence at a time,
so it scores the first BEAM_PAIR_WIDTHS ÷ width pairs only (greedy: the first MAX_PAIRS,
as Inspect's evaluation does). The decoding runs under a job
slot, like every evaluation, and its result is kept per model and file.
"""
from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

import seq2seq_core as sc
from seq2seq_core.corpus import Corpus
from seq2seq_core.evaluation import score_pairs
from seq2seq_core.mt_metrics import BLEU_HELP, CHRF_HELP
from seq2seq_core.strategies import DecodeSettings

from .form import setting_input
from .session import TrainingCapReached, job_slot
from .text import md

MAX_PAIRS = 5000        # greedy, in batches: as many as Inspect's evaluation scores
BEAM_PAIR_WIDTHS = 1500  # beam search, one sentence at a time: pairs × width at most
ROWS_SHOWN = 50
KEY = "inspect_test"


def _read(upload) -> tuple[str, Corpus]:
    """(key, Corpus) of the uploaded file, parsed once per file content."""
    data = upload.getvalue()
    key = f"{upload.name}:{hashlib.sha1(data).hexdigest()[:12]}"
    kept = st.session_state.get(f"_{KEY}_file")
    if kept is None or kept[0] != key:
        kept = (key, sc.parse_pairs(data, name=upload.name))  # InvalidInput for a bad file
        st.session_state[f"_{KEY}_file"] = kept
    return kept


def test_file_section(model: sc.Seq2Seq) -> None:
    """Upload tab-separated test pairs, decode every source, score the outputs."""
    if not model.task.text_metrics:
        return
    st.markdown("**Score a test file**")
    st.caption("Upload sentence pairs the model never trained on (English⇥French per line, "
               "as for training): every English sentence is translated and the outputs are "
               "scored against the French ones with chrF and BLEU, the scores machine "
               "translation is measured with. A sentence the model cannot read (a character "
               "it never saw, or too long) counts as an empty translation.")
    upload = st.file_uploader("Test pairs (tab-separated, UTF-8)", type=["txt", "tsv", "csv"],
                              key=f"{KEY}_upload")
    if upload is None:
        return
    try:
        key, corpus = _read(upload)
    except sc.InvalidInput as err:
        st.error(md(err))
        return
    skipped = f"; {len(corpus.skipped):,} lines skipped" if corpus.skipped else ""
    st.caption(f"{len(corpus):,} pairs in {md(corpus.name)}{skipped}.")
    how_col, width_col, go_col = st.columns([2, 2, 1], vertical_alignment="bottom")
    how = how_col.radio("Decoding", ["greedy", "beam"], horizontal=True, key=f"{KEY}_how",
                        format_func={"greedy": "Greedy", "beam": "Beam search"}.get)
    st.session_state.setdefault(f"{KEY}_width", DecodeSettings.width)
    width = setting_input(width_col, DecodeSettings, "width", key=f"{KEY}_width",
                          disabled=how != "beam")
    beam = int(width) if how == "beam" else None
    most = MAX_PAIRS if beam is None else BEAM_PAIR_WIDTHS // beam
    pairs = Corpus(corpus.name, corpus.pairs[:most])
    if len(corpus) > most:
        why = ("beam search decodes one sentence at a time" if beam is not None
               else "as many as the evaluation above scores at most")
        st.caption(f"The first {most:,} pairs are scored ({why}).")
    if go_col.button("Score", type="primary", key=f"{KEY}_go", width="stretch"):
        try:
            with job_slot("scoring a test file (Inspect page)"), \
                    st.spinner(f"Translating {len(pairs):,} sentences..."):
                st.session_state[f"_{KEY}_result"] = (model, key, score_pairs(model, pairs, beam))
        except TrainingCapReached as err:
            st.warning(md(err), icon=":material/hourglass_top:")
    kept = st.session_state.get(f"_{KEY}_result")
    if kept is not None and kept[0] is model and kept[1] == key:
        show_score(kept[2])


def show_score(result) -> None:
    """The scores, the sentences the model could not read, and the outputs beside the
    references."""
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("chrF", f"{result.scores.chrf:.1f}", help=CHRF_HELP)
    m2.metric("BLEU", f"{result.scores.bleu:.1f}", help=BLEU_HELP)
    m3.metric("Exact match", f"{result.exact_match:.1%}")
    m4.metric("Pairs", f"{result.pairs:,}", help=f"Decoded with {result.decoding} decoding "
                                                 f"in {result.seconds:.1f} s.")
    if result.unreadable:
        source, reason = result.unreadable[0]
        st.warning(f"{len(result.unreadable):,} of the sentences cannot be read by this model "
                   f"and count as empty translations. The first, “{md(source)}”: {md(reason)}")
    rows = pd.DataFrame(result.rows(ROWS_SHOWN), columns=["source", "output", "reference"])
    rows[""] = ["✓" if o == r else "✗" for o, r in zip(rows["output"], rows["reference"])]
    st.dataframe(rows, hide_index=True, width="stretch", key=f"{KEY}_rows")
    if result.pairs > ROWS_SHOWN:
        st.caption(f"The first {ROWS_SHOWN} of {result.pairs:,} pairs.")
