"""The Train page's settings widgets, their session-state keys, and presets that fill them.

Every widget has a key starting with `w_`. Defaults go into session state before the widget
is drawn (never both a default and a state value), so a preset can set any of them and the
values survive page switches (app.py re-asserts them on every run).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields

import pandas as pd
import streamlit as st

import seq2seq_core as sc
from seq2seq_core.presets import Preset
from seq2seq_core.tasks.dates import FORMATS
from seq2seq_core.tasks.reverse import MODES
from seq2seq_core.tasks.translation import held_out_count, pair_length
from seq2seq_core.history import data_dir
from seq2seq_core.uploads import KeptUploads

from . import identity
from .text import md
from .training import REPLAY_SECONDS

PREFIX = "w_"
TASK_LABELS = {"reverse": "Reverse integers", "addition": "Addition",
               "translation": "Translation (English → French)", "dates": "Dates → ISO"}
ARCH_LABELS = {"teacher": "Teacher forcing (encoder states → decoder)",
               "repeat": "Repeat (encoder output repeated for each output step)",
               "attention": "Attention (teacher forcing + a look back at every input step)"}
ARCH_HELP = (
    "**Repeat**: the encoder's last output is copied once per output step and fed to the "
    "decoder (seeds 000/003).  \n"
    "**Teacher forcing**: the encoder's final states start the decoder, which reads the "
    "previous target token at each step (seeds 001/004, the Keras example).  \n"
    "**Attention**: teacher forcing, plus at every output step the decoder looks back at "
    "*all* the encoder's outputs and mixes them by learned weights, so the whole input no "
    "longer has to fit in one final state (Bahdanau et al. 2015; Luong et al. 2015).")
ATTENTION_LABELS = {"bahdanau": "Bahdanau (additive)", "luong": "Luong (general)",
                    "dot": "Luong (dot product)"}
ATTENTION_HELP = (
    "How the decoder scores each input step against its own state before mixing them:  \n"
    "**Bahdanau (additive)**: a small feed-forward layer, v·tanh(W·decoder + U·encoder); the "
    "most weights, works with any sizes.  \n"
    "**Luong (general)**: a learned projection then a dot product, decoderᵀ·W·encoder.  \n"
    "**Luong (dot product)**: the plain dot product decoderᵀ·encoder, no extra weights.")
CELL_LABELS = {"lstm": "LSTM", "gru": "GRU"}
OPERATORS = ("+", "-", "*")


# Widget key -> (min, max) of the number inputs and sliders (links are checked against them).
RANGES = {
    "w_reverse_n_in": (1, 40),
    "w_reverse_n_out": (1, 40),
    "w_reverse_cardinality": (2, 500),
    "w_addition_n_terms": (1, 8),
    "w_addition_largest": (1, 99_999),
    "w_translation_max_pairs": (10, 20_000),
    "w_translation_max_length": (4, 80),
    "w_translation_holdout": (0.0, 0.5),
    "w_dates_first_year": (1000, 9999),
    "w_dates_last_year": (1000, 9999),
    "w_units": (1, 1024),
    "w_decoder_units": (0, 2048),
    "w_layers": (1, 3),
    "w_embedding": (0, 512),
    "w_dropout": (0.0, 0.8),
    "w_batch_size": (1, 4096),
    "w_learning_rate": (1e-6, 1.0),
    "w_seed": (0, 2**31 - 1),
    "w_max_samples": (1, 20_000_000),
    "w_max_seconds": (1.0, 86_400.0),
    "w_target": (0.0, 1.0),
    "w_chunk_batches": (1, 10_000),
    "w_eval_samples": (1, 100_000),
    "w_clipnorm": (0.0, 1000.0),
}


def _defaults() -> dict:
    """Widget key -> default value, from the core's dataclass defaults."""
    rev, add = sc.REGISTRY["reverse"][0](), sc.REGISTRY["addition"][0]()
    tra, dat = sc.REGISTRY["translation"][0](), sc.REGISTRY["dates"][0]()
    mc, tc = sc.ModelConfig(), sc.TrainConfig()
    return {
        "w_task": "addition",
        "w_reverse_n_in": rev.n_in, "w_reverse_n_out": rev.n_out,
        "w_reverse_cardinality": rev.cardinality, "w_reverse_mode": rev.mode,
        "w_addition_n_terms": add.n_terms, "w_addition_largest": add.largest,
        "w_addition_operators": list(add.operators),
        "w_addition_variable_terms": add.variable_terms,
        "w_translation_source": "phrasebook", "w_translation_max_pairs": tra.max_pairs,
        "w_translation_holdout": tra.holdout, "w_translation_max_length": tra.max_length,
        "w_dates_first_year": dat.first_year, "w_dates_last_year": dat.last_year,
        "w_dates_formats": list(dat.formats),
        "w_arch": mc.arch, "w_cell": mc.cell, "w_units": mc.units, "w_decoder_units": 0,
        "w_layers": mc.layers, "w_bidirectional": mc.bidirectional,
        "w_reverse_source": mc.reverse_source, "w_embedding": mc.embedding,
        "w_dropout": mc.dropout, "w_attention": mc.attention,
        "w_batch_size": tc.batch_size, "w_learning_rate": tc.learning_rate,
        "w_max_samples": tc.max_samples, "w_max_seconds": float(tc.max_seconds),
        "w_target": 0.0, "w_seed": tc.seed,
        "w_chunk_batches": tc.chunk_batches, "w_eval_samples": tc.eval_samples,
        "w_clipnorm": float(tc.clipnorm), "w_lecture_pace": True,
    }


