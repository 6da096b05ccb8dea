"""seq2seq-lab's engine against a peer, the Keras character-level translation example.

Both systems train, in one run, on the same distinct English -> French pairs read from the
first `--lines` lines of a tab-separated Tatoeba/Anki file (nothing is downloaded), and are
scored on the same 1,000 held-out pairs that neither trains on:

- the **peer** is the Keras example (seed 004) written in its own style: start "\t" and end
  "\n" characters, one-hot float32 arrays padded with spaces to the longest sentences,
  LSTM(256) encoder whose states start an LSTM(256) decoder, Dense softmax, rmsprop,
  `model.fit(batch_size=64, epochs=1, validation_split=0.2)` repeated until `--seconds` of
  fit time are spent. `validation_split` keeps the *last* 20% of its arrays for validation
  (in a file sorted by length, the longest pairs), so it fits on 80% of them, as the example
  does. Its samples/s counts fit wall time, validation included (the example's own loop),
  and is also given for the training batches alone;
- the **engine** is `seq2seq_core` on the same network (`ModelConfig(arch="teacher",
  cell="lstm", units=256)`, one-hot, no embedding), trained by `Trainer` with Adam 0.001,
  batch 64 and a time budget of `--seconds`; its samples/s is samples_seen / train_seconds.

Scores are chrF and BLEU (sacrebleu) of greedy decodes of the held-out sources: the peer
with the example's inference models (encoder model + one-step decoder model, one `predict`
per output step for all held-out sources at once), the engine with `Decoder(model).predict`.
Decoding is never counted as training time. A held-out source the engine cannot take (a
character or a length its training pairs never had) gets an empty output from both systems,
and their number is reported. Checkpoints are after the first epoch (peer) or chunk (engine)
that passes a quarter, a half and all of the budget (60, 120 and 240 s by default); the engine
is also scored every 10 s of training, which gives the seconds it needs to reach the peer's
final chrF. The peer's own metric, the fit's accuracy (which counts padding), is reported too.

    PYTHONPATH=. .venv/bin/python benchmarks/translation_peer.py \
        --pairs ../shared/data/tatoeba-en-fr-20k.tsv [--lines 10000] [--seconds 240] \
        [--engine-only | --peer-only] [--config arch=attention embedding=64 ...] [--json]

With `--json` the whole result is one JSON object on the last line.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from dataclasses import asdict
from itertools import islice
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import sacrebleu  # noqa: E402

from seq2seq_core import (  # noqa: E402
    Corpus, InvalidInput, ModelConfig, Seq2Seq, TrainConfig, Trainer)
from seq2seq_core.cli import parse_sets  # noqa: E402
from seq2seq_core.config import split_overrides  # noqa: E402
from seq2seq_core.presets import CORPUS_PRESET  # noqa: E402
from seq2seq_core.corpus import MAX_SIDE_CHARS, parse_pairs  # noqa: E402
from seq2seq_core.decoding import Decoder  # noqa: E402
from seq2seq_core.tasks.translation import TranslationSettings, TranslationTask  # noqa: E402

HELD_OUT = 1000
HOLDOUT_SEED = 0
MODEL_SEED = 1
LATENT_DIM = 256
BATCH_SIZE = 64
VALIDATION_SPLIT = 0.2
CHECKPOINT_SHARES = (0.25, 0.5, 1.0)
SCORE_EVERY = 10.0      # engine: seconds of training between held-out scores
CHUNK_BATCHES = 10      # engine: about 1 s of training per chunk on 2 busy CPU cores
MAX_TRAIN_PAIRS = 20_000  # TranslationSettings.max_pairs allows no more
ENGINE_MODEL = {"arch": "teacher", "cell": "lstm", "units": LATENT_DIM}


def log(msg: str) -> None:
    print(msg, flush=True)


# ---- the pairs -----------------------------------------------------------------------------

def read_lines(path: str, lines: int) -> list[str]:
    """The first `lines` lines of the pairs file, as text."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise InvalidInput(f"No pairs file at {path!r}; give the path of a tab-separated "
                           "English<TAB>French file, e.g. ../shared/data/tatoeba-en-fr-20k.tsv.")
    try:
        with file.open(encoding="utf-8-sig") as handle:
            return [line.rstrip("\r\n") for line in islice(handle, lines)]
    except UnicodeDecodeError as err:
        raise InvalidInput(f"{file.name} is not UTF-8 text (bad byte at position "
                           f"{err.start}).") from None


