"""Exported scripts: they run standalone, train, and build the core's network exactly."""
import ast
import re
import runpy
import subprocess
import sys

import numpy as np
import pytest

import seq2seq_core as sc
from seq2seq_core.corpus import read_pairs_file
from seq2seq_core.export import export_script, pairs_tsv, script_filename

# (task, settings, model config) covering the three architectures, the three attention scores, both cells, stacked and
# bidirectional encoders, reversed sources, embeddings and dropout.
CONFIGS = {
    "reverse-repeat": ("reverse", {"n_in": 5, "mode": "reverse_all", "cardinality": 20},
                       sc.ModelConfig(arch="repeat", units=16, decoder_units=24, embedding=8)),
    "addition-repeat": ("addition", {"n_terms": 4, "largest": 99, "operators": "+-*",
                                     "variable_terms": True},
                        sc.ModelConfig(arch="repeat", cell="gru", units=20, decoder_units=12,
                                       layers=2, bidirectional=True, reverse_source=True,
                                       dropout=0.1)),
    "addition-teacher": ("addition", {"operators": "-+"},
                         sc.ModelConfig(units=16, reverse_source=True)),
    "dates-teacher": ("dates", {"first_year": 1990, "last_year": 2030},
                      sc.ModelConfig(cell="gru", units=12, layers=2, bidirectional=True,
                                     embedding=6, reverse_source=True)),
    "dates-repeat": ("dates", {"formats": ("dddd, MMMM do yyyy", "dd.mm.yy")},
                     sc.ModelConfig(arch="repeat", units=10)),
    "translation": ("translation", {"max_pairs": 50, "holdout": 0.2, "max_length": 30},
                    sc.ModelConfig(units=16, layers=2, reverse_source=True)),
    "dates-bahdanau": ("dates", {"first_year": 2000, "last_year": 2010},
                       sc.ModelConfig(arch="attention", attention="bahdanau", units=12,
                                      bidirectional=True, embedding=6)),
    "addition-luong": ("addition", {"n_terms": 2},
                       sc.ModelConfig(arch="attention", attention="luong", cell="gru", units=10,
                                      layers=2, reverse_source=True)),
    "translation-dot": ("translation", {"max_pairs": 40, "max_length": 24},
                        sc.ModelConfig(arch="attention", attention="dot", units=14)),
}


def _write(tmp_path, name, settings, model, train=None):
    text = export_script(name, settings, model, train or sc.TrainConfig())
    path = tmp_path / script_filename(name)
    path.write_text(text)
    return text, path


def _run_in_process(path, args, monkeypatch, capsys):
    """Run a script as __main__ here (Keras is already imported) and return its globals."""
    monkeypatch.setattr(sys, "argv", [str(path), *args])
    namespace = runpy.run_path(str(path), run_name="__main__")
    return namespace, capsys.readouterr().out


@pytest.mark.parametrize("settings,model,samples", [
    (sc.settings_for("reverse", n_in=4, n_out=2, cardinality=9), sc.ModelConfig(units=32),
     10_000),
    (sc.settings_for("reverse", n_in=5, mode="reverse_all", cardinality=9),
     sc.ModelConfig(arch="attention", attention="luong", units=32), 12_000),
], ids=["teacher", "attention"])
def test_script_trains_standalone(tmp_path, settings, model, samples):
    """The acceptance test: a small reverse task, run as its own process, learns."""
    train = sc.TrainConfig(batch_size=32, learning_rate=0.01, max_samples=samples,
                           eval_samples=300)
    text, path = _write(tmp_path, "reverse", settings, model, train)
    assert "seq2seq_core" not in text
    assert ("layers.Attention(" in text) == (model.arch == "attention")
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                          timeout=240, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    params = int(re.search(r"^params: (\d+)$", done.stdout, re.M).group(1))
    exact = float(re.search(r"^exact match: ([\d.]+)", done.stdout, re.M).group(1))
    assert params == sc.Seq2Seq.build(sc.make_task("reverse", settings), model).count_params()
    assert exact >= 0.8, done.stdout


@pytest.mark.parametrize("key", sorted(CONFIGS))
def test_same_network_and_data_as_the_core(key, tmp_path, monkeypatch, capsys):
    name, values, model_cfg = CONFIGS[key]
    settings = sc.settings_for(name, **values)
    text, path = _write(tmp_path, name, settings, model_cfg)
    ast.parse(text)
    lines = len(text.splitlines())
    assert 120 <= lines <= 310, lines  # short enough to read in one sitting
    assert "import seq2seq_core" not in text and "from seq2seq_core" not in text
    args, corpus = ["--dry-run"], None
    if name == "translation":  # the script reads a pairs file: the core reads the same one
        pairs_file = tmp_path / "pairs.tsv"
        pairs_file.write_text(pairs_tsv_all(), encoding="utf-8")
        corpus = read_pairs_file(pairs_file)
        assert [line for line, _ in corpus.skipped] == [1, 3]  # no tab; a repeated source
        args.insert(0, str(pairs_file))
    task = sc.make_task(name, settings, corpus)
    ns, out = _run_in_process(path, args, monkeypatch, capsys)
    core = sc.Seq2Seq.build(task, model_cfg)
    if name == "translation":
        assert tuple(ns["PAIRS"]) == task.pairs
    assert f"params: {core.count_params()}" in out.splitlines()
    # the script's data: same lengths, and every pair is right by the core's own answer
    source, target = ns["make_pairs"](np.random.default_rng(1), 40, "test")
    assert source.shape[1] == task.source_len and target.shape[1] == task.target_len
    for src, tgt in zip(source, target):
        assert task.answer(ns["show_source"](src)) == ns["show_target"](tgt)
    # same ids as the core, so the reversed source must match too
    np.testing.assert_array_equal(ns["prepare"](source), core.prepare_source(source))


def pairs_tsv_all():
    """The phrasebook as a pairs file: a third column on every line, a first line without a
    tab, and on line 3 the first pair's source again (the first one counts)."""
    pairs = sc.phrasebook().pairs
    lines = [f"{a}\t{b}\textra" for a, b in pairs]
    lines.insert(1, f"{pairs[0][0]}\tduplicate")
    return "\n".join(["no tab here", *lines]) + "\n"


def test_translation_pairs_file(tmp_path, monkeypatch):
    task = sc.make_task("translation", max_pairs=20)
    assert pairs_tsv(task).count("\n") == 20 and "\t" in pairs_tsv(task)
    text, path = _write(tmp_path, "translation", task.settings, sc.ModelConfig(units=8))
    assert "pairs.tsv" in text.split('"""')[1]  # the docstring says which file it reads
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(path), "--dry-run"])
    with pytest.raises(SystemExit, match="No pairs file at 'pairs.tsv'"):
        runpy.run_path(str(path), run_name="__main__")


def test_bad_input():
    with pytest.raises(sc.InvalidInput, match="Unknown task"):
        export_script("poetry")
    with pytest.raises(sc.InvalidInput, match="not for the dates task"):
        export_script("dates", sc.settings_for("reverse"))
    with pytest.raises(sc.InvalidInput, match="Task 'reverse' has no setting"):
        export_script("reverse", {"n_terms": 3})
    assert "N_IN = 6" in export_script("reverse")  # defaults for everything
