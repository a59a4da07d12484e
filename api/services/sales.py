"""The store-sales champion, in-process or on its SageMaker endpoint, and the log of what it served
(``sales_predictions``).

In-process, the champion (MLflow registry alias ``champion`` of ``store_sales``) is loaded on first
use; every ``API_REFRESH_S`` one registry call checks which version the alias names, and a new
version is loaded only when the alias moved (:func:`datalake.sales.predict.load_alias` keeps one
copy per version). With no champion yet, a 503 says how to train one. On AWS with
``SALES_ENDPOINT`` set (the API Lambda, whose layers have neither scikit-learn nor MLflow), each
request goes to the endpoint instead (``sagemaker/sales_inference.py``, deployed by ``launch.py
deploy --model store-sales``); a row it refuses is the same 422 naming ``rows.<i>.<field>``, and
its answer is checked before it is served or logged.
Actual sales come from the warehouse's ``store_sales_daily`` (same store and day), mirrored by
``datalake sync``: a listed prediction carries its error once the day's sales are there.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import math
import re
import threading
import time
import uuid
from collections.abc import Callable
from email import policy
from email.parser import BytesParser
from typing import TYPE_CHECKING, Any

from psycopg import sql

from api.errors import ServiceUnavailableError, UpstreamError
from api.services.db import Database
from api.services.endpoints import JsonEndpoint, serving_backend
from datalake.datasets import SALES_PREDICTIONS
from datalake.datasets.store_sales import STORE_SALES_DAILY
from datalake.errors import DataValidationError
from datalake.sales import MAX_PREDICT_ROWS as MAX_ROWS
from datalake.settings import Settings
from datalake.warehouse.ddl import ensure_table

if TYPE_CHECKING:  # the model needs scikit-learn, which the API Lambda's layer lacks: import on use
    from datalake.sales.predict import LoadedModel, RowError

logger = logging.getLogger(__name__)

HINT = "train one with `datalake run sales-retrain` (after `datalake run sales-etl`)"
_TABLE = sql.Identifier(SALES_PREDICTIONS.warehouse_table or "sales_predictions")
_ACTUALS = STORE_SALES_DAILY.warehouse_table or "store_sales_daily"
# One statement for any number of rows: columns travel as arrays (a batch is up to 10,000 rows).
_TYPES = {
    "request_id": "text", "position": "int", "served_at": "timestamptz", "model_version": "text",
    "model_alias": "text", "store_id": "int", "date": "date", "promo": "boolean", "state_holiday": "text",
    "school_holiday": "boolean", "predicted_sales": "float8", "closed": "boolean", "request_source": "text",
}  # fmt: skip
_INSERT = sql.SQL(
    "INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays}) ON CONFLICT DO NOTHING"
).format(
    table=_TABLE,
    columns=sql.SQL(", ").join(sql.Identifier(c) for c in SALES_PREDICTIONS.column_names),
    arrays=sql.SQL(", ").join(
        sql.SQL("{}::{}[]").format(sql.Placeholder(c), sql.SQL(_TYPES[c]))
        for c in SALES_PREDICTIONS.column_names
    ),
)
_ACTUAL = sql.SQL("LEFT JOIN {actuals} s ON s.store_id = p.store_id AND s.date = p.date").format(
    actuals=sql.Identifier(_ACTUALS)
)
_NO_ACTUAL = sql.SQL("LEFT JOIN (SELECT NULL::float8 AS sales) s ON true")

#: CSV headers accepted besides the JSON names: the Rossmann files' own (Store, Date, ...).
_CSV_ALIASES = {
    "store": "store_id",
    "storeid": "store_id",
    "stateholiday": "state_holiday",
    "schoolholiday": "school_holiday",
}
_CSV_REQUIRED = ("store_id", "date", "promo", "state_holiday", "school_holiday")


def _load_alias(alias: str, settings: Settings) -> LoadedModel:
    from datalake.sales.predict import load_alias

    return load_alias(alias, settings)


def _bad_row(error: RowError) -> DataValidationError:
    """The model's ``RowError`` as the API's 422, its field spelt as request validation spells
    one (``rows[3].store_id`` becomes ``rows.3.store_id``)."""
    return _request_field(DataValidationError(error.field, str(error).removeprefix(f"{error.field}: ")))


def _request_field(error: DataValidationError) -> DataValidationError:
    """A model's field (``rows[3].store_id``) spelt as request validation spells it (``rows.3.store_id``)."""
    return DataValidationError(re.sub(r"\[(\d+)\]", r".\1", error.field), error.reason)


