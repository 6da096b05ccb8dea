"""Saving and loading a model with its task: one zip holding `model.keras` and `lab.json`.

Loading reads the Keras file with `safe_mode=True` from a temporary directory and rebuilds
the inference models from the loaded layers by name.
"""
from __future__ import annotations

import io
import json
import tempfile
import zipfile
from dataclasses import asdict
from pathlib import Path

import keras

from .config import ModelConfig
from .corpus import Corpus
from .errors import InvalidInput, ModelFileError
from .models import Seq2Seq, layers_from_model
from .tasks import make_task, settings_for

FORMAT = "seq2seq-lab/1"
MAX_FILE_BYTES = 64 * 1024 * 1024
SUFFIX = ".s2s"


def to_bytes(model: Seq2Seq) -> bytes:
    """The model, its task and configuration as the bytes of one zip file."""
    task = model.task
    meta = {"format": FORMAT, "task": task.name, "settings": asdict(task.settings),
            "model": asdict(model.config), "seed": model.seed,
            "params": model.count_params()}
    if task.name == "translation":
        meta["corpus"] = {"name": task.corpus.name, "pairs": [list(p) for p in task.pairs]}
    with tempfile.TemporaryDirectory() as tmp:
        keras_path = Path(tmp) / "model.keras"
        model.train_model.save(keras_path)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("lab.json", json.dumps(meta, indent=1))
            zf.write(keras_path, "model.keras")
    return buffer.getvalue()


def save(model: Seq2Seq, path) -> Path:
    path = Path(path)
    path.write_bytes(to_bytes(model))
    return path


def _read_meta(zf: zipfile.ZipFile) -> dict:
    names = set(zf.namelist())
    if not {"lab.json", "model.keras"} <= names:
        raise ModelFileError("This zip is not a seq2seq-lab model: it lacks lab.json or model.keras.")
    try:
        meta = json.loads(zf.read("lab.json"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ModelFileError("The model's description (lab.json) is not valid JSON.") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"Unsupported model file format; expected {FORMAT}.")
    return meta


def _task_from(meta: dict):
    try:
        corpus = None
        if meta["task"] == "translation":
            pairs = tuple(tuple(p) for p in meta["corpus"]["pairs"])
            corpus = Corpus(meta["corpus"]["name"], pairs)
        settings = settings_for(meta["task"], **_tuples(meta["settings"]))
        return make_task(meta["task"], settings, corpus)
    except InvalidInput as err:
        raise ModelFileError(f"The saved task settings are not valid: {err}") from None
    except (KeyError, TypeError) as err:
        raise ModelFileError(f"The model's description is incomplete ({err}).") from None


def _tuples(values: dict) -> dict:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}


def from_bytes(data: bytes) -> Seq2Seq:
    """Rebuild a saved model; any problem raises ModelFileError with a clear message."""
    if len(data) > MAX_FILE_BYTES:
        raise ModelFileError(f"The file is {len(data) / 1e6:.1f} MB; the maximum is "
                             f"{MAX_FILE_BYTES / 1e6:.0f} MB.")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ModelFileError("This is not a seq2seq-lab model file (not a zip archive).") from None
    with zf:
        meta = _read_meta(zf)
        task = _task_from(meta)
        try:
            config = ModelConfig(**meta["model"])
        except (InvalidInput, TypeError) as err:
            raise ModelFileError(f"The saved model settings are not valid: {err}") from None
        with tempfile.TemporaryDirectory() as tmp:
            keras_path = Path(tmp) / "model.keras"
            keras_path.write_bytes(zf.read("model.keras"))
            try:
                net = keras.saving.load_model(keras_path, compile=False, safe_mode=True)
            except Exception as err:  # noqa: BLE001 - Keras raises many kinds for bad files
                raise ModelFileError(f"The Keras model inside could not be loaded: {err}") from None
    try:
        layers = layers_from_model(net, config)
        model = Seq2Seq(task, config, layers, seed=int(meta.get("seed", 0)))
    except (ValueError, KeyError) as err:
        raise ModelFileError(f"The Keras model does not match its description: {err}") from None
    return model


def load(path) -> Seq2Seq:
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"No model file at {path}.")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ModelFileError(f"{path.name} is larger than {MAX_FILE_BYTES / 1e6:.0f} MB.")
    return from_bytes(path.read_bytes())
