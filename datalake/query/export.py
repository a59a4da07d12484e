"""Query results as CSV for people: cells a spreadsheet would run as formulas are escaped.

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula
to Excel, LibreOffice and Google Sheets (``=HYPERLINK(...)`` leaks data on a click, DDE runs
commands). Following OWASP's CSV injection advice such cells, and column names, get a leading
``'``, which spreadsheets read as "this is text". Numbers stay numbers: only text is escaped, so
a negative amount still exports as ``-5.5``. Every CSV export of query results goes through
:func:`frame_to_csv`; data written into the lake (``ObjectStore.write_csv``) is not an export
and keeps its bytes.
"""

from __future__ import annotations

import pandas as pd
from pandas.api.types import is_object_dtype, is_string_dtype

#: What makes a spreadsheet cell a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(value: object) -> object:
    """A text value a spreadsheet would run, prefixed with ``'``; anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def escape_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names cannot run as formulas.

    Parameters
    ----------
    frame
        Query results.

    Returns
    -------
    pandas.DataFrame
        The same rows; text columns (object, string, categorical) with :func:`escape_formula`
        applied, numeric and temporal columns untouched.
    """
    escaped = frame.copy()
    for position in range(escaped.shape[1]):
        column = escaped.iloc[:, position]
        if isinstance(column.dtype, pd.CategoricalDtype):
            column = column.astype(object)
        if is_object_dtype(column.dtype) or is_string_dtype(column.dtype):
            escaped.isetitem(position, column.astype(object).map(escape_formula))
    escaped.columns = [escape_formula(str(name)) for name in escaped.columns]
    return escaped


def frame_to_csv(frame: pd.DataFrame) -> str:
    """Query results as CSV text (RFC 4180) with a header row, formulas escaped (:func:`escape_formulas`).

    Lines end in CRLF, which makes the writer quote any cell holding a carriage return: unquoted,
    ``"x\r=cmd"`` would start a new row whose first cell is a formula.
    """
    return escape_formulas(frame).to_csv(index=False, lineterminator="\r\n")
