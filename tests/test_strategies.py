"""Beam search, sampling and the teacher-forcing comparison."""
import numpy as np
import pytest

import seq2seq_core as sc
from seq2seq_core.decoding import Decoder
from seq2seq_core.strategies import (ModelStepper, Stepper, beam_search, beam_table, compare_strategies,
                                     forcing_comparison, sample)

START, END, A, B, C1, C2, C3, D = range(8)


class MarkovStepper(Stepper):
    """A hand-built decoder: the next-token distribution depends only on the previous token.

    Greedy takes A (0.6) but every continuation of A is weak (at most 0.34); B (0.4) is
    followed by D with 0.9, so B-D is the most probable output (0.36 vs 0.204).
    """

    start, end, max_steps = START, END, 5

    def __init__(self):
        table = np.full((8, 8), 1e-9)
        table[START, [A, B]] = [0.6, 0.4]
        table[A, [C1, C2, C3]] = [0.34, 0.33, 0.33]
        table[B, [D, C1]] = [0.9, 0.1]
        table[[C1, C2, C3, D], END] = 1.0
        self.table = table / table.sum(axis=1, keepdims=True)

    def initial(self):
        return [np.zeros(1)]

    def advance(self, tokens, state):
        return self.table[tokens], [np.zeros(len(tokens))]


def test_beam_search_beats_greedy_on_a_hand_built_model():
    greedy = beam_search(MarkovStepper(), width=1, alpha=0.0).best
    assert greedy.tokens == (A, C1, END)
    best = beam_search(MarkovStepper(), width=2, alpha=0.0).best
    assert best.tokens == (B, D, END)
    assert np.isclose(np.exp(best.log_prob), 0.36) and best.log_prob > greedy.log_prob


def test_beam_history_keeps_width_beams():
    result = beam_search(MarkovStepper(), width=2, alpha=0.0)
    assert [len(step) for step in result.steps] == [2, 2, 2]
    assert result.steps[0][0].tokens == (A,)


@pytest.fixture
def model(attention_model):
    """The trained attention model shared with the Inspect page tests (conftest)."""
    return attention_model


def test_width_one_equals_greedy(model):
    for text in ["1 2 3 4 5", "12 7 7 1 3", "9 8 7 6 5"]:
        greedy = [s.token_id for s in Decoder(model).trace(text).steps]
        assert list(beam_search(ModelStepper(model, text), width=1).best.tokens) == greedy


def test_sampling_is_reproducible_and_cold_sampling_is_greedy(model):
    text = "4 10 2 8 1"
    assert sample(ModelStepper(model, text), 1.5, seed=11) == sample(ModelStepper(model, text), 1.5, seed=11)
    cold = sample(ModelStepper(model, text), 0.05, seed=0)
    assert list(cold.tokens) == [s.token_id for s in Decoder(model).trace(text).steps]


def test_compare_strategies_side_by_side(model):
    result = compare_strategies(model, "1 2 3 4 5", width=4, temperature=0.7, seed=1)
    rows = result.decoded
    assert [r.strategy.split()[0] for r in rows] == ["greedy", "beam", "sampling"]
    assert rows[0].text == "3 2 1" and rows[1].log_prob >= rows[0].log_prob - 1e-6
    assert all(0 < r.probability <= 1 for r in rows)
    assert result.beam == beam_search(ModelStepper(model, "1 2 3 4 5"), width=4)
    table = beam_table(model, result.beam)
    assert {r["rank"] for r in table} <= {1, 2, 3, 4} and table[-1]["step"] == 3


def test_compare_strategies_reuses_a_given_trace(model):
    text = "4 10 2 8 1"
    trace = Decoder(model).trace(text)
    given = compare_strategies(model, text, width=2, seed=3, greedy=trace)
    assert given == compare_strategies(model, text, width=2, seed=3)
    assert forcing_comparison(model, text, "2 10 4", trace) == \
        forcing_comparison(model, text, "2 10 4")


def test_every_compiled_function_is_built_once_per_model(model):
    functions = model.functions
    assert functions is model.functions and Decoder(model).functions is functions
    for name in ("greedy", "trace", "encoder_states", "begin", "step"):
        assert getattr(functions, name) is getattr(functions, name)
    ModelStepper(model, "1 2 3 4 5")
    assert "begin" in vars(functions) and "table" not in vars(functions)
    assert set(vars(model)) == {"task", "config", "seed", "layers", "nets", "start_id",
                                "functions"}  # nothing else keeps its own cache on the model


def test_teacher_forcing_vs_free_running(model):
    right = forcing_comparison(model, "1 2 3 4 5", "3 2 1")
    assert right.diverges_at is None and len(right.rows) == 3
    assert [r.forced_input for r in right.rows] == ["⟨start⟩", "3", "2"]
    wrong = forcing_comparison(model, "1 2 3 4 5", "3 9 1")
    assert wrong.diverges_at == 2 and wrong.rows[2].forced_input == "9"
    with pytest.raises(sc.InvalidInput, match="at most 3"):
        forcing_comparison(model, "1 2 3 4 5", "1 2 3 4")


def test_bad_strategy_settings():
    with pytest.raises(sc.InvalidInput, match="Beam width must be between 1 and 10"):
        beam_search(MarkovStepper(), width=11)
    with pytest.raises(sc.InvalidInput, match="Temperature must be between 0.05 and 3"):
        sample(MarkovStepper(), temperature=0)
