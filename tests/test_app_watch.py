"""The Train page's teaching views through AppTest: watched inputs, Step one batch, the
error by output position, and Run again with the same seed."""
from __future__ import annotations

import time

from conftest import shown
from test_app_train import open_train


def wait_for(condition, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def run_to_end(at, button: str):
    """Click a button that starts a training, wait for it to end, redraw; the training."""
    at.button(key=button).click().run()
    trainer = at.session_state["trainer"]
    trainer.join(90)
    at.run()  # AppTest never fires run_every: rerun by hand
    return trainer


def watched_table(at):
    tables = [t.value for t in at.table if "input" in t.value.columns
              and any(c.startswith("chunk ") for c in t.value.columns)]
    assert tables, "no watched-inputs table"
    return tables[0]


def test_watched_inputs_fill_in_chunk_by_chunk_and_step_adds_one_batch(app_test):
    at = open_train(app_test, w_max_samples=10_000_000, w_max_seconds=300.0,
                    w_chunk_batches=5)
    box = at.text_area(key="w_watch_inputs")
    box.input("1 2 3\n9 9 9").run()  # 9 is outside 1..5
    assert "Watched input '9 9 9'" in " ".join(shown(e.value) for e in at.error)
    at.text_area(key="w_watch_inputs").input("1 2 3\n4 4 5").run()
    assert not at.error
    assert any("Watching: **1 2 3** · **4 4 5**" in c.value for c in at.caption)
    assert at.button(key="btn_step").disabled is True  # nothing to step before a run
    at.button(key="btn_start").click().run()
    trainer = at.session_state["trainer"]
    wait_for(lambda: len(trainer.snapshot().history) >= 2)
    at.button(key="btn_pause").click().run()
    wait_for(lambda: trainer.snapshot().samples_seen == trainer.history[-1].samples_seen)
    time.sleep(0.3)
    at.run()
    before = trainer.snapshot()
    table = watched_table(at)
    assert list(table["input"]) == ["1 2 3", "4 4 5"]
    assert list(table["expected"]) == ["2 1", "4 4"]
    assert table.columns[-1] == f"chunk {len(before.history)}"
    assert at.button(key="btn_step").disabled is False
    at.button(key="btn_step").click().run()
    after = trainer.snapshot()
    assert len(after.history) == len(before.history) + 1
    assert after.samples_seen == before.samples_seen + 16  # exactly one batch of 16
    assert trainer.status == "paused"
    assert watched_table(at).columns[-1] == f"chunk {len(after.history)}"
    # the error by output position, from the run's own chunks
    assert any("learned" in c.value and "integer" in c.value for c in at.caption)
    at.button(key="btn_stop").click().run()
    trainer.join(30)


def test_run_again_with_the_same_seed_overlays_the_same_curves(app_test):
    at = open_train(app_test, w_seed=7)
    first = run_to_end(at, "btn_start")
    again = at.button(key="btn_again")
    assert again.disabled is False and "(7)" in again.help
    at.session_state["w_seed"] = 8  # the widgets changed: Run again repeats the run itself
    second = run_to_end(at, "btn_again")
    assert second is not first and second.train_config.seed == 7
    assert not at.exception
    charts = at.get("vega_lite_chart")
    specs = [c.proto.spec for c in charts]
    assert sum('"previous"' in s for s in specs) == 2  # loss and accuracy
    captions = " ".join(c.value for c in at.caption)
    assert "Dashed grey: the previous run" in captions
    assert "this run's curves equal the previous run's, chunk for chunk" in captions


def test_watched_inputs_another_task_does_not_take_are_left_out_with_a_note(app_test):
    at = open_train(app_test)
    at.text_area(key="w_watch_inputs").input("1 2 3\n3+4").run()
    assert "Watched input '3+4'" in " ".join(shown(e.value) for e in at.error)
    at.text_area(key="w_watch_inputs").input("1 2 3").run()
    at.session_state["w_task"] = "addition"  # another task: "1 2 3" is not a sum
    at.run()
    at.button(key="btn_start").click().run()
    assert not at.exception
    trainer = at.session_state["trainer"]  # it started all the same
    assert trainer.task.name == "addition"
    warnings = " ".join(shown(w.value) for w in at.warning)
    assert "Not watched in this run, as its task does not take them: Watched input '1 2 3'" \
        in warnings
    trainer.stop()
    trainer.join(30)


def test_a_continued_run_cannot_be_run_again_from_fresh_weights(app_test):
    at = open_train(app_test)
    run_to_end(at, "btn_start")
    assert at.button(key="btn_again").disabled is False
    run_to_end(at, "btn_continue")
    again = at.button(key="btn_again")
    assert again.disabled is True and "continued an earlier model" in again.help
