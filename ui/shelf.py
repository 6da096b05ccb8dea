"""The model shelf on the pages: "Ready to inspect" (Home, Inspect) and "Save to shelf" (Train).

The shelf (`seq2seq_core.shelf`) keeps models by name in the server's data folder for
everyone, so a model trained before class opens in one click. Opening one loads it as
untrusted as an upload, under a job slot. Each entry records the browser that saved it
(`identity.owner_id()`; none from the command line): the teacher may remove or replace any
entry, anyone else only their own, the same rule with or without a teacher password. The
teacher saves; where the server sets no teacher password, anyone does, a few models each
(`PER_OWNER`). Keys in session state start with the caller's `key_prefix`.
"""
from __future__ import annotations

import logging

import streamlit as st

import seq2seq_core as sc
from seq2seq_core.shelf import MAX_NAME, NAME_RULE, PER_OWNER, Listing, Shelf, ShelfEntry

from . import current, identity
from .text import md

INSPECT_PAGE = "app_pages/inspect.py"
SHOWN = 5  # newest entries listed at once; the rest fold away so the page stays short
log = logging.getLogger(__name__)


def may_save() -> bool:
    """Who may save to the shelf: the teacher, or anyone (up to PER_OWNER models each)
    where the server has no teacher role."""
    return identity.is_teacher() or identity.teacher_password() is None


def may_remove(entry: ShelfEntry) -> bool:
    """Whether this browser may remove (or replace) an entry: the teacher any, anyone else
    only the ones they saved."""
    return entry.managed_by(identity.manager())


SOURCE_PREFIX = "shelf: "


def source_of(name: str) -> str:
    """What the current model's source says for a shelf model."""
    return f"{SOURCE_PREFIX}{name}"


def where_from(source: str) -> str:
    """Where a current model with this source came from, in words (escaped): 'from the
    shelf (french-256)' or 'uploaded from model.s2s'."""
    if source.startswith(SOURCE_PREFIX):
        return f"from the shelf ({md(source[len(SOURCE_PREFIX):])})"
    return f"uploaded from {md(source)}"


def open_entry(name: str) -> str:
    """Make a shelf model the current one; returns why it cannot be opened, or ''."""
    return current.open_model(lambda max_params: Shelf().load(name, max_params=max_params),
                              f"shelf model {name}", source=source_of(name))


def _open_clicked(name: str, prefix: str) -> None:
    if error := open_entry(name):
        st.session_state[f"{prefix}_error"] = f"Could not open '{name}': {error}"
    elif not prefix.startswith("inspect"):  # on Inspect, the rerun shows the model
        st.session_state[f"_{prefix}_go"] = True


def _ask_remove(name: str | None, prefix: str) -> None:
    st.session_state[f"{prefix}_remove"] = name


def _remove(name: str, prefix: str) -> None:
    st.session_state[f"{prefix}_remove"] = None
    try:
        Shelf().remove(name, by=identity.manager())  # the shelf checks who may, again
    except (sc.InvalidInput, OSError) as err:
        st.session_state[f"{prefix}_error"] = f"Could not remove '{name}': {err}"
    else:
        st.session_state[f"{prefix}_done"] = f"Removed '{name}' from the shelf."


