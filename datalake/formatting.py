"""Numbers for people: thousands separators, at most two decimals, per language.

One implementation for the CLI's tables, /ask's sentences and the charts' labels.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import re
from typing import Any

#: Integer columns that are labels, not quantities: no thousands separator (``2024``, not ``2,024``).
_LABEL_COLUMN = re.compile(r"(^|_)(year|month|day|hour|week|id|code|store|key|iso)(_|$)|^id|id$", re.I)


def format_number(value: float, language: str = "en", digits: int = 0) -> str:
    """``12,345.6`` in English, ``12.345,6`` in Spanish.

    Parameters
    ----------
    value
        The number.
    language
        ``en`` or ``es``.
    digits
        Decimals to show.

    Returns
    -------
    str
        The number with thousands separators and ``digits`` decimals.
    """
    text = f"{value:,.{digits}f}"
    if language == "es":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def format_cell(value: Any, column: str = "") -> str:
    """A table cell for people: separators for quantities, at most two decimals, ISO dates.

    Parameters
    ----------
    value
        The cell (number, date, text, None or NaN).
    column
        Its column's name: integer labels (``year``, ``store_id``) keep their digits as they are.

    Returns
    -------
    str
        ``""`` for a missing value, otherwise the cell as people read it.
    """
    if value is None or type(value).__name__ in ("NAType", "NaTType"):  # pandas' missing markers
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, numbers.Integral):  # numpy's integers too
        return str(value) if _LABEL_COLUMN.search(column) else format_number(int(value))
    if isinstance(value, numbers.Real):
        number = float(value)
        if not math.isfinite(number):
            return str(number)
        if number.is_integer() and abs(number) >= 1:
            return format_number(number, digits=0)
        return format_number(number, digits=2 if abs(number) >= 0.01 or number == 0 else 4)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="minutes" if value.second == 0 else "seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
