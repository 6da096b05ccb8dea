"""Streamlit-side helpers for seq2seq-lab's pages (the core package never imports streamlit).

- `ui.form`: the Train page's widgets, their session-state keys, and presets that fill them.
- `ui.training`: the session's Trainer in `st.session_state`, start/pause/resume/stop.
- `ui.session`: the process-wide registry that caps concurrent trainings and stops the
  training of closed sessions.
- `ui.widgets`: widget values that survive a page switch (Inspect, Why attention?, Sweep).
- `ui.history`, `ui.models`, `ui.share`, `ui.sweep`: the run history, model files, share
  links and the session's sweep; `ui.keras_state` keeps Keras' state between reruns.
"""
