"""Keep Keras's global state between script runs (app-wide, set up once by app.py).

Streamlit 1.67 calls `keras.backend.clear_session()` at the end of every script run
(fragment reruns included). That resets Keras's layer-name counters for *every* thread, so
a model that a background thread (a sweep, a study) is building at that moment gets two
layers with one name and fails ("The name "reshape" is used 2 times in the model"). Any
session's rerun can hit another session's sweep, so the fix must be process-wide. This app
keeps its models in session state on purpose, so skip Keras's clean-up (matplotlib's is
kept). Idempotent (marked `keeps_keras`).
"""
from __future__ import annotations

import sys


def keep_keras_state_between_reruns() -> None:
    try:
        from streamlit.runtime.scriptrunner import script_runner
        if getattr(script_runner._clean_problem_modules, "keeps_keras", False):
            return

        def clean_problem_modules() -> None:
            plt = sys.modules.get("matplotlib.pyplot")
            if plt is not None:
                try:
                    plt.close("all")
                except Exception:  # noqa: BLE001, S110 - as Streamlit does
                    pass
        clean_problem_modules.keeps_keras = True
        script_runner._clean_problem_modules = clean_problem_modules
    except Exception:  # noqa: BLE001, S110 - internals moved: nothing to patch
        pass
