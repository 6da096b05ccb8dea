"""What a newcomer meets in the first ten minutes, through AppTest: work that survives a
reload, honest verdicts and notices, explanations true for the model on screen, run names."""
from __future__ import annotations

import dataclasses

import pytest

import seq2seq_core as sc
from seq2seq_core.decoding import Decoder
from seq2seq_core.history import History
from seq2seq_core.training import ChunkRecord

from conftest import shown
from test_app_train import TINY, infos, open_train, upload


def texts(elements) -> str:
    return " | ".join(shown(e.value) for e in elements)


def train_tiny(at, **values):
    """Start a tiny run from the Train page and wait until its model is kept."""
    for key, value in values.items():
        at.session_state[key] = value
    at.run()
    at.button(key="btn_start").click().run()
    assert not at.exception, at.exception
    trainer = at.session_state["trainer"]
    trainer.join(90)
    assert trainer.status in ("finished", "stopped"), trainer.error
    at.run()
    return trainer


def test_a_reload_on_inspect_reopens_the_run_just_trained(app_test, lab_data):
    at = open_train(app_test)
    trainer = train_tiny(at)
    run_id = at.session_state["model_run"]
    assert run_id is not None and (lab_data / "models" / f"{run_id}.s2s").is_file()
    at.switch_page("app_pages/inspect.py").run()
    assert not at.exception
    assert at.query_params["run"] in (str(run_id), [str(run_id)])
    assert f"run #{run_id}" in at.caption[0].value

    # F5: a new session in the same browser (same owner), the address still names the run.
    again = app_test()
    again.session_state["_owner_id"] = at.session_state["_owner_id"]
    again.query_params["run"] = str(run_id)
    again.switch_page("app_pages/inspect.py").run()
    assert not again.exception, again.exception
    reopened = again.session_state["model"]
    assert reopened is not trainer.model and reopened.config == trainer.model.config
    text = again.text_input(key="inspect_input").value
    assert Decoder(reopened).predict([text]) == Decoder(trainer.model).predict([text])
    assert "There is no model" not in texts(again.info)


def test_another_student_cannot_open_the_run_from_its_address(app_test):
    at = open_train(app_test)
    train_tiny(at)
    run_id = at.session_state["model_run"]
    other = app_test()
    other.query_params["run"] = str(run_id)
    other.switch_page("app_pages/inspect.py").run()
    assert not other.exception
    assert "model" not in other.session_state or other.session_state["model"] is None
    assert "not yours" in texts(other.warning), texts(other.warning)
    assert "There is no model to inspect yet" in texts(other.info)


def test_empty_inspect_offers_your_recent_runs(app_test):
    at = open_train(app_test)
    train_tiny(at)
    run_id = at.session_state["model_run"]
    fresh = app_test()
    fresh.session_state["_owner_id"] = at.session_state["_owner_id"]
    fresh.switch_page("app_pages/inspect.py").run()
    assert "Your recent runs" in [s.value for s in fresh.subheader]
    fresh.button(key=f"inspect_open_{run_id}").click().run()
    assert not fresh.exception
    assert fresh.session_state["model_run"] == run_id
    assert fresh.text_input(key="inspect_input").value  # the page now inspects it


def test_experiments_opens_a_kept_model_in_inspect(app_test):
    at = open_train(app_test)
    train_tiny(at)
    run_id = at.session_state["model_run"]
    at.session_state["model"] = None
    at.switch_page("app_pages/experiments.py").run()
    assert at.selectbox(key="exp_open_pick").value == run_id
    at.button(key="exp_open").click().run()
    assert not at.exception, at.exception
    assert at.session_state["model"] is not None and at.session_state["model_run"] == run_id


