"""chrF and BLEU: `mt_metrics.text_scores` and `Evaluation.chrf/bleu` equal sacrebleu called
directly on the same strings."""
import logging

import numpy as np
import pytest
import sacrebleu

import seq2seq_core as sc
from seq2seq_core.evaluation import score_predicted
from seq2seq_core.mt_metrics import TextScores, text_scores
from seq2seq_core.tasks.translation import TranslationTask

CASES = {
    "perfect": (["Va !", "Je suis là.", "Merci beaucoup."],
                ["Va !", "Je suis là.", "Merci beaucoup."]),
    "totally wrong": (["xyz", "qqq qqq", "wvw"], ["Va !", "Je suis là.", "Merci beaucoup."]),
    "accents": (["Ça va très bien.", "Il était une fois.", "Où est le garçon ?"],
                ["Ça va bien.", "Il était une fois...", "Où est la garçonne ?"]),
    "empty hypotheses": (["", "", "Bonjour !"], ["Salut !", "Au revoir.", "Bonjour !"]),
    "all empty hypotheses": (["", ""], ["Salut !", "Au revoir."]),
    "near misses": (["Je sui là", "Ils ont mangé la pomme", "C'est bon"],
                    ["Je suis là.", "Elles ont mangé les pommes.", "C'est bon."]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_text_scores_equal_sacrebleu(name):
    hyps, refs = CASES[name]
    got = text_scores(hyps, refs)
    assert got.sentences == len(hyps)
    assert got.chrf == sacrebleu.corpus_chrf(hyps, [refs]).score
    assert got.bleu == sacrebleu.corpus_bleu(hyps, [refs], use_effective_order=True).score
    if any(len(h.split()) >= 4 for h in hyps):  # every order has n-grams: the default BLEU
        assert got.bleu == sacrebleu.corpus_bleu(hyps, [refs]).score


def test_bleu_of_outputs_too_short_for_4_grams_is_not_zero():
    hyps, refs = ["Va !", "Salut .", "Au revoir"], ["Va !", "Salut !", "Au revoir !"]
    assert sacrebleu.corpus_bleu(hyps, [refs]).score == 0.0
    assert text_scores(hyps, refs).bleu == pytest.approx(
        sacrebleu.corpus_bleu(hyps, [refs], use_effective_order=True).score)
    assert 40 < text_scores(hyps, refs).bleu < 100


def test_perfect_is_100_and_wrong_is_near_0():
    assert text_scores(*CASES["perfect"]).chrf == pytest.approx(100.0)
    assert text_scores(*CASES["perfect"]).bleu == pytest.approx(100.0)
    wrong = text_scores(*CASES["totally wrong"])
    assert wrong.chrf < 5 and wrong.bleu < 5


def test_chrf_is_plain_chrf_not_chrf_plus_plus():
    hyps, refs = CASES["near misses"]
    plus = sacrebleu.corpus_chrf(hyps, [refs], word_order=2).score
    assert text_scores(hyps, refs).chrf != pytest.approx(plus)


def test_references_are_references_not_hypotheses():
    hyps, refs = CASES["near misses"]
    assert text_scores(hyps, refs).chrf != pytest.approx(text_scores(refs, hyps).chrf)


def test_outputs_that_look_tokenized_score_as_sacrebleu_without_its_warning(caplog):
    hyps = [f"il y a {i} chats ." for i in range(120)]
    refs = [f"Il y a {i} chats." for i in range(120)]
    with caplog.at_level(logging.WARNING, logger="sacrebleu"):
        got = text_scores(hyps, refs)
    assert not caplog.records
    with caplog.at_level(logging.WARNING, logger="sacrebleu"):
        assert got.bleu == sacrebleu.corpus_bleu(hyps, [refs], use_effective_order=True).score
    assert any("tokenized" in r.getMessage() for r in caplog.records)


def test_empty_lists_score_zero_and_mismatched_lengths_are_refused():
    assert text_scores([], []) == TextScores(0.0, 0.0, 0)
    with pytest.raises(ValueError, match="2 hypotheses but 1 references"):
        text_scores(["a", "b"], ["a"])


@pytest.fixture
def translation(monkeypatch):
    monkeypatch.setattr(TranslationTask, "text_metrics", True, raising=False)
    task = sc.make_task("translation", max_pairs=30, holdout=0.0)
    return sc.Seq2Seq.build(task, sc.ModelConfig(units=8), seed=1)


def _direct(task, predicted, target):
    hyps = [task.target_text(row) for row in predicted]
    refs = [task.target_text(row) for row in target]
    return (sacrebleu.corpus_chrf(hyps, [refs]).score,
            sacrebleu.corpus_bleu(hyps, [refs], use_effective_order=True).score)


def test_evaluation_scores_the_decoded_strings(translation):
    task = translation.task
    result = sc.evaluate(translation, 30)
    assert result.samples == 30 and result.predicted is not None
    held = task.held_out(30, 0)
    assert (result.chrf, result.bleu) == _direct(task, result.predicted, held.target)


def test_evaluation_of_partly_right_outputs(translation):
    """Every third output swapped for another sentence's target: scores well inside 0..100."""
    task = translation.task
    pairs = task.held_out(30, 0)
    predicted = pairs.target.copy()
    predicted[::3] = pairs.target[::-1][::3]
    result = score_predicted(translation, pairs, predicted)
    chrf, bleu = _direct(task, predicted, pairs.target)
    assert (result.chrf, result.bleu) == (chrf, bleu)
    assert 20 < result.chrf < 99 and 20 < result.bleu < 99
    assert result.exact_match == pytest.approx(np.mean(
        [(p == t).all() for p, t in zip(predicted, pairs.target)]))


def test_a_task_without_text_metrics_has_none():
    task = sc.make_task("reverse", n_in=4, n_out=2, cardinality=9)
    result = sc.evaluate(sc.Seq2Seq.build(task, sc.ModelConfig(units=8), seed=1), 50)
    assert result.chrf is None and result.bleu is None