def split_pairs(lines: list[str]) -> dict:
    """Distinct usable pairs (corpus.parse_pairs: first of each source kept), then HELD_OUT of
    them drawn with a fixed seed; the rest, in file order, are the training pairs."""
    corpus = parse_pairs("\n".join(lines), max_pairs=len(lines) + 1, max_chars=MAX_SIDE_CHARS)
    pairs = list(corpus.pairs)
    if len(pairs) < HELD_OUT + 10:
        raise InvalidInput(f"The first {len(lines):,} lines hold {len(pairs):,} distinct usable "
                           f"pairs; {HELD_OUT:,} are held out and at least 10 must remain to "
                           "train on: read more lines (--lines).")
    if len(pairs) - HELD_OUT > MAX_TRAIN_PAIRS:
        raise InvalidInput(f"The first {len(lines):,} lines hold {len(pairs) - HELD_OUT:,} "
                           f"training pairs; the engine takes at most {MAX_TRAIN_PAIRS:,}: "
                           "read fewer lines (--lines).")
    held = set(np.random.default_rng(HOLDOUT_SEED).choice(len(pairs), HELD_OUT, replace=False))
    return {"lines": len(lines), "distinct": len(pairs), "skipped": len(corpus.skipped),
            "train": [p for i, p in enumerate(pairs) if i not in held],
            "held_out": [p for i, p in enumerate(pairs) if i in held]}


def decodable(held_out, train) -> list[bool]:
    """Whether each held-out source uses only characters of the training sources and is no
    longer than the longest of them (what the engine's task accepts)."""
    chars = {c for a, _ in train for c in a}
    longest = max(len(a) for a, _ in train)
    return [len(a) <= longest and set(a) <= chars for a, _ in held_out]


def score(hyps: list[str], refs: list[str]) -> dict:
    return {"chrf": sacrebleu.corpus_chrf(hyps, [refs]).score,
            "bleu": sacrebleu.corpus_bleu(hyps, [refs]).score}


def checkpoint_times(seconds: float) -> list[float]:
    return [seconds * share for share in CHECKPOINT_SHARES]


def crossed(before: float, after: float, marks) -> list[float]:
    """The marks passed by going from `before` to `after` seconds."""
    return [m for m in marks if before < m <= after]


# ---- the peer: the Keras example, in its own style ----------------------------------------

def vectorize(input_texts, target_texts, peer):
    """The example's one-hot arrays, padded with the space character."""
    encoder_input_data = np.zeros(
        (len(input_texts), peer["max_encoder_seq_length"], peer["num_encoder_tokens"]),
        dtype="float32")
    decoder_input_data = np.zeros(
        (len(input_texts), peer["max_decoder_seq_length"], peer["num_decoder_tokens"]),
        dtype="float32")
    decoder_target_data = np.zeros(
        (len(input_texts), peer["max_decoder_seq_length"], peer["num_decoder_tokens"]),
        dtype="float32")
    input_token_index, target_token_index = peer["input_token_index"], peer["target_token_index"]
    for i, (input_text, target_text) in enumerate(zip(input_texts, target_texts)):
        for t, char in enumerate(input_text):
            encoder_input_data[i, t, input_token_index[char]] = 1.0
        encoder_input_data[i, t + 1:, input_token_index[" "]] = 1.0
        for t, char in enumerate(target_text):
            decoder_input_data[i, t, target_token_index[char]] = 1.0
            if t > 0:
                decoder_target_data[i, t - 1, target_token_index[char]] = 1.0
        decoder_input_data[i, t + 1:, target_token_index[" "]] = 1.0
        decoder_target_data[i, t:, target_token_index[" "]] = 1.0
    return encoder_input_data, decoder_input_data, decoder_target_data


def peer_data(train_pairs) -> dict:
    input_texts, target_texts = [], []
    input_characters, target_characters = {" "}, {" "}
    for input_text, target_text in train_pairs:
        target_text = "\t" + target_text + "\n"
        input_texts.append(input_text)
        target_texts.append(target_text)
        input_characters.update(input_text)
        target_characters.update(target_text)
    input_characters = sorted(input_characters)
    target_characters = sorted(target_characters)
    peer = {
        "input_texts": input_texts, "target_texts": target_texts,
        "num_encoder_tokens": len(input_characters), "num_decoder_tokens": len(target_characters),
        "max_encoder_seq_length": max(len(txt) for txt in input_texts),
        "max_decoder_seq_length": max(len(txt) for txt in target_texts),
        "input_token_index": {char: i for i, char in enumerate(input_characters)},
        "target_token_index": {char: i for i, char in enumerate(target_characters)},
    }
    peer["reverse_target_char_index"] = {i: c for c, i in peer["target_token_index"].items()}
    return peer


