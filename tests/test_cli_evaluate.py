"""`python -m seq2seq_core evaluate --pairs FILE`: chrF, BLEU and exact match of a translation
model's outputs on a file of pairs, equal to sacrebleu on the outputs it really produces; a
source it cannot read scores as an empty output; bad input gets its message."""
import json

import numpy as np
import pytest
import sacrebleu

import seq2seq_core as sc
from seq2seq_core import cli
from seq2seq_core.decoding import Decoder
from seq2seq_core.strategies import ModelStepper, beam_search
from seq2seq_core.tasks.translation import TranslationTask

UNREADABLE = "☃ is snow"


@pytest.fixture(autouse=True)
def _text_metrics(monkeypatch):
    monkeypatch.setattr(TranslationTask, "text_metrics", True, raising=False)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """(model, model file, pairs file, sources, references, reverse model file): ten pairs of
    the model's corpus, one whose reference is the model's own greedy output (an exact match),
    and one source with a character the model never saw."""
    folder = tmp_path_factory.mktemp("evaluate")
    task = sc.make_task("translation", max_pairs=30, holdout=0.0)
    model = sc.Seq2Seq.build(task, sc.ModelConfig(units=8), seed=1)
    pairs = list(task.pairs[:10])
    own = task.pairs[10][0]
    pairs.append((own, Decoder(model).predict([own])[0]))
    pairs.insert(4, (UNREADABLE, "c'est la neige"))
    assert pairs[-1][1].strip()  # a reference the reader keeps
    tsv = folder / "pairs.tsv"
    tsv.write_text("".join(f"{a}\t{b}\n" for a, b in pairs), encoding="utf-8")
    reverse = sc.Seq2Seq.build(sc.make_task("reverse", n_in=4, n_out=2, cardinality=9),
                               sc.ModelConfig(units=8), seed=1)
    return (model, str(sc.save(model, folder / "fr.s2s")), str(tsv), [a for a, _ in pairs],
            [b for _, b in pairs], str(sc.save(reverse, folder / "reverse.s2s")))


def _run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _last_json(capsys, *argv):
    code, out, err = _run(capsys, *argv)
    assert code == 0, err
    return json.loads(out.strip().splitlines()[-1])


def _expected(sources, references, outputs):
    return {"chrf": sacrebleu.corpus_chrf(outputs, [references]).score,
            "bleu": sacrebleu.corpus_bleu(outputs, [references], use_effective_order=True).score,
            "exact_match": float(np.mean([o == r for o, r in zip(outputs, references)]))}


def _greedy_outputs(model, sources):
    readable = [s for s in sources if s != UNREADABLE]
    decoded = iter(Decoder(model).predict(readable))
    return ["" if s == UNREADABLE else next(decoded) for s in sources]


def _beam_outputs(model, sources, width):
    return ["" if s == UNREADABLE else model.task.target_text(np.asarray(
        beam_search(ModelStepper(model, s), width).best.tokens, dtype=int)) for s in sources]


def _check(got, sources, references, outputs, decoding):
    want = _expected(sources, references, outputs)
    assert got["pairs"] == 12 and got["unreadable"] == 1 and got["decoding"] == decoding
    assert got["chrf"] == pytest.approx(want["chrf"], abs=1e-9)
    assert got["bleu"] == pytest.approx(want["bleu"], abs=1e-9)
    assert got["exact_match"] == pytest.approx(want["exact_match"])
    assert [row["output"] for row in got["examples"]] == outputs[:10]
    assert got["seconds"] >= 0 and got["skipped_lines"] == 0
    (row,) = got["unreadable_examples"]
    assert row["source"] == UNREADABLE and "never seen '☃'" in row["reason"]


def test_greedy_scores_equal_sacrebleu_on_the_real_outputs(setup, capsys):
    model, path, tsv, sources, references, _ = setup
    got = _last_json(capsys, "evaluate", "--model", path, "--pairs", tsv, "--json")
    outputs = _greedy_outputs(model, sources)
    assert outputs[4] == "" and outputs[-1] == references[-1]
    _check(got, sources, references, outputs, "greedy")
    assert got["exact_match"] >= 1 / 12


def test_beam_search_scores_its_own_outputs(setup, capsys):
    model, path, tsv, sources, references, _ = setup
    got = _last_json(capsys, "evaluate", "--model", path, "--pairs", tsv, "--json", "--beam", "2")
    _check(got, sources, references, _beam_outputs(model, sources, 2), "beam 2")


