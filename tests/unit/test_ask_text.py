"""Folding, tokens and typo correction: what the /ask parser reads instead of the raw question."""

from __future__ import annotations

from datalake.ask.lexicon import CORRECTION_TARGETS, VOCABULARY
from datalake.ask.text import Speller, edit_distance, fold, tokens


def test_fold_removes_accents_case_invisibles_and_lookalikes() -> None:
    assert fold("Eólica AÑO Generación") == "eolica ano generacion"
    # zero-width space, word joiner, right-to-left override, soft hyphen
    assert fold("dem\u200ban\u2060da\u202e de a\u00adyer") == "demanda de ayer"
    # Cyrillic "е" and "а", Greek "ο": they read as Latin letters
    assert fold("dеmаndа hοy") == "demanda hoy"
    assert fold("ｄｅｍａｎｄａ") == "demanda"  # full-width forms


def test_tokens_keep_dates_and_times_whole() -> None:
    assert tokens("el 15/04/2021 a las 15:00, ¿y 2021-04-15?") == [
        "el",
        "15/04/2021",
        "a",
        "las",
        "15:00",
        "y",
        "2021-04-15",
    ]
    assert tokens("at 3pm, 20% €") == ["at", "3", "pm", "20", "%", "€"]


def test_edit_distance_counts_a_swap_as_one() -> None:
    assert edit_distance("demnada", "demanda", 2) == 1
    assert edit_distance("eolica", "eolica", 1) == 0
    assert edit_distance("abc", "xyzabc", 2) == 3  # capped at limit + 1


def test_speller_corrects_typos_to_one_known_word_only() -> None:
    speller = Speller(VOCABULARY, CORRECTION_TARGETS)
    assert speller.correct("demnada") == "demanda"
    assert speller.correct("generacon") == "generacion"
    assert speller.correct("renobable") == "renovable"
    assert speller.correct("avrage") == "average"
    assert speller.correct("demandas") == "demanda"  # plural of a known word
    assert speller.correct("zzzzzz") == "zzzzzz"  # nothing close: left alone
    assert speller.correct("mes") == "mes"  # short words are never corrected
    # A misspelt word is never turned into a destructive verb (only its exact spelling is refused).
    assert speller.correct("borrra") != "borra"