DEFAULTS = _defaults()


def ensure_defaults() -> None:
    for key, value in DEFAULTS.items():
        if key not in st.session_state:
            st.session_state[key] = value


def keep_widget_values() -> None:
    """Re-assert widget values so Streamlit keeps them while their page is not shown."""
    for key in list(st.session_state.keys()):
        if isinstance(key, str) and key.startswith(PREFIX):
            st.session_state[key] = st.session_state[key]


def preset_values(preset: Preset) -> dict:
    """Widget key -> value for a preset (task settings, model and training)."""
    return config_values(preset.task, preset.settings, preset.model, preset.train)


def config_values(task_name: str, settings, m: sc.ModelConfig, t: sc.TrainConfig) -> dict:
    """Widget key -> value for a task's settings, a ModelConfig and a TrainConfig."""
    values = {"w_task": task_name}
    for f in fields(settings):
        value = getattr(settings, f.name)
        if task_name == "addition" and f.name == "operators":
            value = [o for o in OPERATORS if o in value]
        elif task_name == "dates" and f.name == "formats":
            value = list(value)
        elif task_name == "translation" and f.name == "corpus":
            values["w_translation_source"] = "phrasebook" if value == "phrasebook" else "upload"
            continue
        values[f"w_{task_name}_{f.name}"] = value
    values.update({
        "w_arch": m.arch, "w_cell": m.cell, "w_units": m.units,
        "w_decoder_units": m.decoder_units or 0, "w_layers": m.layers,
        "w_bidirectional": m.bidirectional, "w_reverse_source": m.reverse_source,
        "w_embedding": m.embedding, "w_dropout": m.dropout, "w_attention": m.attention,
        "w_batch_size": t.batch_size, "w_learning_rate": t.learning_rate,
        "w_max_samples": t.max_samples, "w_max_seconds": float(t.max_seconds),
        "w_target": float(t.target_accuracy or 0.0), "w_seed": t.seed,
        "w_chunk_batches": t.chunk_batches, "w_eval_samples": t.eval_samples,
        "w_clipnorm": float(t.clipnorm),
    })
    return values


def apply_preset(preset: Preset) -> None:
    ensure_defaults()
    for key, value in preset_values(preset).items():
        st.session_state[key] = value
    st.session_state["preset"] = preset.name


# ---- widgets -> core objects -------------------------------------------------------------
@dataclass(frozen=True)
class Choice:
    """What the widgets describe: a task (or the error that prevents one) and two configs."""

    task: object | None = None
    model_config: sc.ModelConfig | None = None
    train_config: sc.TrainConfig | None = None
    task_error: str = ""
    model_error: str = ""
    train_error: str = ""
    corpus_key: str = ""

    @property
    def ok(self) -> bool:
        return self.task is not None and self.model_config is not None \
            and self.train_config is not None

    def model_key(self) -> tuple:
        return (self.task.name, repr(self.task.settings), self.corpus_key,
                repr(self.model_config), self.train_config.seed if self.train_config else 0)


def s(key: str):
    return st.session_state[key]