def peer_models(num_encoder_tokens: int, num_decoder_tokens: int, latent_dim: int):
    """The training model, and the inference encoder and one-step decoder sharing its layers."""
    encoder_inputs = keras.Input(shape=(None, num_encoder_tokens))
    encoder = keras.layers.LSTM(latent_dim, return_state=True)
    encoder_outputs, state_h, state_c = encoder(encoder_inputs)
    encoder_states = [state_h, state_c]

    decoder_inputs = keras.Input(shape=(None, num_decoder_tokens))
    decoder_lstm = keras.layers.LSTM(latent_dim, return_sequences=True, return_state=True)
    decoder_outputs, _, _ = decoder_lstm(decoder_inputs, initial_state=encoder_states)
    decoder_dense = keras.layers.Dense(num_decoder_tokens, activation="softmax")
    decoder_outputs = decoder_dense(decoder_outputs)
    model = keras.Model([encoder_inputs, decoder_inputs], decoder_outputs)

    encoder_model = keras.Model(encoder_inputs, encoder_states)
    decoder_states_inputs = [keras.Input(shape=(latent_dim,)), keras.Input(shape=(latent_dim,))]
    decoder_outputs, state_h, state_c = decoder_lstm(
        decoder_inputs, initial_state=decoder_states_inputs)
    decoder_outputs = decoder_dense(decoder_outputs)
    decoder_model = keras.Model([decoder_inputs] + decoder_states_inputs,
                                [decoder_outputs, state_h, state_c])
    return model, encoder_model, decoder_model


def decode_sequences(input_seq, encoder_model, decoder_model, peer) -> list[str]:
    """The example's sampling loop (argmax) for a whole batch: one predict per output step."""
    n = len(input_seq)
    if not n:
        return []
    states_value = encoder_model.predict(input_seq, batch_size=n, verbose=0)
    target_seq = np.zeros((n, 1, peer["num_decoder_tokens"]), dtype="float32")
    target_seq[:, 0, peer["target_token_index"]["\t"]] = 1.0
    decoded_sentences, done = [""] * n, np.zeros(n, dtype=bool)
    for _ in range(peer["max_decoder_seq_length"]):
        output_tokens, h, c = decoder_model.predict([target_seq] + states_value, batch_size=n,
                                                    verbose=0)
        sampled_token_index = np.argmax(output_tokens[:, -1, :], axis=-1)
        for i, token in enumerate(sampled_token_index):
            sampled_char = peer["reverse_target_char_index"][int(token)]
            if done[i] or sampled_char == "\n":
                done[i] = True
            else:
                decoded_sentences[i] += sampled_char
        if done.all():
            break
        target_seq = np.zeros((n, 1, peer["num_decoder_tokens"]), dtype="float32")
        target_seq[np.arange(n), 0, sampled_token_index] = 1.0
        states_value = [h, c]
    return [s.strip() for s in decoded_sentences]


class BatchClock(keras.callbacks.Callback):
    """Seconds from the start of an epoch to the end of its last training batch."""

    def on_epoch_begin(self, epoch, logs=None):
        self.began = self.last = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.last = time.perf_counter()

    @property
    def seconds(self) -> float:
        return self.last - self.began


