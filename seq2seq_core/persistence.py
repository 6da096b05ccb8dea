"""Saving and loading a model with its task: one zip holding `model.keras` and `lab.json`.

Files come from users, so loading trusts nothing in them. Every member's size is checked
before it is read (see `archive`), `lab.json` is checked like any user input (a translation
model carries its sentence pairs, checked like an uploaded file; no field names a file on
the server), and the network is built here from `lab.json`, never from the Keras config:
the weights file must fit that network exactly, so a file cannot carry layers of its own
(Lambda, unknown classes) or a network that disagrees with its task. Every failure is a
ModelFileError with a message for the person who uploaded the file.
"""
from __future__ import annotations

import io
import json
import logging
import tempfile
import warnings
import zipfile
from dataclasses import asdict, fields
from pathlib import Path

import h5py
import keras

from .archive import Member, check_members, extract_member, open_archive, read_member
from .budget import parameter_count
from .config import ModelConfig, TrainConfig, from_json
from .corpus import corpus_from_pairs
from .errors import InvalidInput, ModelFileError
from .model_store import MAX_BYTES, SUFFIX  # noqa: F401 - SUFFIX is part of this API
from .models import Seq2Seq
from .tasks import REGISTRY, make_task, settings_for
from .limits import check_int
from .settings import spec

log = logging.getLogger(__name__)

FORMAT = "seq2seq-lab/2"
# Version 1 files still load, but for the tasks whose encoder now skips padding
# (`Task.bucketed`): their weights learned to read it, and would translate differently.
OLDER = "seq2seq-lab/1"
MAX_FILE_BYTES = MAX_BYTES
# lab.json holds up to 20,000 sentence pairs of 80 characters a side.
MAX_META_BYTES = 6 * 1024 * 1024
MAX_KERAS_BYTES = 128 * 1024 * 1024
OUTER = (Member("lab.json", MAX_META_BYTES), Member("model.keras", MAX_KERAS_BYTES))
WEIGHTS = "model.weights.h5"
INNER = (Member("metadata.json", 64 * 1024), Member("config.json", 4 * 1024 * 1024),
         Member(WEIGHTS, MAX_KERAS_BYTES))
MAX_H5_DEPTH = 10      # Keras nests weights about 6 deep
MAX_H5_OBJECTS = 5000  # groups and datasets; our largest network has a few hundred
UNREADABLE = ("The model file could not be read: it is damaged or was not written by "
              "seq2seq-lab.")


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
            zf.writestr("lab.json", json.dumps(meta, indent=1, ensure_ascii=False))
            zf.write(keras_path, "model.keras")
    return buffer.getvalue()


def save(model: Seq2Seq, path) -> Path:
    path = Path(path)
    if not path.parent.is_dir():
        raise InvalidInput(f"Cannot save to {path}: the folder {path.parent} does not exist.")
    path.write_bytes(to_bytes(model))
    return path


# ---- lab.json: the description, checked like user input --------------------------------------
def untrusted_json(raw: bytes, what: str, error: type[InvalidInput] = ModelFileError):
    """JSON from a file a person gave (or could have written): NaN or Infinity, text that is
    not UTF-8 or not JSON (a number too long to read included), or nesting too deep for the
    parser each raise `error`, saying so of `what` ("The model's description (lab.json)")."""
    def no_constant(name: str):
        raise error(f"{what} holds {name}, which is not a number.")
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=no_constant)
    except error:
        raise
    except (ValueError, UnicodeDecodeError):
        raise error(f"{what} is not valid JSON.") from None
    except RecursionError:
        raise error(f"{what} is nested too deeply.") from None


def _parse_meta(raw: bytes) -> dict:
    meta = untrusted_json(raw, "The model's description (lab.json)")
    if not isinstance(meta, dict) or meta.get("format") not in (FORMAT, OLDER):
        raise ModelFileError(f"Unsupported model file format; expected {FORMAT}.")
    if meta["format"] == OLDER and meta.get("task") in REGISTRY \
            and REGISTRY[meta["task"]][1].bucketed:
        raise ModelFileError("This translation model was saved by an older version of "
                             "seq2seq-lab, whose encoder read the padding before a short "
                             "sentence; this version's skips it, so the saved weights would "
                             "translate differently. Train the model again.")
    return meta


