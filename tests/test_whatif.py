"""What-if forcing, the encoder what-if and the nearest training examples, checked against
references computed another way (the training network, plain numpy)."""
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

import seq2seq_core as sc
from seq2seq_core.decoding import Decoder
from seq2seq_core.inspection import encoder_states
from seq2seq_core.neighbours import (POOL, POOL_BYTES, Neighbour, NeighbourIndex, nearest,
                                     pool_limit)
from seq2seq_core.whatif import NO_FEEDBACK, edit_input, forced_decode, input_tokens

TEXT = "1 2 3 4 5"  # the attention model writes 3 2 1


@pytest.fixture
def model(attention_model):
    """reverse: 5 integers in 1..12, first 3 reversed, attention, trained (conftest)."""
    return attention_model


def teacher_forced(model, text: str, prefix: list[int]) -> tuple[list[int], list[np.ndarray]]:
    """A reference decode without the one-step functions: the training network fed the
    tokens so far (teacher forcing) picks the argmax of the next position, from `prefix`
    on, until the end symbol or the last step. Returns the tokens and each step's
    probabilities."""
    task, end = model.task, model.task.target_vocab.end
    src = task.encode_inputs([text])
    tokens = list(prefix)
    while True:
        target = np.zeros((1, task.target_len), dtype=np.int32)
        target[0, :len(tokens)] = tokens
        probs = np.asarray(model.train_model(model.model_inputs(src, target), training=False))[0]
        if len(tokens) == task.target_len or (end is not None and tokens[-1] == end):
            return tokens, list(probs[:len(tokens)])
        tokens.append(int(probs[len(tokens)].argmax()))


# ---- forcing -----------------------------------------------------------------------------------
def test_forcing_greedys_own_token_gives_exactly_the_greedy_trace(model):
    for text in (TEXT, "12 7 7 1 3", "9 8 7 6 5"):
        trace = Decoder(model).trace(text)
        for s, greedy in enumerate(trace.steps, start=1):
            for token in (greedy.token, greedy.token_id):
                forced = forced_decode(model, text, s, token)
                assert forced.is_greedy and forced.changed_from is None
                assert forced.output_text == forced.original_text == trace.output_text
                assert [x.token for x in forced.steps] == [x.token for x in trace.steps]
                assert [x.output_so_far for x in forced.steps] == \
                    [x.output_so_far for x in trace.steps]
                for mine, ref in zip(forced.steps, trace.steps):
                    assert [t for t, _ in mine.top] == [t for t, _ in ref.top]
                    assert mine.probability == pytest.approx(ref.probability, abs=1e-5)
                    assert np.allclose(mine.state, ref.state, atol=1e-5)


def test_forcing_another_token_continues_as_the_training_network_would(model):
    trace = Decoder(model).trace(TEXT)
    assert trace.output_text == "3 2 1"
    greedy = [s.token_id for s in trace.steps]
    for step in (1, 2, 3):
        for token in ("9", "12", "1"):
            forced = forced_decode(model, TEXT, step, token, original=trace)
            ref, probs = teacher_forced(model, TEXT, greedy[:step - 1] + [int(token)])
            assert forced.steps[step - 1].token == token and forced.token == token
            assert [s.token_id for s in forced.steps] == ref
            assert forced.output_text == " ".join(str(t) for t in ref)
            for s, p in zip(forced.steps[step - 1:], probs[step - 1:]):
                assert s.probability == pytest.approx(float(p[s.token_id]), abs=1e-4)
            later = [t for t in range(step, 3) if ref[t] != greedy[t]]
            assert forced.changed_from == (later[0] + 1 if later else None)
            assert all(a is b for a, b in zip(forced.steps[:step - 1], trace.steps))


TINY = {
    "gru, embedding, reversed source": sc.ModelConfig(cell="gru", units=8, embedding=4,
                                                      reverse_source=True),
    "stacked lstm": sc.ModelConfig(units=8, layers=2),
    "bidirectional gru, attention": sc.ModelConfig(arch="attention", cell="gru", units=6,
                                                   bidirectional=True),
    "stacked bidirectional, luong": sc.ModelConfig(arch="attention", attention="luong",
                                                   units=6, layers=2, bidirectional=True),
}


@pytest.mark.parametrize("name", TINY)
def test_forcing_works_for_every_feedback_network(name):
    task = sc.make_task("reverse", n_in=5, n_out=3, cardinality=12)
    tiny = sc.Seq2Seq.build(task, TINY[name], seed=3)
    trace = Decoder(tiny).trace(TEXT)
    assert [s.token for s in forced_decode(tiny, TEXT, 1, trace.steps[0].token).steps] == \
        [s.token for s in trace.steps]
    for step, token in ((1, "7"), (2, "12"), (3, "1")):
        forced = forced_decode(tiny, TEXT, step, token, original=trace)
        prefix = [s.token_id for s in trace.steps[:step - 1]] + [int(token)]
        assert [s.token_id for s in forced.steps] == teacher_forced(tiny, TEXT, prefix)[0]