def run_peer(data: dict, seconds: float) -> dict:
    keras.utils.set_random_seed(MODEL_SEED)
    peer = peer_data(data["train"])
    encoder_input_data, decoder_input_data, decoder_target_data = vectorize(
        peer["input_texts"], peer["target_texts"], peer)
    fit_rows = int(math.floor(len(encoder_input_data) * (1.0 - VALIDATION_SPLIT)))
    model, encoder_model, decoder_model = peer_models(
        peer["num_encoder_tokens"], peer["num_decoder_tokens"], LATENT_DIM)
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])

    ok = decodable(data["held_out"], data["train"])
    sources = [a for (a, _), good in zip(data["held_out"], ok) if good]
    refs = [b for _, b in data["held_out"]]
    held_input = vectorize(sources, ["\t\n"] * len(sources), peer)[0]

    def evaluate() -> tuple[dict, float]:
        began = time.perf_counter()
        outputs = iter(decode_sequences(held_input, encoder_model, decoder_model, peer))
        hyps = [next(outputs) if good else "" for good in ok]
        return score(hyps, refs), time.perf_counter() - began

    log(f"[peer] {len(peer['input_texts']):,} training pairs ({fit_rows:,} fitted, the last "
        f"{len(peer['input_texts']) - fit_rows:,} kept by validation_split), arrays "
        f"{encoder_input_data.shape} {decoder_input_data.shape}, "
        f"{model.count_params():,} parameters")
    clock, epochs, marks = BatchClock(), [], checkpoint_times(seconds)
    checkpoints, fit_s, batches_s, decode_s = [], 0.0, 0.0, []
    while fit_s < seconds:
        began = time.perf_counter()
        history = model.fit([encoder_input_data, decoder_input_data], decoder_target_data,
                            batch_size=BATCH_SIZE, epochs=1, validation_split=VALIDATION_SPLIT,
                            verbose=0, callbacks=[clock])
        before, fit_s = fit_s, fit_s + time.perf_counter() - began
        batches_s += clock.seconds
        logs = {k: float(v[-1]) for k, v in history.history.items()}
        epochs.append({"epoch": len(epochs) + 1, "fit_seconds": fit_s,
                       "batch_seconds": batches_s, "samples_seen": fit_rows * (len(epochs) + 1),
                       **logs})
        log(f"[peer] epoch {len(epochs)}: fit {fit_s:.1f} s, accuracy {logs['accuracy']:.3f}, "
            f"val_accuracy {logs['val_accuracy']:.3f}")
        passed = crossed(before, fit_s, marks)
        if passed:
            scores, took = evaluate()
            decode_s.append(took)
            checkpoints.append({"marks": passed, "seconds": fit_s,
                                "samples_seen": epochs[-1]["samples_seen"], **scores})
            log(f"[peer] held-out chrF {scores['chrf']:.1f}, BLEU {scores['bleu']:.1f} "
                f"(decoded in {took:.1f} s)")
    seen = epochs[-1]["samples_seen"]
    return {
        "system": "peer", "train_pairs": len(peer["input_texts"]), "fit_pairs": fit_rows,
        "params": int(model.count_params()), "epochs": epochs, "checkpoints": checkpoints,
        "train_seconds": fit_s, "batch_seconds": batches_s, "samples_seen": seen,
        "samples_per_second": seen / fit_s, "batch_samples_per_second": seen / batches_s,
        "accuracy": epochs[-1]["accuracy"], "val_accuracy": epochs[-1]["val_accuracy"],
        "undecodable": ok.count(False), "decode_seconds": decode_s,
    }


# ---- the engine ---------------------------------------------------------------------------

def engine_configs(items: list[str], seconds: float,
                   preset: bool = False) -> tuple[ModelConfig, TrainConfig, dict]:
    """The engine's settings with the `--config KEY=VALUE` overrides, checked before any
    training starts; with `preset`, the settings measured for real corpora
    (`presets.CORPUS_PRESET`) under them instead of the peer's network. The third item is
    the token level (`level`, `subwords`: the peer's characters unless given or preset)."""
    values = parse_sets(items)  # the same KEY=VALUE parsing as `train --set`
    if "max_seconds" in values:
        raise InvalidInput("Set the engine's time budget with --seconds (it is the peer's too).")
    tokens = {k: values.pop(k) for k in ("level", "subwords") if k in values}
    model_kw, train_kw = split_overrides(values, ModelConfig, TrainConfig)
    if preset:
        model = asdict(CORPUS_PRESET.model) | model_kw
        train = asdict(CORPUS_PRESET.train) | {"max_seconds": float(seconds), "eval_samples": 1,
                                               "seed": MODEL_SEED} | train_kw
        level = {k: getattr(CORPUS_PRESET.settings, k) for k in ("level", "subwords")}
        return ModelConfig(**model), TrainConfig(**train), level | tokens
    return (ModelConfig(**{**ENGINE_MODEL, **model_kw}),
            TrainConfig(**{"batch_size": BATCH_SIZE, "learning_rate": 0.001,
                           "max_seconds": float(seconds), "max_samples": 20_000_000,
                           "chunk_batches": CHUNK_BATCHES, "eval_samples": 1,
                           "seed": MODEL_SEED, **train_kw}), tokens)


