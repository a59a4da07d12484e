"""ENTSO-E hourly load files for Spain: recognise, parse, check, and land them in the raw zone.

Two formats arrive as file drops:

- the Transparency Platform's "Total Load - Day Ahead / Actual" export: the period as local
  wall-clock text (``"25.10.2015 02:00 - 25.10.2015 03:00"``), the autumn hour twice, the
  spring hour as an empty row, ``N/A`` where a value is missing;
- the Kaggle "energy_dataset" file: ISO times with their own offset, load, the TSO forecast,
  generation by technology and prices. The public original has day and month swapped on a
  third of its rows; the check here refuses it unless told otherwise.

Both land as one CSV per Europe/Madrid day under ``raw/entsoe/<dataset>/year=/month=/day=``
with deterministic names and deterministic bytes, so a re-run rewrites the same objects.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from datalake.errors import DataValidationError
from datalake.storage.base import ObjectStore
from datalake.storage.paths import date_partition_key

if TYPE_CHECKING:
    from datalake.runs import RunReport

Format = Literal["entsoe_total_load", "kaggle_energy"]
TOTAL_LOAD: Format = "entsoe_total_load"
KAGGLE: Format = "kaggle_energy"

MADRID = "Europe/Madrid"
SOURCE_LABEL = "entsoe"
REGION = "national"
RAW_PREFIX: dict[str, str] = {TOTAL_LOAD: "raw/entsoe/total_load", KAGGLE: "raw/entsoe/kaggle_energy"}
FILE_STEM: dict[str, str] = {TOTAL_LOAD: "entsoe-total-load", KAGGLE: "entsoe-kaggle-energy"}
CORRECTED_KAGGLE_HINT = "../shared/data/spain_demand/energy_dataset_2015_2017.csv"

# Problem reasons. A row with no instant (spring gap, not one hour, no offset, malformed) or a
# repeated one is not landed and is counted by reason; every other problem (a missing value)
# travels with its row into raw, where the Glue job quarantines it.
SPRING_GAP = "spring-forward hour absent in local time"
SPRING_GAP_WITH_VALUES = "spring-forward hour absent in local time, but the row carries values"
DUPLICATE_HOUR = "duplicate hour (same UTC instant as an earlier row)"
SUPERSEDED = "duplicate hour (superseded by a later file in this run)"
NOT_ONE_HOUR = "period is not one hour"
NO_OFFSET = "time has no UTC offset"
MALFORMED = "malformed line"

_MISSING_TOKENS = {"": "empty", "n/a": "N/A", "n/e": "n/e", "-": "-"}
# The platform's own header, one pattern per column position.
_TOTAL_LOAD_HEADER = (
    re.compile(r"^Time \((?P<tz>CET|CET/CEST|UTC)\)$"),
    re.compile(r"^Day-ahead Total Load Forecast \[MW\] - (?:BZN|CTA|CTY)\|(?P<area>\w+)$"),
    re.compile(r"^Actual Total Load \[MW\] - (?:BZN|CTA|CTY)\|(?P<area>\w+)$"),
)
_PERIOD = re.compile(
    r"^(\d{2})\.(\d{2})\.(\d{4}) (\d{2}):(\d{2}) - (\d{2})\.(\d{2})\.(\d{4}) (\d{2}):(\d{2})$"
)
_HAS_OFFSET = re.compile(r"(?:[+-]\d{2}:?\d{2}|Z)$")
_KAGGLE_REQUIRED = ("time", "total load forecast", "total load actual")
_MAX_LISTED_DROPS = 100

Progress = Callable[[str], None]


# -- format detection -------------------------------------------------------------------


def detect_format(source: str | os.PathLike[str], *, name: str | None = None) -> Format:
    """Tell which ENTSO-E file format a header line (or a file's first line) belongs to.

    Parameters
    ----------
    source
        A path: its first line is read. Otherwise a ``str`` holding the header line (or a
        whole CSV text, whose first line is used).
    name
        How to name the input in errors; defaults to the path, or ``"<text>"``.

    Returns
    -------
    ``"entsoe_total_load"`` or ``"kaggle_energy"``.

    Raises
    ------
    DataValidationError
        For any other header (or a Total Load export for an area other than Spain), naming
        the file and what was expected.
    """
    text, label = _load(source, name)
    header = next(csv.reader([text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""]), [])
    return _format_of(header, label)


def _format_of(header: Sequence[str], label: str) -> Format:
    cells = [cell.strip() for cell in header]
    matches = [pattern.match(cell) for pattern, cell in zip(_TOTAL_LOAD_HEADER, cells, strict=False)]
    if len(cells) == 3 and all(matches):
        areas = sorted({m.group("area") for m in matches[1:] if m})
        if areas == ["ES"]:
            return TOTAL_LOAD
        raise DataValidationError(
            label, f"a Total Load export for area {areas} with columns {cells}; this lake takes ES only"
        )
    lowered = [cell.lower() for cell in cells]
    if lowered[:1] == ["time"] and all(col in lowered for col in _KAGGLE_REQUIRED):
        return KAGGLE
    raise DataValidationError(
        label,
        f"unrecognised header {cells[:6]}{' ...' if len(cells) > 6 else ''}; expected the ENTSO-E "
        '"Total Load - Day Ahead / Actual" export ("Time (CET)","Day-ahead Total Load Forecast [MW] - '
        'BZN|ES","Actual Total Load [MW] - BZN|ES") or the Kaggle energy file (time, generation ..., '
        "total load forecast, total load actual, price day ahead, price actual)",
    )


# -- Total Load - Day Ahead / Actual ------------------------------------------------------


def parse_total_load(source: str | os.PathLike[str], *, name: str | None = None) -> pd.DataFrame:
    """Parse a Transparency Platform "Total Load - Day Ahead / Actual" export, one row per record.

    The period is local wall-clock time (the ``Time (CET)`` label means CET/CEST, the same
    rules as Europe/Madrid). The autumn hour that occurs twice is CEST (+02:00) on its first
    occurrence and CET (+01:00) on its second. The spring row for the local hour that does
    not exist is dropped as a non-instant, with a reason.

    Parameters
    ----------
    source
        A path (``os.PathLike``, or a one-line ``str`` naming an existing file) or the CSV text.
    name
        How to name the input in errors; defaults to the path, or ``"<text>"``.

    Returns
    -------
    pandas.DataFrame
        One row per data record (blank lines are not records), in file order: ``line``
        (physical line number), ``period`` (as in the file), ``ts_utc`` (UTC, tz-aware;
        NaT when there is no instant), ``local_date``, ``tso_forecast_mw``, ``demand_mw``
        (NaN where missing), ``problem`` (None, or the reasons joined by ``"; "``) and
        ``landed`` (False for rows dropped; those always have a problem).
    """
    text, label = _load(source, name)
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, [])
    if _format_of(header, label) != TOTAL_LOAD:
        raise DataValidationError(label, "not a Total Load - Day Ahead / Actual export")
    tz = "UTC" if header[0].strip() == "Time (UTC)" else MADRID

    records: list[dict[str, Any]] = []
    for cells in reader:
        if not cells or all(not c.strip() for c in cells):
            continue
        records.append(_total_load_record(cells, reader.line_num))
    frame = pd.DataFrame.from_records(
        records, columns=["line", "period", "start", "tso_forecast_mw", "demand_mw", "problem"]
    )
    frame["ts_utc"] = _localize(frame["start"], tz)
    spring = frame["ts_utc"].isna() & frame["start"].notna()
    has_values = frame["tso_forecast_mw"].notna() | frame["demand_mw"].notna()
    frame.loc[spring & ~has_values, "problem"] = SPRING_GAP
    frame.loc[spring & has_values, "problem"] = SPRING_GAP_WITH_VALUES
    frame = _finish(frame.drop(columns="start"), first_columns=["line", "period"])
    frame.attrs["notes"] = ["periods are in UTC (a Time (UTC) export)"] if tz == "UTC" else []
    return frame


def _total_load_record(cells: list[str], line: int) -> dict[str, Any]:
    record: dict[str, Any] = {"line": line, "period": cells[0] if cells else None, "start": None}
    if len(cells) != 3:
        return {**record, "problem": f"{MALFORMED}: expected 3 fields, got {len(cells)}"}
    match = _PERIOD.match(cells[0].strip())
    if not match:
        return {**record, "problem": f"{MALFORMED}: period not like 'DD.MM.YYYY HH:MM - DD.MM.YYYY HH:MM'"}
    d1, m1, y1, h1, n1, d2, m2, y2, h2, n2 = (int(g) for g in match.groups())
    try:
        start = dt.datetime(y1, m1, d1, h1, n1)
        end = dt.datetime(y2, m2, d2, h2, n2)
    except ValueError:
        return {**record, "problem": f"{MALFORMED}: period is not a valid date and time"}
    problems: list[str] = []
    forecast = _number(cells[1], "forecast", problems)
    actual = _number(cells[2], "actual load", problems)
    # Wall-clock difference: on both change days the platform still labels the odd hour 02:00-03:00.
    if end - start != dt.timedelta(hours=1):
        return {**record, "problem": NOT_ONE_HOUR}
    return {
        **record,
        "start": start,
        "tso_forecast_mw": forecast,
        "demand_mw": actual,
        "problem": "; ".join(problems) or None,
    }


def _localize(starts: pd.Series, tz: str) -> pd.Series:
    """Naive local starts -> UTC instants; NaT for the spring gap and for unparsed rows."""
    naive = pd.DatetimeIndex(pd.to_datetime(starts))
    if tz == "UTC":
        return pd.Series(naive.tz_localize("UTC"), index=starts.index)
    # An ambiguous autumn wall time is CEST the first time it appears and CET the second.
    first_seen = ~pd.Series(naive).duplicated(keep="first").to_numpy()
    local = naive.tz_localize(tz, ambiguous=first_seen, nonexistent="NaT")
    return pd.Series(local.tz_convert("UTC"), index=starts.index)


# -- Kaggle energy file ---------------------------------------------------------------------


def parse_kaggle(source: str | os.PathLike[str], *, name: str | None = None) -> pd.DataFrame:
    """Parse the Kaggle "energy_dataset" file (the corrected copy or the original), one row per record.

    Parameters
    ----------
    source
        A path (``os.PathLike``, or a one-line ``str`` naming an existing file) or the CSV text.
    name
        How to name the input in errors; defaults to the path, or ``"<text>"``.

    Returns
    -------
    pandas.DataFrame
        In file order: ``line``, ``time`` (as in the file), ``ts_utc``, ``local_date``,
        ``tso_forecast_mw`` ('total load forecast'), ``demand_mw`` ('total load actual'),
        the other columns renamed to snake case with units (``gen_<technology>_mw``,
        ``forecast_<what>_day_ahead_mw``, ``price_day_ahead_eur_mwh``,
        ``price_actual_eur_mwh``), ``problem`` and ``landed``. Columns that are empty in the
        whole file are dropped; ``frame.attrs["notes"]`` says which.
    """
    text, label = _load(source, name)
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [cell.strip() for cell in next(reader, [])]
    if _format_of(header, label) != KAGGLE:
        raise DataValidationError(label, "not the Kaggle energy file")
    names = [kaggle_column_name(col) for col in header]

    lines: list[int] = []
    rows: list[list[str]] = []
    malformed: dict[int, str] = {}
    for cells in reader:
        if not cells or all(not c.strip() for c in cells):
            continue
        lines.append(reader.line_num)
        if len(cells) != len(header):
            malformed[len(rows)] = f"{MALFORMED}: expected {len(header)} fields, got {len(cells)}"
            cells = (cells + [""] * len(header))[: len(header)]
        rows.append(cells)
    raw = pd.DataFrame(rows, columns=names, dtype=object)
    problems: list[list[str]] = [[malformed[i]] if i in malformed else [] for i in range(len(raw))]

    frame = pd.DataFrame({"line": lines, "time": raw["time"]})
    frame["ts_utc"] = _parse_offset_times(raw["time"], problems)
    notes: list[str] = []
    for col in names[1:]:
        values = raw[col].str.strip()
        if len(values) and (values == "").all() and col not in ("tso_forecast_mw", "demand_mw"):
            notes.append(f"dropped column {header[names.index(col)]!r}: empty in every row")
            continue
        frame[col] = _numbers(values, col, problems)
    for col, what in (("tso_forecast_mw", "forecast"), ("demand_mw", "actual load")):
        for i in np.flatnonzero(raw[col].str.strip() == ""):
            problems[i].append(f"{what} missing (empty)")
    # A malformed line's other complaints are noise: its one reason is that it is malformed.
    frame["problem"] = [malformed.get(i) or "; ".join(p) or None for i, p in enumerate(problems)]
    frame = _finish(frame, first_columns=["line", "time"])
    frame.attrs["notes"] = notes
    return frame


def kaggle_column_name(column: str) -> str:
    """The lake's name for a Kaggle column: snake case with the unit.

    ``"generation fossil gas"`` -> ``gen_fossil_gas_mw``, ``"price actual"`` ->
    ``price_actual_eur_mwh``, ``"total load actual"`` -> ``demand_mw``.
    """
    lowered = column.strip().lower()
    fixed = {"time": "time", "total load actual": "demand_mw", "total load forecast": "tso_forecast_mw"}
    if lowered in fixed:
        return fixed[lowered]
    lowered = lowered.replace(" eday ahead", " day ahead")  # the Kaggle header's typo
    snake = re.sub(r"[^a-z0-9]+", "_", lowered).strip("_")
    if snake.startswith("generation_"):
        snake = "gen_" + snake[len("generation_") :]
    return f"{snake}_eur_mwh" if snake.startswith("price") else f"{snake}_mw"


def _parse_offset_times(times: pd.Series, problems: list[list[str]]) -> pd.Series:
    stripped = times.str.strip()
    has_offset = stripped.str.contains(_HAS_OFFSET)
    # Without an offset, utc=True would silently read local wall time as UTC.
    parsed = pd.to_datetime(stripped.where(has_offset), utc=True, format="ISO8601", errors="coerce")
    for i in np.flatnonzero(parsed.isna()):
        if problems[i] and problems[i][0].startswith(MALFORMED):
            continue
        problems[i].append(NO_OFFSET if not has_offset.iloc[i] else f"{MALFORMED}: time not ISO 8601")
    return parsed


def _numbers(values: pd.Series, column: str, problems: list[list[str]]) -> pd.Series:
    numbers = pd.to_numeric(values.where(values != ""), errors="coerce")
    for i in np.flatnonzero(numbers.isna() & (values != "")):
        problems[i].append(f"{column} not a number: {values.iloc[i]!r}")
    return numbers.astype("float64")


# -- shared parsing helpers -------------------------------------------------------------------


def _load(source: str | os.PathLike[str], name: str | None) -> tuple[str, str]:
    """(text, label) of a path or a text; a one-line ``str`` naming an existing file is a path."""
    if isinstance(source, os.PathLike) or ("\n" not in source and _is_file(source)):
        return Path(source).read_bytes().decode("utf-8-sig"), name or str(source)
    return source, name or "<text>"


def _is_file(text: str) -> bool:
    try:
        return Path(text).is_file()
    except (OSError, ValueError):  # a long header line is "File name too long", not False
        return False


def _number(cell: str, what: str, problems: list[str]) -> float:
    token = cell.strip()
    if token.lower() in _MISSING_TOKENS:
        problems.append(f"{what} missing ({_MISSING_TOKENS[token.lower()]})")
        return np.nan
    try:
        return float(token)
    except ValueError:
        problems.append(f"{what} not a number: {token!r}")
        return np.nan


def _finish(frame: pd.DataFrame, first_columns: list[str]) -> pd.DataFrame:
    """Add local_date, flag repeated instants, decide which rows land; fix the column order."""
    frame["ts_utc"] = pd.to_datetime(frame["ts_utc"], utc=True)
    frame["local_date"] = frame["ts_utc"].dt.tz_convert(MADRID).dt.date
    repeated = frame["ts_utc"].notna() & frame["ts_utc"].duplicated(keep="first")
    frame.loc[repeated, "problem"] = [
        _join(p, DUPLICATE_HOUR) for p in frame.loc[repeated, "problem"].tolist()
    ]
    malformed = frame["problem"].fillna("").str.startswith(MALFORMED)
    frame["landed"] = frame["ts_utc"].notna() & ~repeated & ~malformed
    for col in ("tso_forecast_mw", "demand_mw"):
        frame[col] = frame[col].astype("float64")
    rest = [
        c for c in frame.columns if c not in {*first_columns, "ts_utc", "local_date", "problem", "landed"}
    ]
    ordered = [
        "tso_forecast_mw",
        "demand_mw",
        *[c for c in rest if c not in ("tso_forecast_mw", "demand_mw")],
    ]
    return frame[[*first_columns, "ts_utc", "local_date", *ordered, "problem", "landed"]].reset_index(
        drop=True
    )


def _join(existing: str | None, reason: str) -> str:
    return f"{existing}; {reason}" if existing else reason


# -- the day/month swap of the original Kaggle file ----------------------------------------------


@dataclass(frozen=True)
class SwapCheck:
    """Whether a file's rows look like they carry another date's data, day and month swapped.

    The original Kaggle file stamps each row whose local day of month is 12 or less (and
    differs from the month) with the data of the date with day and month swapped. Days
    that cannot be swapped (day > 12, or day == month) are clean either way, so they give
    an honest seasonal level and weekday profile. Each swappable day is then asked which
    date its daily mean load fits better: its own, or its swapped twin.
    """

    verdict: Literal["consistent", "swapped", "inconclusive", "not enough data"]
    decisive_days: int
    swapped_share: float | None

    def describe(self) -> str:
        share = "n/a" if self.swapped_share is None else f"{self.swapped_share:.0%}"
        return (
            f"day/month swap check: {self.verdict} ({share} of {self.decisive_days} decisive "
            "swappable days fit the swapped date better)"
        )


# A day votes only when the two dates' predictions differ clearly (2 % of its load).
_DECISIVE_MARGIN = 0.02
_MIN_DECISIVE_DAYS = 10
_LEVEL_WINDOW_DAYS = 21


def check_day_month_swap(ts_utc: pd.Series, load_mw: pd.Series) -> SwapCheck:
    """Test hourly load for the Kaggle day/month-swap defect.

    Parameters
    ----------
    ts_utc
        Hour starts, tz-aware.
    load_mw
        Load per hour (actual, with gaps filled from the forecast is fine).

    Returns
    -------
    SwapCheck
        ``swapped`` when more than 60 % of at least 10 decisive days fit their swapped
        date better, ``consistent`` under 40 %, else ``inconclusive``; ``not enough data``
        for short files (a year or so is needed to have both dates of a pair).
    """
    valid = ts_utc.notna() & load_mw.notna()
    local_days = pd.to_datetime(ts_utc[valid].dt.tz_convert(MADRID).dt.date)
    per_day = load_mw[valid].groupby(local_days.to_numpy()).agg(["mean", "count"])
    per_day = per_day[per_day["count"] >= 20]["mean"]
    if per_day.empty:
        return SwapCheck("not enough data", 0, None)
    calendar = pd.date_range(per_day.index.min(), per_day.index.max(), freq="D")
    daily = per_day.reindex(calendar)
    swappable = pd.Series((calendar.day <= 12) & (calendar.day != calendar.month), index=calendar)
    clean = daily.where(~swappable)
    level = clean.rolling(_LEVEL_WINDOW_DAYS, center=True, min_periods=4).median()
    weekday_factor = (clean / level).groupby(calendar.weekday).median()

    own_errors, twin_errors = [], []
    for day in calendar[swappable.to_numpy() & daily.notna().to_numpy()]:
        twin = pd.Timestamp(day.year, day.day, day.month)
        if twin not in level.index or pd.isna(level[twin]) or pd.isna(level[day]):
            continue
        load = daily[day]
        own_errors.append(abs(load - level[day] * weekday_factor.get(day.weekday(), np.nan)) / load)
        twin_errors.append(abs(load - level[twin] * weekday_factor.get(twin.weekday(), np.nan)) / load)
    own, twin_err = np.array(own_errors, dtype=float), np.array(twin_errors, dtype=float)
    decisive = np.abs(own - twin_err) > _DECISIVE_MARGIN
    count = int(decisive.sum())
    if count < _MIN_DECISIVE_DAYS:
        return SwapCheck("not enough data", count, None)
    share = float((twin_err[decisive] < own[decisive]).mean())
    verdict = "swapped" if share > 0.6 else "consistent" if share < 0.4 else "inconclusive"
    return SwapCheck(verdict, count, round(share, 4))


# -- landing in raw ----------------------------------------------------------------------------


@dataclass
class FileSummary:
    """What happened to one input file. ``rows_in == rows_landed + rows_dropped``."""

    path: str
    format: str
    sha256: str
    rows_in: int
    rows_landed: int
    rows_dropped: int
    hours: int
    first_ts_utc: str | None
    last_ts_utc: str | None
    extracted_at: str | None
    #: Rows with a problem by reason, landed and dropped alike (each row counted once).
    problems: dict[str, int] = field(default_factory=dict)
    #: Dropped rows by reason; every dropped row is in here.
    dropped: dict[str, int] = field(default_factory=dict)
    #: The first dropped rows themselves (line, period or time, reason).
    dropped_rows: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    swap_check: dict[str, Any] | None = None
    keys: list[str] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        return self.rows_in == self.rows_landed + self.rows_dropped and self.rows_dropped == sum(
            self.dropped.values()
        )


@dataclass
class IngestSummary:
    """What one ``ingest_files`` call did, per file and in total."""

    files: list[FileSummary]
    keys_written: list[str]

    @property
    def rows_in(self) -> int:
        return sum(f.rows_in for f in self.files)

    @property
    def rows_landed(self) -> int:
        return sum(f.rows_landed for f in self.files)

    @property
    def rows_dropped(self) -> int:
        return sum(f.rows_dropped for f in self.files)

    @property
    def balanced(self) -> bool:
        return all(f.balanced for f in self.files) and self.rows_in == self.rows_landed + self.rows_dropped

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows_in": self.rows_in,
            "rows_landed": self.rows_landed,
            "rows_dropped": self.rows_dropped,
            "balanced": self.balanced,
            "keys_written": list(self.keys_written),
            "files": [asdict(f) for f in self.files],
        }

    def fill_report(self, report: RunReport) -> None:
        """Copy the counts into a :class:`datalake.runs.RunReport` (dropped rows are its quarantine)."""
        report.rows_in = self.rows_in
        report.rows_out = self.rows_landed
        report.rows_quarantined = self.rows_dropped
        report.keys_written = list(self.keys_written)
        report.details["files"] = [{k: v for k, v in asdict(f).items() if k != "keys"} for f in self.files]


def ingest_files(
    store: ObjectStore,
    paths: Iterable[str | os.PathLike[str]],
    *,
    extracted_at: dt.datetime | None = None,
    allow_swapped: bool = False,
    progress: Progress | None = None,
) -> IngestSummary:
    """Land ENTSO-E files in the raw zone, one CSV per Europe/Madrid day.

    Every file is parsed and checked before anything is written, so a refused file leaves
    the lake untouched. Keys are ``raw/entsoe/{total_load|kaggle_energy}/year=/month=/day=/
    entsoe-{total-load|kaggle-energy}-YYYY-MM-DD.csv``; each object is written atomically and
    a re-run with the same input rewrites the same bytes. Rows of one format from several
    files that fall on the same day share that day's object; when two files hold the same
    hour, the later file in ``paths`` wins and the earlier row is counted as superseded.

    Parameters
    ----------
    store
        Where the raw zone lives.
    paths
        The files; each one's format is detected from its header.
    extracted_at
        The extraction time written on every row (tz-aware). By default each file gets the
        end of its last hour: the earliest moment it could have been extracted, and a value
        that depends only on the file's content, so re-ingesting writes identical bytes.
    allow_swapped
        Land a Kaggle file that looks like the original with day and month swapped (with a
        note) instead of refusing it.
    progress
        Called with one line per step.

    Returns
    -------
    IngestSummary
        Per file: format, rows in, landed, dropped, distinct hours, problems by reason,
        notes, keys written.

    Raises
    ------
    DataValidationError
        For a file of unknown format, or a swapped Kaggle file without ``allow_swapped``.
    """
    log = progress or (lambda _line: None)
    if extracted_at is not None and extracted_at.tzinfo is None:
        raise DataValidationError("extracted_at", "must be timezone-aware")

    parsed: list[tuple[FileSummary, pd.DataFrame]] = []
    for path in paths:
        summary, frame = _parse_file(Path(path), extracted_at, allow_swapped)
        log(
            f"{summary.path}: {summary.format}, {summary.rows_in} rows, {summary.rows_landed} to land, "
            f"{summary.rows_dropped} dropped"
        )
        parsed.append((summary, frame))

    keys: list[str] = []
    summaries = [summary for summary, _ in parsed]
    for fmt in (TOTAL_LOAD, KAGGLE):
        frames = {i: frame for i, (summary, frame) in enumerate(parsed) if summary.format == fmt}
        if not frames:
            continue
        days = _merge_days(frames, summaries)
        for day, (rows, files) in days.items():
            key = date_partition_key(RAW_PREFIX[fmt], day, f"{FILE_STEM[fmt]}-{day.isoformat()}.csv")
            store.write_csv(key, rows)
            keys.append(key)
            for i in files:
                summaries[i].keys.append(key)
        log(f"{fmt}: wrote {len(days)} day file(s) under {store.uri(RAW_PREFIX[fmt])}")
    return IngestSummary(files=summaries, keys_written=keys)


def _parse_file(
    path: Path, extracted_at: dt.datetime | None, allow_swapped: bool
) -> tuple[FileSummary, pd.DataFrame]:
    data = path.read_bytes()
    text = data.decode("utf-8-sig")
    fmt = detect_format(text, name=str(path))
    frame = (
        parse_total_load(text, name=str(path)) if fmt == TOTAL_LOAD else parse_kaggle(text, name=str(path))
    )
    notes = list(frame.attrs.get("notes", []))
    landed = frame[frame["landed"]]
    swap = None
    if fmt == KAGGLE:
        check = check_day_month_swap(landed["ts_utc"], landed["demand_mw"].fillna(landed["tso_forecast_mw"]))
        swap = asdict(check)
        if check.verdict == "swapped" and not allow_swapped:
            raise DataValidationError(
                str(path),
                "looks like the ORIGINAL Kaggle file, whose rows with a local day of month of 12 or less "
                "carry the data of the date with day and month swapped "
                f"({check.describe()}); use the corrected copy ({CORRECTED_KAGGLE_HINT}) "
                "or pass allow_swapped=True to land it anyway",
            )
        if check.verdict != "consistent":
            notes.append(f"WARNING {check.describe()}" if check.verdict == "swapped" else check.describe())
    notes.extend(_partial_day_notes(landed))

    if extracted_at is not None:
        stamp = extracted_at.astimezone(dt.UTC).isoformat()
    elif len(landed):
        stamp = (landed["ts_utc"].max() + pd.Timedelta(hours=1)).isoformat()
    else:
        stamp = None
    summary = FileSummary(
        path=str(path),
        format=fmt,
        sha256=hashlib.sha256(data).hexdigest(),
        rows_in=len(frame),
        rows_landed=len(landed),
        rows_dropped=int((~frame["landed"]).sum()),
        hours=int(landed["ts_utc"].nunique()),
        first_ts_utc=landed["ts_utc"].min().isoformat() if len(landed) else None,
        last_ts_utc=landed["ts_utc"].max().isoformat() if len(landed) else None,
        extracted_at=stamp,
        problems=dict(sorted(Counter(frame["problem"].dropna()).items())),
        dropped=dict(sorted(Counter(frame.loc[~frame["landed"], "problem"]).items())),
        dropped_rows=_listed_drops(frame),
        notes=notes,
        swap_check=swap,
    )
    return summary, _raw_rows(landed, fmt, path.name, stamp)


def _raw_rows(landed: pd.DataFrame, fmt: str, source_file: str, extracted_at: str | None) -> pd.DataFrame:
    """The landed rows in raw's tidy form: ISO times with offsets, the source's values as they were."""
    local = landed["ts_utc"].dt.tz_convert(MADRID)
    measures = [
        c
        for c in landed.columns
        if c not in {"line", "period", "time", "ts_utc", "local_date", "problem", "landed"}
    ]
    out = pd.DataFrame(
        {
            "ts_utc": landed["ts_utc"].map(lambda t: t.isoformat()),
            "local_time": local.map(lambda t: t.isoformat()),
            "local_date": landed["local_date"].map(lambda d: d.isoformat()),
            "region": REGION,
            "source": SOURCE_LABEL,
        }
    )
    if fmt == TOTAL_LOAD:
        out["period"] = landed["period"]
    for col in measures:
        out[col] = landed[col]
    out["problem"] = landed["problem"]
    out["extracted_at"] = extracted_at
    out["source_file"] = source_file
    out["source_line"] = landed["line"]
    return out


def _merge_days(
    frames: dict[int, pd.DataFrame], summaries: list[FileSummary]
) -> dict[dt.date, tuple[pd.DataFrame, list[int]]]:
    """Raw rows of several files of one format, per local day; a later file wins a repeated hour.

    ``frames`` maps each file's position in the call to its raw rows; each day comes with the
    positions of the files that contributed to it.
    """
    rows = pd.concat([frame.assign(_file=i) for i, frame in frames.items()], ignore_index=True)
    # Every ts_utc string has the same +00:00 form, so text order is time order.
    rows = rows.sort_values(["ts_utc", "_file"], kind="stable")
    superseded = rows["ts_utc"].duplicated(keep="last")
    for i, lost in rows[superseded].groupby("_file"):
        summary = summaries[int(i)]
        count = len(lost)
        summary.rows_landed -= count
        summary.rows_dropped += count
        summary.hours -= count
        summary.dropped[SUPERSEDED] = summary.dropped.get(SUPERSEDED, 0) + count
        # Count each row under one reason: the superseded one replaces whatever it had.
        for earlier in lost["problem"].dropna():
            summary.problems[earlier] -= 1
            if not summary.problems[earlier]:
                del summary.problems[earlier]
        summary.problems[SUPERSEDED] = summary.problems.get(SUPERSEDED, 0) + count
        room = max(0, _MAX_LISTED_DROPS - len(summary.dropped_rows))
        summary.dropped_rows.extend(
            {"line": int(line), "ts_utc": ts, "reason": SUPERSEDED}
            for line, ts in zip(lost["source_line"][:room], lost["ts_utc"][:room], strict=True)
        )
    rows = rows[~superseded]
    origin = rows.pop("_file")
    return {
        dt.date.fromisoformat(day): (part.reset_index(drop=True), sorted(set(origin[part.index].tolist())))
        for day, part in rows.groupby("local_date", sort=True)
    }


def _partial_day_notes(landed: pd.DataFrame) -> list[str]:
    """Local days this file covers only in part (their raw object will hold only these hours)."""
    if landed.empty:
        return []
    hours = landed.groupby("local_date")["ts_utc"].nunique()
    expected = {day: _hours_in_local_day(day) for day in hours.index}
    partial = [f"{day.isoformat()} ({n}/{expected[day]} h)" for day, n in hours.items() if n != expected[day]]
    if not partial:
        return []
    shown = ", ".join(partial[:10]) + (f" and {len(partial) - 10} more" if len(partial) > 10 else "")
    return [f"{len(partial)} local day(s) not complete in this file: {shown}"]


def _hours_in_local_day(day: dt.date) -> int:
    start = pd.Timestamp(day).tz_localize(MADRID)
    end = pd.Timestamp(day + dt.timedelta(days=1)).tz_localize(MADRID)
    return int((end - start) / pd.Timedelta(hours=1))


def _listed_drops(frame: pd.DataFrame) -> list[dict[str, Any]]:
    dropped = frame[~frame["landed"]].head(_MAX_LISTED_DROPS)
    label = "period" if "period" in frame.columns else "time"
    return [
        {"line": int(row["line"]), label: row[label], "reason": row["problem"]}
        for _, row in dropped.iterrows()
    ]