def _size(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{max(size / 1e3, 1):.0f} KB"


def entry_facts(entry: ShelfEntry) -> str:
    """Settings, accuracy, training, size and date of an entry, on one line (escaped)."""
    facts = [entry.summary,
             "exact match unknown" if entry.exact_match is None
             else f"{entry.exact_match:.0%} exact match",
             *([] if entry.samples_seen is None else [f"{entry.samples_seen:,} samples trained"]),
             f"{entry.params:,} parameters", _size(entry.size_bytes),
             f"saved {entry.saved.astimezone():%d %b %Y, %H:%M}"]
    return md(" · ".join(facts))


def _confirm(name: str, prefix: str) -> None:
    """The second step of Remove: everyone loses the model, so ask once more."""
    if st.session_state.get(f"{prefix}_remove") != name:
        return
    st.warning(f"Remove **{md(name)}** from the shelf? It is gone for everyone on this "
               "server; this cannot be undone.", icon=":material/delete:")
    yes, no, _ = st.columns([1, 1, 3])
    yes.button("Yes, remove it", key=f"{prefix}_yes_{name}", on_click=_remove,
               args=(name, prefix), type="primary", width="stretch")
    no.button("Cancel", key=f"{prefix}_no_{name}", on_click=_ask_remove, args=(None, prefix),
              width="stretch")


def _not_removable(entry: ShelfEntry) -> str:
    """Why there is no Remove for an entry, where one would be expected: a server without
    a teacher password, where anyone saves ('' elsewhere: only the teacher manages)."""
    if identity.teacher_password() is not None:
        return ""
    if entry.owner is None:
        return ("Saved from the command line: only the teacher can remove it (set "
                f"{identity.PASSWORD_ENV}).")
    return "Saved by someone else: only they, or the teacher, can remove it."


def _entry_row(entry: ShelfEntry, prefix: str) -> None:
    manage = may_remove(entry)
    with st.container(border=True):
        cols = st.columns([5, 1, 1] if manage else [6, 1], vertical_alignment="center")
        cols[0].markdown(f"**{md(entry.name)}** — {md(entry.title)}")
        cols[0].caption(entry_facts(entry))
        if not manage and (why := _not_removable(entry)):
            cols[0].caption(md(why))
        cols[1].button("Open", key=f"{prefix}_open_{entry.name}", on_click=_open_clicked,
                       args=(entry.name, prefix), icon=":material/search:", type="primary",
                       width="stretch", help="Make it the current model and inspect it.")
        if manage:
            cols[2].button("Remove", key=f"{prefix}_del_{entry.name}", on_click=_ask_remove,
                           args=(entry.name, prefix), icon=":material/delete:",
                           width="stretch", help="Take it off the shelf, for everyone.")
        _confirm(entry.name, prefix)


def _skipped(listing: Listing, prefix: str) -> None:
    """Entries that cannot be read, with why, for the teacher to remove (nobody else may:
    whose they are cannot be read)."""
    with st.expander(f"{len(listing.skipped)} shelf entries cannot be opened"):
        st.caption("Their files are damaged, incomplete or were not written by seq2seq-lab, "
                   "so they are not listed above.")
        for skipped in listing.skipped:
            text, button = st.columns([5, 1], vertical_alignment="center")
            text.markdown(f"**{md(skipped.name)}**: {md(skipped.reason)}")
            button.button("Remove", key=f"{prefix}_del_{skipped.name}", on_click=_ask_remove,
                          args=(skipped.name, prefix), icon=":material/delete:",
                          width="stretch")
            _confirm(skipped.name, prefix)


def _listing() -> Listing | None:
    try:
        return Shelf().listing()
    except (sc.InvalidInput, OSError) as err:
        log.warning("the shelf cannot be listed: %s", err)
        if may_save():
            st.warning(f"The model shelf cannot be listed: {md(err)}")
        return None


def ready_to_inspect(key_prefix: str) -> None:
    """The shelf's models, each with Open (it becomes the current model; then Inspect
    shows it) and, for the teacher or the one who saved it, Remove. Nothing when the shelf
    is empty.

    `key_prefix` is the page's session-state prefix; on Inspect ("inspect...") Open only
    reruns the page, elsewhere it goes to Inspect.
    """
    teacher = identity.is_teacher()
    listing = _listing()
    state = st.session_state
    if done := state.pop(f"{key_prefix}_done", None):  # a toast: the list may now be empty
        st.toast(md(done), icon=":material/delete:")
    if listing is None or not (listing.entries or (teacher and listing.skipped)):
        state.pop(f"{key_prefix}_error", None)
        return
    st.subheader("Ready to inspect", anchor=False)
    st.caption("Models kept on this server's shelf, trained beforehand (here, or on another "
               "machine with `train --save-to-shelf NAME`). Open one to look inside it at "
               "once: no training needed.")
    if error := state.pop(f"{key_prefix}_error", None):
        st.error(md(error))
    for entry in listing.entries[:SHOWN]:
        _entry_row(entry, key_prefix)
    if older := listing.entries[SHOWN:]:
        with st.expander(f"{len(older)} older models on the shelf"):
            for entry in older:
                _entry_row(entry, key_prefix)
    if teacher and listing.skipped:
        _skipped(listing, key_prefix)
    if state.pop(f"_{key_prefix}_go", False):
        try:
            st.switch_page(INSPECT_PAGE)
        except st.errors.StreamlitAPIException:  # the page runs on its own: no Inspect page
            st.rerun()


def suggested_name(model: sc.Seq2Seq) -> str:
    """A shelf name for a model: task, architecture and units ('reverse-attention-32')."""
    return f"{model.task.name}-{model.config.arch}-{model.config.units}"


def save_button(model: sc.Seq2Seq | None, exact_match: float | None, samples_seen: int | None,
                train_config: sc.TrainConfig | None, key_prefix: str) -> None:
    """A name box and "Save to shelf" for a trained model: for the teacher, or anyone (a
    few models each) where the server has no teacher password."""
    if model is None or not may_save():
        return
    suggested = suggested_name(model)
    with st.container(border=True):
        st.markdown("**Save to shelf**")
        st.caption("Keeps this model on the server under a name, for everyone: Home and "
                   "Inspect list it under *Ready to inspect*, to open in one click later (in "
                   "class, say) without training again."
                   + ("" if identity.is_teacher() else
                      f" You may keep up to {PER_OWNER} models there, and replace or remove "
                      "only your own."))
        # the box sits in the Train page's narrower column: the checkbox gets a line of its own
        name_col, button_col = st.columns([3, 2], vertical_alignment="bottom")
        typed = name_col.text_input("Shelf name", key=f"{key_prefix}_shelf_name",
                                    max_chars=MAX_NAME, placeholder=suggested,
                                    help=f"A shelf name is {NAME_RULE}. Left empty: "
                                         f"{suggested}.")
        clicked = button_col.button("Save to shelf", key=f"{key_prefix}_shelf_save",
                                    icon=":material/shelves:", width="stretch")
        replace = st.checkbox("Replace a model of that name", key=f"{key_prefix}_shelf_replace")
        if not clicked:
            return
        name = typed.strip() or suggested
        try:
            with st.spinner("Saving the model to the shelf…"):
                entry = Shelf().save(model, name, exact_match=exact_match,
                                     samples_seen=samples_seen, train_config=train_config,
                                     replace=replace, owner=identity.owner_id(),
                                     by=identity.manager())
        except sc.InvalidInput as err:
            st.error(md(err))
        except OSError as err:
            log.exception("could not save %s to the shelf", name)
            st.error(f"The shelf could not be written ({md(err.strerror or err)}); nothing was "
                     "saved.")
        else:
            st.success(f"Saved **{md(entry.name)}** to the shelf: Home and Inspect list it "
                       "under Ready to inspect.", icon=":material/shelves:")
