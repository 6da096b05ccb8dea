"""Why subwords?: the same network trained for the same time at each token level, held-out
chrF after every chunk, on the Why attention? page."""
import pytest

from seq2seq_core.charts.study import levels_chart
from seq2seq_core.executors import LOCAL
from seq2seq_core.levels import (LEVELS, LevelsConfig, level_plans, level_tasks,
                                 levels_frame, levels_runner, levels_summary)
from seq2seq_core.tokenizing import LEVEL_NAMES

SMALL = LevelsConfig(seconds=10.0, max_pairs=100, units=16)


def test_every_level_gets_the_same_network_and_time():
    plans = level_plans(SMALL, level_tasks(SMALL, None), "t")
    assert [p.training.task.settings.level for p in plans] == list(LEVELS)
    assert len({p.training.model_config for p in plans}) == 1
    assert {p.training.train_config.max_seconds for p in plans} == {10.0}
    assert plans[0].training.model_config.units == 16
    assert all(p.training.task.settings.holdout == 0.1 for p in plans)


@pytest.fixture(scope="module")
def rows():
    runner = levels_runner(SMALL, level_tasks(SMALL, None), LOCAL)
    return runner.run(), runner


def test_the_comparison_scores_every_level_over_time(rows):
    result, runner = rows
    assert runner.status == "finished"
    frame = levels_frame(result)
    assert set(frame["level"]) == set(LEVELS)
    for level, part in frame.groupby("level"):
        assert part["chrf"].notna().all() and part["seconds"].is_monotonic_increasing
        assert part["seconds"].max() >= 9.0
    steps = frame.groupby("level")["steps"].first()
    assert steps["word"] <= steps["subword"] < steps["char"]  # 100 pairs: BPE keeps most words
    summary = levels_summary(frame)
    best = frame.sort_values("seconds").groupby("level").last()["chrf"].idxmax()
    assert summary.endswith(f"Best: **{LEVEL_NAMES[best].lower()}**.")
    spec = levels_chart(frame.assign(name=frame["level"].map(LEVEL_NAMES)),
                        [LEVEL_NAMES[lv] for lv in LEVELS]).to_dict()
    assert spec["encoding"]["y"]["field"] == "chrf"


def test_the_page_runs_the_comparison(app_test):
    at = app_test()
    at.run()
    at.switch_page("app_pages/study.py").run()
    assert not at.exception
    at.session_state["levels_seconds"] = 10.0
    at.session_state["levels_max_pairs"] = 100
    at.session_state["levels_units"] = 16
    at.run()
    at.button(key="levels_start").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    runner = at.session_state["levels_runner"]
    runner.join(180)
    at.run()  # the fragment's poll: moves the rows into the page's results
    at.run()
    assert not at.exception
    assert at.session_state["levels_rows"]
    assert any("Best:" in m.value for m in at.markdown)
    assert any("held-out chrF" in c.proto.spec for c in at.get("vega_lite_chart"))
