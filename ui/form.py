"""The Train page's settings widgets, their session-state keys, and presets that fill them.

Every widget has a key `w_<field>` (model and training settings) or `w_<task>_<field>` (task
settings), and is drawn from its setting's Spec (label, range, step, help: see
`seq2seq_core.settings`). Defaults go into session state before the widget is drawn (never
both a default and a state value), so a preset can set any of them and the values survive
page switches (app.py re-asserts them on every run).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pandas as pd
import streamlit as st

import seq2seq_core as sc
from seq2seq_core.history import data_dir
from seq2seq_core.presets import CORPUS_PRESET, Preset
from seq2seq_core.settings import kinds, spec, specs
from seq2seq_core.tasks import Task
from seq2seq_core.tasks.translation import TranslationSettings, held_out_count, pair_length
from seq2seq_core.uploads import KeptUploads

from . import identity
from .cache import remembered
from .text import md
from .training import REPLAY_SECONDS

PREFIX = "w_"
CONFIGS = (sc.ModelConfig, sc.TrainConfig)
SOURCE_KEY = "w_translation_source"  # phrasebook or upload: how the corpus setting is given


def widget_key(cls, name: str) -> str:
    """The session-state key of a setting's widget."""
    for task, (settings_cls, _) in sc.REGISTRY.items():
        if cls is settings_cls:
            return f"{PREFIX}{task}_{name}"
    return f"{PREFIX}{name}"


def widget_value(cls, name: str, value):
    """A setting's value as its widget holds it: None as the Spec's `unset`, a selection as
    a list in the order of its choices, numbers as the field's own type."""
    sp, (base, _) = spec(cls, name), kinds(cls)[name]
    if value is None:
        return sp.unset
    if sp.many:
        return [c for c in sp.choices if c in value] if base is str else list(value)
    return base(value) if base in (int, float) else value


def field_value(cls, name: str, value):
    """The inverse of `widget_value`: a widget's value as the dataclass field takes it."""
    sp, (base, _) = spec(cls, name), kinds(cls)[name]
    if sp.unset is not None and value == sp.unset:
        return None
    if sp.many:
        return "".join(c for c in sp.choices if c in value) if base is str else tuple(value)
    return base(value) if base in (int, float, bool) else value


def _values(obj) -> dict:
    cls = type(obj)
    return {widget_key(cls, name): widget_value(cls, name, getattr(obj, name)) for name in specs(cls)
            if not (cls is TranslationSettings and name == "corpus")}


def config_values(task_name: str, settings, m: sc.ModelConfig,
                  t: sc.TrainConfig | None = None) -> dict:
    """Widget key -> value for a task's settings, a ModelConfig and (if given) a TrainConfig."""
    values = {"w_task": task_name, **_values(settings), **_values(m),
              **(_values(t) if t is not None else {})}
    if task_name == "translation":
        values[SOURCE_KEY] = "phrasebook" if settings.corpus == "phrasebook" else "upload"
    return values


def _defaults() -> dict:
    """Widget key -> default value, from the core's dataclass defaults."""
    values = {}
    for settings_cls, _ in sc.REGISTRY.values():
        values |= _values(settings_cls())
    return values | config_values("addition", sc.REGISTRY["addition"][0](), sc.ModelConfig(),
                                  sc.TrainConfig()) | {SOURCE_KEY: "phrasebook",
                                                       "w_lecture_pace": True}


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


def apply_preset(preset: Preset) -> None:
    ensure_defaults()
    for key, value in preset_values(preset).items():
        st.session_state[key] = value
    st.session_state["preset"] = preset.name


# ---- one widget per setting, from its Spec -------------------------------------------------
def setting_input(where, cls, name: str, key: str | None = None, radio: bool = False, **kw):
    """Draw the widget a setting's Spec describes in `where` (st, a column or a container).

    `key` defaults to the Train page's key; keywords override the Spec's (another label,
    `format_func`, `disabled`...)."""
    sp, (base, _) = spec(cls, name), kinds(cls)[name]
    kw = {"key": key or widget_key(cls, name), "help": sp.form_help or None, **kw}
    label = kw.pop("label", sp.label)
    if sp.choices:
        kw.setdefault("format_func", sp.name_of)
        if sp.many:
            return where.multiselect(label, list(sp.choices), **kw)
        if radio:
            return where.radio(label, list(sp.choices), **kw)
        return where.selectbox(label, list(sp.choices), **kw)
    if base is bool:
        return where.checkbox(label, **kw)
    low, high = sp.bounds
    kw.setdefault("step", sp.step)
    if sp.slider:
        return where.slider(label, low, high, **kw)
    kw.setdefault("format", sp.fmt)
    return where.number_input(label, low, high, **kw)


def from_widgets(cls, skip: tuple[str, ...] = (), **values):
    """`cls` built from its widgets' values (InvalidInput if they do not make one)."""
    read = {name: field_value(cls, name, st.session_state[widget_key(cls, name)])
            for name in specs(cls) if name not in skip and name not in values}
    return cls(**read, **values)


# ---- widgets -> core objects -------------------------------------------------------------
@dataclass(frozen=True)
class Choice:
    """What the widgets describe: a task (or the error that prevents one) and two configs."""

    task: Task | None = None
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


def task_label(name: str) -> str:
    return sc.REGISTRY[name][1].label


def _grid(cls, names, columns: int = 2) -> None:
    """The settings `names` of `cls`, filled into `columns` columns row by row."""
    cols = st.columns(columns)
    for i, name in enumerate(names):
        setting_input(cols[i % columns], cls, name)