def test_kept_models_are_bounded_per_person_oldest_removed(tmp_path):
    history = History(tmp_path / "h.sqlite3")
    keep = sc.budget.ServerLimits(models_per_owner=2).keep_models()
    task = sc.make_task("reverse", n_in=3, n_out=2, cardinality=5)
    ids = [history.start_run("reverse", task.settings, sc.ModelConfig(units=4), sc.TrainConfig(),
                             owner="ann") for _ in range(3)]
    other = history.start_run("reverse", task.settings, sc.ModelConfig(units=4), sc.TrainConfig(),
                              owner="bob")
    for run_id in [*ids, other]:
        history.finish_run(run_id)
        history.keep_model(run_id, b"model %d" % run_id, keep)
    kept = history.list_runs().set_index("id")["model_bytes"]
    assert kept[ids[0]] != kept[ids[0]]  # NaN: the oldest of ann's three was removed
    assert not history.models.path(ids[0]).exists()
    assert history.model_file(ids[2], by="ann") == b"model %d" % ids[2]
    assert history.model_file(other, by="bob")
    with pytest.raises(sc.InvalidInput, match="not yours"):
        history.model_file(ids[2], by="bob")
    with pytest.raises(sc.InvalidInput, match="not kept"):
        history.model_file(ids[0], by="ann")
    history.delete(ids[2], by="ann")
    assert not history.models.path(ids[2]).exists()


def test_a_run_that_learned_nothing_gets_an_honest_verdict(app_test):
    at = open_train(app_test)
    trainer = train_tiny(at)
    latest = trainer.snapshot().latest
    assert latest.exact_match < 0.3, "a 100-sample run should not learn this task"
    assert not any("has learned" in shown(s.value) for s in at.success)
    assert f"only {latest.exact_match:.0%} of the outputs are exactly right" in texts(at.warning)


def rising(history):
    """The same records with a validation loss that rises after chunk 2, training loss falling."""
    out = []
    for i, record in enumerate(history):
        out.append(dataclasses.replace(record, val_loss=1.8 + max(0, i - 1) * 0.8,
                                       train_loss=1.0 / (i + 1)))
    return out


def test_rising_validation_loss_gets_the_overfitting_notice(app_test):
    at = open_train(app_test, w_task="translation", w_translation_max_pairs=40,
                    w_max_samples=1600, w_chunk_batches=10)
    trainer = train_tiny(at)
    assert len(trainer.history) >= 5
    assert "Overfitting" not in texts(at.warning)
    trainer.history[:] = rising(trainer.history)
    at.run()
    notice = texts(at.warning)
    assert "Overfitting" in notice and "risen from 1.8 (chunk 1)" in notice, notice


def test_a_generated_task_never_gets_the_overfitting_notice(app_test):
    at = open_train(app_test, w_max_samples=1600, w_chunk_batches=10)
    trainer = train_tiny(at)
    trainer.history[:] = rising(trainer.history)
    at.run()
    assert "Overfitting" not in texts(at.warning)  # fresh examples: nothing to memorise


def test_lecture_pace_replays_a_fast_run_then_gives_the_verdict(app_test):
    at = open_train(app_test, w_max_samples=1600, w_chunk_batches=10)
    trainer = train_tiny(at, w_lecture_pace=True)
    progress = at.get("progress")[0]
    assert "replaying at lecture pace: chunk 1 of" in progress.text, progress.text
    assert progress.value < 100
    assert len(trainer.history) >= 5
    assert not any("exactly right" in shown(w.value) for w in [*at.warning, *at.success])
    at.button(key="btn_skip_replay").click().run()
    assert not at.exception
    assert "Finished" in at.get("progress")[0].text and at.get("progress")[0].value == 100
    assert "exactly right" in texts([*at.warning, *at.success, *at.info])


def test_run_names_say_what_differs_from_the_defaults(app_test):
    at = open_train(app_test, w_learning_rate=0.005)
    train_tiny(at)
    name = History().list_runs()["name"].iloc[0]
    assert name == "reverse (3 in, 2 out, values 1..5) · teacher, LSTM 8 · batch 16, lr 0.005"


PAIRS = "".join(f"Go {i}.\tVa {i}.\n" for i in range(500)).encode()


def test_an_uploaded_corpus_says_how_many_pairs_it_trains_on(app_test):
    at = upload(open_train(app_test, w_task="translation"), PAIRS)
    note = infos(at)
    assert "Training uses **400 of the 500 pairs**" in note and "Number of pairs" in note, note
    at.button(key="btn_use_all_pairs").click().run()
    assert at.session_state["w_translation_max_pairs"] == 500
    assert "Training uses" not in infos(at)


