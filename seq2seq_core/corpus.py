"""Reading sentence-pair files (the tab-separated Tatoeba/Anki format) with limits."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .errors import InvalidInput

MAX_BYTES = 5 * 1024 * 1024
MAX_LINES = 200_000
MAX_PAIRS = 20_000
MAX_SIDE_CHARS = 80
MIN_PAIRS = 10
MAX_NAME_CHARS = 80


@dataclass(frozen=True)
class Corpus:
    """Sentence pairs plus what was skipped while reading them, and why."""

    name: str
    pairs: tuple[tuple[str, str], ...]
    skipped: tuple[tuple[int, str], ...] = ()
    lines_read: int = 0

    def __len__(self) -> int:
        return len(self.pairs)


def _line_problem(line: str, max_chars: int, seen: set[str]) -> str | None:
    parts = line.split("\t")
    if len(parts) < 2:
        return "no tab between the two sentences"
    src, tgt = parts[0].strip(), parts[1].strip()
    if not src or not tgt:
        return "an empty sentence"
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") for ch in src + tgt):
        return "control or unprintable characters"
    longest = max(len(src), len(tgt))
    if longest > max_chars:
        return f"a sentence of {longest} characters (the maximum is {max_chars})"
    if src in seen:
        return "the same source sentence as an earlier line (the first one is kept)"
    return None


def parse_pairs(data: bytes | str, name: str = "upload", max_pairs: int = MAX_PAIRS,
                max_chars: int = MAX_SIDE_CHARS) -> Corpus:
    """Read tab-separated pairs: first two columns, extra columns ignored, bad lines skipped."""
    if isinstance(data, bytes):
        if len(data) > MAX_BYTES:
            raise InvalidInput(f"The file is {len(data) / 1e6:.1f} MB; the maximum is "
                               f"{MAX_BYTES / 1e6:.0f} MB.")
        if b"\x00" in data[:4096]:
            raise InvalidInput("This is not a text file. Upload tab-separated sentence pairs "
                               "(English<TAB>French per line, UTF-8).")
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise InvalidInput(f"The file is not UTF-8 text (bad byte at position {err.start}).") from None
    lines = data.splitlines()
    if len(lines) > MAX_LINES:
        raise InvalidInput(f"The file has {len(lines):,} lines; the maximum is {MAX_LINES:,}.")
    pairs, skipped, seen = [], [], set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if len(pairs) >= max_pairs:
            skipped.append((number, f"beyond the first {max_pairs:,} pairs"))
            continue
        problem = _line_problem(line, max_chars, seen)
        if problem:
            skipped.append((number, problem))
            continue
        src, tgt = (p.strip() for p in line.split("\t")[:2])
        seen.add(src)
        pairs.append((src, tgt))
    if len(pairs) < MIN_PAIRS:
        raise InvalidInput(f"Only {len(pairs)} usable pairs were found; at least {MIN_PAIRS} are "
                           "needed. Each line must hold a sentence, a tab, and its translation.")
    return Corpus(name, tuple(pairs), tuple(skipped), len(lines))


def clean_name(name) -> str:
    """A corpus name safe to show and store: the last path part, printable, at most 80 chars.

    Names come from upload file names and model files: they label a corpus, never locate one.
    """
    text = str(name).replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] not in "CZ" or ch == " ")
    return text.strip()[:MAX_NAME_CHARS] or "upload"


def corpus_from_pairs(name, pairs) -> Corpus:
    """Sentence pairs that travel inside a saved model, checked exactly like an uploaded file.

    Every pair must be two strings that survive the same checks (limits, characters,
    duplicates); any pair that would be skipped makes the whole list invalid.
    """
    if not isinstance(pairs, list) or not pairs:
        raise InvalidInput("The model holds no sentence pairs; a translation model carries "
                           "the pairs it was trained on.")
    if len(pairs) > MAX_PAIRS:
        raise InvalidInput(f"The model holds {len(pairs):,} sentence pairs; at most "
                           f"{MAX_PAIRS:,} are allowed.")
    lines = []
    for number, pair in enumerate(pairs, start=1):
        ok = (isinstance(pair, (list, tuple)) and len(pair) == 2
              and all(isinstance(side, str) and len(side) <= MAX_SIDE_CHARS
                      and side == side.strip() and "\t" not in side
                      and len(side.splitlines()) == 1 for side in pair))
        if not ok:
            raise InvalidInput(f"Sentence pair {number} in the model is not two short lines "
                               "of text.")
        lines.append("\t".join(pair))
    corpus = parse_pairs("\n".join(lines), name=clean_name(name))
    if corpus.skipped or len(corpus.pairs) != len(pairs):
        number, why = corpus.skipped[0] if corpus.skipped else (0, "it was changed")
        raise InvalidInput(f"Sentence pair {number} in the model is not valid ({why}).")
    return corpus


def read_pairs_file(path) -> Corpus:
    """A pairs file named on the command line (the person at the keyboard chose it)."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise InvalidInput(f"No pairs file at {str(path)!r}; use 'phrasebook' or a path to a "
                           "tab-separated file.")
    if path.stat().st_size > MAX_BYTES:
        raise InvalidInput(f"{path.name} is larger than {MAX_BYTES / 1e6:.0f} MB.")
    return parse_pairs(path.read_bytes(), name=path.name)


def phrasebook() -> Corpus:
    """The built-in English -> French phrasebook shipped with the package."""
    text = resources.files("seq2seq_core").joinpath("data/phrasebook.tsv").read_text("utf-8")
    return parse_pairs(text, name="phrasebook")
