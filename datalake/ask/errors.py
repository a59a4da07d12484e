"""The two ways a question can fail on purpose: refused before anything runs, or unsafe SQL."""

from __future__ import annotations

from datalake.errors import LakeError


class AskRefusal(LakeError):
    """A question that is not understood, ambiguous or out of scope; nothing was run for it.

    Attributes
    ----------
    reason
        One sentence, in the question's language, saying why.
    suggestions
        Two or three questions that can be answered, in the question's language.
    language
        ``"es"`` or ``"en"``.
    kind
        ``not_understood``, ``ambiguous``, ``out_of_scope``, ``unsafe``, ``too_long``, ``no_data``;
        for the text-to-SQL model's answers ``model_no_sql`` (its reply held no SQL),
        ``model_unsafe`` (the guard refused its SQL) or ``model_query_failed`` (the engine did):
        lets callers (and the model fallback) tell the cases apart.
    """

    def __init__(
        self,
        reason: str,
        *,
        suggestions: list[str] | None = None,
        language: str = "es",
        kind: str = "not_understood",
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.suggestions = list(suggestions or [])
        self.language = language
        self.kind = kind


class UnsafeQueryError(LakeError):
    """SQL that the guard will not let through; the message names the reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"unsafe query: {reason}")
        self.reason = reason
