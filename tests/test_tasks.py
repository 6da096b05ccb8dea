"""Task definitions against the source documents, and input validation messages."""
import numpy as np
import pytest

import seq2seq_core as sc
from seq2seq_core.tasks.addition import input_length, output_length
from seq2seq_core.tasks.dates import format_dates


def test_addition_seed_example_encoding():
    task = sc.make_task("addition", n_terms=2, largest=10)
    assert task.source_vocab.tokens == tuple("0123456789+ ")
    assert task.encode_inputs(["3+10"]).tolist() == [[11, 3, 10, 1, 0]]
    assert task.answer("3+10") == "13"
    assert task.source_len == 5 and task.target_len == 2


@pytest.mark.parametrize("terms,largest,inp,out", [(3, 10, 8, 2), (2, 10, 5, 2), (2, 99, 5, 3), (4, 500, 15, 4)])
def test_addition_lengths_follow_seed_formulas(terms, largest, inp, out):
    settings = sc.settings_for("addition", n_terms=terms, largest=largest)
    assert (input_length(settings), output_length(settings)) == (inp, out)


def test_addition_samples_are_correct_and_left_padded():
    task = sc.make_task("addition", n_terms=3, largest=10, operators="+-*", variable_terms=True)
    pairs = task.sample(np.random.default_rng(0), 300)
    for ex in task.examples(pairs):
        assert int(ex.target) == eval(ex.source)  # noqa: S307 - digits and + - * only
    pad = task.source_vocab.pad
    assert (pairs.source[:, 0] == pad).any() and (pairs.source[:, -1] != pad).all()


def test_reverse_seed_example():
    task = sc.make_task("reverse")
    assert task.answer("20 36 40 10 34 28") == "40 36 20"
    assert task.source_vocab.size == 51
    pairs = task.sample(np.random.default_rng(1), 500)
    assert pairs.source.min() >= 1 and pairs.source.max() <= 50
    assert (pairs.target == pairs.source[:, 2::-1]).all()


def test_reverse_modes():
    assert sc.make_task("reverse", mode="echo").answer("20 36 40 10 34 28") == "20 36 40"
    assert sc.make_task("reverse", mode="reverse_all").answer("1 2 3 4 5 6") == "6 5 4 3 2 1"


def test_dates_formats_and_iso_targets():
    day = np.array([np.datetime64("2021-03-03")])
    assert format_dates(day, "d MMMM yyyy")[0] == "3 March 2021"
    assert format_dates(day, "MMM d, yy")[0] == "Mar 3, 21"
    assert format_dates(day, "dd/mm/yyyy")[0] == "03/03/2021"
    assert format_dates(day, "dddd, MMMM do yyyy")[0] == "Wednesday, March 3rd 2021"
    task = sc.make_task("dates")
    pairs = task.sample(np.random.default_rng(2), 400)
    for ex in task.examples(pairs):
        assert task.answer(ex.source) == ex.target


def test_translation_phrasebook_and_end_symbol():
    task = sc.make_task("translation")
    assert len(sc.phrasebook()) >= 300
    pairs = task.held_out(5, seed=0)
    ends = (pairs.target == task.target_vocab.end).sum(axis=1)
    assert (ends == 1).all()
    src, tgt = task.split_pairs("valid")[0]
    assert task.target_text(pairs.target[0]) == tgt and task.answer(src) == tgt


@pytest.mark.parametrize("name,text,message", [
    ("addition", "3+x+1", "Unknown characters: 'x'"),
    ("addition", "", "The input is empty"),
    ("addition", "1+2+3+4+5", "the maximum is 8"),
    ("addition", "3++4", "Write numbers joined by"),
    ("addition", "3+4", "this task takes exactly 3"),
    ("reverse", "1 2 3", "this task takes exactly 6"),
    ("reverse", "1 2 3 4 5 99", "Not an integer between 1 and 50: '99'"),
    ("reverse", "1 2 3 4 5 0", "0 is reserved"),
    ("dates", "3 März 2021", "Unknown characters: 'ä'"),
    ("dates", "1" * 31, "the maximum is 30"),
    ("translation", "Hello ~", "Unknown characters: '~'"),
])
def test_invalid_inputs_get_clear_messages(name, text, message):
    task = sc.make_task(name)
    with pytest.raises(sc.InvalidInput, match=message.replace("+", r"\+")):
        task.validate(text)


@pytest.mark.parametrize("name,values,message", [
    ("reverse", {"n_in": 0}, "between 1 and 40"),
    ("reverse", {"n_in": 3, "n_out": 5}, "cannot exceed"),
    ("addition", {"largest": 10**9}, "between 1 and 99999"),
    ("addition", {"operators": "/"}, "subset of"),
    ("dates", {"formats": ("nonsense",)}, "Unknown date formats"),
    ("translation", {"max_pairs": 5}, "between 10 and 20000"),
    ("reverse", {"bogus": 1}, "has no setting bogus"),
])
def test_absurd_settings_are_refused(name, values, message):
    with pytest.raises(sc.InvalidInput, match=message):
        sc.make_task(name, **values)


def test_pairs_file_reading_reports_skipped_lines():
    text = "Hi.\tSalut.\tCC-BY attribution\nno tab here\n\tempty\nHi.\tDuplicate.\n" + \
        "".join(f"Line {i}.\tLigne {i}.\n" for i in range(12)) + "Long.\t" + "x" * 200 + "\n"
    corpus = sc.parse_pairs(text.encode())
    assert corpus.pairs[0] == ("Hi.", "Salut.") and len(corpus) == 13
    reasons = dict(corpus.skipped)
    assert reasons[2] == "no tab between the two sentences"
    assert reasons[3] == "an empty sentence"
    assert "earlier line" in reasons[4]
    assert "200 characters" in reasons[17]


@pytest.mark.parametrize("data,message", [
    (b"\x00\x01binary", "not a text file"),
    (b"\xff\xfe\xfa bad", "not UTF-8"),
    (b"a\tb\n", "at least 10"),
    (b"x" * (6 * 1024 * 1024), "the maximum is 5 MB"),
])
def test_malformed_pairs_files(data, message):
    with pytest.raises(sc.InvalidInput, match=message):
        sc.parse_pairs(data)