def test_forcing_stops_at_the_end_symbol_and_reads_labels():
    task = sc.make_task("translation", max_pairs=30, holdout=0.0)
    tiny = sc.Seq2Seq.build(task, sc.ModelConfig(units=8), seed=3)
    text, vocab = task.example_inputs()[1], task.target_vocab
    trace = Decoder(tiny).trace(text)
    assert len(trace.steps) > 2
    for token, same in (("␣", " "), ("<end>", "⟨end⟩"), ("e", vocab.index["e"])):
        one, other = (forced_decode(tiny, text, 2, t, original=trace) for t in (token, same))
        assert one.token_id == other.token_id and one.output_text == other.output_text
    spaced = forced_decode(tiny, text, 2, "␣", original=trace)
    assert spaced.steps[1].token == "␣" and spaced.steps[1].token_id == vocab.index[" "]
    prefix = [trace.steps[0].token_id, vocab.index[" "]]
    assert [s.token_id for s in spaced.steps] == teacher_forced(tiny, text, prefix)[0]
    ended = forced_decode(tiny, text, 1, "⟨end⟩", original=trace)
    assert ended.output_text == "" and len(ended.steps) == 1 and ended.changed_from == 2


def test_the_repeat_architecture_cannot_be_forced():
    task = sc.make_task("reverse", n_in=4, n_out=2, cardinality=8)
    repeat = sc.Seq2Seq.build(task, sc.ModelConfig(arch="repeat", units=8))
    with pytest.raises(sc.InvalidInput) as err:
        forced_decode(repeat, "1 2 3 4", 1, "5")
    assert str(err.value) == NO_FEEDBACK
    assert "never reads its previous token" in NO_FEEDBACK


@pytest.mark.parametrize("step, token, message", [
    (0, "9", "Step 0 is not a step of this output: this model writes 3 steps. Choose a step "
             "from 1 to 3."),
    (4, "9", "Choose a step from 1 to 3."),
    (True, "9", "Step True is not a step"),
    ("2", "9", "Step '2' is not a step"),
    (10 ** 30, "9", "Step that large is not a step"),
    (1, "x", "'x' is not a token this model writes. Allowed: 1 2 3 4 5 6 7 8 9 10 11 12."),
    (1, "13", "'13' is not a token this model writes."),
    (1, "", "An empty token is not a token this model writes."),
    (1, "9" * 500, "is not a token this model writes."),
    (1, 0, "Token id 0 cannot be forced: the ids this model writes are 1 to 12."),
    (1, 2.5, "2.5 is not a token this model writes."),
])
def test_bad_steps_and_tokens_say_what_is_allowed(model, step, token, message):
    with pytest.raises(sc.InvalidInput) as err:
        forced_decode(model, TEXT, step, token)
    assert message in str(err.value)
    assert len(str(err.value)) < 300


def test_forcing_checks_the_input_and_k(model):
    with pytest.raises(sc.InvalidInput, match="Not an integer between 1 and 12"):
        forced_decode(model, "1 2 99 4 5", 1, "9")
    with pytest.raises(sc.InvalidInput, match="Top-k must be between 1 and 50"):
        forced_decode(model, TEXT, 1, "9", k=0)
    assert len(forced_decode(model, TEXT, 1, "9", k=12).steps[1].top) == 12


def test_steps_past_the_end_symbol_cannot_be_forced():
    task = sc.make_task("translation", max_pairs=30, holdout=0.0)
    tiny = sc.Seq2Seq.build(task, sc.ModelConfig(units=8), seed=1)
    text = task.example_inputs()[0]
    ended = forced_decode(tiny, text, 1, "⟨end⟩")
    trace = Decoder(tiny).trace(text)
    short = replace(trace, steps=ended.steps, output_text=ended.output_text)  # ends at step 1
    with pytest.raises(sc.InvalidInput) as err:
        forced_decode(tiny, text, 2, "a", original=short)
    assert str(err.value) == ("Step 2 is not a step of this output: the model wrote 1 step for "
                              "this input, the last one its end symbol (nothing after it is "
                              "read). Choose a step from 1 to 1.")
    again = forced_decode(tiny, text, 1, "a", original=short)
    assert again.steps[0].token == "a" and again.changed_from == 2


