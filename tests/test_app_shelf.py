"""The model shelf on the pages: Home lists it, Open inspects a model; the teacher removes
any entry, anyone else only their own; the teacher saves (everyone does, a few each, where
no teacher password is set)."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

import seq2seq_core as sc
from seq2seq_core.decoding import Decoder
from seq2seq_core.shelf import Shelf

from conftest import shown
from test_app_class import _submit


@pytest.fixture(scope="module")
def model():
    return sc.Seq2Seq.build(sc.make_task("reverse"), sc.ModelConfig(units=8), seed=0)


def texts(at) -> str:
    """What a person reads on the page (bold marks removed)."""
    return "\n".join(shown(e.value).replace("**", "")
                     for e in [*at.markdown, *at.caption, *at.subheader])


def messages(at, kind: str) -> str:
    return "\n".join(shown(e.value).replace("**", "") for e in getattr(at, kind))


def home(app_test, owner: str | None = None) -> AppTest:
    """Home, seen from the browser with this owner id (a fresh one if None)."""
    at = app_test()
    if owner is not None:
        at.session_state["_owner_id"] = owner
    at.run()
    assert not at.exception, at.exception
    return at


def keys(at) -> set[str]:
    return {b.key for b in at.button}


def test_an_empty_shelf_leaves_home_as_it_was(app_test):
    at = home(app_test)
    assert "Ready to inspect" not in texts(at)
    assert not any(k.startswith("home_shelf") for k in keys(at))


def test_home_lists_a_shelf_model_and_open_makes_it_current(app_test, model):
    Shelf().save(model, "night-before", exact_match=0.5, samples_seen=1_000,
                 train_config=sc.TrainConfig(batch_size=64))
    at = home(app_test)
    page = texts(at)
    assert "Ready to inspect" in page
    assert "night-before — Reverse / echo integers" in page
    assert "reverse · teacher, LSTM 8 · batch 64 · 50% exact match · 1,000 samples trained · " \
           f"{model.count_params():,} parameters" in page
    # The shelf comes before the presets: a teacher sees it first.
    headers = [h.value for h in at.subheader]
    assert headers.index("Ready to inspect") < headers.index(
        "Fast demos: high accuracy in well under a minute")

    at.button(key="home_shelf_open_night-before").click().run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Inspect"
    caption = shown(at.caption[0].value)  # "…parameters · from the shelf (night-before)"
    assert caption.startswith("Reverse / echo integers · teacher, LSTM 8 · ")
    where = caption.rsplit(" · ", 1)[-1]
    assert "shelf" in where and "night-before" in where
    assert at.session_state["model_source"] == "shelf: night-before"
    opened, inputs = at.session_state["model"], model.task.example_inputs()
    assert Decoder(opened).predict(inputs) == Decoder(model).predict(inputs)


def test_the_newest_models_come_first_and_older_ones_fold_away(app_test, model):
    for i in range(7):
        Shelf().save(model, f"model-{i}")
    at = home(app_test)
    opens = [k for k in (b.key for b in at.button) if k.startswith("home_shelf_open_")]
    assert opens == [f"home_shelf_open_model-{i}" for i in range(6, -1, -1)]
    (older,) = [e for e in at.expander if "older" in e.label]
    assert older.label == "2 older models on the shelf"
    assert [b.key for b in older.button if b.key.startswith("home_shelf_open_")] == \
        ["home_shelf_open_model-1", "home_shelf_open_model-0"]


def test_a_damaged_shelf_model_shows_why_and_changes_nothing(app_test, model):
    shelf = Shelf()
    shelf.save(model, "damaged")
    (shelf.folder / "damaged.s2s").write_bytes(b"not a model")
    at = home(app_test)
    at.button(key="home_shelf_open_damaged").click().run()
    assert at.title[0].value == "seq2seq-lab"
    assert "Could not open 'damaged': This file is not a zip archive" in messages(at, "error")
    assert "model" not in at.session_state or at.session_state["model"] is None


def test_opening_waits_for_a_job_slot(app_test, model, cap_reached):
    Shelf().save(model, "busy")
    at = home(app_test)
    at.button(key="home_shelf_open_busy").click().run()
    assert at.title[0].value == "seq2seq-lab"
    assert "the most it allows at once (1)" in messages(at, "error")


def test_only_the_teacher_removes_shelf_models(app_test, model, no_failures):
    shelf = Shelf()
    shelf.save(model, "keep-me")
    (shelf.folder / "broken.json").write_text("{")
    (shelf.folder / "broken.s2s").write_bytes((shelf.folder / "keep-me.s2s").read_bytes())
    student = home(app_test)
    assert "home_shelf_open_keep-me" in keys(student)
    assert not {k for k in keys(student) if "_del_" in k}
    assert "cannot be opened" not in [e.label for e in student.expander]  # teacher's business

    teacher = home(app_test)
    teacher.text_input(key="teacher_attempt").set_value("s3cret")
    _submit(teacher)
    assert {"home_shelf_del_keep-me", "home_shelf_del_broken"} <= keys(teacher)
    assert "broken: Its description is not valid JSON." in texts(teacher)
    teacher.button(key="home_shelf_del_keep-me").click().run()
    assert "Remove keep-me from the shelf?" in messages(teacher, "warning")
    teacher.button(key="home_shelf_no_keep-me").click().run()  # Cancel
    assert "home_shelf_yes_keep-me" not in keys(teacher)
    assert [e.name for e in shelf.entries()] == ["keep-me"]
    teacher.button(key="home_shelf_del_keep-me").click().run()
    teacher.button(key="home_shelf_yes_keep-me").click().run()
    assert not teacher.exception, teacher.exception
    assert shelf.entries() == () and not (shelf.folder / "keep-me.s2s").exists()
    assert "Removed 'keep-me' from the shelf." in [shown(t.value) for t in teacher.toast]
    teacher.button(key="home_shelf_del_broken").click().run()
    teacher.button(key="home_shelf_yes_broken").click().run()
    assert shelf.names() == ()
    assert "Ready to inspect" not in texts(teacher)  # an empty shelf: Home as it was


A, B = "browser-aaaa", "browser-bbbb"


def test_without_a_teacher_password_each_removes_only_their_own(app_test, model):
    shelf = Shelf()
    shelf.save(model, "french-256")  # from the command line, the night before
    shelf.save(model, "by-a", owner=A)
    shelf.save(model, "by-b", owner=B)
    a = home(app_test, A)
    assert {k for k in keys(a) if "_del_" in k} == {"home_shelf_del_by-a"}
    assert {"home_shelf_open_french-256", "home_shelf_open_by-b"} <= keys(a)
    page = texts(a)
    assert "Saved from the command line: only the teacher can remove it (set " \
           "SEQ2SEQ_TEACHER_PASSWORD)." in page
    assert "Saved by someone else: only they, or the teacher, can remove it." in page
    b = home(app_test, B)
    assert {k for k in keys(b) if "_del_" in k} == {"home_shelf_del_by-b"}

    a.button(key="home_shelf_del_by-a").click().run()
    a.button(key="home_shelf_yes_by-a").click().run()
    assert not a.exception, a.exception
    assert sorted(e.name for e in shelf.entries()) == ["by-b", "french-256"]


def test_with_a_teacher_password_owners_and_the_teacher_remove(app_test, model, no_failures):
    shelf = Shelf()
    shelf.save(model, "french-256")
    shelf.save(model, "by-a", owner=A)
    b = home(app_test, B)
    assert not {k for k in keys(b) if "_del_" in k}
    assert "only the teacher can remove it" not in texts(b)  # students never expected to
    a = home(app_test, A)
    assert {k for k in keys(a) if "_del_" in k} == {"home_shelf_del_by-a"}
    teacher = home(app_test, B)
    teacher.text_input(key="teacher_attempt").set_value("s3cret")
    _submit(teacher)
    assert {"home_shelf_del_french-256", "home_shelf_del_by-a"} <= keys(teacher)
    teacher.button(key="home_shelf_del_by-a").click().run()
    teacher.button(key="home_shelf_yes_by-a").click().run()
    assert [e.name for e in shelf.entries()] == ["french-256"]


def test_a_stale_remove_is_refused_by_the_shelf(app_test, model, no_failures):
    """A confirmation left open while the teacher role was left: the shelf checks again."""
    shelf = Shelf()
    shelf.save(model, "french-256")
    teacher = home(app_test, B)
    teacher.text_input(key="teacher_attempt").set_value("s3cret")
    _submit(teacher)
    teacher.button(key="home_shelf_del_french-256").click().run()
    teacher.session_state["_teacher"] = False
    teacher.button(key="home_shelf_yes_french-256").click().run()
    assert not teacher.exception, teacher.exception
    assert "Could not remove 'french-256': 'french-256' was saved from the command line: " \
           "only the teacher can remove it." in messages(teacher, "error")
    assert [e.name for e in shelf.entries()] == ["french-256"]


def _inspect_listing():
    from ui import current, shelf
    shelf.ready_to_inspect("inspect_shelf")
    import streamlit as st
    st.text(f"current: {current.source()}")


def test_on_inspect_open_reruns_the_page_with_the_model(model):
    Shelf().save(model, "here")
    at = AppTest.from_function(_inspect_listing, default_timeout=60)
    at.run()
    assert at.text[0].value == "current: None"
    at.button(key="inspect_shelf_open_here").click().run()
    assert not at.exception, at.exception
    assert at.text[0].value == "current: shelf: here"


def _train_page_after_a_run():  # AppTest: a browser with its own (session) owner id
    import seq2seq_core as sc
    from ui import shelf
    model = sc.Seq2Seq.build(sc.make_task("reverse"), sc.ModelConfig(units=8), seed=0)
    shelf.save_button(model, 0.75, 5_000, sc.TrainConfig(), "train")


def save_page(owner: str | None = None) -> AppTest:
    at = AppTest.from_function(_train_page_after_a_run, default_timeout=60)
    if owner is not None:
        at.session_state["_owner_id"] = owner
    at.run()
    assert not at.exception, at.exception
    return at


def save_as(at: AppTest, name: str, replace: bool = False) -> AppTest:
    at.text_input(key="train_shelf_name").set_value(name)
    at.checkbox(key="train_shelf_replace").set_value(replace)
    at.button(key="train_shelf_save").click().run()
    assert not at.exception, at.exception
    return at


def test_save_to_shelf_names_bad_and_duplicate_names():
    at = save_page()
    save_as(at, "../../etc/passwd")
    assert "'../../etc/passwd' cannot be a shelf name. A shelf name is 1 to 40 characters" in \
        messages(at, "error")
    assert Shelf().names() == ()
    save_as(at, "Class-Demo")
    assert "Saved class-demo to the shelf" in messages(at, "success")
    (entry,) = Shelf().entries()
    assert (entry.name, entry.exact_match, entry.samples_seen) == ("class-demo", 0.75, 5_000)
    save_as(at, "class-demo")
    assert "already a model named 'class-demo'" in messages(at, "error")
    save_as(at, "class-demo", replace=True)
    assert "Saved class-demo" in messages(at, "success")
    save_as(at, "")  # left empty: the suggested name
    assert [e.name for e in Shelf().entries()] == ["reverse-teacher-8", "class-demo"]
    assert {e.owner for e in Shelf().entries()} == {at.session_state["_owner_id"]}


def test_save_to_shelf_keeps_a_few_models_each_and_replaces_only_ones_own():
    Shelf().save(sc.Seq2Seq.build(sc.make_task("dates"), sc.ModelConfig(units=4), seed=0),
                 "french-256")
    at = save_page(A)
    assert "You may keep up to 3 models there, and replace or remove only your own." in \
        texts(at)
    save_as(at, "french-256", replace=True)
    assert "'french-256' was saved from the command line: only the teacher can replace it." \
        in messages(at, "error")
    assert Shelf().entry("french-256").task == "dates"
    for name in ("one", "two", "three"):
        save_as(at, name)
        assert f"Saved {name} to the shelf" in messages(at, "success")
    save_as(at, "four")
    assert "You have 3 models on the shelf; remove one first (each person may keep 3)." in \
        messages(at, "error")
    other = save_as(save_page(B), "four")
    assert "Saved four to the shelf" in messages(other, "success")
    save_as(other, "one", replace=True)
    assert "'one' is not yours: only the person who saved it, or the teacher, can replace it." \
        in messages(other, "error")
    owners = {e.name: e.owner for e in Shelf().entries()}
    assert owners == {"french-256": None, "one": A, "two": A, "three": A, "four": B}


def test_save_to_shelf_is_only_for_the_teacher_where_there_is_one(no_failures):
    at = save_page()
    assert "train_shelf_save" not in keys(at)
    at.session_state["_teacher"] = True
    at.run()
    assert "train_shelf_save" in keys(at)
    assert "You may keep up to" not in texts(at)  # the teacher keeps any number
    for i in range(4):
        save_as(at, f"lecture-{i}")
    assert len(Shelf().entries()) == 4 and not messages(at, "error")
    save_as(at, "lecture-0", replace=True)
    assert "Saved lecture-0" in messages(at, "success")


def test_where_a_model_came_from_reads_right():
    from ui.shelf import source_of, where_from
    assert shown(where_from(source_of("french-256"))) == "from the shelf (french-256)"
    assert shown(where_from("my_model.s2s")) == "uploaded from my_model.s2s"
