"""Shareable links: a task/model/training configuration as flat URL query parameters and back.

Only the task name and values that differ from their defaults go into the query, so links
stay short. Keys are the dataclass field names themselves (`n_terms`, `units`, `seed`...);
the task settings, ModelConfig and TrainConfig share no field name, which a test checks.
Values: booleans as 1/0, None as "none", tuples joined with "|" (or repeated keys).
Unknown keys are ignored, so a link can carry other parameters (a page name, say).

A translation link names its corpus; one made from an uploaded file needs that file again.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, fields

from .config import ModelConfig, TrainConfig
from .errors import InvalidInput
from .settings import kinds
from .tasks import REGISTRY

TASK_KEY = "task"
DEFAULT_TASK = "reverse"
SEPARATOR = "|"
NONE = "none"
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _defaults(cls) -> dict:
    return {f.name: f.default if f.default is not MISSING else f.default_factory()
            for f in fields(cls)}


def _encode(value) -> str:
    if value is None:
        return NONE
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (tuple, list)):
        return SEPARATOR.join(str(v) for v in value)
    return str(value)


def _non_default(obj, cls) -> dict[str, str]:
    defaults = _defaults(cls)
    return {f.name: _encode(getattr(obj, f.name)) for f in fields(cls)
            if getattr(obj, f.name) != defaults[f.name]}


def to_query(task_name: str, task_settings=None, model_config: ModelConfig | None = None,
             train_config: TrainConfig | None = None) -> dict[str, str]:
    """The configuration as query parameters: the task, then only non-default values."""
    if task_name not in REGISTRY:
        raise InvalidInput(f"Unknown task {task_name!r}; choose from: {', '.join(REGISTRY)}.")
    settings_cls = REGISTRY[task_name][0]
    query = {TASK_KEY: task_name}
    if task_settings is not None:
        query |= _non_default(task_settings, settings_cls)
    if model_config is not None:
        query |= _non_default(model_config, ModelConfig)
    if train_config is not None:
        query |= _non_default(train_config, TrainConfig)
    return query


def _last(value) -> str:
    """Streamlit gives the last value of a repeated key; lists are accepted too."""
    if isinstance(value, (list, tuple)):
        if not value:
            return ""
        value = value[-1]
    return str(value).strip()


def _parse(key: str, raw, base: type, optional: bool):
    """One query value converted to the field's type; InvalidInput naming the key if it is bad."""
    if base is tuple:
        items = raw if isinstance(raw, (list, tuple)) else [raw]
        return tuple(part.strip() for item in items for part in str(item).split(SEPARATOR)
                     if part.strip())
    text = _last(raw)
    if optional and text.lower() in (NONE, ""):
        return None
    if base is bool:
        if text.lower() in TRUE:
            return True
        if text.lower() in FALSE:
            return False
        raise InvalidInput(f"Link parameter {key}={text!r} must be 1 or 0.")
    if base is int:
        try:
            return int(text)
        except ValueError:
            raise InvalidInput(f"Link parameter {key}={text!r} must be a whole number.") from None
    if base is float:
        try:
            return float(text)
        except ValueError:
            raise InvalidInput(f"Link parameter {key}={text!r} must be a number.") from None
    return text


def _build(cls, params: Mapping, what: str):
    values = {name: _parse(name, params[name], *kind) for name, kind in kinds(cls).items()
              if name in params}
    try:
        return cls(**values)
    except InvalidInput as err:
        raise InvalidInput(f"The link's {what} are not valid: {err}") from None


def from_query(params: Mapping[str, str | list]):
    """(task_name, settings, model_config, train_config) from query parameters.

    Missing keys take their defaults; bad values raise InvalidInput with a clear message.
    """
    task_name = _last(params.get(TASK_KEY, DEFAULT_TASK)) or DEFAULT_TASK
    if task_name not in REGISTRY:
        raise InvalidInput(f"The link names an unknown task {task_name!r}; "
                           f"tasks are: {', '.join(REGISTRY)}.")
    settings = _build(REGISTRY[task_name][0], params, "task settings")
    return (task_name, settings, _build(ModelConfig, params, "model settings"),
            _build(TrainConfig, params, "training settings"))


def query_string(query: Mapping[str, str]) -> str:
    """The query as the text after '?' in a URL, percent-encoded."""
    from urllib.parse import urlencode
    return urlencode(query)