def _section(meta: dict, key: str, kind: type, what: str):
    value = meta.get(key)
    if not isinstance(value, kind):
        raise ModelFileError(f"The model's description lacks its {what}.")
    return value


def _known_keys(values: dict, cls, what: str) -> dict:
    unknown = sorted(set(values) - {f.name for f in fields(cls)})
    if unknown:
        shown = ", ".join(repr(str(k)[:40]) for k in unknown[:5])
        raise ModelFileError(f"The model's {what} hold unknown keys: {shown}.")
    return from_json(values)


def describe(meta: dict):
    """(task, model config, seed) from a parsed lab.json; ModelFileError if anything is off."""
    name = meta.get("task")
    if not isinstance(name, str) or name not in REGISTRY:
        raise ModelFileError(f"The model names an unknown task; tasks are: {', '.join(REGISTRY)}.")
    raw_settings = _section(meta, "settings", dict, "task settings")
    raw_model = _section(meta, "model", dict, "network settings")
    try:
        seed_spec = spec(TrainConfig, "seed")
        seed = check_int(seed_spec.label, meta.get("seed", 0), seed_spec.low, seed_spec.high)
        settings = settings_for(name, **_known_keys(raw_settings, REGISTRY[name][0], "task settings"))
    except InvalidInput as err:
        raise ModelFileError(f"The saved task settings are not valid: {err}") from None
    try:
        config = ModelConfig(**_known_keys(raw_model, ModelConfig, "network settings"))
    except InvalidInput as err:
        raise ModelFileError(f"The saved network settings are not valid: {err}") from None
    corpus = None
    if name == "translation":
        section = _section(meta, "corpus", dict, "sentence pairs")
        try:
            corpus = corpus_from_pairs(section.get("name", "upload"), section.get("pairs"))
        except InvalidInput as err:
            raise ModelFileError(str(err)) from None
    try:
        task = make_task(name, settings, corpus)
    except InvalidInput as err:
        raise ModelFileError(f"The saved task is not valid: {err}") from None
    return task, config, seed


# ---- model.keras: weights that must fit the network lab.json describes -----------------------
def _classes(config) -> set[tuple[str, str]]:
    """(module, class name) of every object in a Keras config, walked without recursion."""
    found, stack = set(), [config]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "class_name" in item:
                found.add((str(item.get("module")), str(item["class_name"])))
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _check_config(raw: bytes, model: Seq2Seq) -> None:
    """The Keras config may name only the kinds of objects this network is made of."""
    config = untrusted_json(raw, "The Keras model's config.json")
    ours = _classes(json.loads(json.dumps(keras.saving.serialize_keras_object(model.train_model))))
    foreign = sorted(_classes(config) - ours)
    if foreign:
        shown = ", ".join(f"{cls} ({module})" for module, cls in foreign[:4])
        raise ModelFileError(f"The Keras model holds objects seq2seq-lab never makes: {shown}. "
                             "Only models saved by seq2seq-lab can be loaded.")


def _check_weights(path: Path, params: int) -> None:
    """Plain float datasets stored in the file itself, no bigger than the network.

    One bounded walk of the file's groups: every object may be reached by one hard link only
    (a group linked inside itself would make the walk endless), no soft or external links,
    at most MAX_H5_DEPTH levels and MAX_H5_OBJECTS objects, before any data is read.
    """
    total = 0
    with h5py.File(path, "r") as h5:
        for dataset in _datasets(h5):
            if dataset.external or dataset.is_virtual:
                raise ModelFileError("The weights file holds data stored outside the file; "
                                     "refused.")
            if dataset.dtype.kind != "f" or dataset.dtype.itemsize > 8:
                raise ModelFileError("The weights file holds values that are not "
                                     "floating-point numbers; refused.")
            total += int(dataset.size) * 4
    if total > 4 * params + 1024:
        raise ModelFileError(f"The weights file declares {total // 4:,} numbers; this network "
                             f"has {params:,} parameters.")


