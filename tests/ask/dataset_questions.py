"""Question items of the movie and energy-company sets, and their gold filled in from frames."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

#: A question's gold: a function of the frames (a pandas answer), or a fixed refusal.
GoldOf = Callable[[dict[str, pd.DataFrame]], dict[str, list[Any]]]


def item(id_: str, category: str, question: str, as_of: str, gold: GoldOf, *, dataset: str) -> dict[str, Any]:
    """One question whose gold the reference computes (see :func:`with_gold`)."""
    return {
        "id": id_,
        "category": category,
        "dataset": dataset,
        "question": question,
        "as_of": as_of,
        "gold": gold,
    }


def refusal(id_: str, question: str, as_of: str, *, dataset: str, kind: str | None = None) -> dict[str, Any]:
    """One question /ask must refuse (``kind``, where given, is the refusal's kind)."""
    gold: dict[str, Any] = {"refuse": True} | ({"kind": kind} if kind else {})
    return {
        "id": id_,
        "category": "refusal",
        "dataset": dataset,
        "question": question,
        "as_of": as_of,
        "gold": gold,
    }


def with_gold(questions: list[dict[str, Any]], frames: dict[str, pd.DataFrame]) -> list[dict[str, Any]]:
    """The questions with each computed gold replaced by its value over ``frames``."""
    return [{**q, "gold": q["gold"](frames)} if callable(q["gold"]) else q for q in questions]
