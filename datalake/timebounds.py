"""The years a caller's date may name, and which errors mean a date fell outside what Python holds.

Questions are about data from the 20th century on; a moment near year 1 or 9999 only makes
the date arithmetic behind relative periods ("mañana", "last week") overflow. Callers'
dates (``as_of``, date filters) are bounded to :data:`MIN_YEAR`-:data:`MAX_YEAR`, and an
overflow that still happens while answering is the caller's fault (a 422), not a crash.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TypeVar

from datalake.errors import DataValidationError

MIN_YEAR = 1900
MAX_YEAR = 2200

DateLike = TypeVar("DateLike", dt.date, dt.datetime)

# The words CPython's datetime (and pandas' bounds checks) use when a date cannot be built.
_DATE_VALUE_ERROR = re.compile(
    r"year -?\d+ is out of range|month must be in 1\.\.12|day is out of range for month"
    r"|(hour|minute|second|microsecond) must be in|date value out of range|ordinal must be"
    r"|out of bounds nanosecond timestamp|out of bounds .*timedelta",
    re.IGNORECASE,
)


def year_range_reason(year: int) -> str:
    """Why a year is refused, in the words every caller sees."""
    return f"year {year} is outside the supported years {MIN_YEAR}-{MAX_YEAR}"


def is_supported_year(value: dt.date) -> bool:
    """Whether ``value`` (a date or datetime) falls within :data:`MIN_YEAR`-:data:`MAX_YEAR`."""
    return MIN_YEAR <= value.year <= MAX_YEAR


def check_year(value: DateLike, field: str) -> DateLike:
    """Return ``value`` when its year is within :data:`MIN_YEAR`-:data:`MAX_YEAR`.

    Parameters
    ----------
    value
        A date or datetime given by a caller.
    field
        The field's name, for the error.

    Returns
    -------
    datetime.date or datetime.datetime
        ``value`` unchanged.

    Raises
    ------
    DataValidationError
        The year is out of range (names ``field`` and the bounds).
    """
    if not is_supported_year(value):
        raise DataValidationError(field, year_range_reason(value.year))
    return value


def is_date_arithmetic_error(error: BaseException) -> bool:
    """Whether ``error`` means a date or time fell outside what can be represented.

    ``OverflowError`` always counts (``date + timedelta`` past year 9999, a timedelta over
    its limit); a ``ValueError`` counts when it comes from building a date or time
    (``year 0 is out of range``, ``day is out of range for month``, pandas' out of bounds).
    """
    if isinstance(error, OverflowError):
        return True
    return isinstance(error, ValueError) and bool(_DATE_VALUE_ERROR.search(str(error)))