def sales_backend(settings: Settings) -> str:
    """``local`` or ``endpoint``, from ``API_SALES_BACKEND`` (``auto``: the endpoint on AWS)."""
    return serving_backend(settings.api_sales_backend, settings.sales_endpoint, settings)


#: Content types read as a CSV upload (anything else is JSON).
CSV_TYPES = ("multipart/form-data", "text/csv", "application/csv")


def is_csv_upload(content_type: str) -> bool:
    """Whether a request with this ``Content-Type`` sends a CSV (a form file or a CSV body)."""
    return content_type.split(";")[0].strip().lower() in CSV_TYPES


def csv_payload(content_type: str, body: bytes) -> bytes:
    """The CSV bytes of an upload: a ``multipart/form-data`` file part, or a ``text/csv`` body.

    Raises
    ------
    DataValidationError
        No CSV in the request (422 naming ``file``).
    """
    kind = content_type.split(";")[0].strip().lower()
    if kind in ("text/csv", "application/csv"):
        return body
    if kind != "multipart/form-data":
        raise DataValidationError("file", f"send a multipart/form-data file or a text/csv body, not {kind!r}")
    # The standard library's MIME parser reads form data (no python-multipart in this build).
    header = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", "replace")
    message = BytesParser(policy=policy.HTTP).parsebytes(header + body)
    if not message.is_multipart():
        raise DataValidationError("file", "the multipart body has no parts")
    parts = list(message.iter_parts())
    named = [p for p in parts if p.get_param("name", header="content-disposition") == "file"]
    for part in named or parts:
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes) and payload.strip():
            return payload
    raise DataValidationError("file", "no CSV file in the form (send it as the field 'file')")


def parse_csv(payload: bytes) -> list[dict[str, Any]]:
    """Rows of a CSV with a header, as the JSON rows would give them (values still text).

    Columns are read by name, in any order; other columns are ignored and an empty ``open`` is
    left out (true). The values are validated afterwards, as JSON rows are (422 ``rows.<i>.<field>``).

    Raises
    ------
    DataValidationError
        Not UTF-8 or not CSV (``file``), a required column missing (``file.<column>``), no rows or
        over 10,000 (``rows``).
    """
    try:
        text = payload.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataValidationError("file", "the CSV is not UTF-8 text") from None
    # newline="": quoted fields may hold line breaks, and a lone \r ends a line as csv expects.
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        rows = _csv_rows(reader)
    except csv.Error as error:
        raise DataValidationError("file", f"not a readable CSV (line {reader.line_num}): {error}") from None
    if not rows:
        raise DataValidationError("rows", "the CSV has a header but no rows")
    return rows


