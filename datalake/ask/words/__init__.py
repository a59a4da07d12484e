"""The declared question kinds' grammar words, one data module per language.

Each module maps a concept (``top``, ``count``, ``average``...) to the phrases that say it, as
people write them; :mod:`datalake.ask.declared` folds them and matches on token boundaries. A new
language is a new module with the same concepts.
"""

from __future__ import annotations

from datalake.ask.words import en, es

#: Concept -> phrases, per language.
GRAMMAR: dict[str, dict[str, tuple[str, ...]]] = {"es": es.WORDS, "en": en.WORDS}
#: Everyday words that are never typos of a declared word ("tenemos" is not "géneros").
COMMON_WORDS: dict[str, tuple[str, ...]] = {"es": es.COMMON, "en": en.COMMON}
