"""Experiments and Sweep pages, and the Train page's model files, link and export, via AppTest."""
from __future__ import annotations

import io
import zipfile

import pytest

import seq2seq_core as sc
from seq2seq_core.history import History
from ui import session

from conftest import open_reverse_sweep, shown
from test_app_train import TINY, errors, infos, open_train


def altair_charts(at):
    return at.get("arrow_vega_lite_chart") + at.get("vega_lite_chart")


@pytest.fixture
def media(monkeypatch):
    """The files behind st.download_button in AppTest runs (file name -> bytes)."""
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
    from streamlit.testing.v1 import app_test as app_test_module

    stores = []

    class Recording(MemoryMediaFileStorage):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            stores.append(self)

    monkeypatch.setattr(app_test_module, "MemoryMediaFileStorage", Recording)

    def data(button) -> bytes:
        name = button.proto.url.rsplit("/", 1)[-1]
        return bytes(stores[-1].get_file(name).content)
    return data


def train_tiny(at):
    at.button(key="btn_start").click().run()
    assert not at.exception, at.exception
    trainer = at.session_state["trainer"]
    trainer.join(90)
    assert trainer.status == "finished", (trainer.status, trainer.error)
    at.run()
    return trainer


# ---- Experiments ---------------------------------------------------------------------------
def test_experiments_page_lists_renames_deletes_and_exports(app_test, media):
    at = app_test()
    at.run()
    at.switch_page("app_pages/experiments.py").run()
    assert not at.exception
    assert any("No runs yet" in i.value for i in at.info)

    at.switch_page("app_pages/train.py").run()
    for key, value in TINY.items():
        at.session_state[key] = value
    at.run()
    train_tiny(at)
    at.switch_page("app_pages/experiments.py").run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert len(table) == 1 and table["status"][0] == "finished"
    assert table["task"][0] == "reverse" and table["exact_match"][0] >= 0
    run_id = int(table["id"][0])
    assert at.multiselect(key="exp_compare").value == [run_id]
    assert len(altair_charts(at)) == 2  # exact match and loss, overlaid per run

    csv = media(at.download_button(key="exp_csv")).decode()
    assert csv.splitlines()[0].startswith("id,name,task") and "model_config" in csv
    assert len(csv.strip().splitlines()) == 2

    at.text_input(key="exp_new_name").set_value("  my first run ").run()
    at.button(key="exp_rename").click().run()
    assert not at.exception
    assert History().get(run_id).name == "my first run"
    assert any("Renamed" in s.value for s in at.success)
    assert at.dataframe[0].value["name"][0] == "my first run"

    at.button(key="exp_delete").click().run()
    assert any("cannot be undone" in w.value for w in at.warning)
    at.button(key="exp_delete_no").click().run()
    assert History().exists(run_id) and not at.warning
    at.button(key="exp_delete").click().run()
    at.button(key="exp_delete_yes").click().run()
    assert not at.exception
    assert not History().exists(run_id)
    assert any("No runs yet" in i.value for i in at.info)


def test_experiments_rejects_an_empty_name(app_test):
    at = app_test()
    at.run()
    History().record_run("reverse", sc.settings_for("reverse"), sc.ModelConfig(),
                         sc.TrainConfig(), name="kept", owner=at.session_state["_owner_id"])
    at.switch_page("app_pages/experiments.py").run()
    at.text_input(key="exp_new_name").set_value("   ").run()
    at.button(key="exp_rename").click().run()
    assert "cannot be empty" in errors(at)
    assert History().list_runs()["name"][0] == "kept"


# ---- Sweep ---------------------------------------------------------------------------------
SWEEP = {"sweep_values": "2, 3", "sweep_units": "4, 8", "sweep_batch": 8,
         "sweep_lr": 0.01, "sweep_samples": 40, "sweep_seconds": 30.0, "sweep_target": 0.99,
         "sweep_workers": 1}  # in this process (Ray sweeps: test_app_ray.py)


def open_sweep(app_test, **values):
    return open_reverse_sweep(app_test, {**SWEEP, **values})