# ---- editing an input token ----------------------------------------------------------------
def test_the_same_token_moves_nothing_and_another_moves_the_state(model):
    same = edit_input(model, TEXT, 3, "3")
    assert same.edited_text == TEXT and same.distance == 0.0
    assert same.cosine == pytest.approx(1.0) and not same.output_changed
    trace = Decoder(model).trace(TEXT)
    assert np.allclose(same.before, trace.final_state["h"], atol=1e-6)
    moved = edit_input(model, TEXT, 3, "9")
    assert (moved.input_text, moved.edited_text, moved.replaced, moved.token) == \
        (TEXT, "1 2 9 4 5", "3", "9")
    assert moved.distance > 0 and moved.distance == pytest.approx(
        float(np.linalg.norm(moved.after - moved.before)))
    states = encoder_states(model, model.task.encode_inputs(["1 2 9 4 5"]))
    assert np.allclose(moved.after, states.final_hidden[0], atol=1e-6)
    cos = np.dot(moved.before, moved.after) / np.linalg.norm(moved.before) / \
        np.linalg.norm(moved.after)
    assert moved.cosine == pytest.approx(float(cos), abs=1e-6) and moved.cosine < 1
    assert moved.output == "3 2 1"
    assert moved.edited_output == Decoder(model).predict(["1 2 9 4 5"])[0] == "9 2 1"
    assert moved.output_changed


def test_edits_are_checked_by_the_task(model):
    task = model.task
    with pytest.raises(sc.InvalidInput) as expected:
        task.validate("1 2 99 4 5")
    with pytest.raises(sc.InvalidInput) as err:
        edit_input(model, TEXT, 3, "99")
    assert str(err.value) == str(expected.value)
    with pytest.raises(sc.InvalidInput, match="Replace the token with exactly one integer"):
        edit_input(model, TEXT, 3, "1 2")
    with pytest.raises(sc.InvalidInput, match="Position 6 is not in the input: it has 5 "
                                              "integers; choose a position from 1 to 5."):
        edit_input(model, TEXT, 6, "1")
    with pytest.raises(sc.InvalidInput, match="Position 0 is not in the input"):
        edit_input(model, TEXT, 0, "1")
    with pytest.raises(sc.InvalidInput, match="exactly one integer"):
        edit_input(model, TEXT, 1, None)
    assert input_tokens(model, "1, 2,  3 4 05") == ["1", "2", "3", "4", "5"]


def test_character_tasks_edit_one_character():
    task = sc.make_task("addition")
    tiny = sc.Seq2Seq.build(task, sc.ModelConfig(arch="repeat", units=8, decoder_units=6))
    assert input_tokens(tiny, "3 + 4+5") == list("3+4+5")
    moved = edit_input(tiny, "3+4+5", 1, "7")
    assert moved.edited_text == "7+4+5" and moved.distance > 0
    assert moved.edited_output == Decoder(tiny).predict(["7+4+5"])[0]
    for position, token in ((2, "-"), (2, "5"), (1, "+")):
        edited = list("3+4+5")
        edited[position - 1] = token
        with pytest.raises(sc.InvalidInput) as expected:
            task.validate("".join(edited))
        with pytest.raises(sc.InvalidInput) as err:
            edit_input(tiny, "3+4+5", position, token)
        assert str(err.value) == str(expected.value)
    with pytest.raises(sc.InvalidInput, match="exactly one character"):
        edit_input(tiny, "3+4+5", 1, "12")
    spaced = sc.make_task("translation", max_pairs=30, holdout=0.0)
    words = sc.Seq2Seq.build(spaced, sc.ModelConfig(units=6))
    text = spaced.example_inputs()[0]
    assert edit_input(words, text, 1, "␣").edited_text == spaced.validate(" " + text[1:])


# ---- nearest training examples -------------------------------------------------------------
@pytest.fixture(scope="module")
def index(attention_model):
    return NeighbourIndex.build(attention_model, pool=3000)


def test_the_pool_is_distinct_training_examples_with_their_states(attention_model, index):
    assert index.drawn == 3000 and 0 < len(index) <= 3000
    assert len({r.tobytes() for r in index.source}) == len(index)
    states = encoder_states(attention_model, index.source[:50]).final_hidden
    assert np.allclose(index.states[:50], states, atol=1e-6)
    task = attention_model.task
    assert all(task.answer(task.source_text(s)) == task.target_text(t)
               for s, t in zip(index.source[:50], index.target[:50]))


