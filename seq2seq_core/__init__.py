"""seq2seq-lab's engine: tasks, encoder-decoder models, training, decoding and inspection.

Data flows one way: settings -> task -> model -> trainer -> decoder/inspector -> charts.
This package never imports streamlit.
"""
from .config import ModelConfig, TrainConfig
from .corpus import Corpus, parse_pairs, phrasebook
from .errors import InvalidInput, ModelFileError
from .evaluation import Evaluation, evaluate
from .models import Seq2Seq
from .persistence import from_bytes, load, save, to_bytes
from .status import Status
from .tasks import REGISTRY, Task, make_task, settings_for
from .training import Snapshot, Trainer

__all__ = [
    "Corpus", "Evaluation", "InvalidInput", "ModelConfig", "ModelFileError", "REGISTRY",
    "Seq2Seq", "Snapshot", "Status", "Task", "TrainConfig", "Trainer", "evaluate", "from_bytes",
    "load", "make_task", "parse_pairs", "phrasebook", "save", "settings_for", "to_bytes",
]