def test_the_text_report_shows_the_scores_and_examples(setup, capsys):
    model, path, tsv, sources, references, _ = setup
    code, out, _ = _run(capsys, "evaluate", "--model", path, "--pairs", tsv)
    assert code == 0
    want = _expected(sources, references, _greedy_outputs(model, sources))
    assert f"chrF {want['chrf']:.2f}  BLEU {want['bleu']:.2f}  " \
           f"exact match {want['exact_match']:.3f}" in out
    assert "1 sources the model cannot read" in out and f"  {UNREADABLE}: " in out
    assert f"  {sources[0]} -> " in out and not out.strip().splitlines()[-1].startswith("{")


def test_without_pairs_a_translation_model_gets_chrf_and_bleu(setup, capsys):
    model, path, *_ = setup
    got = _last_json(capsys, "evaluate", "--model", path)
    result = sc.evaluate(model, 1000, seed=2024)
    assert got["chrf"] == pytest.approx(result.chrf) and got["bleu"] == pytest.approx(result.bleu)
    assert got["exact_match"] == result.exact_match and got["samples"] == 30


def test_a_model_of_another_task_is_refused(setup, capsys):
    *_, tsv, _, _, reverse = setup
    code, out, err = _run(capsys, "evaluate", "--model", reverse, "--pairs", tsv, "--json")
    assert code == 2 and out == ""
    assert "A pairs file scores translations, and this model's task is 'reverse'" in err
    code, out, _ = _run(capsys, "evaluate", "--model", reverse)
    assert code == 0 and "chrf" not in json.loads(out.strip().splitlines()[-1])


@pytest.mark.parametrize("content,message", [
    (None, "No pairs file at"),
    ("no tab here\n" * 12, "Only 0 usable pairs were found"),
    (b"\x00\x01binary", "This is not a text file"),
])
def test_bad_pairs_files_get_their_messages(setup, capsys, tmp_path, content, message):
    _, path, *_ = setup
    target = tmp_path / "bad.tsv"
    if isinstance(content, bytes):
        target.write_bytes(content)
    elif content is not None:
        target.write_text(content)
    code, out, err = _run(capsys, "evaluate", "--model", path, "--pairs", str(target))
    assert code == 2 and message in err and "Traceback" not in err


def test_beam_without_pairs_and_a_bad_width_are_refused(setup, capsys):
    _, path, *_ = setup
    code, _, err = _run(capsys, "evaluate", "--model", path, "--beam", "2")
    assert code == 2 and "give --pairs too" in err
    with pytest.raises(SystemExit) as stop:
        cli.main(["evaluate", "--model", path, "--pairs", "x.tsv", "--beam", "11"])
    assert stop.value.code == 2 and "outside 1..10" in capsys.readouterr().err


def test_train_reports_the_chrf_and_bleu_of_its_evaluation(capsys, tmp_path):
    target = tmp_path / "trained.s2s"
    summary = _last_json(capsys, "train", "--task", "translation", "--set", "max_pairs=30",
                         "--set", "holdout=0", "--set", "units=8", "--max-samples", "256",
                         "--eval-samples", "30", "--seed", "3", "--save", str(target))
    result = sc.evaluate(sc.load(target), 30, seed=3 + 424242)
    assert summary["chrf"] == pytest.approx(result.chrf, abs=1e-9)
    assert summary["bleu"] == pytest.approx(result.bleu, abs=1e-9)


def test_training_on_a_pairs_file_starts_from_the_corpus_preset():
    from dataclasses import asdict

    from seq2seq_core.cli import with_corpus_preset
    from seq2seq_core.presets import CORPUS_PRESET
    task_kw, model_kw, train_kw = with_corpus_preset(
        "translation", {"corpus": "pairs.tsv", "holdout": 0.2}, {"units": 32},
        {"max_seconds": 5.0})
    assert task_kw["corpus"] == "pairs.tsv" and task_kw["holdout"] == 0.2  # given: they win
    assert task_kw["max_pairs"] == CORPUS_PRESET.settings.max_pairs
    assert model_kw == asdict(CORPUS_PRESET.model) | {"units": 32}
    assert train_kw == asdict(CORPUS_PRESET.train) | {"max_seconds": 5.0}
    assert sc.ModelConfig(**model_kw).arch == "attention"
    # the phrasebook and other tasks keep the plain defaults
    assert with_corpus_preset("translation", {}, {}, {}) == ({}, {}, {})
    assert with_corpus_preset("addition", {"n_terms": 2}, {}, {}) == ({"n_terms": 2}, {}, {})
