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
    ("addition", "3+x+1", "Unknown character: 'x'. Inputs here use only the digits 0-9 and +"),
    ("addition", "3-4+1", "Operators chosen for this task"),
    ("addition", "", "The input is empty"),
    ("addition", "   ", "The input is empty"),
    ("addition", "1+2+3+4+5", "reads at most 8 .the longest expression its Number of terms"),
    ("addition", "3++4", "Write numbers joined by"),
    ("addition", "3 4+5", "space inside a number"),
    ("addition", "3+4", "this task takes exactly 3 numbers .Number of terms"),
    ("reverse", "1 2 3", "The input has 3 integers; this task takes exactly 6 integers"),
    ("reverse", "7", "The input has 1 integer;"),
    ("reverse", "1 2 3 4 5 99", "Not an integer between 1 and 50: '99'. .*Cardinality"),
    ("reverse", "1 2 3 4 5 0", "0 is reserved"),
    ("dates", "3 März 2021", "Unknown characters: 'ä', 'z'. Dates here are written in English"),
    ("dates", "1" * 31, "reads at most 30 .the longest date its formats write"),
    ("translation", "Hello ~", "The model has never seen '~': the English sentences of its"),
])
def test_invalid_inputs_get_clear_messages(name, text, message):
    task = sc.make_task(name)
    with pytest.raises(sc.InvalidInput, match=message.replace("+", r"\+")):
        task.validate(text)


