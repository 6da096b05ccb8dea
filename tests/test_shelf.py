"""The model shelf: named models in the data folder, checked like uploads, bounded."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

import seq2seq_core as sc
from seq2seq_core import shelf as shelf_module
from seq2seq_core.decoding import Decoder
from seq2seq_core.history import data_dir
from seq2seq_core.shelf import MAX_NAME, PER_OWNER, Shelf, check_name

TRAIN = sc.TrainConfig(batch_size=64, learning_rate=0.02, seed=3)


def tiny(task: str = "reverse", units: int = 8, **settings) -> sc.Seq2Seq:
    return sc.Seq2Seq.build(sc.make_task(task, **settings), sc.ModelConfig(units=units), seed=0)


@pytest.fixture(scope="module")
def reverse_model():
    return tiny()


@pytest.fixture
def shelf(tmp_path):
    return Shelf(tmp_path / "shelf")


def test_save_list_load_remove_round_trip(shelf, reverse_model):
    entry = shelf.save(reverse_model, "Night-Before", exact_match=0.875, samples_seen=12_000,
                       train_config=TRAIN)
    assert entry.name == "night-before"  # capitals become lowercase
    assert (entry.task, entry.title) == ("reverse", reverse_model.task.title)
    assert entry.settings == reverse_model.task.settings
    assert entry.model_config == reverse_model.config and entry.train_config == TRAIN
    assert (entry.exact_match, entry.samples_seen) == (0.875, 12_000)
    assert entry.params == reverse_model.count_params()
    assert entry.description == "teacher, LSTM 8"
    assert entry.summary == "reverse · teacher, LSTM 8 · batch 64, lr 0.02, seed 3"
    assert entry.size_bytes == (shelf.folder / "night-before.s2s").stat().st_size > 0
    assert sorted(p.name for p in shelf.folder.iterdir() if not p.name.startswith(".")) == \
        ["night-before.json", "night-before.s2s"]

    loaded = shelf.load("night-before")
    inputs = reverse_model.task.example_inputs()
    assert Decoder(loaded).predict(inputs) == Decoder(reverse_model).predict(inputs)
    for mine, theirs in zip(reverse_model.train_model.get_weights(),
                            loaded.train_model.get_weights()):
        np.testing.assert_array_equal(mine, theirs)

    shelf.remove("Night-Before")
    assert shelf.entries() == () and not any(shelf.folder.glob("night-before*"))
    with pytest.raises(sc.InvalidInput, match="no model named 'night-before'"):
        shelf.load("night-before")
    with pytest.raises(sc.InvalidInput, match="no model named"):
        shelf.remove("night-before")


def test_entries_are_newest_first_and_unknown_facts_stay_unknown(shelf, reverse_model):
    shelf.save(reverse_model, "first")
    dates = tiny("dates", units=4)
    shelf.save(dates, "second", exact_match=1, samples_seen=0)
    entries = shelf.entries()
    assert [e.name for e in entries] == ["second", "first"]
    assert entries[0].saved >= entries[1].saved
    assert (entries[0].exact_match, entries[0].samples_seen) == (1.0, 0)
    assert (entries[1].exact_match, entries[1].samples_seen, entries[1].train_config) == \
        (None, None, None)
    assert shelf.entry("second").title == dates.task.title


def test_the_default_shelf_is_in_the_lab_data_folder(lab_data, reverse_model):
    assert Shelf().folder == lab_data / "shelf" == data_dir() / "shelf"
    Shelf().save(reverse_model, "here")
    assert (lab_data / "shelf" / "here.s2s").is_file()


def test_a_duplicate_name_is_refused_unless_replaced(shelf, reverse_model):
    shelf.save(reverse_model, "demo", exact_match=0.5)
    with pytest.raises(sc.InvalidInput, match="already a model named 'demo'.*replace it"):
        shelf.save(reverse_model, "DEMO", exact_match=0.9)
    assert shelf.entry("demo").exact_match == 0.5
    with pytest.raises(sc.InvalidInput, match="already a model named"):
        shelf.check_room("demo")
    assert shelf.save(reverse_model, "demo", exact_match=0.9, replace=True).exact_match == 0.9
    assert [e.exact_match for e in shelf.entries()] == [0.9]


BAD_NAMES = [
    "../x", "../../etc/passwd", "/etc/passwd", "a/b", "a\\b", "..", ".", ".hidden", "",
    "   ", "a\x00b", "a b", "a.s2s", "-leading-dash", "_leading", "x" * (MAX_NAME + 1),
    "ｆｒｅｎｃｈ", "fr\u200bench", "café", "ſ", "K\u212a", "con", "NUL", "lpt1", "a\nb",
    "%2e%2e", "~root", "$HOME", "a:b", "*",
]


@pytest.mark.parametrize("name", BAD_NAMES, ids=repr)
def test_hostile_names_are_refused_with_what_is_allowed(shelf, reverse_model, name):
    with pytest.raises(sc.InvalidInput, match=r"cannot be a shelf name\. A shelf name is 1 "
                                              r"to 40 characters: letters a-z, digits 0-9"):
        shelf.save(reverse_model, name)
    assert not shelf.folder.exists() or not [p for p in shelf.folder.iterdir()
                                             if not p.name.startswith(".")]
    for action in (shelf.load, shelf.remove, shelf.entry):
        with pytest.raises(sc.InvalidInput, match="cannot be a shelf name"):
            action(name)


@pytest.mark.parametrize("name", [None, 12, b"demo", ["demo"]], ids=repr)
def test_a_name_must_be_text(name):
    with pytest.raises(sc.InvalidInput, match="A shelf name must be text: 1 to 40"):
        check_name(name)


@pytest.mark.parametrize("name, slug", [("french-256", "french-256"), ("  Big_Model ", "big_model"),
                                        ("7" * MAX_NAME, "7" * MAX_NAME), ("a", "a")])
def test_good_names(name, slug):
    assert check_name(name) == slug


def test_the_message_never_floods_the_screen():
    with pytest.raises(sc.InvalidInput) as err:
        check_name("../" * 100_000)
    assert len(str(err.value)) < 400


def _sidecar(shelf: Shelf, name: str) -> dict:
    return json.loads((shelf.folder / f"{name}.json").read_text())


def _write(shelf: Shelf, name: str, text) -> None:
    path = shelf.folder / f"{name}.json"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())


def test_malformed_entries_are_skipped_with_the_reason(shelf, reverse_model, tmp_path):
    shelf.save(reverse_model, "good")
    good = _sidecar(shelf, "good")
    model_file = (shelf.folder / "good.s2s").read_bytes()
    broken = {
        "notjson": "{not json",
        "binary": b"\xff\xfe\x00",
        "deep": "[" * 50_000,
        "nan": json.dumps({**good, "name": "nan"}).replace('"exact_match": null',
                                                           '"exact_match": NaN'),
        "list": "[1, 2]",
        "oldformat": json.dumps({**good, "name": "oldformat", "format": "other/1"}),
        "pathfield": json.dumps({**good, "name": "pathfield", "path": "/etc/passwd"}),
        "othername": json.dumps({**good, "name": "../../etc/passwd"}),
        "badtask": json.dumps({**good, "name": "badtask", "task": "rm -rf"}),
        "badunits": json.dumps({**good, "name": "badunits",
                                "model_config": {**good["model_config"], "units": 10**9}}),
        "extrakey": json.dumps({**good, "name": "extrakey",
                                "model_config": {**good["model_config"], "__class__": 1}}),
        "share": json.dumps({**good, "name": "share", "exact_match": 7}),
        "date": json.dumps({**good, "name": "date", "saved": "yesterday"}),
        "title": json.dumps({**good, "name": "title", "title": "x" * 10_000}),
        "huge": json.dumps({**good, "name": "huge", "title": "x" * 100_000}),
        "nomodel": json.dumps({**good, "name": "nomodel"}),
    }
    for name, text in broken.items():
        _write(shelf, name, text)
        if name != "nomodel":
            (shelf.folder / f"{name}.s2s").write_bytes(model_file)
    (shelf.folder / "orphan.s2s").write_bytes(model_file)  # a model without its description
    secret = tmp_path / "secret.json"
    secret.write_text(json.dumps({**good, "name": "linked"}))
    os.symlink(secret, shelf.folder / "linked.json")
    (shelf.folder / "linked.s2s").write_bytes(model_file)
    os.symlink(tmp_path / "nowhere", shelf.folder / "dangling.json")
    (shelf.folder / "not a slug.json").write_text(json.dumps(good))  # ignored: not a name

    listing = shelf.listing()
    assert [e.name for e in listing.entries] == ["good"]
    reasons = {s.name: s.reason for s in listing.skipped}
    assert set(reasons) == set(broken) | {"orphan", "linked", "dangling"}
    expected = {"notjson": "not valid JSON", "binary": "not valid JSON", "deep": "nested too deeply",
                "nan": "NaN, which is not a number", "list": "not a shelf entry",
                "oldformat": "not a shelf entry", "pathfield": "unknown fields (path)",
                "othername": "for another entry", "badtask": "unknown task",
                "badunits": "Units must be between", "extrakey": "unknown fields",
                "share": "share between 0 and 1", "date": "not a date",
                "title": "at most 100 characters", "huge": "larger than 64 KB",
                "nomodel": "model file is missing", "orphan": "description is missing",
                "linked": "not a plain file"}
    for name, words in expected.items():
        assert words in reasons[name], (name, reasons[name])
    # A skipped entry can still be removed (both its files).
    shelf.remove("pathfield")
    assert not any(shelf.folder.glob("pathfield*"))
    assert secret.exists()
    shelf.remove("linked")
    assert secret.exists() and not (shelf.folder / "linked.json").exists()
    shelf.remove("dangling")
    assert not os.path.lexists(shelf.folder / "dangling.json")


def test_a_damaged_model_file_is_refused_like_an_upload(shelf, reverse_model):
    shelf.save(reverse_model, "damaged")
    (shelf.folder / "damaged.s2s").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(sc.ModelFileError, match="not a zip archive"):
        shelf.load("damaged")
    shelf.save(reverse_model, "big")
    with pytest.raises(sc.ModelFileError, match="parameters"):
        shelf.load("big", max_params=100)


def test_a_model_file_over_the_size_cap_is_not_read(shelf, reverse_model, monkeypatch):
    shelf.save(reverse_model, "large")
    monkeypatch.setattr(shelf_module, "MAX_BYTES", 1000)
    with pytest.raises(sc.InvalidInput, match="the most a shelf model may be"):
        shelf.load("large")
    assert "the most a shelf model may be" in shelf.listing().skipped[0].reason
    with pytest.raises(sc.InvalidInput, match="the most a shelf model may be"):
        shelf.save(reverse_model, "larger")
    assert not (shelf.folder / "larger.s2s").exists()


def test_the_number_of_entries_is_capped(tmp_path, reverse_model):
    shelf = Shelf(tmp_path / "shelf", max_entries=2)
    shelf.save(reverse_model, "one")
    shelf.save(reverse_model, "two")
    with pytest.raises(sc.InvalidInput, match="full: it holds at most 2 models. Remove one"):
        shelf.save(reverse_model, "three")
    shelf.save(reverse_model, "two", replace=True, exact_match=0.2)  # replacing adds none
    assert len(shelf.entries()) == 2 and not (shelf.folder / "three.s2s").exists()
    with pytest.raises(sc.InvalidInput, match="full"):
        shelf.check_room("three")


def test_the_total_size_is_capped(tmp_path, reverse_model):
    size = len(sc.to_bytes(reverse_model))
    shelf = Shelf(tmp_path / "shelf", max_total_bytes=int(size * 1.5))
    shelf.save(reverse_model, "one")
    with pytest.raises(sc.InvalidInput, match="would pass its limit.*Remove a model first"):
        shelf.save(reverse_model, "two")
    assert [e.name for e in shelf.entries()] == ["one"]
    shelf.save(reverse_model, "one", replace=True)  # its own old file does not count
    shelf.remove("one")
    shelf.save(reverse_model, "two")


def test_a_flooded_folder_is_listed_in_bounded_work(shelf, reverse_model, monkeypatch):
    shelf.save(reverse_model, "real")
    for i in range(60):
        (shelf.folder / f"junk-{i}.json").write_text("x")
    monkeypatch.setattr(shelf_module, "MAX_SCAN", 10)
    assert len(shelf.names()) <= 10


A, B = "browser-aaaa", "session-bbbb"  # owner ids as ui.identity makes them


def test_an_entry_is_changed_only_by_its_owner_or_the_teacher(shelf, reverse_model):
    entry = shelf.save(reverse_model, "mine", owner=A, exact_match=0.5)
    assert entry.owner == A == _sidecar(shelf, "mine")["owner"]
    assert entry.managed_by(A) and entry.managed_by(None) and not entry.managed_by(B)
    with pytest.raises(sc.InvalidInput, match="'mine' is not yours: only the person who saved "
                                              "it, or the teacher, can remove it"):
        shelf.remove("mine", by=B)
    with pytest.raises(sc.InvalidInput, match="is not yours.*can replace it"):
        shelf.save(reverse_model, "mine", owner=B, replace=True, exact_match=0.1)
    with pytest.raises(sc.InvalidInput, match=r"already a model named 'mine' on the shelf: "
                                              r"choose another name\.$"):
        shelf.save(reverse_model, "mine", owner=B)  # no "or replace it": B cannot
    with pytest.raises(sc.InvalidInput, match="is not yours"):
        shelf.check_room("mine", replace=True, by=B)
    assert shelf.entry("mine").exact_match == 0.5 and (shelf.folder / "mine.s2s").exists()

    assert shelf.save(reverse_model, "mine", owner=A, replace=True, exact_match=0.6).owner == A
    shelf.remove("mine", by=A)
    assert shelf.names() == ()
    shelf.save(reverse_model, "theirs", owner=A)
    teacher = shelf.save(reverse_model, "theirs", owner=B, by=None, replace=True)
    assert teacher.owner == B  # the teacher replaced it, from their own browser
    shelf.remove("theirs")  # by=None: the teacher
    assert shelf.names() == ()


def test_a_command_line_entry_is_only_the_teachers(shelf, reverse_model):
    entry = shelf.save(reverse_model, "french-256")  # what `train --save-to-shelf` does
    assert entry.owner is None and _sidecar(shelf, "french-256")["owner"] is None
    for by in (A, B):
        with pytest.raises(sc.InvalidInput, match="'french-256' was saved from the command "
                                                  "line: only the teacher can remove it"):
            shelf.remove("french-256", by=by)
        with pytest.raises(sc.InvalidInput, match="command line: only the teacher can replace"):
            shelf.save(reverse_model, "french-256", owner=by, replace=True)
    assert [e.name for e in shelf.entries()] == ["french-256"]
    assert shelf.check_room("french-256", replace=True) == "french-256"  # the CLI replaces
    shelf.remove("french-256")
    assert shelf.names() == ()


def test_an_unreadable_entry_is_only_the_teachers_to_remove(shelf, reverse_model):
    shelf.save(reverse_model, "broken", owner=A)
    _write(shelf, "broken", "{")
    with pytest.raises(sc.InvalidInput, match="'broken' cannot be read, so only the teacher "
                                              "can remove it"):
        shelf.remove("broken", by=A)
    shelf.remove("broken")
    assert shelf.names() == ()


def test_each_person_keeps_a_few_models(shelf, reverse_model):
    assert PER_OWNER == 3
    for i in range(PER_OWNER):
        shelf.save(reverse_model, f"a-{i}", owner=A)
    with pytest.raises(sc.InvalidInput, match=r"You have 3 models on the shelf; remove one "
                                              r"first \(each person may keep 3\)"):
        shelf.save(reverse_model, "a-3", owner=A)
    with pytest.raises(sc.InvalidInput, match="You have 3 models"):
        shelf.check_room("a-3", by=A)
    assert not (shelf.folder / "a-3.s2s").exists()
    shelf.save(reverse_model, "a-0", owner=A, replace=True)  # replacing adds none
    shelf.save(reverse_model, "b-0", owner=B)  # others are not held back
    for i in range(PER_OWNER + 1):  # nor is the teacher, nor the command line
        shelf.save(reverse_model, f"t-{i}", owner="browser-teacher", by=None)
        shelf.save(reverse_model, f"cli-{i}")
    shelf.remove("a-1", by=A)
    shelf.save(reverse_model, "a-3", owner=A)
    assert sorted(e.name for e in shelf.entries() if e.owner == A) == ["a-0", "a-2", "a-3"]


def test_nobody_saves_for_someone_else_but_the_teacher(shelf, reverse_model):
    with pytest.raises(sc.InvalidInput, match="Only the teacher can save a model for someone"):
        shelf.save(reverse_model, "forged", owner=A, by=B)
    assert shelf.save(reverse_model, "given", owner=A, by=None).owner == A


def test_an_older_sidecar_without_an_owner_is_the_command_lines(shelf, reverse_model):
    shelf.save(reverse_model, "old", owner=A, exact_match=0.25)
    meta = _sidecar(shelf, "old")
    del meta["owner"]
    _write(shelf, "old", json.dumps(meta))
    (entry,) = shelf.entries()
    assert (entry.name, entry.owner, entry.exact_match) == ("old", None, 0.25)
    with pytest.raises(sc.InvalidInput, match="saved from the command line"):
        shelf.remove("old", by=A)
    shelf.remove("old")


@pytest.mark.parametrize("owner", ["../x", "/etc/passwd", "", "a b", "a\x00b", "x" * 65,
                                   "ｆｒ", 12, ["a"], b"browser-aaaa", True])
def test_a_hostile_owner_is_refused_and_never_names_a_file(shelf, reverse_model, owner):
    with pytest.raises(sc.InvalidInput, match="An owner is an id of 1 to 64 letters"):
        shelf.save(reverse_model, "x", owner=owner)
    with pytest.raises(sc.InvalidInput, match="An owner is an id"):
        shelf.remove("x", by=owner)
    assert shelf.names() == ()
    shelf.save(reverse_model, "good", owner=A)
    _write(shelf, "good", json.dumps({**_sidecar(shelf, "good"), "owner": owner}, default=repr))
    listing = shelf.listing()
    assert listing.entries == ()
    assert [(s.name, s.reason) for s in listing.skipped] == \
        [("good", "Its owner is not a plain id.")]


def test_a_translation_model_keeps_its_settings(shelf):
    model = tiny("translation", units=4, max_pairs=20, holdout=0.0)
    entry = shelf.save(model, "french")
    assert entry.settings == model.task.settings and "translation" in entry.summary
    assert shelf.load("french").task.pairs == model.task.pairs


def test_the_cli_keeps_the_model_in_a_file_when_the_shelf_refuses_it(tmp_path, monkeypatch,
                                                                       capsys):
    from seq2seq_core.cli import _shelve
    task = sc.make_task("reverse", n_in=3, n_out=2, cardinality=5)
    model = sc.Seq2Seq.build(task, sc.ModelConfig(units=8), seed=0)
    shelf = Shelf(tmp_path / "shelf", max_entries=1)
    shelf.save(model, "taken")
    monkeypatch.chdir(tmp_path)
    summary = {}
    assert _shelve(shelf, "later", model, summary, 0.5, 100, sc.TrainConfig()) == 1
    assert "shelf_error" in summary and summary["saved"] == "later.s2s"
    assert sc.load(tmp_path / "later.s2s").count_params() == model.count_params()
    assert "The model is kept in later.s2s" in capsys.readouterr().err