def task_widgets() -> tuple[Task | None, str, str]:
    """Draw the task's settings widgets; returns (task or None, error message, corpus key)."""
    name = st.selectbox("Task", list(sc.REGISTRY), format_func=task_label, key="w_task")
    settings_cls = sc.REGISTRY[name][0]
    st.caption(sc.REGISTRY[name][1].summary)
    corpus, corpus_key = None, ""
    try:
        if name == "translation":
            corpus, corpus_key = corpus_widgets()
            _grid(settings_cls, ("max_pairs", "max_length", "holdout"), columns=3)
            level_col, size_col = st.columns([2, 1], vertical_alignment="bottom")
            setting_input(level_col, settings_cls, "level", radio=True, horizontal=True)
            setting_input(size_col, settings_cls, "subwords",
                          disabled=s("w_translation_level") != "subword")
            settings = from_widgets(settings_cls, corpus=corpus.name if corpus else "phrasebook")
            if corpus is None and s(SOURCE_KEY) == "upload":
                return None, "Upload a sentence-pair file, or choose the built-in phrasebook.", ""
        else:
            wide = [n for n, sp in specs(settings_cls).items() if len(sp.choices) > 3 and sp.many]
            _grid(settings_cls, [n for n in specs(settings_cls) if n not in wide])
            for field_name in wide:
                setting_input(st, settings_cls, field_name)
            settings = from_widgets(settings_cls)
        task = _cached_task(name, settings, corpus, corpus_key)
    except sc.InvalidInput as err:
        return None, str(err), corpus_key
    return task, "", corpus_key


def _cached_task(name, settings, corpus, corpus_key):
    """Tasks are cheap except translation's vocabulary; keep the last one per session."""
    return remembered("_task_cache", (name, repr(settings), corpus_key),
                      lambda: sc.make_task(name, settings, corpus=corpus))


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
    corpus_preset_note()
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
    top_length, top_pairs = _top("max_length"), _top("max_pairs")
    most = min(sum(1 for n in lengths if n <= top_length), top_pairs)
    if most > used:
        st.button(f"Use {'all ' if most == len(corpus) else ''}{most:,} pairs",
                  key="btn_use_all_pairs", on_click=use_all_pairs, args=(corpus,),
                  help="Raises *Number of pairs* and *Longest sentence* as far as they go. "
                       "More pairs need a longer training to learn.")


def corpus_preset_values() -> dict:
    """Widget key -> value of the settings measured for real corpora, but for the corpus."""
    return {k: v for k, v in preset_values(CORPUS_PRESET).items()
            if k not in ("w_task", SOURCE_KEY)}


def use_corpus_preset() -> None:
    for key, value in corpus_preset_values().items():
        st.session_state[key] = value
    st.session_state["preset"] = CORPUS_PRESET.name


def corpus_preset_note() -> None:
    """After an upload: the settings measured to translate a real corpus best in class time,
    one click away (a caption once they are in use)."""
    if all(s(k) == v for k, v in corpus_preset_values().items()):
        st.caption(f"Using the settings measured for real corpora: "
                   f"{CORPUS_PRESET.description}")
        return
    st.info(f"**Settings measured for real corpora.** {CORPUS_PRESET.description}",
            icon=":material/speed:")
    st.button("Use the measured settings", key="btn_corpus_preset",
              on_click=use_corpus_preset, icon=":material/tune:",
              help="Sets the network and the training below; the pairs stay yours.")


def _top(name: str) -> int:
    return spec(TranslationSettings, name).high


def use_all_pairs(corpus) -> None:
    lengths = [pair_length(p) for p in corpus.pairs]
    length, pairs = spec(TranslationSettings, "max_length"), spec(TranslationSettings, "max_pairs")
    st.session_state["w_translation_max_length"] = max(length.low, min(length.high, max(lengths)))
    every = sum(1 for n in lengths if n <= length.high)
    st.session_state["w_translation_max_pairs"] = max(pairs.low, min(every, pairs.high))


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
    m = sc.ModelConfig
    setting_input(st, m, "arch", radio=True)
    if s("w_arch") == "attention":
        setting_input(st, m, "attention")
    repeat = s("w_arch") == "repeat"
    c1, c2, c3 = st.columns(3)
    d1, d2, d3 = st.columns(3)
    setting_input(c1, m, "cell")
    setting_input(c2, m, "units")
    if repeat:
        setting_input(c3, m, "decoder_units")
    setting_input(d1 if repeat else c3, m, "layers")
    setting_input(d2, m, "embedding")
    setting_input(d3, m, "dropout")
    setting_input(st, m, "bidirectional")
    setting_input(st, m, "reverse_source")
    try:
        config = from_widgets(m, skip=() if repeat else ("decoder_units",))
    except sc.InvalidInput as err:
        return None, str(err)
    return config, ""


def train_widgets() -> tuple[sc.TrainConfig | None, str]:
    t = sc.TrainConfig
    for col, name in zip(st.columns(3) + st.columns(3),
                         ("batch_size", "learning_rate", "seed", "max_samples", "max_seconds",
                          "target_accuracy")):
        setting_input(col, t, name)
    st.toggle("Lecture pace", key="w_lecture_pace",
              help=f"A run that finishes in under {REPLAY_SECONDS:.0f} s is replayed chunk by "
                   "chunk, so a class can watch the curves and the numbers change.")
    with st.expander("More training settings"):
        for col, name in zip(st.columns(3), ("chunk_batches", "eval_samples", "clipnorm")):
            setting_input(col, t, name)
        for col, name in zip(st.columns(2), ("schedule", "compiler")):
            setting_input(col, t, name)
    try:
        config = from_widgets(t)
    except sc.InvalidInput as err:
        return None, str(err)
    return config, ""