def task_widgets() -> tuple[object | None, str, str]:
    """Draw the task's settings widgets; returns (task or None, error message, corpus key)."""
    name = st.selectbox("Task", list(TASK_LABELS), format_func=TASK_LABELS.get, key="w_task")
    cls = sc.REGISTRY[name][1]
    st.caption(cls.summary)
    corpus, corpus_key = None, ""
    try:
        if name == "reverse":
            c1, c2 = st.columns(2)
            c1.number_input("Input length (integers)", *RANGES["w_reverse_n_in"], step=1, key="w_reverse_n_in")
            c2.number_input("Output length", *RANGES["w_reverse_n_out"], step=1, key="w_reverse_n_out")
            c1.number_input("Cardinality (values 1..n)", *RANGES["w_reverse_cardinality"], step=1,
                            key="w_reverse_cardinality")
            c2.selectbox("Mode", MODES, key="w_reverse_mode",
                         help="reverse: first n reversed; echo: first n copied; "
                              "reverse_all: the whole input reversed.")
            settings = sc.settings_for(name, n_in=int(s("w_reverse_n_in")),
                                       n_out=int(s("w_reverse_n_out")),
                                       cardinality=int(s("w_reverse_cardinality")),
                                       mode=s("w_reverse_mode"))
        elif name == "addition":
            c1, c2 = st.columns(2)
            c1.number_input("Number of terms", *RANGES["w_addition_n_terms"], step=1, key="w_addition_n_terms")
            c2.number_input("Largest number", *RANGES["w_addition_largest"], step=1, key="w_addition_largest")
            c1.multiselect("Operators", OPERATORS, key="w_addition_operators")
            c2.checkbox("Vary the terms", key="w_addition_variable_terms",
                        help="Each example has between 2 and *Number of terms* numbers.")
            ops = "".join(o for o in OPERATORS if o in s("w_addition_operators"))
            settings = sc.settings_for(name, n_terms=int(s("w_addition_n_terms")),
                                       largest=int(s("w_addition_largest")), operators=ops,
                                       variable_terms=bool(s("w_addition_variable_terms")))
        elif name == "translation":
            corpus, corpus_key = corpus_widgets()
            c1, c2, c3 = st.columns(3)
            c1.number_input("Number of pairs", *RANGES["w_translation_max_pairs"], step=10, key="w_translation_max_pairs")
            c2.number_input("Longest sentence", *RANGES["w_translation_max_length"], step=1,
                            key="w_translation_max_length",
                            help="Pairs whose English or French side has more characters are "
                                 "left out.")
            c3.slider("Held-out share", *RANGES["w_translation_holdout"], step=0.05, key="w_translation_holdout",
                      help="0 trains on every pair and scores memorisation, as the Keras "
                           "example does.")
            settings = sc.settings_for(name, corpus=corpus.name if corpus else "phrasebook",
                                       max_pairs=int(s("w_translation_max_pairs")),
                                       holdout=float(s("w_translation_holdout")),
                                       max_length=int(s("w_translation_max_length")))
            if corpus is None and s("w_translation_source") == "upload":
                return None, "Upload a sentence-pair file, or choose the built-in phrasebook.", ""
        else:
            c1, c2 = st.columns(2)
            c1.number_input("First year", *RANGES["w_dates_first_year"], step=1, key="w_dates_first_year")
            c2.number_input("Last year", *RANGES["w_dates_last_year"], step=1, key="w_dates_last_year")
            st.multiselect("Formats", list(FORMATS), key="w_dates_formats")
            settings = sc.settings_for(name, first_year=int(s("w_dates_first_year")),
                                       last_year=int(s("w_dates_last_year")),
                                       formats=tuple(s("w_dates_formats")))
        task = _cached_task(name, settings, corpus, corpus_key)
    except sc.InvalidInput as err:
        return None, str(err), corpus_key
    return task, "", corpus_key


def _cached_task(name, settings, corpus, corpus_key):
    """Tasks are cheap except translation's vocabulary; keep the last one per session."""
    key = (name, repr(settings), corpus_key)
    cached = st.session_state.get("_task_cache")
    if cached and cached[0] == key:
        return cached[1]
    task = sc.make_task(name, settings, corpus=corpus)
    st.session_state["_task_cache"] = (key, task)
    return task


def corpus_widgets():
    """Phrasebook or uploaded pairs file; returns (Corpus or None, key). Raises InvalidInput."""
    st.radio("Sentence pairs", ["phrasebook", "upload"], horizontal=True,
             key="w_translation_source",
             format_func={"phrasebook": "Built-in phrasebook",
                          "upload": "Upload a file"}.get)
    if s("w_translation_source") == "phrasebook":
        corpus = sc.phrasebook()
        st.caption(f"Built-in English → French phrasebook: {len(corpus):,} pairs.")
        return None, "phrasebook"
    # Not a `w_` key: Streamlit forbids re-assigning an uploader's value through session state.
    upload = st.file_uploader("Tab-separated pairs (English⇥French per line, UTF-8)",
                              type=["txt", "tsv", "csv"], key="upload_pairs")
    cached = st.session_state.get("_corpus_cache") or (kept_corpus() if upload is None else None)
    if upload is None:
        if cached is None:
            return None, ""
        key, corpus = cached  # uploaded earlier, before a page switch or a reload
        st.caption(f"Using {md(corpus.name)}, uploaded earlier.")
    else:
        data = upload.getvalue()
        key = corpus_key(upload.name, data)
        if cached and cached[0] == key:
            corpus = cached[1]
        else:
            st.session_state.pop("_corpus_cache", None)
            corpus = sc.parse_pairs(data, name=upload.name)  # InvalidInput for a bad file
            st.session_state["_corpus_cache"] = (key, corpus)
            kept_uploads().keep(identity.owner_id(), upload.name, data)
    st.success(f"Read {len(corpus):,} pairs from {corpus.lines_read:,} lines of {md(corpus.name)}.")
    pairs_used_note(corpus)
    if corpus.skipped:
        skipped_note(corpus)
    return corpus, key


