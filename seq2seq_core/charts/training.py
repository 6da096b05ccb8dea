"""Training curves from a trainer's history (a sequence of ChunkRecord): pure functions.

Every chart is redrawn from the whole history (no incremental add_rows). Per-batch series
are the true per-batch values, thinned by striding (never smoothed) when there are more
than `max_points` of them, so a long run still draws quickly. `height` is the plot area
(`seq2seq_core.charts.sizing`); the legend and title are added above it.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache

import altair as alt
import numpy as np
import pandas as pd

from .sizing import LEGEND_LINES, plot_height, sized

MAX_POINTS = 400
TRAIN_COLOR = "#9ab6e0"
SERIES_COLORS = {
    "training loss (per batch)": TRAIN_COLOR,
    "validation loss": "#d9480f",
    "training token accuracy (per batch)": TRAIN_COLOR,
    "validation token accuracy": "#1f5fbf",
    "exact match (whole sequence)": "#d9480f",
    "held-out chrF (÷ 100)": "#2b8a3e",
    "held-out BLEU (÷ 100)": "#862e9c",
}


def history_frames(history: Sequence, max_points: int = MAX_POINTS) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(batches, chunks) as long tables against samples seen.

    batches: samples, batch, loss, accuracy (one row per batch, strided above max_points).
    chunks: samples, chunk, train_loss, val_loss, token_accuracy, exact_match, samples_per_second,
    chrf, bleu (NaN where the task scores no text).
    """
    batch_rows, chunk_rows, seen_before = [], [], 0
    for rec in history:
        n = len(rec.batch_losses)
        if n:
            step = (rec.samples_seen - seen_before) / n
            for i, (loss, acc) in enumerate(zip(rec.batch_losses, rec.batch_accuracies)):
                batch_rows.append((seen_before + step * (i + 1), loss, acc))
        chunk_rows.append((rec.samples_seen, rec.chunk, rec.train_loss, rec.val_loss,
                           rec.val_token_accuracy, rec.exact_match, rec.samples_per_second,
                           _number(rec.chrf), _number(rec.bleu)))
        seen_before = rec.samples_seen
    batches = pd.DataFrame(batch_rows, columns=["samples", "loss", "accuracy"])
    batches.insert(1, "batch", np.arange(1, len(batches) + 1))
    if len(batches) > max_points:
        stride = int(np.ceil(len(batches) / max_points))
        keep = np.arange(len(batches) - 1, -1, -stride)[::-1]  # always keep the latest batch
        batches = batches.iloc[keep].reset_index(drop=True)
    chunks = pd.DataFrame(chunk_rows, columns=["samples", "chunk", "train_loss", "val_loss",
                                               "token_accuracy", "exact_match",
                                               "samples_per_second", "chrf", "bleu"])
    return batches, chunks


def _number(value) -> float:
    return float("nan") if value is None else float(value)


def _series(frame: pd.DataFrame, column: str, name: str) -> pd.DataFrame:
    return pd.DataFrame({"samples": frame["samples"].astype(float),
                         "value": frame[column].astype(float), "series": name})


def _color(names: list[str]) -> alt.Color:
    return alt.Color("series:N", title=None,
                     scale=alt.Scale(domain=names, range=[SERIES_COLORS[n] for n in names]),
                     legend=alt.Legend(orient="top", columns=1, labelFontSize=13,
                                       symbolStrokeWidth=3, **LEGEND_LINES))


def _layered(light, bold, names: list[str], y: alt.Y, title: str, fmt: str,
             height: int) -> alt.LayerChart:
    """Per-batch series (light) under per-chunk series (bold); `light`/`bold` are frames or
    `alt.Data` names."""
    x = alt.X("samples:Q", title="samples seen", axis=alt.Axis(format="~s", labelFontSize=12,
                                                                  titleFontSize=13))
    tooltip = [alt.Tooltip("series:N"), alt.Tooltip("samples:Q", format=",.0f"),
               alt.Tooltip("value:Q", format=fmt)]
    base_light = alt.Chart(light).mark_line(strokeWidth=1, opacity=0.7)
    base_bold = alt.Chart(bold).mark_line(strokeWidth=3, point=alt.OverlayMarkDef(size=40))
    layers = [base_light.encode(x=x, y=y, color=_color(names), tooltip=tooltip),
              base_bold.encode(x=x, y=y, color=_color(names), tooltip=tooltip)]
    return sized(alt.layer(*layers), plot_height(height), title)


LOSS_SERIES = ["training loss (per batch)", "validation loss"]
ACCURACY_SERIES = ["training token accuracy (per batch)", "validation token accuracy",
                   "exact match (whole sequence)"]
# translation: chrF and BLEU are 0-100 scores, drawn as shares on the same axis
TEXT_SERIES = {"chrf": "held-out chrF (÷ 100)", "bleu": "held-out BLEU (÷ 100)"}