@pytest.mark.parametrize("name,values,message", [
    ("reverse", {"n_in": 0}, "between 1 and 40"),
    ("reverse", {"n_in": 3, "n_out": 5}, "cannot exceed"),
    ("addition", {"largest": 10**9}, "between 1 and 99999"),
    ("addition", {"operators": "/"}, "one or more of"),
    ("dates", {"formats": ("nonsense",)}, "Formats must be one or more of"),
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


def test_addition_removes_whitespace_and_counts_in_words():
    task = sc.make_task("addition", n_terms=3, largest=10)
    assert task.validate(" 3 + 4\t+ 5 ") == "3+4+5" and task.answer("3 + 4 + 5") == "12"
    with pytest.raises(sc.InvalidInput) as err:
        task.validate("5")
    assert "1 number;" in str(err.value) and "1 numbers" not in str(err.value)
    assert "exactly 3 numbers (Number of terms)" in str(err.value)
    varied = sc.make_task("addition", n_terms=3, variable_terms=True)
    with pytest.raises(sc.InvalidInput, match="takes 2 to 3 numbers"):
        varied.validate("5")


def test_addition_outside_what_it_learned_is_decodable_and_explained():
    task = sc.make_task("addition", n_terms=3, largest=10)
    assert task.outside("3+4+5") == "" and task.outside("10+10+10") == ""
    assert task.expected_fits("10+10+10")
    note = task.outside("11+1+1")
    assert "above 10" in note and "from 1 to 10" in note
    assert task.answer("11+1+1") == "13" and task.encode_inputs(["11+1+1"]).shape == (1, 8)
    note = task.outside("99+99+99")
    assert "297" in note and "3 characters" in note and "at most 2" in note
    assert task.answer("99+99+99") == "297" and not task.expected_fits("99+99+99")
    with pytest.raises(sc.InvalidInput, match="writes at most 2 characters .the longest answer"):
        task.encode_targets(["297"])
    assert "0" in task.outside("0+1+1") and "leading zeros" in task.outside("05+1+1")
    with pytest.raises(sc.InvalidInput):
        task.outside("3+4")


@pytest.mark.parametrize("values,count", [
    ({"n_terms": 3, "largest": 10}, 1000),
    ({"n_terms": 2, "largest": 10, "operators": "+-*"}, 300),
    ({"n_terms": 3, "largest": 10, "operators": "+-", "variable_terms": True}, 10**2 * 2 + 10**3 * 4),
])
def test_addition_possible_inputs(values, count):
    assert sc.make_task("addition", **values).possible_inputs() == count


@pytest.mark.parametrize("operators,title", [
    ("+", "Addition as characters"), ("-", "Subtraction as characters"),
    ("*", "Multiplication as characters"), ("-+", "Arithmetic (+ and -) as characters"),
    ("*+-", "Arithmetic (+, - and *) as characters"),
])
def test_addition_title_follows_the_operators(operators, title):
    assert sc.make_task("addition", n_terms=2, operators=operators).title == title


def test_reverse_separators_outside_and_possible_inputs():
    task = sc.make_task("reverse", n_in=4, n_out=2, cardinality=9)
    assert task.validate(" 1, 2,,  3;\t04 ") == "1 2 3 4"
    assert task.outside("1 2 3 4") == ""
    assert task.possible_inputs() == 9 ** 4
    with pytest.raises(sc.InvalidInput, match="writes at most 2 integers .Output length"):
        task.encode_targets(["1 2 3"])


def test_dates_whitespace_outside_and_possible_inputs():
    task = sc.make_task("dates", first_year=2000, last_year=2010, formats=("dd/mm/yyyy",))
    assert task.validate("  03/03/2005 ") == "03/03/2005" and task.outside("03/03/2005") == ""
    assert task.possible_inputs() == 4018
    note = task.outside("03/03/2021")
    assert "after 2010" in note and "2000 to 2010" in note and task.answer("03/03/2021") == "2021-03-03"
    assert "'yyyy/mm/dd', a format the model never saw" in task.outside("2005/03/03")
    assert task.answer("2005/03/03") == "2005-03-03"
    assert "'03/03/2005'" in task.outside("3/3/2005")
    assert "not a date" in task.outside("31/02/2005") and task.answer("31/02/2005") is None
    full = sc.make_task("dates")
    assert full.validate("3   March\t2021") == "3 March 2021" and full.outside("3 March 2021") == ""
    assert "'Wednesday, March 3rd 2021'" in full.outside("Monday, March 3rd 2021")
    assert full.possible_inputs() == (100 * 365 + 25) * 8


def test_translation_messages_say_where_limits_come_from():
    task = sc.make_task("translation", max_length=16)
    pairs = f"{len(task.pairs)} pairs"
    assert task.validate("  Hi.  ") == "Hi."
    with pytest.raises(sc.InvalidInput) as err:
        task.validate("Thank you very much.")
    assert f"at most {task.source_len} characters" in str(err.value) and pairs in str(err.value)
    assert "this one has 20" in str(err.value) and "Longest sentence" in str(err.value)
    with pytest.raises(sc.InvalidInput) as err:
        task.validate("Q?")
    assert "never seen 'Q'" in str(err.value) and pairs in str(err.value)
    assert "capital letters missing: Q" in str(err.value)
    trained, held = task.split_pairs("train")[0][0], task.split_pairs("valid")[0][0]
    assert task.outside(trained) == "" and task.outside("  " + trained + " ") == ""
    assert "held-out" in task.outside(held)
    note = task.outside("Hi there.")
    assert f"not one of the {len(task.split_pairs('train'))} pairs" in note and "generalise" in note
    assert task.possible_inputs() == len(task.split_pairs("train"))
    with pytest.raises(sc.InvalidInput, match=f"at most {task.target_len - 1} characters .the longest "
                                              f"translation among its {pairs}"):
        task.encode_targets(["x" * 40])


def test_plural():
    from seq2seq_core.vocab import plural
    assert (plural(1, "number"), plural(2, "number"), plural(1000, "pair")) == \
        ("1 number", "2 numbers", "1,000 pairs")
    assert plural(1, "entry", "entries") == "1 entry" and plural(0, "entry", "entries") == "0 entries"


@pytest.mark.parametrize("name", ["addition", "reverse", "dates", "translation"])
def test_outside_is_empty_for_the_tasks_own_samples(name):
    task = sc.make_task(name, **({"max_pairs": 50} if name == "translation" else {}))
    pairs = task.sample(np.random.default_rng(3), 60)
    for ex in task.examples(pairs):
        assert task.outside(ex.source) == "", ex.source
        assert task.expected_fits(ex.source)
    assert task.possible_inputs() > 0


def test_outside_and_expected_fits_raise_only_invalid_input():
    from hypothesis import given, settings
    from hypothesis import strategies as st
    tasks = [sc.make_task("addition", n_terms=4, largest=999, operators="+-*", variable_terms=True),
             sc.make_task("addition"), sc.make_task("reverse"), sc.make_task("dates"),
             sc.make_task("translation", max_pairs=50)]
    pieces = st.sampled_from(["1", "9", "0", "05", "99999", "+", "-", "*", " ", "\t", ",", "/", ".",
                              "March", "Monday", "3rd", "2021", "1800", "Mar", "Hi.", "é", "~"])

    @settings(max_examples=300, deadline=None, derandomize=True)
    @given(st.sampled_from(range(len(tasks))), st.lists(pieces, max_size=12).map("".join))
    def check(which, text):
        task = tasks[which]
        try:
            note = task.outside(text)
        except sc.InvalidInput:
            return
        assert isinstance(note, str) and isinstance(task.expected_fits(text), bool)

    check()
