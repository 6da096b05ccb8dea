"""Attacks on a shared server, each built here at test time: every one must end in the
project's own clear error, cost little, and leave other people's work alone.

Model files are the main door (an upload is read on the server), then typed input, the
command line, sentence-pair files and links. The bombs run in a subprocess that reports its
own peak memory, so "bounded" is measured, not assumed.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

import seq2seq_core as sc
from seq2seq_core.decoding import Decoder
from seq2seq_core.persistence import UNREADABLE

import hostile

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def reverse_file() -> bytes:
    task = sc.make_task("reverse", n_in=5, n_out=3, cardinality=12)
    return sc.to_bytes(sc.Seq2Seq.build(task, sc.ModelConfig(units=8), seed=1))


@pytest.fixture(scope="module")
def translation_file() -> bytes:
    task = sc.make_task("translation", max_pairs=30, holdout=0.0)
    return sc.to_bytes(sc.Seq2Seq.build(task, sc.ModelConfig(units=8), seed=1))


def refused(data: bytes, match: str, **kwargs) -> str:
    with pytest.raises(sc.ModelFileError, match=match) as err:
        sc.from_bytes(data, **kwargs)
    return str(err.value)


# ---- 1. a model file must never name a file on the server --------------------------------------
@pytest.mark.parametrize("where", ["absolute", "relative"])
def test_a_model_file_cannot_read_server_files(translation_file, tmp_path, where):
    secret = tmp_path / "secret.tsv"
    secret.write_text("".join(f"secret {i}\tsecret {i}\n" for i in range(40)))
    name = str(secret) if where == "absolute" else "../" * 12 + str(secret).lstrip("/")
    meta = hostile.lab(translation_file)
    meta["settings"]["corpus"] = name
    messages = []
    for pairs in ([], None):
        meta["corpus"] = {"name": name, "pairs": pairs} if pairs is not None else {"name": name}
        messages.append(refused(hostile.with_lab(translation_file, meta), "holds no sentence pairs"))
    meta["settings"]["corpus"] = str(tmp_path / "missing.tsv")  # no such file: same answer
    meta["corpus"] = {"name": name, "pairs": []}
    messages.append(refused(hostile.with_lab(translation_file, meta), "holds no sentence pairs"))
    assert len(set(messages)) == 1 and "secret" not in messages[0]


def test_a_translation_task_never_opens_a_path(tmp_path):
    (tmp_path / "pairs.tsv").write_text("".join(f"a{i}\tb{i}\n" for i in range(20)))
    with pytest.raises(sc.InvalidInput, match="not built in"):
        sc.make_task("translation", sc.settings_for("translation", corpus=str(tmp_path / "pairs.tsv")))
    empty = sc.Corpus("empty", ())
    with pytest.raises(sc.InvalidInput, match="Only 0 pairs"):
        sc.make_task("translation", sc.settings_for("translation", corpus="/etc/passwd"), empty)


def test_pairs_inside_a_model_are_checked_like_an_upload(translation_file):
    meta = hostile.lab(translation_file)
    good = meta["corpus"]["pairs"]
    cases = [
        (good[:3] + [["a", "b", "c"]], "not two short lines"),
        (good + [["x" * 81, "y"]], "not two short lines"),
        (good + [["a\tb", "c"]], "not two short lines"),
        (good + [["bell\x07", "ring"]], "control or unprintable"),
        (good + [[good[0][0], "again"]], "same source sentence"),
        (good[:5], "at least 10"),
        ([good[0]] * 20_001, "at most 20,000"),
        ("not a list", "holds no sentence pairs"),
    ]
    for pairs, message in cases:
        meta["corpus"]["pairs"] = pairs
        refused(hostile.with_lab(translation_file, meta), message)


def test_a_corpus_name_is_a_label_not_a_path(translation_file):
    meta = hostile.lab(translation_file)
    meta["corpus"]["name"] = "../../etc/passwd\n![x](http://evil.example/a.png)"
    model = sc.from_bytes(hostile.with_lab(translation_file, meta))
    assert "/" not in model.task.corpus.name and "\n" not in model.task.corpus.name


# ---- 2. zip bombs, in a subprocess that measures its own peak memory ----------------------------
BOMB_CHILD = r"""
import json, resource, sys, time
import seq2seq_core as sc
import tensorflow as tf
tf.constant(1.0) + 1
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
out = []
for path in sys.argv[1:]:
    data = open(path, "rb").read()
    began = time.perf_counter()
    try:
        sc.from_bytes(data)
        message = "LOADED"
    except sc.ModelFileError as err:
        message = str(err)
    out.append({"file": path, "seconds": time.perf_counter() - began, "message": message})
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"added_mb": (peak - base) / 1024, "results": out}))
"""


@pytest.fixture(scope="module")
def bombs(tmp_path_factory, reverse_file):
    folder = tmp_path_factory.mktemp("bombs")
    parts = hostile.members(reverse_file)
    head = json.dumps(hostile.lab(reverse_file))[:-1].encode() + b', "pad": "'
    return {
        "model.keras inflates to 1 GiB": hostile.bomb(folder / "keras.s2s", "model.keras", 1024,
                                                     others=[("lab.json", parts["lab.json"])]),
        "lab.json inflates to 512 MB": hostile.bomb(folder / "lab.s2s", "lab.json", 512, head,
                                                   others=[("model.keras", parts["model.keras"])]),
    }


def test_zip_bombs_are_refused_in_bounded_memory_and_time(bombs, tmp_path, reverse_file):
    inner = hostile.bomb(tmp_path / "inner.keras", "model.weights.h5", 512,
                         others=[("metadata.json", b"{}"), ("config.json", b"{}")])
    files = dict(bombs)
    files["model.weights.h5 inflates to 512 MB"] = tmp_path / "inner.s2s"
    files["model.weights.h5 inflates to 512 MB"].write_bytes(hostile.pack(
        [("lab.json", hostile.members(reverse_file)["lab.json"]), ("model.keras", inner.read_bytes())]))
    files["an HDF5 dataset declares 4 GB"] = tmp_path / "h5.s2s"
    files["an HDF5 dataset declares 4 GB"].write_bytes(
        hostile.with_keras(reverse_file, weights=hostile.h5_file(hostile.h5_bomb)))
    for path in files.values():
        assert path.stat().st_size < 2_000_000
    out = subprocess.run([sys.executable, "-c", BOMB_CHILD, *map(str, files.values())],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    print(json.dumps(report, indent=1))
    messages = [r["message"] for r in report["results"]]
    assert "inflates to 1,073.7 MB" in messages[0]
    assert "lab.json" in messages[1] and "inflates" in messages[1]
    assert "model.weights.h5" in messages[2] and "inflates" in messages[2]
    assert "declares 1,000,000,000 numbers" in messages[3]
    assert all(r["seconds"] < 10 for r in report["results"])
    assert report["added_mb"] < 150, report  # never the 1-3 GB the bombs ask for


def test_a_lying_size_header_is_caught(reverse_file):
    data = hostile.lying_size(reverse_file, "lab.json", 10)
    refused(data, "not valid JSON|could not be read")


# ---- 3. any broken file is a ModelFileError with a message ------------------------------------------
@pytest.mark.parametrize("data,message", [
    (b"", "empty"),
    (b"PK\x03\x04 truncated", "not a zip archive"),
    (b"\x00" * 100, "not a zip archive"),
])
def test_broken_files(data, message):
    refused(data, message)


def test_truncated_and_odd_archives(reverse_file):
    refused(reverse_file[: len(reverse_file) // 2], "not a zip archive|could not be read")
    parts = hostile.members(reverse_file)
    refused(hostile.pack([*parts.items(), ("../../evil.sh", b"rm -rf /")]), "unexpected files")
    refused(hostile.pack([*parts.items(), ("lab.json", b"{}")]), "same name twice")
    refused(hostile.pack([("lab.json", parts["lab.json"])]), "lacks model.keras")
    refused(hostile.pack(list(parts.items()), __import__("zipfile").ZIP_LZMA),
            "unsupported compression")
    refused(hostile.with_keras(reverse_file, extra=[("assets/../../x", b"x")]), "unexpected files")


@pytest.mark.parametrize("change,message", [
    (lambda m: m.update(settings=[1, 2]), "lacks its task settings"),
    (lambda m: m.update(model="big"), "lacks its network settings"),
    (lambda m: m.update(seed=10**100), "Seed must be between"),
    (lambda m: m.update(seed="7"), "Seed must be a whole number"),
    (lambda m: m.update(task="../../bin/sh"), "unknown task"),
    (lambda m: m.update(format="seq2seq-lab/999"), "Unsupported model file format"),
    (lambda m: m["settings"].update(cardinality=1e308), r"Cardinality \(values 1..n\) must be a whole number"),
    (lambda m: m["settings"].update(mode=["reverse"]), "Mode must be one of"),
    (lambda m: m["settings"].update(colour="blue"), "unknown keys: 'colour'"),
    (lambda m: m["model"].update(units=10**9), "Units must be between"),
    (lambda m: m["model"].update(bidirectional="yes"), "Bidirectional must be true or false"),
    (lambda m: m["model"].update(__class__="os.system"), "unknown keys"),
])
def test_odd_values_in_lab_json(reverse_file, change, message):
    meta = hostile.lab(reverse_file)
    change(meta)
    refused(hostile.with_lab(reverse_file, meta), message)


@pytest.mark.parametrize("raw,message", [
    (b'{"format": "seq2seq-lab/1", "seed": Infinity}', "Infinity"),
    (b'{"format": "seq2seq-lab/1", "seed": NaN}', "NaN"),
    (hostile.deep_json(100_000).encode(), "nested too deeply|not valid JSON|Unsupported"),
    (b"\xff\xfe not utf-8", "not valid JSON"),
    (b"[]", "Unsupported model file format"),
])
def test_malformed_lab_json(reverse_file, raw, message):
    refused(hostile.with_lab(reverse_file, raw=raw), message)


def test_odd_addition_and_dates_settings_in_a_file():
    task = sc.make_task("addition")
    data = sc.to_bytes(sc.Seq2Seq.build(task, sc.ModelConfig(arch="repeat", units=8)))
    meta = hostile.lab(data)
    meta["settings"]["operators"] = 5
    refused(hostile.with_lab(data, meta), "Operators must be text")
    meta["settings"]["operators"] = "+/"
    refused(hostile.with_lab(data, meta), "Operators must be one or more of")


# ---- safe_mode's job: no code or foreign objects through the Keras config ----------------------
def test_lambda_and_unregistered_layers_are_refused(reverse_file):
    config = hostile.keras_config(reverse_file)
    layers = config["config"]["layers"]
    lambda_layer = {"module": "keras.layers", "class_name": "Lambda", "name": "evil",
                    "config": {"name": "evil", "function": {"class_name": "__lambda__",
                               "config": {"code": "4wEAAAAAAAAA", "defaults": None,
                                          "closure": None}}}}
    refused(hostile.with_keras(reverse_file, config={**config, "config": {
        **config["config"], "layers": layers + [lambda_layer]}}), "Lambda")
    backdoor = {"module": "evil.payload", "class_name": "Backdoor", "config": {}}
    nested = json.loads(json.dumps(config))
    nested["config"]["layers"][1]["config"]["dtype"] = backdoor
    refused(hostile.with_keras(reverse_file, config=nested), "Backdoor")


def test_weights_that_read_other_files_are_refused(reverse_file, tmp_path):
    secret = tmp_path / "secret.bin"
    secret.write_bytes(b"0123456789abcdef")
    refused(hostile.with_keras(reverse_file, weights=hostile.h5_file(hostile.h5_external(secret))),
            "outside the file")
    refused(hostile.with_keras(reverse_file, weights=hostile.h5_file(hostile.h5_link(secret))),
            "a link")
    refused(hostile.with_keras(reverse_file, weights=hostile.h5_file(hostile.h5_ints)),
            "not floating-point")
    refused(hostile.with_keras(reverse_file, weights=b"not hdf5"), UNREADABLE[:30])


@pytest.mark.parametrize("how", ["a group inside itself", "the root inside a group", "deep"])
def test_weights_files_that_loop_or_sprawl_are_refused_at_once(reverse_file, how):
    import io

    import h5py
    buf = io.BytesIO(hostile.weights(reverse_file))
    with h5py.File(buf, "r+") as h5:
        if how == "a group inside itself":
            h5["layers/lstm/loop"] = h5["layers"]
        elif how == "the root inside a group":
            h5["layers/dense/up"] = h5["/"]
        else:
            group = h5["layers"]
            for _ in range(2000):
                group = group.create_group("d")
    began = time.perf_counter()
    refused(hostile.with_keras(reverse_file, weights=buf.getvalue()),
            "two paths|deeply nested")
    assert time.perf_counter() - began < 5


# ---- 4. the network must match its description ----------------------------------------------------
@pytest.mark.parametrize("change", [
    lambda m: m["settings"].update(cardinality=13),       # other vocabulary
    lambda m: m["model"].update(units=9),                 # other size
    lambda m: m["model"].update(arch="attention"),        # other architecture
    lambda m: m["model"].update(cell="gru"),
    lambda m: m.update(task="addition", settings={}),     # other task
])
def test_a_network_that_disagrees_with_its_task_is_refused(reverse_file, change):
    meta = hostile.lab(reverse_file)
    change(meta)
    refused(hostile.with_lab(reverse_file, meta), "does not match its description|never makes")


def test_other_lengths_are_refused_or_exact():
    """A length change keeps every weight's shape (recurrent layers share weights over steps):
    the loaded network is then built for the new length, so it decodes that length."""
    task = sc.make_task("reverse", n_in=5, n_out=3, cardinality=12)
    data = sc.to_bytes(sc.Seq2Seq.build(task, sc.ModelConfig(units=8), seed=1))
    meta = hostile.lab(data)
    meta["settings"].update(n_in=7)
    model = sc.from_bytes(hostile.with_lab(data, meta))
    assert model.task.source_len == 7 and model.nets.train.inputs[0].shape[1] == 7
    assert len(Decoder(model).predict(["1 2 3 4 5 6 7"])[0].split()) == 3


def test_a_server_refuses_models_larger_than_it_allows(reverse_file):
    refused(reverse_file, "at most 1,000", max_params=1000)


# ---- 5. settings a shared server cannot afford -------------------------------------------------------
def test_absurd_runs_are_refused_before_anything_is_built():
    from seq2seq_core.budget import ServerLimits, check_run
    limits = ServerLimits()
    task = sc.make_task("reverse", n_in=40, n_out=40, cardinality=500, mode="reverse_all")
    huge = sc.ModelConfig(units=1024, layers=3, bidirectional=True)
    began = time.perf_counter()
    with pytest.raises(sc.InvalidInput, match="parameters; this server allows at most 3,000,000"):
        check_run(task, huge, sc.TrainConfig(), limits)
    with pytest.raises(sc.InvalidInput, match="MB of memory.*SEQ2SEQ_MAX_RUN_MB"):
        check_run(task, sc.ModelConfig(units=256), sc.TrainConfig(batch_size=4096), limits)
    with pytest.raises(sc.InvalidInput, match="at most 1,200 s"):
        check_run(task, sc.ModelConfig(units=16), sc.TrainConfig(max_seconds=86_400), limits)
    with pytest.raises(sc.InvalidInput, match="at most 5,000"):
        check_run(task, sc.ModelConfig(units=16), sc.TrainConfig(eval_samples=100_000), limits)
    assert time.perf_counter() - began < 1.0  # by formula: nothing was built


def test_a_huge_chunk_samples_little_and_stops_at_once():
    task = sc.make_task("reverse", n_in=4, n_out=2, cardinality=10)
    trainer = sc.Trainer(sc.Seq2Seq.build(task, sc.ModelConfig(units=8)),
                         sc.TrainConfig(batch_size=4096, chunk_batches=10_000, eval_samples=50))
    trainer.start()
    time.sleep(3)
    trainer.stop()
    trainer.join(20)
    assert not trainer.is_alive and trainer.status == "stopped"
    assert 0 < trainer.samples_seen < 4096 * 10_000


# ---- 8. typed input and the command line ------------------------------------------------------------
@pytest.mark.parametrize("text", ["² 2 3 4 5 6", "⑨ 1 2 3 4 5", "٣ 1 2 3 4 5", "9" * 10_000,
                                  "1 2 3 4 5 " + "9" * 5000, "0x10 1 2 3 4 5", "1" * 100_000])
def test_exotic_digits_and_huge_numbers_are_refused(text):
    task = sc.make_task("reverse")
    with pytest.raises(sc.InvalidInput):
        task.validate(text)
    with pytest.raises(sc.InvalidInput):
        sc.make_task("addition").validate(text.replace(" ", "+"))


def cli(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "seq2seq_core", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=timeout)


@pytest.mark.parametrize("args,message", [
    (["train", "--task", "reverse", "--eval-samples", "-5"], "outside 1..100000"),
    (["evaluate", "--model", "x.s2s", "--samples", "-3"], "outside 1..100000"),
    (["evaluate", "--model", "x.s2s", "--pairs", "p.tsv", "--beam", "0"], "outside 1..10"),
    (["evaluate", "--model", "x.s2s", "--beam", "3"], "give --pairs too"),
    (["train", "--task", "addition", "--set", "operators=5"], "Operators must be text"),
    (["train", "--task", "reverse", "--save", "/no/such/folder/m.s2s"], "does not exist"),
    (["train", "--task", "reverse", "--set", "units=1e999"], "Units must be"),
    (["train", "--task", "dates", "--set", "formats=5"], "Formats must be a list"),
    (["predict", "--model", "/etc/passwd", "1 2 3"], "not a zip archive"),
    (["train", "--task", "translation", "--set", "corpus=/no/such.tsv"], "No pairs file"),
    (["predict", "--model", "{bigint}", "1 2 3"], "not valid JSON"),
    (["train", "--task", "reverse", "--probe", "1 2 x"], "Watched input '1 2 x'"),
    (["train", "--task", "reverse", *["--probe", "1 2 3 4 5 6"] * 6], "at most 5"),
    (["train", "--task", "reverse", "--save-to-shelf", "../etc/x"], "cannot be a shelf name"),
    (["predict", "--model", "x.s2s", "--force", "x=3", "1 2 3"], "--force expects STEP=TOKEN"),
    (["neighbours", "--model", "x.s2s", "--k", "51", "1 2 3"], "outside 1..50"),
])
def test_the_cli_never_prints_a_traceback(args, message, reverse_file, tmp_path):
    bigint = tmp_path / "bigint.s2s"  # a 5,000-digit seed: too long for int()
    raw = json.dumps(hostile.lab(reverse_file)).replace('"seed": 1', '"seed": ' + "9" * 5000)
    bigint.write_bytes(hostile.with_lab(reverse_file, raw=raw))
    began = time.perf_counter()
    out = cli(*[a.format(bigint=bigint) for a in args])
    assert out.returncode == 2, out.stderr
    assert message in out.stderr and "Traceback" not in out.stderr
    assert time.perf_counter() - began < 60  # refused before any training


# ---- sentence-pair files --------------------------------------------------------------------------
def good_lines(n=12) -> str:
    return "".join(f"Hello {i}.\tBonjour {i}.\n" for i in range(n))


@pytest.mark.parametrize("data,message", [
    (good_lines().encode("utf-16"), "not a text file"),
    (good_lines().encode("utf-32"), "not a text file"),
    ("Ça va?\tÇa va.\n".encode("latin-1") * 12, "not UTF-8"),
    (b"", "Only 0 usable pairs"),
    (b"\n" * 300_000, "the maximum is 200,000"),
    (b"x" * (6 * 1024 * 1024), "the maximum is 5 MB"),
])
def test_hostile_pair_files(data, message):
    with pytest.raises(sc.InvalidInput, match=message):
        sc.parse_pairs(data)


def test_control_characters_in_pairs_are_skipped_with_the_reason():
    text = good_lines() + "evil\x1b[2J\tclear\n" + "zero\u200bwidth\tx\n" + "a\rb\tc\n"
    corpus = sc.parse_pairs(text.encode())
    assert len(corpus.pairs) == 13 and corpus.pairs[-1] == ("b", "c")  # \r ends a line
    reasons = [why for _, why in corpus.skipped]
    assert reasons.count("control or unprintable characters") == 2
