"""Property-based fuzzing: whatever a user types or puts in a link, only InvalidInput comes out.

Each target gets at least 1,000 generated inputs (Hypothesis, derandomized so CI is
repeatable): text from the whole of Unicode, near-misses of valid input (digits, operators,
separators, huge numbers), and links with every known key set to odd values.
"""
from __future__ import annotations

from dataclasses import fields

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import seq2seq_core as sc
from seq2seq_core import share

EXAMPLES = settings(max_examples=1000, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

TASKS = {
    "reverse": sc.make_task("reverse"),
    "reverse_all": sc.make_task("reverse", n_in=8, n_out=8, mode="reverse_all", cardinality=500),
    "addition": sc.make_task("addition", n_terms=4, largest=999, operators="+-*",
                             variable_terms=True),
    "dates": sc.make_task("dates"),
    "translation": sc.make_task("translation", max_pairs=50),
}

# Near-misses: pieces of valid inputs, mixed with odd characters.
PIECES = st.sampled_from(["1", "9", "50", "51", "0", "00", "999999", "9" * 50, "+", "-", "*",
                          "/", " ", "  ", ",", ";", "\t", "\n", "²", "⑨", "٣", "٠", "-1", "1e3",
                          "March", "3rd", "2021", "/", ".", "Hi", "é", "\x00", "\u200b",
                          "<end>", "<pad>", "<start>"])
TEXT = st.one_of(st.text(max_size=60), st.lists(PIECES, max_size=30).map("".join),
                 st.text(alphabet=st.characters(codec="utf-8"), min_size=200, max_size=3000))


@pytest.mark.parametrize("name", list(TASKS))
def test_validate_raises_only_invalid_input(name):
    task = TASKS[name]

    @EXAMPLES
    @given(TEXT)
    def check(text):
        try:
            clean = task.validate(text)
        except sc.InvalidInput:
            return
        assert isinstance(clean, str)
        task.encode_inputs([clean])  # a valid input always encodes
        task.answer(clean)

    check()


KEYS = sorted({f.name for cls, _ in sc.REGISTRY.values() for f in fields(cls)}
              | {f.name for f in fields(sc.ModelConfig)} | {f.name for f in fields(sc.TrainConfig)})
VALUES = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["nan", "inf", "-inf", "1e999", "-1", "0", "1_000", "9" * 5000, "none", "",
                     "true", "1", "0.5", "|", "a|b", "lstm", "attention", "reverse_all", "+*",
                     "../../etc/passwd", "![x](http://evil.example)", "\x00"]),
    st.lists(st.text(max_size=10), max_size=4),
)
LINKS = st.dictionaries(st.one_of(st.sampled_from(KEYS + ["task"]), st.text(max_size=8)),
                        VALUES, max_size=8)
TASK_VALUES = st.one_of(st.sampled_from(list(sc.REGISTRY)), st.text(max_size=12))


@EXAMPLES
@given(LINKS, TASK_VALUES)
def test_share_links_raise_only_invalid_input(params, task):
    params = {**params, "task": task}
    try:
        name, task_settings, model_config, train_config = share.from_query(params)
    except sc.InvalidInput:
        return
    assert name in sc.REGISTRY
    assert isinstance(model_config, sc.ModelConfig) and isinstance(train_config, sc.TrainConfig)


@EXAMPLES
@given(LINKS, TASK_VALUES)
def test_the_train_page_reads_links_raising_only_invalid_input(params, task):
    from ui.share import link_values
    try:
        values = link_values({**params, "task": task})
    except sc.InvalidInput:
        return
    assert values["w_task"] in sc.REGISTRY