def corpus_key(name: str, data: bytes) -> str:
    return f"{name}:{hashlib.sha1(data).hexdigest()[:12]}"


def kept_uploads() -> KeptUploads:
    return KeptUploads(data_dir() / "uploads")


def kept_corpus():
    """(key, Corpus) of this person's last upload, kept in the data folder, or None."""
    kept = kept_uploads().get(identity.owner_id())
    if kept is None:
        return None
    name, data = kept
    try:
        corpus = sc.parse_pairs(data, name=name)
    except sc.InvalidInput:
        return None
    st.session_state["_corpus_cache"] = cached = (corpus_key(name, data), corpus)
    return cached


def pairs_used_note(corpus) -> None:
    """How many of the file's pairs the task trains on, and why; one click to use them all."""
    longest, wanted = int(s("w_translation_max_length")), int(s("w_translation_max_pairs"))
    lengths = [pair_length(p) for p in corpus.pairs]
    fitting = sum(1 for n in lengths if n <= longest)
    used = min(fitting, wanted)
    if used >= len(corpus):
        return
    why = []
    if fitting < len(corpus):
        why.append(f"{len(corpus) - fitting:,} have a sentence longer than {longest} characters "
                   "(*Longest sentence*)")
    if wanted < fitting:
        why.append(f"*Number of pairs* keeps the first {wanted:,}")
    held = held_out_count(used, float(s("w_translation_holdout")))
    split = f" ({used - held:,} to train on, {held:,} held out to score)" if held else ""
    st.info(f"Training uses **{used:,} of the {len(corpus):,} pairs**{split}: "
            f"{'; '.join(why)}.", icon=":material/filter_alt:")
    top_length = RANGES["w_translation_max_length"][1]
    most = min(sum(1 for n in lengths if n <= top_length), RANGES["w_translation_max_pairs"][1])
    if most > used:
        st.button(f"Use {'all ' if most == len(corpus) else ''}{most:,} pairs",
                  key="btn_use_all_pairs", on_click=use_all_pairs, args=(corpus,),
                  help="Raises *Number of pairs* and *Longest sentence* as far as they go. "
                       "More pairs need a longer training to learn.")


def use_all_pairs(corpus) -> None:
    top_length = RANGES["w_translation_max_length"][1]
    lengths = [pair_length(p) for p in corpus.pairs]
    st.session_state["w_translation_max_length"] = max(
        RANGES["w_translation_max_length"][0], min(top_length, max(lengths)))
    every = sum(1 for n in lengths if n <= top_length)
    st.session_state["w_translation_max_pairs"] = max(
        RANGES["w_translation_max_pairs"][0], min(every, RANGES["w_translation_max_pairs"][1]))


def skipped_note(corpus) -> None:
    """Why lines were skipped, each reason once with its count, then every line."""
    counts = pd.Series([why for _, why in corpus.skipped]).value_counts()
    noun = "line was" if len(corpus.skipped) == 1 else "lines were"
    reasons = "\n".join(f"- {n:,} × {md(why)}" for why, n in counts.head(5).items())
    st.markdown(f"{len(corpus.skipped):,} {noun} skipped:\n{reasons}")
    with st.expander("Every skipped line"):
        st.dataframe(pd.DataFrame(corpus.skipped, columns=["line", "why it was skipped"]),
                     hide_index=True, width="stretch",
                     column_config={"why it was skipped": st.column_config.TextColumn(
                         width="large")})