def _loss_data(batches: pd.DataFrame, chunks: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, bool]:
    """(light, bold, log scale?) of the loss chart."""
    light = _series(batches, "loss", LOSS_SERIES[0])
    bold = _series(chunks, "val_loss", LOSS_SERIES[1])
    values = pd.concat([light["value"], bold["value"]])
    positive = values[values > 0]
    log = bool(len(positive) > 0 and positive.max() / max(positive.min(), 1e-12) > 20)
    return light, bold, log


def has_text_scores(chunks: pd.DataFrame) -> bool:
    """Whether the run's task scores text (chrF and BLEU are known)."""
    return bool(chunks["chrf"].notna().any())


def _accuracy_data(batches: pd.DataFrame, chunks: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    light = _series(batches, "accuracy", ACCURACY_SERIES[0])
    parts = [_series(chunks, "token_accuracy", ACCURACY_SERIES[1]),
             _series(chunks, "exact_match", ACCURACY_SERIES[2])]
    if has_text_scores(chunks):
        parts += [_series(chunks.assign(**{c: chunks[c] / 100}), c, name)
                  for c, name in TEXT_SERIES.items()]
    return light, pd.concat(parts, ignore_index=True)


def _loss_layers(light, bold, log: bool, height: int) -> alt.LayerChart:
    scale = alt.Scale(type="log") if log else alt.Scale(zero=True)
    y = alt.Y("value:Q", title="loss", scale=scale,
              axis=alt.Axis(labelFontSize=12, titleFontSize=13))
    return _layered(light, bold, LOSS_SERIES, y, "Loss", ".4f", height)


def _accuracy_layers(light, bold, height: int, text: bool = False) -> alt.LayerChart:
    """The accuracy chart; with `text`, held-out chrF and BLEU beside exact match."""
    y = alt.Y("value:Q", title="share correct" + (" · score ÷ 100" if text else ""),
              scale=alt.Scale(domain=[0, 1]),
              axis=alt.Axis(format="%", labelFontSize=12, titleFontSize=13))
    names = ACCURACY_SERIES + (list(TEXT_SERIES.values()) if text else [])
    title = "Accuracy, chrF and BLEU" if text else "Accuracy"
    return _layered(light, bold, names, y, title, ".1%", height)


def loss_chart(history: Sequence, height: int = 220, max_points: int = MAX_POINTS) -> alt.LayerChart:
    """Training loss per batch (light) and validation loss per chunk (bold); log scale once
    the loss spans more than a factor of 20."""
    light, bold, log = _loss_data(*history_frames(history, max_points))
    return _loss_layers(light, bold, log, height)


def accuracy_chart(history: Sequence, height: int = 220, max_points: int = MAX_POINTS) -> alt.LayerChart:
    """Token accuracy per batch (light), validation token accuracy and exact match (bold),
    and for translation held-out chrF and BLEU."""
    batches, chunks = history_frames(history, max_points)
    return _accuracy_layers(*_accuracy_data(batches, chunks), height, has_text_scores(chunks))


@lru_cache(maxsize=8)
def _template(kind: str, log: bool, height: int, text: bool = False) -> str:
    """A chart's Vega-Lite spec with named datasets "light" and "bold", as JSON (built once)."""
    light, bold = alt.Data(name="light"), alt.Data(name="bold")
    chart = (_loss_layers(light, bold, log, height) if kind == "loss"
             else _accuracy_layers(light, bold, height, text))
    return json.dumps(chart.to_dict())


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{"samples": s, "value": v, "series": n} for s, v, n in
            zip(frame["samples"].tolist(), frame["value"].tolist(), frame["series"].tolist())]


def live_specs(history: Sequence, height: int = 220,
               max_points: int = MAX_POINTS) -> tuple[dict, dict]:
    """The loss and accuracy charts as Vega-Lite specs, for redrawing while training runs.

    The same charts as `loss_chart`/`accuracy_chart`, but altair builds each chart's
    structure once; a redraw only fills in the data. Building altair charts costs ~100 ms of
    Python per poll, which holds the GIL and slows the training thread beside it.
    """
    batches, chunks = history_frames(history, max_points)
    specs, text = [], has_text_scores(chunks)
    for kind, (light, bold, *log) in (("loss", _loss_data(batches, chunks)),
                                      ("accuracy", _accuracy_data(batches, chunks))):
        spec = json.loads(_template(kind, bool(log and log[0]), height, text))
        spec["datasets"] = {"light": _records(light), "bold": _records(bold)}
        specs.append(spec)
    return specs[0], specs[1]


def live_table(live: Sequence) -> pd.DataFrame:
    """The latest held-out predictions as a table: input, expected, predicted, ✓/✗."""
    return pd.DataFrame({
        "input": [p.input for p in live],
        "expected": [p.expected for p in live],
        "predicted": [p.predicted for p in live],
        "": ["✓" if p.correct else "✗" for p in live],
    }, columns=["input", "expected", "predicted", ""])