@pytest.fixture(scope="module")
def addition_model():
    """Numbers 1..10, three terms; untrained: only its inputs matter here."""
    return sc.Seq2Seq.build(sc.make_task("addition"), sc.ModelConfig(arch="repeat", units=8))


def inspect_page(app_test, model):
    at = app_test()
    at.session_state["model"] = model
    at.switch_page("app_pages/inspect.py").run()
    assert not at.exception
    return at


@pytest.mark.parametrize("text, says", [("11+1+1", "above 10"), ("99+99+99", "297")])
def test_an_input_outside_what_it_learned_is_decoded_with_a_note(app_test, addition_model,
                                                                 text, says):
    at = inspect_page(app_test, addition_model)
    at.text_input(key="inspect_input").input(text).run()
    assert not at.exception and not at.error, texts(at.error)
    note = [shown(i.value) for i in at.info if "Outside what it learned" in i.value]
    assert note and says in note[0], texts(at.info)
    assert at.subheader[0].value  # the model's output is still shown


def test_harmless_spaces_are_accepted(app_test, addition_model):
    at = inspect_page(app_test, addition_model)
    at.text_input(key="inspect_input").input("3 + 4 + 5").run()
    assert not at.error, texts(at.error)
    assert at.subheader[1].value == "12"  # the expected output
    assert not any("Outside" in i.value for i in at.info)


def test_the_repeat_decoder_is_never_said_to_feed_tokens_back(app_test, addition_model):
    at = inspect_page(app_test, addition_model)
    captions = texts(at.caption)
    assert "never reads its own previous token" in captions
    assert "fed back in as the decoder's next input" not in captions
    forcing = [d.value for d in at.dataframe if "teacher forcing: predicted" in d.value.columns]
    assert forcing and not any("fed" in c for c in forcing[0].columns)
    assert "1,000 possible inputs" not in captions  # how much it saw is unknown here


def test_evaluation_says_when_fresh_examples_were_seen_in_training(app_test):
    at = open_train(app_test, w_task="addition", w_addition_n_terms=2, w_addition_largest=5,
                    w_arch="repeat", w_max_samples=2000)
    train_tiny(at)
    at.switch_page("app_pages/inspect.py").run()
    captions = texts(at.caption)
    assert "only 25 possible inputs and training drew 2,0" in captions, captions
    assert "examples it has not been shown" not in captions


def test_continuing_on_other_settings_is_information_with_a_fix(app_test):
    at = open_train(app_test)
    train_tiny(at)
    at.session_state["w_reverse_n_in"] = 4
    at.run()
    assert not at.error
    assert "this model learned 3 → 2" in infos(at)
    assert at.button(key="btn_use_model_settings")


def chunk(i: int, val_loss: float, train_loss: float) -> ChunkRecord:
    return ChunkRecord(chunk=i, samples_seen=100 * i, train_seconds=float(i), batch_losses=(),
                       batch_accuracies=(), train_loss=train_loss, token_accuracy=0.5,
                       val_loss=val_loss, val_token_accuracy=0.5, exact_match=0.1,
                       samples_per_second=100.0)


def test_overfitting_needs_a_sustained_rise_with_falling_training_loss():
    from seq2seq_core.verdict import overfitting
    falling = [chunk(i, 2.0 - 0.1 * i, 1.0 - 0.1 * i) for i in range(1, 8)]
    assert overfitting(falling) == ""
    noisy = [chunk(1, 2.0, 1.0), chunk(2, 1.5, 0.8), chunk(3, 1.6, 0.7), chunk(4, 1.55, 0.6),
             chunk(5, 1.5, 0.5)]
    assert overfitting(noisy) == ""
    rise = [chunk(1, 2.0, 1.0), chunk(2, 1.8, 0.8), chunk(3, 2.5, 0.5), chunk(4, 3.2, 0.2),
            chunk(5, 4.15, 0.001)]
    assert "risen from 1.8 (chunk 2) to 4.15" in overfitting(rise)
    both_rise = [dataclasses.replace(r, train_loss=1.0 + r.chunk) for r in rise]
    assert overfitting(both_rise) == ""  # training diverges: not overfitting
    converged = [chunk(1, 0.5, 0.5), chunk(2, 0.001, 0.01), chunk(3, 0.0012, 0.005),
                 chunk(4, 0.0013, 0.002), chunk(5, 0.0014, 0.001)]
    assert overfitting(converged) == ""  # a converged loss wobbling is not overfitting
    spike = rise[:2] + [chunk(3, 1.8, 0.5), chunk(4, 1.85, 0.2), chunk(5, 4.0, 0.001)]
    assert overfitting(spike) == ""  # one noisy chunk is not a trend


