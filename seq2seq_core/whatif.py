"""What-if views (Seq2Seq-Vis): force one output token and let the decoder carry on, or edit
one input token and see how far the encoder's final state moves.

Forcing runs the decoder one step at a time through `strategies.ModelStepper` (the model's
compiled `begin`/`step`): the greedy tokens up to the chosen step, the forced token there,
then greedy again, stopping at the end symbol as `Decoder.trace` does. The forced steps
carry no attention weights (the one-step function does not return them).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .decoding import TOP_K, Decoder, Step, Trace
from .errors import InvalidInput
from .limits import check_int
from .inspection import final_states
from .strategies import ModelStepper
from .vocab import END, PAD, SPACE_LABEL, START, plural, shown_tokens

if TYPE_CHECKING:
    from .models import Seq2Seq
    from .vocab import Vocabulary

MAX_K = 50
MAX_TOKEN_CHARS = 40  # a typed token longer than this is refused before any lookup
NO_FEEDBACK = ("Forcing a token does not apply to this repeat-vector model: its decoder "
               "never reads its previous token, only the repeated summary of the input, so "
               "forcing one token changes nothing downstream.")


# ---- forcing an output token -------------------------------------------------------------------
@dataclass(frozen=True)
class Forced:
    """A greedy decode with the token at `step` (1-based) forced to `token`.

    `original` are the greedy steps; `steps` the forced decode: the same tokens before
    `step`, the forced token at `step` with the model's probability of it there, then the
    decoder's own greedy choices. `changed_from` is the first step after the forced one
    where the two differ (a token, or one output ending earlier), None if none does.
    """

    input_text: str
    step: int
    token: str
    token_id: int
    original: tuple[Step, ...]
    steps: tuple[Step, ...]
    original_text: str
    output_text: str
    changed_from: int | None

    @property
    def forced(self) -> Step:
        return self.steps[self.step - 1]

    @property
    def replaced(self) -> Step:
        """The greedy step the forced token replaces."""
        return self.original[self.step - 1]

    @property
    def is_greedy(self) -> bool:
        """True when the forced token is the one greedy chose (nothing changes)."""
        return self.token_id == self.replaced.token_id


def _whole(value) -> int | None:
    """`value` as an int when it is a whole number (not a bool), else None."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    return None


def _shown(value) -> str:
    """A number or a short repr of anything else, for a message."""
    whole = _whole(value)
    if whole is not None:
        return str(whole) if abs(whole) < 10 ** 12 else "that large"
    return repr(value)[:40]


def forcible_ids(vocab: Vocabulary) -> tuple[int, ...]:
    """Target ids a student may force: all but padding and start symbols."""
    return tuple(i for i, tok in enumerate(vocab.tokens)
                 if i != vocab.start and tok not in (PAD, START))


def _allowed_labels(vocab: Vocabulary) -> str:
    labels = [vocab.label(i) for i in forcible_ids(vocab)]
    if len(labels) > 40:
        labels = labels[:20] + ["…"] + labels[-5:]
    return " ".join(labels)


def _id_ranges(ids) -> str:
    """'1 to 12', or '0, 3 to 40': a sorted id list as runs."""
    runs, start = [], ids[0]
    for a, b in zip(ids, ids[1:] + (None,)):
        if b != a + 1:
            runs.append(str(a) if a == start else f"{start} to {a}")
            start = b
    return ", ".join(runs)


def token_id(vocab: Vocabulary, token: str | int) -> int:
    """The target id of `token`: a label as `vocab.label` prints it ('␣', '⟨end⟩'), the
    token itself (' ', '<end>') or an id; InvalidInput naming what is allowed otherwise."""
    allowed = forcible_ids(vocab)
    if _whole(token) is not None:
        if _whole(token) in allowed:
            return _whole(token)
        raise InvalidInput(f"Token id {_shown(token)} cannot be forced: the ids this model "
                           f"writes are {_id_ranges(allowed)}.")
    if isinstance(token, str) and 0 < len(token) <= MAX_TOKEN_CHARS:
        for i in allowed:
            if token in (vocab.label(i), vocab.tokens[i]):
                return i
    shown = shown_tokens([token]) if isinstance(token, str) and token else \
        ("An empty token" if token == "" else repr(token)[:40])
    raise InvalidInput(f"{shown} is not a token this model writes. "
                       f"Allowed: {_allowed_labels(vocab)}.")


def _check_step(step, original: Trace, model: Seq2Seq) -> int:
    """`step` as an int within the steps the decoder wrote, or InvalidInput saying which."""
    written, end = len(original.steps), model.task.target_vocab.end
    if end is not None and written and original.steps[-1].token_id == end:
        why = (f"the model wrote {plural(written, 'step')} for this input, the last one its "
               "end symbol (nothing after it is read)")
    else:
        why = f"this model writes {plural(written, 'step')}"
    whole = _whole(step)
    if whole is not None and 1 <= whole <= written:
        return whole
    raise InvalidInput(f"Step {_shown(step)} is not a step of this output: {why}. Choose a "
                       f"step from 1 to {written}.")


def _step(vocab, t: int, tok: int, probs: np.ndarray, k: int, state, chosen) -> Step:
    """A `decoding.Step`, its top-k ordered as `Decoder.trace` orders them."""
    best = np.argsort(-probs)[:k]
    return Step(t, vocab.label(tok), tok, float(probs[tok]),
                tuple((vocab.label(i), float(probs[i])) for i in best), state,
                vocab.decode(chosen))