def test_tiny_sweep_finishes_with_heatmaps_and_reloads_from_history(app_test):
    at = open_sweep(app_test)
    assert not at.error, errors(at)
    assert any("4 cells" in c.value for c in at.caption)
    at.button(key="sweep_start").click().run()
    assert not at.exception, at.exception
    sweep = at.session_state["sweep_obj"]
    assert at.button(key="sweep_start").disabled and not at.button(key="sweep_stop").disabled
    sweep.join(150)
    assert sweep.status == "finished", sweep.progress()
    at.run()  # AppTest never fires run_every: rerun by hand
    assert not at.exception, at.exception
    progress = at.get("progress")[0]
    assert "Finished: 4 of 4" in progress.proto.text
    assert len(altair_charts(at)) == 2  # exact match and time-to-target heatmaps
    runs = History().list_runs(sweep.sweep_id)
    assert len(runs) == 4 and set(runs["status"]) == {"finished"}

    at.selectbox(key="sweep_past").set_value(sweep.sweep_id).run()
    at.button(key="sweep_load").click().run()
    assert not at.exception, at.exception
    loaded = at.session_state["sweep_results"]
    assert sorted(zip(loaded["complexity"], loaded["units"])) == [(2, 4), (2, 8), (3, 4), (3, 8)]
    assert loaded.attrs["complexity_key"] == "n_in"
    assert len(altair_charts(at)) == 4


def test_sweep_stops_and_counts_against_the_cap(app_test, request):
    """An in-process sweep (one cell at a time) takes one of this server's job slots."""
    at = open_sweep(app_test, sweep_samples=10_000_000, sweep_seconds=300.0)
    at.button(key="sweep_start").click().run()
    sweep = at.session_state["sweep_obj"]
    assert session.REGISTRY.active() >= 1  # registered like a training
    at.button(key="sweep_stop").click().run()
    sweep.join(120)
    assert sweep.status == "stopped", sweep.progress()
    at.run()
    assert not at.exception
    assert "Stopped" in at.get("progress")[0].proto.text
    assert not at.button(key="sweep_start").disabled

    request.getfixturevalue("cap_reached")
    at.button(key="sweep_start").click().run()
    assert "most it allows at once (1)" in errors(at)


def test_bad_sweep_values_are_reported(app_test):
    at = open_sweep(app_test, sweep_values="2, x")
    assert "whole numbers separated by commas" in errors(at)
    assert at.button(key="sweep_start").disabled


# ---- model files on the Train page ---------------------------------------------------------
def tiny_model_bytes(task="reverse", **settings) -> bytes:
    task = sc.make_task(task, **settings)
    return sc.to_bytes(sc.Seq2Seq.build(task, sc.ModelConfig(units=8)))


def upload_model(at, data: bytes, name="model.s2s"):
    at.file_uploader(key="upload_model").set_value((name, data, "application/octet-stream"))
    at.run()
    assert not at.exception, at.exception
    return at


def test_save_model_after_training(app_test, media):
    at = open_train(app_test)
    trainer = train_tiny(at)
    button = at.download_button(key="btn_save_model")
    data = media(button)
    assert button.proto.file_name == "reverse-teacher.s2s" if hasattr(button.proto, "file_name") \
        else True
    model = sc.from_bytes(data)
    assert model.count_params() == trainer.model.count_params()


def test_upload_checks(app_test, monkeypatch):
    at = open_train(app_test)
    upload_model(at, b"this is not a model" * 10, "broken.s2s")
    assert "Could not load broken.s2s" in errors(at) and "not a zip" in errors(at)
    assert "model" not in at.session_state

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("lab.json", "{not json")
        zf.writestr("model.keras", b"junk")
    upload_model(at, buffer.getvalue(), "fake.s2s")
    assert "not valid JSON" in errors(at) and "model" not in at.session_state

    from ui import models
    monkeypatch.setattr(models, "MAX_UPLOAD_BYTES", 1000)
    upload_model(at, b"x" * 2000, "huge.s2s")
    assert "largest model file accepted" in errors(at) and "model" not in at.session_state


