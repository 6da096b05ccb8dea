"""Streamlit-side helpers for seq2seq-lab's pages (the core package never imports streamlit).

- `ui.form`: the Train page's widgets (each drawn from its setting's Spec), their
  session-state keys, and presets that fill them.
- `ui.cache`: results kept per session and recomputed only when what they depend on changes.
- `ui.training`: the session's Trainer in `st.session_state`, start/pause/resume/stop.
- `ui.session`: the process-wide registry that caps concurrent trainings and stops the
  training of closed sessions.
- `ui.widgets`: widget values that survive a page switch (Inspect, Why attention?, Sweep).
- `ui.history`, `ui.models`, `ui.share`, `ui.sweep`: the run history, model files, share
  links and the session's sweep; `ui.keras_state` keeps Keras' state between reruns.
- `ui.train_page`, `ui.inspector`, `ui.study`, `ui.sweep_views`: each page's views, so the
  pages themselves read top to bottom.
"""
