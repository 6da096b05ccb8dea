"""Token levels for translation: characters (the Keras example's), words, or subwords.

Words and subwords come from Hugging Face `tokenizers`, trained on the corpus' own sentences:
a Metaspace pre-tokenizer (a space becomes "▁" at the start of the next piece, as in
SentencePiece) followed by one that splits punctuation off, so "Vivons ici !" is
"▁Vivons ▁ici ▁ !" and decoding gives the sentence back exactly. Words are those pieces
(WordLevel); subwords are byte-pair merges learned over them (BPE, Sennrich et al. 2016),
so a rare word is spelt from common parts instead of being unknown.

A `PieceVocabulary` is a `Vocabulary` whose `split` and `decode` go through the tokenizer,
so every view (steps, top-k, attention, encoder states, gates) labels the pieces as they are.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .vocab import END, PAD, START, Vocabulary

LEVEL_NAMES = {"char": "Characters", "word": "Words", "subword": "Subwords (BPE)"}
LEVEL_UNITS = {"char": "character", "word": "word", "subword": "subword"}
LEVEL_WHAT = {
    "char": "one token per character, as in the Keras example: a small vocabulary, long "
            "sequences (about 20 steps a sentence), and any word can be spelt.",
    "word": "one token per word or punctuation mark: short sequences (about 6 steps) but a "
            "large vocabulary, and a word the corpus never had cannot be read.",
    "subword": "frequent words whole, rare ones in pieces learned from the corpus (byte-pair "
               "encoding): short sequences (about 8 steps), a mid-sized vocabulary, and "
               "every word can still be written.",
}
UNKNOWN = "<unk>"
MAX_WORDS = 1_000_000  # above any corpus' word count: 20,000 pairs of 80 characters a side


def _tokenizer(texts: list[str], level: str, size: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    if level == "word":
        tok = Tokenizer(models.WordLevel(unk_token=UNKNOWN))
        # every word of the corpus: the default cap (30,000) would make some unknown
        trainer = trainers.WordLevelTrainer(vocab_size=MAX_WORDS, special_tokens=[UNKNOWN],
                                            show_progress=False)
    else:
        tok = Tokenizer(models.BPE(unk_token=UNKNOWN))
        trainer = trainers.BpeTrainer(vocab_size=size, special_tokens=[UNKNOWN],
                                      show_progress=False)
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Metaspace(),
                                                 pre_tokenizers.Punctuation()])
    tok.decoder = decoders.Metaspace()
    tok.train_from_iterator(texts, trainer)
    return tok


@dataclass(frozen=True)
class PieceVocabulary(Vocabulary):
    """Word or subword tokens of a trained tokenizer, after the special symbols.

    `alphabet` holds every character of the training sentences: a subword vocabulary can
    write any word of those characters, so only other characters are unknown to it.
    """

    level: str = "word"
    alphabet: frozenset = frozenset()
    tokenizer: object = field(default=None, compare=False, repr=False)

    def split(self, text: str) -> list[str]:
        if self.level == "word":
            return [piece for piece, _ in self.tokenizer.pre_tokenizer.pre_tokenize_str(text)]
        return self.tokenizer.encode(text).tokens

    def unknown(self, text: str) -> list[str]:
        """The words (word level) or characters (subword level) it cannot read, in order."""
        if self.level == "word":
            return super().unknown(text)
        return list(dict.fromkeys(c for c in text if c not in self.alphabet and c != " "))

    def decode(self, ids, stop_at_end: bool = True) -> str:
        pieces = []
        for i in [int(i) for i in ids]:
            if stop_at_end and self.end is not None and i == self.end:
                break
            if i not in self.specials:
                pieces.append(self.tokens[i])
        return self.tokenizer.decoder.decode(pieces) if pieces else ""

    def join(self, pieces: list[str]) -> str:
        """The text of `pieces`, as the tokenizer writes them back."""
        return self.tokenizer.decoder.decode(list(pieces))

    def describe_allowed(self) -> str:
        """Words: how many, and some; subwords: the characters they spell words from."""
        if self.level == "subword":
            return " ".join(sorted(self.alphabet - {" "}))
        shown = [t.replace("▁", "") or "▁" for t in self.tokens
                 if t not in (PAD, START, END)][:20]
        return f"{self.size - len(self.specials):,} {LEVEL_UNITS[self.level]}s such as " \
               f"{' '.join(shown)}"


def piece_vocabulary(texts: list[str], level: str, size: int, ends: bool) -> PieceVocabulary:
    """A word or subword vocabulary trained on `texts`, with pad first and (`ends`) the
    start and end symbols next, as the target side needs."""
    tok = _tokenizer(texts, level, size)
    learned = sorted(tok.get_vocab().items(), key=lambda item: item[1])
    pieces = tuple(p for p, _ in learned if p != UNKNOWN)
    alphabet = frozenset(c for text in texts for c in text)
    if ends:
        return PieceVocabulary((PAD, START, END) + pieces, pad=0, start=1, end=2, separator=" ",
                               level=level, alphabet=alphabet, tokenizer=tok)
    return PieceVocabulary((PAD,) + pieces, pad=0, separator=" ", level=level,
                           alphabet=alphabet, tokenizer=tok)
