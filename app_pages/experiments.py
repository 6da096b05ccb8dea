"""Experiments: every recorded training run, side by side.

Runs come from `seq2seq_core.history.History` (one SQLite file under $SEQ2SEQ_LAB_DATA or
~/.seq2seq-lab): the Train page and the sweeps record each run with its settings and curves.
Every key this page keeps in session state starts with "exp_".
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from seq2seq_core.charts.experiments import overlay_chart
from seq2seq_core.errors import InvalidInput
from seq2seq_core.history import run_title
from ui import current, identity
from ui.history import get_history
from ui.text import md

COMPARE_DEFAULT = 3
COLUMNS = {
    "id": st.column_config.NumberColumn("#", format="%d", width="small"),
    "yours": st.column_config.CheckboxColumn("yours", help="Runs started in this browser: only "
                                             "you (or the teacher) can rename or delete them."),
    "name": st.column_config.TextColumn("name", width="large"),
    "task": "task", "arch": "architecture", "cell": "cell",
    "units": st.column_config.NumberColumn("units", format="%d"),
    "layers": st.column_config.NumberColumn("layers", format="%d"),
    "params": st.column_config.NumberColumn("parameters", format="localized"),
    "exact_match": st.column_config.ProgressColumn("exact match", format="percent",
                                                   min_value=0.0, max_value=1.0),
    "token_accuracy": st.column_config.NumberColumn("token accuracy", format="percent"),
    "chrf": st.column_config.NumberColumn("chrF", format="%.1f",
                                          help="Translation runs: held-out chrF (0-100), the "
                                               "character n-gram F-score of the outputs."),
    "bleu": st.column_config.NumberColumn("BLEU", format="%.1f",
                                          help="Translation runs: held-out BLEU (0-100)."),
    "train_seconds": st.column_config.NumberColumn("training time (s)", format="%.1f"),
    "samples_seen": st.column_config.NumberColumn("samples", format="localized"),
    "samples_per_second": st.column_config.NumberColumn("samples/s", format="%.0f"),
    "status": "status",
    "device": st.column_config.TextColumn("trained on", help="The processor the run trained on "
                                          "(CPU or GPU, and which machine)."),
    "model_mb": st.column_config.NumberColumn("kept model (MB)", format="%.1f",
                                              help="Runs from the Train page keep their trained "
                                                   "model (each person's most recent ones), to "
                                                   "reopen in Inspect."),
    "created": st.column_config.DatetimeColumn("created (UTC)", format="YYYY-MM-DD HH:mm"),
    "sweep_id": "sweep",
}

history = get_history()
me, managing_all = identity.owner_id(), identity.is_teacher()
st.title("Experiments")
st.caption("Every training started on the Train page and every cell of a sweep is recorded "
           "here with its settings and curves, and kept across restarts.")

runs = history.list_runs()
runs["yours"] = runs["owner"] == me
runs["model_mb"] = runs["model_bytes"].astype(float) / 1e6
if runs.empty:
    st.info("No runs yet. Train a model on the **Train** page (or run a sweep): it appears "
            "here as soon as it starts.")
    st.page_link("app_pages/train.py", label="Go to the Train page", icon=":material/model_training:")
    st.stop()


def label(run_id: int) -> str:
    row = runs.loc[runs["id"] == run_id].iloc[0]
    score = "" if pd.isna(row["exact_match"]) else f" — {row['exact_match']:.0%}"
    return f"{run_title(run_id, row['name'])}{score}"


# ---- the table ---------------------------------------------------------------------------
top = st.columns([3, 1, 1], vertical_alignment="bottom")
with_sweeps = top[0].toggle("Include sweep runs", value=True, key="exp_with_sweeps")
top[1].button("Refresh", icon=":material/refresh:", key="exp_refresh", width="stretch",
              help="Runs still training update their numbers when the page is refreshed.")
top[2].download_button("Download CSV", history.to_csv(), file_name="seq2seq-lab-runs.csv",
                       mime="text/csv", icon=":material/download:", key="exp_csv",
                       width="stretch",
                       help="Every run with its full settings (task, network, training) as "
                            "JSON columns.")
shown = runs if with_sweeps else runs[runs["sweep_id"].isna()]
st.dataframe(shown[list(COLUMNS)], column_config=COLUMNS, hide_index=True, width="stretch",
             height=min(38 + 35 * len(shown), 400), key="exp_table")
st.caption(f"{len(shown):,} runs · click a column header to sort.")

# ---- open a kept model ---------------------------------------------------------------------
def open_in_inspect(run: int) -> None:
    if error := current.open_run(run):
        st.session_state["exp_open_error"] = error
    else:
        st.session_state["_exp_go_inspect"] = True


openable = current.openable_runs()
if not openable.empty:
    o1, o2 = st.columns([3, 1], vertical_alignment="bottom")
    labels = {int(r["id"]): current.run_label(r) for _, r in openable.iterrows()}
    pick = o1.selectbox("A run with its model kept", list(labels), format_func=labels.get,
                        key="exp_open_pick")
    o2.button("Open in Inspect", icon=":material/search:", key="exp_open", width="stretch",
              on_click=open_in_inspect, args=(pick,), type="primary")
    if error := st.session_state.pop("exp_open_error", None):
        st.error(md(error))
    if st.session_state.pop("_exp_go_inspect", False):
        st.switch_page("app_pages/inspect.py")

# ---- compare curves ----------------------------------------------------------------------
st.subheader("Compare runs")
ids = [int(i) for i in shown["id"]]
with_curves = [int(i) for i in shown.loc[shown["chunks"] > 0, "id"]]
if "exp_compare" not in st.session_state:
    st.session_state["exp_compare"] = with_curves[:COMPARE_DEFAULT]
else:  # forget runs deleted or hidden since
    st.session_state["exp_compare"] = [i for i in st.session_state["exp_compare"] if i in ids]
selected = st.multiselect("Runs to overlay", ids, format_func=label, key="exp_compare",
                          placeholder="Choose runs to compare")
if selected:
    x = st.radio("Horizontal axis", ["samples_seen", "train_seconds"], horizontal=True,
                 format_func={"samples_seen": "Samples seen",
                              "train_seconds": "Training time"}.get, key="exp_x")
    curves = history.curves(selected)
    if curves.empty:
        st.info("These runs have no curves yet (they stopped before their first chunk).")
    else:
        c1, c2 = st.columns(2)
        c1.altair_chart(overlay_chart(curves, "exact_match", x), width="stretch")
        c2.altair_chart(overlay_chart(curves, "val_loss", x), width="stretch")
        if curves["chrf"].notna().any():
            st.altair_chart(overlay_chart(curves, "chrf", x), width="stretch")
else:
    st.caption("Choose one or more runs above to overlay their curves.")

# ---- rename / delete ---------------------------------------------------------------------
st.subheader("Rename or delete a run")
CONFIRM = "exp_confirm_delete"
if flash := st.session_state.pop("exp_flash", None):
    st.success(md(flash))
if flash := st.session_state.pop("exp_flash_error", None):
    st.error(md(flash))
manageable = ids if managing_all else [int(i) for i in shown.loc[shown["yours"], "id"]]
if not manageable:
    st.caption("You can rename or delete the runs you start; none of the runs above is yours "
               "yet. The teacher can manage every run.")
    st.stop()
st.caption("Every run is yours to rename or delete, in teacher mode." if managing_all else
           "You can rename or delete the runs you started (marked “yours” above).")
if st.session_state.get("exp_manage") not in manageable:
    st.session_state["exp_manage"] = manageable[0]
m1, m2 = st.columns([2, 3], vertical_alignment="bottom")
run_id = m1.selectbox("Run", manageable, format_func=label, key="exp_manage")
current_name = runs.loc[runs["id"] == run_id, "name"].iloc[0]
if st.session_state.get("exp_rename_for") != run_id:  # a new run: start from its name
    st.session_state["exp_rename_for"] = run_id
    st.session_state["exp_new_name"] = current_name
new_name = m2.text_input("Name", key="exp_new_name", max_chars=100)
b1, b2, _ = st.columns([1, 1, 3])
if b1.button("Rename", icon=":material/edit:", key="exp_rename", width="stretch",
             disabled=new_name.strip() == current_name):
    try:
        history.rename(run_id, new_name, by=identity.manager())
    except InvalidInput as err:
        st.error(md(str(err)))
    else:
        st.session_state["exp_flash"] = f"Renamed run #{run_id} to “{new_name.strip()}”."
        st.rerun()
training_now = history.is_active(run_id)
if b2.button("Delete…", icon=":material/delete:", key="exp_delete", width="stretch",
             disabled=training_now,
             help="A run that is training or paused cannot be deleted: stop it first."
             if training_now else None):
    st.session_state[CONFIRM] = run_id
if st.session_state.get(CONFIRM) == run_id:
    with st.container(border=True):
        st.warning(f"Delete **{md(label(run_id))}** and its curves? This cannot be undone.",
                   icon=":material/warning:")
        y, n, _ = st.columns([1, 1, 3])
        if y.button("Yes, delete it", type="primary", key="exp_delete_yes", width="stretch"):
            st.session_state.pop(CONFIRM, None)
            try:
                history.delete(run_id, by=identity.manager())
            except InvalidInput as err:
                st.session_state["exp_flash_error"] = str(err)
            else:
                st.session_state["exp_flash"] = f"Deleted run #{run_id}."
            st.rerun()
        if n.button("Cancel", key="exp_delete_no", width="stretch"):
            st.session_state.pop(CONFIRM, None)
            st.rerun()
