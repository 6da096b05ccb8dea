"""Altair charts drawn from core results: pure functions, no streamlit.

Training curves live in `seq2seq_core.charts.training`; the inspector's charts in
`seq2seq_core.charts.inspection`.
"""
from .training import accuracy_chart, history_frames, live_table, loss_chart

__all__ = ["accuracy_chart", "history_frames", "live_table", "loss_chart"]
