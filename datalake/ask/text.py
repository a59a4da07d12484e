"""Text folding, tokens and typo correction: what the parser sees instead of the raw question.

Folding makes spellings compare equal: Unicode compatibility forms, invisible characters
(zero-width, bidi controls), look-alike Cyrillic and Greek letters, case and accents
(``Eólica`` -> ``eolica``, ``año`` -> ``ano``). Tokens are words, numbers with their date
and time separators (``15:00``, ``15/04/2021``, ``2021-04-15``) and a few signs (``%``, ``€``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from difflib import SequenceMatcher
from functools import lru_cache

# Zero-width characters, bidi embeddings/overrides/isolates, soft hyphen, BOM, word joiners.
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
# Letters that look Latin but are not; a question written with them means the Latin word.
_CONFUSABLES = str.maketrans(
    {
        "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
        "т": "t", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ɡ": "g", "ӏ": "l",
        "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C",
        "Т": "T", "Х": "X", "І": "I", "Ј": "J", "Ѕ": "S",
        "α": "a", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u",
        "χ": "x", "Α": "A", "Β": "B", "Ε": "E", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
        "Ο": "O", "Ρ": "P", "Τ": "T", "Χ": "X", "Υ": "Y", "Ζ": "Z",
    }
)  # fmt: skip
_TOKEN = re.compile(r"\d+(?:[:/.\-]\d+)*|[a-z]+|[%€$]")


def fold(text: str) -> str:
    """Lower-case, accent-free, invisible-free text with look-alike letters made Latin.

    Parameters
    ----------
    text
        Any text.

    Returns
    -------
    str
    """
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text).translate(_CONFUSABLES).casefold()
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def tokens(text: str) -> list[str]:
    """The tokens of folded text (see the module docstring for what a token is)."""
    return _TOKEN.findall(text)


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (a swap of neighbours counts one), capped at ``limit + 1``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


class Speller:
    """Corrects a misspelt word to the one known word it is closest to, or leaves it alone.

    Parameters
    ----------
    vocabulary
        Every word the parser knows (keywords and common function words, folded): these are
        never corrected.
    targets
        The words a typo may become; the whole vocabulary when omitted.
    two_edits_from
        Words at least this long may be two edits away from their correction; shorter ones one.
    """

    def __init__(
        self, vocabulary: Iterable[str], targets: Iterable[str] | None = None, two_edits_from: int = 6
    ) -> None:
        self.two_edits_from = two_edits_from
        self.vocabulary = frozenset(w for w in vocabulary if w.isalpha())
        allowed = self.vocabulary if targets is None else frozenset(w for w in targets if w.isalpha())
        self._by_length: dict[int, list[str]] = {}
        for word in sorted(allowed):
            self._by_length.setdefault(len(word), []).append(word)
        self._cached = lru_cache(maxsize=4096)(self._correct)

    def correct(self, word: str) -> str:
        """``word`` itself when known, short or not a word; else the single closest known word."""
        return self._cached(word)

    def _correct(self, word: str) -> str:
        if word in self.vocabulary or len(word) < 4 or not word.isalpha():
            return word
        # Plural or feminine forms of known words are the word itself for the parser.
        for suffix in ("es", "s"):
            base = word.removesuffix(suffix)
            if base != word and base in self.vocabulary and len(base) >= 4:
                return base
        limit = 1 if len(word) < self.two_edits_from else 2
        best: list[tuple[int, str]] = []
        for length in range(len(word) - limit, len(word) + limit + 1):
            for candidate in self._by_length.get(length, ()):
                if len(candidate) < 4:
                    continue
                distance = edit_distance(word, candidate, limit)
                if distance <= limit:
                    best.append((distance, candidate))
        if not best:
            return word
        top = min(d for d, _ in best)
        closest = sorted({c for d, c in best if d == top})
        if len(closest) > 1:
            # Ties: a dropped letter ("generacon") beats a changed one ("generaron"), so keep the
            # candidates sharing the most characters in order; a tie that remains is not guessed.
            closest = [c for c in closest if c[0] == word[0]] or closest
            scores = {c: SequenceMatcher(None, word, c).ratio() for c in closest}
            best_score = max(scores.values())
            closest = [c for c, score in scores.items() if score == best_score]
            if len(closest) != 1:
                return word
        return closest[0]