def model_widgets() -> tuple[sc.ModelConfig | None, str]:
    st.radio("Architecture", list(ARCH_LABELS), format_func=ARCH_LABELS.get, key="w_arch",
             help=ARCH_HELP)
    if s("w_arch") == "attention":
        st.selectbox("Attention score", list(ATTENTION_LABELS), format_func=ATTENTION_LABELS.get,
                     key="w_attention", help=ATTENTION_HELP)
    c1, c2, c3 = st.columns(3)
    c1.selectbox("Cell", list(CELL_LABELS), format_func=CELL_LABELS.get, key="w_cell")
    c2.number_input("Units", *RANGES["w_units"], step=1, key="w_units")
    repeat = s("w_arch") == "repeat"
    if repeat:
        c3.number_input("Decoder units", *RANGES["w_decoder_units"], step=1, key="w_decoder_units",
                        help="0: the same as the encoder's units.")
    else:
        c3.number_input("Layers", *RANGES["w_layers"], step=1, key="w_layers")
    d1, d2, d3 = st.columns(3)
    if repeat:
        d1.number_input("Layers", *RANGES["w_layers"], step=1, key="w_layers")
    d2.number_input("Embedding", *RANGES["w_embedding"], step=1, key="w_embedding",
                    help="Size of a learned vector per token. 0: one-hot input (a vector with "
                         "a single 1 per token), as in the seeds.")
    d3.slider("Dropout", *RANGES["w_dropout"], step=0.05, key="w_dropout")
    st.checkbox("Bidirectional", key="w_bidirectional",
                help="The encoder reads the input both left to right and right to left.")
    st.checkbox("Reversed source", key="w_reverse_source",
                help="Feed the input backwards (Sutskever et al. 2014): its first tokens end up "
                     "next to the first tokens of the output.")
    try:
        dec = int(s("w_decoder_units")) if repeat and int(s("w_decoder_units")) > 0 else None
        config = sc.ModelConfig(arch=s("w_arch"), cell=s("w_cell"), units=int(s("w_units")),
                                decoder_units=dec, layers=int(s("w_layers")),
                                bidirectional=bool(s("w_bidirectional")),
                                reverse_source=bool(s("w_reverse_source")),
                                embedding=int(s("w_embedding")), dropout=float(s("w_dropout")),
                                attention=s("w_attention"))
    except sc.InvalidInput as err:
        return None, str(err)
    return config, ""


def train_widgets() -> tuple[sc.TrainConfig | None, str]:
    c1, c2, c3 = st.columns(3)
    c1.number_input("Batch size", *RANGES["w_batch_size"], step=16, key="w_batch_size")
    c2.number_input("Learning rate", *RANGES["w_learning_rate"], step=0.001, format="%.4f", key="w_learning_rate")
    c3.number_input("Seed", *RANGES["w_seed"], step=1, key="w_seed")
    d1, d2, d3 = st.columns(3)
    d1.number_input("Samples budget", *RANGES["w_max_samples"], step=10_000, key="w_max_samples")
    d2.number_input("Time budget (s)", *RANGES["w_max_seconds"], step=10.0, format="%.0f",
                    key="w_max_seconds")
    d3.number_input("Target", *RANGES["w_target"], step=0.01, format="%.2f",
                    key="w_target",
                    help="Stop once this share of outputs is exactly right (0.99 = 99%). "
                         "0: no target, train until a budget runs out.")
    st.toggle("Lecture pace", key="w_lecture_pace",
              help=f"A run that finishes in under {REPLAY_SECONDS:.0f} s is replayed chunk by "
                   "chunk, so a class can watch the curves and the numbers change.")
    with st.expander("More training settings"):
        f1, f2, f3 = st.columns(3)
        f1.number_input("Batches per chunk", *RANGES["w_chunk_batches"], step=5,
                        key="w_chunk_batches",
                        help="The curves and live predictions update after each chunk.")
        f2.number_input("Scored per chunk", *RANGES["w_eval_samples"], step=100,
                        key="w_eval_samples",
                        help="Held-out examples scored after each chunk for the metrics.")
        f3.number_input("Clip norm", *RANGES["w_clipnorm"], step=0.5,
                        format="%.1f", key="w_clipnorm",
                        help="Gradient clipping: scale each update down to this length at "
                             "most. 0: no clipping.")
    try:
        target = float(s("w_target"))
        config = sc.TrainConfig(batch_size=int(s("w_batch_size")),
                                learning_rate=float(s("w_learning_rate")),
                                max_samples=int(s("w_max_samples")),
                                max_seconds=float(s("w_max_seconds")),
                                target_accuracy=target if target > 0 else None,
                                seed=int(s("w_seed")),
                                chunk_batches=int(s("w_chunk_batches")),
                                eval_samples=int(s("w_eval_samples")),
                                clipnorm=float(s("w_clipnorm")))
    except sc.InvalidInput as err:
        return None, str(err)
    return config, ""