def run_engine(data: dict, model_config: ModelConfig, config: TrainConfig, name: str,
               tokens: dict | None = None) -> dict:
    train, seconds = data["train"], config.max_seconds
    settings = TranslationSettings(corpus=name, max_pairs=len(train), holdout=0.0,
                                   max_length=MAX_SIDE_CHARS, **(tokens or {}))
    task = TranslationTask(settings, Corpus(name, tuple(train)))
    model = Seq2Seq.build(task, model_config, seed=config.seed)
    trainer, decoder = Trainer(model, config), Decoder(model)

    ok = []
    for (source, _), good in zip(data["held_out"], decodable(data["held_out"], train)):
        try:
            ok.append(good and bool(task.validate(source)))
        except InvalidInput:
            ok.append(False)
    sources = [a for (a, _), good in zip(data["held_out"], ok) if good]
    refs = [b for _, b in data["held_out"]]
    marks = checkpoint_times(seconds)
    state = {"scored_at": 0.0, "grid": 0.0, "points": [], "decode": []}

    def evaluate(passed: list[float]) -> None:
        began = time.perf_counter()
        outputs = iter(decoder.predict(sources))
        hyps = [next(outputs) if good else "" for good in ok]
        scores, took = score(hyps, refs), time.perf_counter() - began
        state["decode"].append(took)
        state["points"].append({"marks": passed, "seconds": trainer.train_seconds,
                                "samples_seen": trainer.samples_seen, **scores})
        log(f"[engine] {trainer.train_seconds:.1f} s, {trainer.samples_seen:,} samples: "
            f"chrF {scores['chrf']:.1f}, BLEU {scores['bleu']:.1f} (decoded in {took:.1f} s)")

    def on_chunk(record) -> None:
        now, before = trainer.train_seconds, state["scored_at"]
        grid = now - state["grid"] >= SCORE_EVERY
        passed = crossed(before, now, marks)
        if grid or passed:
            state["grid"] = SCORE_EVERY * math.floor(now / SCORE_EVERY)
            state["scored_at"] = now
            evaluate(passed)

    log(f"[engine] {len(task.split_pairs('train')):,} training pairs, {task.source_len} input "
        f"and {task.target_len} output steps, {model.count_params():,} parameters, "
        f"{model_config.arch}/{model_config.cell} {model_config.units} units, "
        f"embedding {model_config.embedding}")
    reason = trainer.run(on_chunk=on_chunk)
    if trainer.error:
        raise SystemExit(f"engine training failed: {trainer.error}")
    last = state["points"][-1] if state["points"] else None
    if last is None or last["samples_seen"] != trainer.samples_seen:
        evaluate([marks[-1]])
    elif marks[-1] not in last["marks"]:
        last["marks"].append(marks[-1])
    record = trainer.history[-1]
    return {
        "system": "engine", "train_pairs": len(task.split_pairs("train")),
        "params": int(model.count_params()), "model": asdict(model_config),
        "train": asdict(config), "reason": reason, "points": state["points"],
        "checkpoints": [p for p in state["points"] if p["marks"]],
        "train_seconds": trainer.train_seconds, "samples_seen": trainer.samples_seen,
        "samples_per_second": trainer.samples_seen / trainer.train_seconds,
        "token_accuracy": record.token_accuracy, "compiler": record.compiler,
        "undecodable": ok.count(False), "decode_seconds": state["decode"],
    }


# ---- the report ---------------------------------------------------------------------------

def at_mark(system: dict, mark: float) -> dict | None:
    return next((c for c in system["checkpoints"] if mark in c["marks"]), None)


def seconds_to(points: list[dict], chrf: float) -> float | None:
    return next((p["seconds"] for p in points if p["chrf"] >= chrf), None)