def forced_decode(model: Seq2Seq, text: str, step: int, token: str | int, k: int = TOP_K,
                  original: Trace | None = None) -> Forced:
    """Decode `text` greedily, but write `token` at `step` (1-based) and carry on greedily.

    `original` is a greedy trace of `text` already decoded, if there is one (so it is not
    decoded again). InvalidInput for a repeat model (it never reads its previous token), an
    invalid input, a step outside the output, an unknown token or k outside 1..MAX_K.
    """
    if not model.config.feeds_back:
        raise InvalidInput(NO_FEEDBACK)
    check_int("Top-k", k, 1, MAX_K)
    task, vocab = model.task, model.task.target_vocab
    original = Decoder(model).trace(text, k) if original is None else original
    step = _check_step(step, original, model)
    forced_id = token_id(vocab, token)
    stepper = ModelStepper(model, original.input_text)
    top = (model.config.layers - 1) * model.nets.n_states
    state, prev, chosen, steps = stepper.initial(), stepper.start, [], []
    for t in range(task.target_len):
        probs, state = stepper.advance(np.array([prev]), state)
        if t < step - 1:
            tok = original.steps[t].token_id
            chosen.append(tok)
            steps.append(original.steps[t])
        else:
            tok = forced_id if t == step - 1 else int(np.argmax(probs[0]))
            chosen.append(tok)
            steps.append(_step(vocab, t, tok, probs[0], k, state[top][0], chosen))
        if vocab.end is not None and tok == vocab.end:
            break
        prev = tok
    ids = np.array(chosen, dtype=np.int32)
    return Forced(original.input_text, step, vocab.label(forced_id), forced_id,
                  tuple(original.steps), tuple(steps), original.output_text,
                  task.target_text(ids), _changed_from(original.steps, steps, step))


def _changed_from(original, forced, step: int) -> int | None:
    """The first 1-based step after `step` where the two decodes differ, or None."""
    for t in range(step, max(len(original), len(forced))):
        if t >= len(original) or t >= len(forced) or \
                original[t].token_id != forced[t].token_id:
            return t + 1
    return None


# ---- editing an input token --------------------------------------------------------------------
@dataclass(frozen=True)
class EncoderWhatIf:
    """One input token replaced: the input before and after, the top encoder layer's final
    hidden state of each (`before`, `after`), how far it moved (Euclidean `distance`, and
    `cosine` similarity, NaN when a state is all zeros) and the greedy output of each."""

    input_text: str
    edited_text: str
    position: int
    replaced: str
    token: str
    before: np.ndarray
    after: np.ndarray
    distance: float
    cosine: float
    output: str
    edited_output: str

    @property
    def output_changed(self) -> bool:
        return self.output != self.edited_output


def input_tokens(model: Seq2Seq, text: str) -> list[str]:
    """The typed input's tokens as the task reads them: integers for reverse, characters
    for the others (after `task.validate` has normalised the text)."""
    task = model.task
    return task.source_vocab.split(task.validate(text))


def replacements(model: Seq2Seq) -> tuple[str, ...]:
    """Source tokens an input token can be replaced by: all but padding and start symbols."""
    vocab = model.task.source_vocab
    return tuple(tok for i, tok in enumerate(vocab.tokens)
                 if i not in (vocab.pad, vocab.start) and tok not in (PAD, START, END))


def _one_token(model: Seq2Seq, token) -> str:
    """`token` as one source token (SPACE_LABEL read as a space), or InvalidInput."""
    task = model.task
    if isinstance(token, str) and len(token) <= MAX_TOKEN_CHARS:
        token = " " if token == SPACE_LABEL else token
        parts = task.source_vocab.split(token)
        if len(parts) == 1 and (task.source_vocab.separator or len(token) == 1):
            return parts[0]
    shown = shown_tokens([token]) if isinstance(token, str) else repr(token)[:40]
    raise InvalidInput(f"Replace the token with exactly one {task.unit}; got {shown}.")


def edit_input(model: Seq2Seq, text: str, position: int, token: str) -> EncoderWhatIf:
    """Replace the input token at `position` (1-based, over `input_tokens`) by `token` and
    compare the encoder's final hidden states and the greedy outputs of both inputs.

    The edited input goes through `task.validate`, so one the task does not take gets the
    task's own message (InvalidInput).
    """
    task = model.task
    clean = task.validate(text)
    tokens = task.source_vocab.split(clean)
    at = _whole(position)
    if at is None or not 1 <= at <= len(tokens):
        raise InvalidInput(f"Position {_shown(position)} is not in the input: it has "
                           f"{plural(len(tokens), task.unit)}; choose a position from 1 to "
                           f"{len(tokens)}.")
    position = at
    new = _one_token(model, token)
    edited = list(tokens)
    edited[position - 1] = new
    edited_text = task.validate(task.source_vocab.join(edited))
    source = task.encode_inputs([clean, edited_text])
    before, after = final_states(model, source)
    outputs = Decoder(model).predict_ids(source)
    norms = float(np.linalg.norm(before)) * float(np.linalg.norm(after))
    cosine = float(np.dot(before, after)) / norms if norms > 0 else float("nan")
    return EncoderWhatIf(clean, edited_text, position, tokens[position - 1], new, before, after,
                         float(np.linalg.norm(after - before)), cosine,
                         task.target_text(outputs[0]), task.target_text(outputs[1]))


__all__ = ["NO_FEEDBACK", "EncoderWhatIf", "Forced", "edit_input", "forced_decode",
           "forcible_ids", "input_tokens", "replacements", "token_id"]