def _csv_rows(reader: Any) -> list[dict[str, Any]]:
    """The rows of ``reader`` (a ``csv.reader`` at the header line) as dicts of the known columns."""
    header = next(reader, None)
    if not header:
        raise DataValidationError("file", "the CSV is empty (a header line is needed)")
    names = [n.strip().lower().replace(" ", "_") for n in header]
    names = [_CSV_ALIASES.get(n.replace("_", ""), n) for n in names]
    missing = [name for name in _CSV_REQUIRED if name not in names]
    if missing:
        raise DataValidationError(f"file.{missing[0]}", f"the CSV header has no {missing[0]} column")
    wanted = {name: names.index(name) for name in (*_CSV_REQUIRED, "open") if name in names}
    rows: list[dict[str, Any]] = []
    for values in reader:
        if not any(v.strip() for v in values):
            continue  # blank line
        if len(rows) == MAX_ROWS:
            raise DataValidationError("rows", f"more than {MAX_ROWS:,} rows; at most {MAX_ROWS:,} per call")
        row = {name: values[i].strip() if i < len(values) else "" for name, i in wanted.items()}
        if not row.get("open"):
            row.pop("open", None)  # absent: open
        rows.append(row)
    return rows


class StoreSalesService:
    """Predicts with the cached champion and logs each answer.

    Parameters
    ----------
    settings
        Process settings (MLflow location, how often the alias is re-checked).
    database
        Where ``sales_predictions`` lives; None: predictions are not logged (tests of routing).
    load_champion
        ``load_champion() -> LoadedModel``; the registry's ``champion`` by default. Raises
        :class:`LookupError` when no version has the alias.
    clock
        Seconds, monotonic (tests pass a fake).
    endpoint_client
        A ``sagemaker-runtime`` client for the endpoint backend; built when needed.
    boto3_session
        For the AWS clients (endpoint and its status).
    """

    def __init__(
        self,
        settings: Settings,
        database: Database | None,
        *,
        load_champion: Callable[[], LoadedModel] | None = None,
        clock: Callable[[], float] = time.monotonic,
        endpoint_client: Any | None = None,
        boto3_session: Any | None = None,
    ) -> None:
        self.settings = settings
        self.database = database
        self.backend = sales_backend(settings)
        self.endpoint = JsonEndpoint(
            settings.sales_endpoint,
            settings,
            what="store-sales endpoint",
            hint="SALES_ENDPOINT",
            client=endpoint_client,
            boto3_session=boto3_session,
            client_errors=True,
        )
        self._load = load_champion or (lambda: _load_alias("champion", settings))
        self._clock = clock
        self._loaded: LoadedModel | None = None
        self._checked = -1e18
        self._lock = threading.Lock()
        self._ready = False
        #: Predictions served but not logged (the warehouse was unreachable) since the process started.
        self.dropped = 0

    def champion(self) -> LoadedModel:
        """The champion, re-checked every ``API_REFRESH_S``; 503 when none is registered yet."""
        with self._lock:
            if self._loaded is not None and self._clock() - self._checked <= self.settings.api_refresh_s:
                return self._loaded
            try:
                loaded = self._load()
            except LookupError as error:
                raise ServiceUnavailableError(str(error), hint=HINT) from None
            except ModuleNotFoundError as error:  # the API Lambda's layer has no scikit-learn
                raise ServiceUnavailableError(
                    f"{error.name} is not installed here: /predict/sales needs the full API build",
                    hint="serve /predict/sales from `datalake serve` (EC2) or a build with scikit-learn",
                ) from None
            except Exception as error:  # the registry is unreachable: keep serving what we have
                if self._loaded is None:
                    logger.error("store_sales champion could not be loaded: %s", error)
                    raise ServiceUnavailableError(
                        "the store_sales model registry could not be read", hint=HINT
                    ) from None
                logger.warning(
                    "store_sales alias check failed, serving version %s: %s", self._loaded.version, error
                )
                loaded = self._loaded
            if self._loaded is None or loaded.version != self._loaded.version:
                logger.info("store_sales champion: version %s", loaded.version)
            self._loaded = loaded
            self._checked = self._clock()
            return self._loaded

    def predict(self, rows: list[dict[str, Any]], request_source: str = "http") -> dict[str, Any]:
        """Predicted sales per row (validated dicts), logged to ``sales_predictions``.

        Raises
        ------
        DataValidationError
            An unknown store or another row the model refuses (422 naming ``rows.<i>.<field>``).
        ServiceUnavailableError
            No champion yet (503 with the command that trains one).
        """
        if self.backend == "endpoint":
            answer = self.from_endpoint(rows)
        else:
            loaded = self.champion()
            from datalake.sales.predict import RowError, predict_sales  # loaded: scikit-learn is there

            try:
                answer = predict_sales(rows, loaded, self.settings)
            except RowError as error:
                raise _bad_row(error) from None
        if self.database is not None:
            try:
                self.log(answer, rows, request_source)
            except Exception as error:  # the answer still counts: a warehouse outage costs the log only
                self.dropped += len(rows)
                logger.error("could not log %d store-sales prediction(s): %s", len(rows), error)
        return answer

    def from_endpoint(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        """One ``InvokeEndpoint`` call with ``{"rows": rows}``; its answer checked row by row.

        Raises
        ------
        DataValidationError
            The model refused a row (an unknown store, say): 422 naming ``rows.<i>.<field>``.
        ServiceUnavailableError
            No endpoint, or it is missing, not in service, throttling or unreachable (503).
        UpstreamError
            The model failed, or it answered something other than one prediction per row (502).
        """
        try:
            answer = self.endpoint.invoke({"rows": rows})
        except DataValidationError as error:
            raise _request_field(error) from None
        label = self.endpoint.label
        predictions = answer.get("predictions") if isinstance(answer, dict) else None
        if not isinstance(predictions, list) or len(predictions) != len(rows):
            count = len(predictions) if isinstance(predictions, list) else "no"
            raise UpstreamError(f"{label} answered {count} predictions for {len(rows)} rows")
        for name in ("model_version", "model_alias"):
            if not isinstance(answer.get(name), str) or not answer[name]:
                raise UpstreamError(f"{label} answered no {name}")
        for position, (row, prediction) in enumerate(zip(rows, predictions, strict=True)):
            try:
                same = (
                    int(prediction["store_id"]) == int(row["store_id"])
                    and prediction["date"] == dt.date.fromisoformat(str(row["date"])[:10]).isoformat()
                )
                valid = isinstance(prediction["closed"], bool) and math.isfinite(
                    float(prediction["predicted_sales"])
                )
            except (KeyError, TypeError, ValueError):
                same = valid = False
            if not (same and valid):
                raise UpstreamError(f"{label} answered a bad predictions.{position} for rows.{position}")
        return answer

    def status(self) -> dict[str, Any]:
        """The champion's version for /health/details; an absent champion is reported, not raised.

        With the endpoint backend: the endpoint's status (raises when it is missing or not in service).
        """
        if self.backend == "endpoint":
            return self.endpoint.readiness()
        try:
            loaded = self.champion()
        except ServiceUnavailableError as error:
            return {"backend": "in_process", "champion": "absent", "version": None, "detail": str(error),
                    "hint": error.hint}  # fmt: skip
        return {
            "backend": "in_process",
            "champion": "present",
            "version": loaded.version,
            "alias": loaded.alias,
        }

    def ensure(self) -> None:
        if self._ready or self.database is None:
            return
        with self.database.connection() as conn:
            ensure_table(conn, SALES_PREDICTIONS)
        self._ready = True

    def log(self, answer: dict[str, Any], rows: list[dict[str, Any]], request_source: str) -> None:
        """Write one row per prediction, in one statement."""
        assert self.database is not None
        self.ensure()
        count = len(answer["predictions"])
        columns: dict[str, list[Any]] = {
            "request_id": [uuid.uuid4().hex] * count,
            "position": list(range(count)),
            "served_at": [dt.datetime.now(dt.UTC)] * count,
            "model_version": [answer["model_version"]] * count,
            "model_alias": [answer["model_alias"]] * count,
            "store_id": [p["store_id"] for p in answer["predictions"]],
            "date": [dt.date.fromisoformat(p["date"]) for p in answer["predictions"]],
            "promo": [bool(r["promo"]) for r in rows],
            "state_holiday": [str(r["state_holiday"]) for r in rows],
            "school_holiday": [bool(r["school_holiday"]) for r in rows],
            "predicted_sales": [float(p["predicted_sales"]) for p in answer["predictions"]],
            "closed": [bool(p["closed"]) for p in answer["predictions"]],
            "request_source": [request_source] * count,
        }
        with self.database.connection() as conn, conn.transaction():
            conn.execute(_INSERT, columns)

    def page(
        self,
        *,
        limit: int,
        offset: int,
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
        has_actual: bool | None = None,
    ) -> dict[str, Any]:
        """Logged predictions, newest first, each with ``actual_sales`` and its error once known.

        ``summary`` covers every matching row with an actual: ``with_actual``, ``mae`` and
        ``rmspe`` (the competition's metric, over days with sales).
        """
        if self.database is None:
            raise ServiceUnavailableError("no warehouse: store-sales predictions are not logged")
        self.ensure()
        conditions: list[sql.Composable] = []
        params: dict[str, Any] = {}
        if date_from:
            conditions.append(sql.SQL("p.date >= %(date_from)s"))
            params["date_from"] = date_from
        if date_to:
            conditions.append(sql.SQL("p.date <= %(date_to)s"))
            params["date_to"] = date_to
        with self.database.connection() as conn:
            found = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"public.{_ACTUALS}",)).fetchone()
            actual = _ACTUAL if found and found[0] else _NO_ACTUAL
            if has_actual is not None:
                conditions.append(sql.SQL("s.sales IS NOT NULL" if has_actual else "s.sales IS NULL"))
            clause = sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions) if conditions else sql.SQL("")
            base = sql.SQL("FROM {table} p {actual}{clause}").format(
                table=_TABLE, actual=actual, clause=clause
            )
            rows = conn.execute(
                sql.SQL(
                    "SELECT p.request_id, p.position, p.served_at, p.model_version, p.model_alias,"
                    " p.store_id, p.date, p.promo, p.state_holiday, p.school_holiday, p.closed,"
                    " p.predicted_sales, s.sales::float8 {base}"
                    " ORDER BY p.served_at DESC, p.request_id, p.position LIMIT %(limit)s OFFSET %(offset)s"
                ).format(base=base),
                {**params, "limit": limit, "offset": offset},
            ).fetchall()
            total, with_actual, mae, mspe = conn.execute(
                sql.SQL(
                    "SELECT count(*), count(s.sales), avg(abs(p.predicted_sales - s.sales)),"
                    " avg(((p.predicted_sales - s.sales) / s.sales) ^ 2) FILTER (WHERE s.sales > 0) {base}"
                ).format(base=base),
                params,
            ).fetchone() or (0, 0, None, None)
        return {
            "items": [_item(row) for row in rows],
            "total": int(total),
            "summary": {
                "with_actual": int(with_actual),
                "mae": None if mae is None else round(float(mae), 2),
                "rmspe": None if mspe is None else round(math.sqrt(float(mspe)), 4),
            },
        }


def _item(row: tuple[Any, ...]) -> dict[str, Any]:
    (request_id, position, served_at, version, alias, store_id, day, promo, holiday, school, closed,
     predicted, actual) = row  # fmt: skip
    error = None if actual is None else predicted - actual
    return {
        "request_id": request_id,
        "position": position,
        "served_at": served_at,
        "model_version": version,
        "model_alias": alias,
        "store_id": store_id,
        "date": day,
        "promo": promo,
        "state_holiday": holiday,
        "school_holiday": school,
        "closed": closed,
        "predicted_sales": predicted,
        "actual_sales": actual,
        "error": None if error is None else round(error, 2),
        "ape_pct": None if error is None or not actual else round(abs(error) / actual * 100, 2),
    }