def _datasets(h5: h5py.File) -> list:
    """Every dataset of the file, found by a walk that refuses links, loops and sprawl."""
    found, stack, count = [], [(h5, 0)], 0
    while stack:
        group, depth = stack.pop()
        count += len(group)
        if count > MAX_H5_OBJECTS or depth > MAX_H5_DEPTH:
            raise ModelFileError("The weights file is far more deeply nested or holds far more "
                                 "objects than a network's weights; refused.")
        for key in group.keys():
            if not isinstance(group.get(key, getlink=True), h5py.HardLink):
                raise ModelFileError(f"The weights file holds a link ({key[:40]!r}); refused.")
            item = group[key]
            if h5py.h5o.get_info(item.id).rc != 1:
                raise ModelFileError("The weights file reaches one object by two paths; "
                                     "refused.")
            if isinstance(item, h5py.Group):
                stack.append((item, depth + 1))
            elif isinstance(item, h5py.Dataset):
                found.append(item)
            else:
                raise ModelFileError("The weights file holds an object that is not weights; "
                                     "refused.")
    return found


def _keras_limit(params: int) -> int:
    """The most bytes the Keras file of a network this size can need (weights, config)."""
    return 4 * params + 8 * 1024 * 1024


def _load_network(keras_path: Path, model: Seq2Seq, params: int, tmp: Path) -> None:
    """Load the weights inside `keras_path` into `model` (a network of `params` parameters)."""
    limit = _keras_limit(params)
    with open_archive(keras_path, "The Keras model inside") as inner:
        check_members(inner, INNER[:2] + (Member(WEIGHTS, limit),), "The Keras model inside")
        _check_config(read_member(inner, "config.json", INNER[1].max_bytes), model)
        weights = extract_member(inner, WEIGHTS, tmp / WEIGHTS, limit)
    _check_weights(weights, params)
    try:
        with warnings.catch_warnings():  # Keras warns per layer before it raises
            warnings.simplefilter("ignore")
            model.train_model.load_weights(weights)
    except ValueError:
        raise ModelFileError("The network inside does not match its description (its layers "
                             "or sizes differ from the task and settings in lab.json).") from None


# ---- loading -----------------------------------------------------------------------------
def from_bytes(data: bytes, max_params: int | None = None) -> Seq2Seq:
    """Rebuild a saved model; any problem raises ModelFileError with a clear message.

    `max_params` refuses, before anything is built, a network larger than a server allows.
    """
    try:
        return _from_bytes(data, max_params)
    except ModelFileError:
        raise
    except InvalidInput as err:
        raise ModelFileError(str(err)) from None
    except MemoryError:
        raise ModelFileError("The model file needs more memory than this server has.") from None
    except Exception:  # noqa: BLE001 - a hostile file must never surface a raw error
        log.info("refused a model file", exc_info=True)  # for the operator; never on screen
        raise ModelFileError(UNREADABLE) from None


def _from_bytes(data: bytes, max_params: int | None) -> Seq2Seq:
    if not isinstance(data, (bytes, bytearray)) or not data:
        raise ModelFileError("The model file is empty.")
    if len(data) > MAX_FILE_BYTES:
        raise ModelFileError(f"The file is {len(data) / 1e6:.1f} MB; the maximum is "
                             f"{MAX_FILE_BYTES / 1e6:.0f} MB.")
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        with open_archive(io.BytesIO(data), "This file") as zf:
            check_members(zf, OUTER, "The model file")
            task, config, seed = describe(_parse_meta(read_member(zf, "lab.json", MAX_META_BYTES)))
            params = parameter_count(task, config)
            if max_params is not None and params > max_params:
                raise ModelFileError(f"This model has {params:,} parameters; this server "
                                     f"loads models of at most {max_params:,}.")
            limit = _keras_limit(params)
            declared = zf.getinfo("model.keras").file_size
            if declared > limit:
                raise ModelFileError(f"model.keras inflates to {declared / 1e6:,.1f} MB; a network "
                                     f"of {params:,} parameters needs at most {limit / 1e6:,.1f} MB.")
            keras_path = extract_member(zf, "model.keras", tmp / "model.keras", limit)
        model = Seq2Seq.build(task, config, seed=seed)
        _load_network(keras_path, model, params, tmp)
    return model


def load(path) -> Seq2Seq:
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"No model file at {path}.")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ModelFileError(f"{path.name} is larger than {MAX_FILE_BYTES / 1e6:.0f} MB.")
    return from_bytes(path.read_bytes())