def table(result: dict, seconds: float) -> None:
    systems = [result[k] for k in ("peer", "engine") if k in result]
    marks = checkpoint_times(seconds)
    target = result["peer"]["checkpoints"][-1]["chrf"] if "peer" in result else None
    head = ["system", "distinct pairs", "samples/s"] + \
        [f"chrF/BLEU @{m:g} s" + (" (end)" if m == marks[-1] else "") for m in marks] + \
        ["s to peer's final chrF"]
    rows = []
    for s in systems:
        pairs = f"{s['train_pairs']:,}" + (f" (fit {s['fit_pairs']:,})" if "fit_pairs" in s
                                           else "")
        rate = f"{s['samples_per_second']:,.0f}"
        if "batch_samples_per_second" in s:
            rate += f" ({s['batch_samples_per_second']:,.0f} w/o val)"
        cells = []
        for m in marks:
            c = at_mark(s, m)
            cells.append("-" if c is None else
                         f"{c['chrf']:.1f}/{c['bleu']:.1f} ({c['seconds']:.0f} s)")
        points = s.get("points", s["checkpoints"])
        reach = seconds_to(points, target) if target is not None else None
        reach_text = "-" if target is None else (f"{reach:.0f}" if reach is not None
                                                 else "not reached")
        rows.append([s["system"], pairs, rate, *cells, reach_text])
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    log("")
    for r in [head, ["-" * w for w in widths]] + rows:
        log("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    if "ratio" in result:
        log(f"engine/peer samples/s: {result['ratio']:.2f}x "
            f"({result['ratio_without_validation']:.2f}x against the peer's batches alone)")
    notes = []
    if "peer" in result:
        p = result["peer"]
        notes.append(f"peer's own metric: accuracy {p['accuracy']:.3f} (val {p['val_accuracy']:.3f}"
                     f", padding counted) after {len(p['epochs'])} epochs")
    if "engine" in result:
        e = result["engine"]
        notes.append(f"engine's token accuracy (last chunk, padding excluded) "
                     f"{e['token_accuracy']:.3f}; step {e['compiler']}; {e['reason']}")
    u = next(s["undecodable"] for s in systems)
    notes.append(f"{u} of {HELD_OUT:,} held-out sources have a character or length no training "
                 "source has: empty output for both")
    for n in notes:
        log(n)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", required=True, help="a tab-separated English<TAB>French file")
    ap.add_argument("--lines", type=int, default=10_000, help="read this many lines (10,000)")
    ap.add_argument("--seconds", type=float, default=240.0, help="time budget of each (240)")
    only = ap.add_mutually_exclusive_group()
    only.add_argument("--engine-only", action="store_true")
    only.add_argument("--peer-only", action="store_true")
    ap.add_argument("--config", nargs="*", default=[], metavar="KEY=VALUE",
                    help="engine model/training settings, e.g. arch=attention embedding=64")
    ap.add_argument("--preset", action="store_true",
                    help="train the engine with the settings measured for real corpora "
                         "(presets.CORPUS_PRESET) instead of the peer's network")
    ap.add_argument("--json", action="store_true", help="the whole result as JSON at the end")
    args = ap.parse_args(argv)
    try:
        if args.lines < 1:
            raise InvalidInput(f"--lines must be at least 1; got {args.lines}.")
        if not 1 <= args.seconds <= 24 * 3600:
            raise InvalidInput(f"--seconds must be between 1 and 86400; got {args.seconds:g}.")
        model_config, train_config, tokens = engine_configs(args.config, args.seconds,
                                                            args.preset)
        data = split_pairs(read_lines(args.pairs, args.lines))
        name = Path(args.pairs).name
        log(f"{name}: {data['lines']:,} lines, {data['distinct']:,} distinct usable pairs "
            f"({data['skipped']:,} lines skipped: repeated sources, bad lines); "
            f"{len(data['train']):,} to train on, {HELD_OUT:,} held out; {args.seconds:g} s each; "
            f"keras {keras.__version__}, {os.cpu_count()} CPUs")
        result = {"pairs_file": name, "lines": data["lines"], "distinct_pairs": data["distinct"],
                  "held_out": HELD_OUT, "seconds": args.seconds}
        if not args.engine_only:
            result["peer"] = run_peer(data, args.seconds)
        if not args.peer_only:
            result["engine"] = run_engine(data, model_config, train_config, name, tokens)
    except InvalidInput as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if "peer" in result and "engine" in result:
        result["ratio"] = (result["engine"]["samples_per_second"]
                           / result["peer"]["samples_per_second"])
        result["ratio_without_validation"] = (result["engine"]["samples_per_second"]
                                              / result["peer"]["batch_samples_per_second"])
        final = result["peer"]["checkpoints"][-1]["chrf"]
        result["engine"]["seconds_to_peer_chrf"] = seconds_to(result["engine"]["points"], final)
        result["peer"]["seconds_to_peer_chrf"] = seconds_to(result["peer"]["checkpoints"], final)
    table(result, args.seconds)
    if args.json:
        print(json.dumps(result, default=float), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
