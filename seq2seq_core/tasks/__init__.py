"""The task registry: name -> (settings class, task class)."""
from __future__ import annotations

from dataclasses import fields

from ..errors import InvalidInput
from .addition import AdditionSettings, AdditionTask
from .base import Example, Pairs, Task
from .dates import DateSettings, DateTask
from .reverse import ReverseSettings, ReverseTask
from .translation import TranslationSettings, TranslationTask

TaskSettings = ReverseSettings | AdditionSettings | TranslationSettings | DateSettings

REGISTRY = {
    "reverse": (ReverseSettings, ReverseTask),
    "addition": (AdditionSettings, AdditionTask),
    "translation": (TranslationSettings, TranslationTask),
    "dates": (DateSettings, DateTask),
}


def settings_for(name: str, **values) -> TaskSettings:
    """The task's settings dataclass built from `values`; unknown keys get a clear error."""
    if name not in REGISTRY:
        raise InvalidInput(f"Unknown task {name!r}; choose from: {', '.join(REGISTRY)}.")
    cls = REGISTRY[name][0]
    known = {f.name for f in fields(cls)}
    extra = sorted(set(values) - known)
    if extra:
        raise InvalidInput(f"Task {name!r} has no setting {', '.join(extra)}; "
                           f"its settings are: {', '.join(sorted(known))}.")
    return cls(**values)


def make_task(name: str, settings: TaskSettings | None = None, corpus=None, **values) -> Task:
    """Build a task by name from a settings object or keyword values."""
    settings = settings if settings is not None else settings_for(name, **values)
    task_cls = REGISTRY[name][1]
    return task_cls(settings, corpus) if name == "translation" else task_cls(settings)


__all__ = ["REGISTRY", "Example", "Pairs", "Task", "TaskSettings", "make_task", "settings_for",
           "AdditionSettings", "DateSettings", "ReverseSettings", "TranslationSettings"]