def test_verdicts_follow_the_numbers():
    from seq2seq_core.verdict import end_of_run
    assert end_of_run(0.0, 0.2).level == "warning"
    assert "has not learned" in end_of_run(0.0, 0.2).text
    assert end_of_run(0.5, 0.8).level == "info"
    assert end_of_run(0.95, 0.99).level == "success"
    assert "memorised its training pairs" in end_of_run(0.95, 0.99, memorised=True).text


def test_the_seen_note_follows_sampling_with_replacement():
    from seq2seq_core.explain import seen_note
    assert "about 10% of them were met" in seen_note(10_000, 1_000, True)
    assert "about 98% of these examples were seen" in seen_note(1_000, 4_000, True)
    assert "not known" in seen_note(1_000, None, True)
    assert seen_note(1_000, 5_000, False) == ""


def test_tiny_defaults_are_the_train_pages():
    assert TINY["w_lecture_pace"] is False  # the other tests see verdicts at once


def test_an_uploaded_corpus_survives_a_reload(app_test):
    browser = "browser-0123456789abcdef01234567"  # the id a browser's cookie gives
    at = app_test()
    at.session_state["_owner_id"] = browser
    at.run()
    at.switch_page("app_pages/train.py").run()
    for key, value in {**TINY, "w_task": "translation"}.items():
        at.session_state[key] = value
    upload(at, PAIRS, "my pairs.tsv")
    again = app_test()
    again.session_state["_owner_id"] = browser
    again.run()
    again.switch_page("app_pages/train.py").run()
    for key, value in {**TINY, "w_task": "translation", "w_translation_source": "upload"}.items():
        again.session_state[key] = value
    again.run()
    assert not again.exception and not again.error, texts(again.error)
    assert "Using my pairs.tsv, uploaded earlier." in texts(again.caption)
    assert again.button(key="btn_start").disabled is False


def test_kept_uploads_never_take_a_path_from_the_owner(tmp_path):
    from seq2seq_core.uploads import KeptUploads
    kept = KeptUploads(tmp_path / "uploads")
    for owner in ("../evil", "a/b", "", "browser-" + "x" * 65, None, "session-abc"):
        kept.keep(owner, "n", b"Go.\tVa.\n")
        assert kept.get(owner) is None
    assert not any(tmp_path.rglob("*.tsv"))
    kept.keep("browser-abc", "../../etc/passwd", b"Go.\tVa.\n")
    name, data = kept.get("browser-abc")
    assert data == b"Go.\tVa.\n" and "/" not in name
    assert all(p.parent == tmp_path / "uploads" for p in tmp_path.rglob("*") if p.is_file())


def test_kept_uploads_stay_within_their_total(tmp_path, monkeypatch):
    import os
    from seq2seq_core import uploads
    monkeypatch.setattr(uploads, "MAX_TOTAL_BYTES", 2500)
    kept = uploads.KeptUploads(tmp_path)
    for i in range(5):
        kept.keep(f"browser-{i}", "pairs.tsv", b"x" * 1000)
        os.utime(tmp_path / f"browser-{i}.tsv", (1000 + i, 1000 + i))
    kept.keep("browser-9", "pairs.tsv", b"x" * 1000)
    assert sorted(p.name for p in tmp_path.glob("*.tsv")) == ["browser-4.tsv", "browser-9.tsv"]
    assert kept.get("browser-0") is None and kept.get("browser-9") is not None


def test_the_corpus_time_note_counts_the_passes_still_needed():
    from seq2seq_core.verdict import PASSES_NEEDED, corpus_time_note
    note = corpus_time_note(400, 1000.0, 40_000)
    assert "100 passes over its 400 training pairs" in note
    assert f"about {PASSES_NEEDED} passes" in note and "about 60 s more" in note
    assert corpus_time_note(400, 1000.0, PASSES_NEEDED * 400) == ""