def test_nearest_equals_a_brute_force_reference(attention_model, index):
    task = attention_model.task
    query = index.state_of(TEXT)
    ref = np.linalg.norm(index.states.astype(np.float64) - query, axis=1)
    order = np.argsort(ref, kind="stable")[:7]
    near = index.query(query, 7)
    assert [n.input for n in near] == [task.source_text(index.source[i]) for i in order]
    assert [n.distance for n in near] == pytest.approx(list(ref[order]), abs=1e-5)
    assert [n.distance for n in near] == sorted(n.distance for n in near)
    assert [n.output for n in near] == Decoder(attention_model).predict([n.input for n in near])
    assert [n.expected for n in near] == [task.answer(n.input) for n in near]
    assert all(isinstance(n, Neighbour) and n.state.shape == (32,) for n in near)


def test_an_input_from_the_pool_is_found_at_distance_0(attention_model, index):
    task = attention_model.task
    seen = task.source_text(index.source[123])
    near = index.nearest(seen, 3)
    assert (near[0].input, near[0].distance) == (seen, 0.0)
    assert near[1].distance > 0
    assert nearest(attention_model, seen, k=3, pool=3000) == near
    assert index.row_of(seen) == 123


def test_k_and_the_pool_are_bounded(attention_model, index):
    for k in (0, 51, 2.0):
        with pytest.raises(sc.InvalidInput, match="Nearest examples must be"):
            index.nearest(TEXT, k)
    for pool in (0, POOL + 1):
        with pytest.raises(sc.InvalidInput, match="The pool size must be between 1 and"):
            NeighbourIndex.build(attention_model, pool)
    assert len(index.nearest(TEXT, 50)) == 50
    with pytest.raises(sc.InvalidInput, match="Not an integer"):
        index.nearest("1 2 x 4 5", 3)
    wide = SimpleNamespace(config=SimpleNamespace(state_units=2048))
    assert pool_limit(wide) == POOL_BYTES // (2048 * 4) < POOL
    assert pool_limit(attention_model) == POOL
    assert 0 < index.typical_distance() < float("inf")


def test_a_corpus_pool_is_its_training_pairs_and_a_small_task_is_covered():
    task = sc.make_task("translation", max_pairs=40, holdout=0.25)
    tiny = sc.Seq2Seq.build(task, sc.ModelConfig(units=6))
    pool = NeighbourIndex.build(tiny)
    trained = {a for a, _ in task.split_pairs("train")}
    assert {task.source_text(s) for s in pool.source} == trained
    held_out = task.split_pairs("valid")[0][0]
    assert pool.row_of(held_out) is None and pool.nearest(held_out, 1)[0].distance > 0
    addition = sc.make_task("addition", n_terms=2, largest=9)
    small = sc.Seq2Seq.build(addition, sc.ModelConfig(arch="repeat", units=6, decoder_units=4))
    covered = NeighbourIndex.build(small, pool=2000)
    assert covered.drawn == 2000 and len(covered) == addition.possible_inputs() == 81


# ---- charts --------------------------------------------------------------------------------
def test_the_charts_follow_the_sizing_rule_and_write_no_nan(model):
    from seq2seq_core.charts import whatif as charts
    from seq2seq_core.charts.sizing import AUTOSIZE, PLOT_MIN, TITLE_CHARS
    from seq2seq_core.inspection import project_final_states
    forced = forced_decode(model, TEXT, 2, "12")
    table = charts.forced_table(forced)
    assert list(table.columns) == ["step", "original", "original p", "what-if", "what-if p",
                                   "what-if top-k"]
    assert list(table["what-if"]) == [s.token for s in forced.steps]
    assert list(charts.forced_rows(forced)["forced"]) == [False, True, False]
    projection = project_final_states(model, 50)
    moved = edit_input(model, TEXT, 3, "9")
    near = NeighbourIndex.build(model, pool=500).nearest(TEXT, 4)
    specs = [charts.forced_chart(forced).to_dict(),
             charts.moved_state_map(projection, projection.place(moved.before),
                                    projection.place(moved.after), TEXT,
                                    moved.edited_text).to_dict(),
             charts.neighbours_map(projection, projection.place(moved.before), TEXT,
                                   [projection.place(n.state) for n in near],
                                   [n.input for n in near]).to_dict()]
    for spec in specs:
        assert spec["autosize"] == AUTOSIZE and spec["height"] >= PLOT_MIN
        title = spec.get("title", {})
        lines = title.get("text", []) if isinstance(title, dict) else [title]
        assert all(len(line) <= TITLE_CHARS for line in ([lines] if isinstance(lines, str)
                                                         else lines))
        rows = [row for data in spec.get("datasets", {}).values() for row in data]
        assert not [v for row in rows for v in row.values()
                    if isinstance(v, str) and v.lower() == "nan"]
    assert {TEXT, moved.edited_text} <= {
        row.get("label") for data in specs[1]["datasets"].values() for row in data}
    assert len(charts.neighbours_table(near)) == 4