def test_uploaded_model_continues_training_only_on_its_task(app_test):
    at = open_train(app_test)  # the page is set to a tiny reverse task
    upload_model(at, tiny_model_bytes("reverse", n_in=4, n_out=2, cardinality=5), "rev.s2s")
    assert "Could not load" not in errors(at)
    model = at.session_state["model"]
    assert model.task.settings.n_in == 4 and any("Loaded rev.s2s" in shown(s.value) for s in at.success)
    assert at.button(key="btn_continue").disabled  # n_in 3 on the page
    assert "this model learned 4 → 2" in infos(at) and "this model learned" not in errors(at)

    at.session_state["w_task"] = "addition"
    at.run()
    assert "This model was trained on **Reverse integers**" in infos(at), infos(at)
    assert at.button(key="btn_continue").disabled

    at.button(key="btn_use_model_settings").click().run()
    assert at.session_state["w_task"] == "reverse" and at.session_state["w_reverse_n_in"] == 4
    assert not at.button(key="btn_continue").disabled, errors(at)
    at.button(key="btn_continue").click().run()
    assert not at.exception, at.exception
    trainer = at.session_state["trainer"]
    assert trainer.model is not model  # a copy trains; Inspect keeps the loaded weights
    trainer.join(90)
    assert trainer.status == "finished", trainer.error
    at.run()
    assert at.session_state["model"] is trainer.model
    runs = History().list_runs()
    assert len(runs) == 1 and runs["name"][0].startswith("continued")


# ---- share links and export ----------------------------------------------------------------
def test_link_fills_the_widgets_and_widgets_update_the_link(app_test):
    at = app_test()
    at.query_params = {"task": "addition", "n_terms": "4", "arch": "attention",
                       "attention": "dot", "units": "64", "seed": "7"}
    at.switch_page("app_pages/train.py").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Train"
    state = at.session_state
    assert (state["w_task"], state["w_addition_n_terms"], state["w_arch"]) == ("addition", 4, "attention")
    assert (state["w_attention"], state["w_units"], state["w_seed"]) == ("dot", 64, 7)
    assert any("loaded from the link" in i.value for i in at.info)
    assert at.query_params["units"] == "64" and at.query_params["task"] == "addition"

    at.number_input(key="w_units").set_value(32).run()
    assert at.query_params["units"] == "32"
    at.selectbox(key="w_attention").set_value("luong").run()
    assert at.query_params["attention"] == "luong"
    at.number_input(key="w_units").set_value(128).run()  # the default: left out of the link
    assert "units" not in at.query_params
    assert at.session_state["w_units"] == 128  # our own link is not re-applied


@pytest.mark.parametrize("params, bad", [
    ({"task": "addition", "units": "lots"}, "units='lots'"),
    ({"task": "chess"}, "'chess'"),
    ({"task": "reverse", "units": "5000"}, "got 5000"),
])
def test_bad_link_warns_and_uses_defaults(app_test, params, bad):
    at = app_test()
    at.query_params = params
    at.switch_page("app_pages/train.py").run()
    assert not at.exception, at.exception
    warnings = " | ".join(shown(w.value) for w in at.warning)
    assert bad in warnings and "default settings" in warnings, warnings
    assert at.session_state["w_units"] == sc.ModelConfig().units


def test_export_expander(app_test, media):
    at = open_train(app_test)
    expander = [e for e in at.expander if e.label == "Export as a Python script"]
    assert expander
    assert "import keras" in at.code[0].value
    script = media(at.download_button(key="btn_export_script")).decode()
    assert script.strip() == at.code[0].value.strip()
    at.session_state["w_task"] = "translation"
    at.run()
    pairs = media(at.download_button(key="btn_export_pairs")).decode()
    assert pairs.count("\t") == pairs.count("\n") > 10


@pytest.mark.parametrize("kind", ["bahdanau", "luong", "dot"])
def test_attention_models_build_on_the_train_page(app_test, kind):
    at = open_train(app_test, w_arch="attention", w_attention=kind, w_bidirectional=True)
    assert not at.error, errors(at)
    assert at.selectbox(key="w_attention").value == kind
    assert any(f"attention ({kind})" in m.value for m in at.markdown)
    if kind == "dot":
        trainer = train_tiny(at)
        assert at.session_state["model"] is trainer.model
        assert trainer.model.config.attention == "dot"
