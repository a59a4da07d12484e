"""Recent rates in, a buy/sell/hold signal for the next day out; and the clients that ask for one.

Shared by the SageMaker handler (``sagemaker/fx_signal_inference.py``) and the in-process client
the trade advisor uses locally. A request is ``{"rates": [{"date": "YYYY-MM-DD", "rate": 4012.5},
...]}`` (pesos per dollar, one per business day, any order). The model merges them over the rates it
was trained on (its bundled tail; a request's rate wins on the same day), and answers for the
latest day when the last :data:`~datalake.fxsignal.features.MIN_HISTORY` rates have no gap over
:data:`MAX_GAP_DAYS` calendar days; otherwise the request is refused (400) naming ``rates``: a
signal from a series with a hole in it would be computed over the wrong windows.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd

from datalake.errors import ConfigurationError, DataValidationError, LakeError, ObjectNotFoundError
from datalake.fxsignal import MODEL_NAME, SIGNALS

if TYPE_CHECKING:
    from datalake.fxsignal.model import FxSignalModel
    from datalake.settings import Settings

#: The longest calendar gap allowed inside the feature window (the TRM's longest is 6: Holy Week).
MAX_GAP_DAYS = 7
#: Rates one request may carry (about four years of business days).
MAX_RATES = 1000


def parse_rates(payload: Any, field: str = "rates") -> pd.Series:
    """Validate ``{"rates": [{"date", "rate"}, ...]}`` (or the bare list) into a sorted series.

    Raises
    ------
    DataValidationError
        Naming the first bad field (``rates[3].rate``); an empty list is refused too.
    """
    items = payload.get(field) if isinstance(payload, dict) else payload
    if not isinstance(items, list) or not items:
        raise DataValidationError(field, "required, a non-empty list of {date, rate}")
    if len(items) > MAX_RATES:
        raise DataValidationError(field, f"{len(items):,} rates; at most {MAX_RATES:,}")
    values: dict[pd.Timestamp, float] = {}
    for position, item in enumerate(items):
        where = f"{field}[{position}]"
        if not isinstance(item, dict):
            raise DataValidationError(
                where, f"expected an object with date and rate, got {type(item).__name__}"
            )
        try:
            day = dt.date.fromisoformat(str(item.get("date")))
        except ValueError:
            raise DataValidationError(f"{where}.date", "required, YYYY-MM-DD") from None
        rate = item.get("rate")
        if isinstance(rate, str):
            try:
                rate = float(rate)
            except ValueError:
                raise DataValidationError(f"{where}.rate", f"not a number: {rate!r}") from None
        if (
            isinstance(rate, bool)
            or not isinstance(rate, int | float)
            or not math.isfinite(rate)
            or rate <= 0
        ):
            raise DataValidationError(f"{where}.rate", f"must be a positive number, got {rate!r}")
        values[pd.Timestamp(day)] = float(rate)
    series = pd.Series(values, dtype=float).sort_index()
    series.index.name = "date"
    return series


def merge_rates(known: pd.Series, recent: pd.Series) -> pd.Series:
    """``known`` overlaid with ``recent`` (``recent`` wins on the same day), sorted by date."""
    merged = pd.concat([known.astype(float), recent.astype(float)])
    merged = merged[~merged.index.duplicated(keep="last")].sort_index()
    merged.index.name = "date"
    return merged


def check_window(rates: pd.Series) -> None:
    """Refuse a series too short, or with a hole, in the feature window (the last ``MIN_HISTORY`` rates)."""
    from datalake.fxsignal.features import MIN_HISTORY

    if len(rates) < MIN_HISTORY:
        raise DataValidationError("rates", f"{len(rates)} daily rates; at least {MIN_HISTORY} are needed")
    window = rates.index[-MIN_HISTORY:]
    gaps = pd.Series(window[1:] - window[:-1], index=window[1:])
    widest = gaps.max()
    if widest > pd.Timedelta(days=MAX_GAP_DAYS):
        after = gaps.idxmax()
        raise DataValidationError(
            "rates",
            f"no rate for {widest.days} days before {after.date()}; the last {MIN_HISTORY} rates must be at "
            f"most {MAX_GAP_DAYS} days apart (send the missing days)",
        )


def advise(model: FxSignalModel, recent: pd.Series) -> dict[str, Any]:
    """The signal for the latest day of the model's history overlaid with ``recent``.

    Returns
    -------
    dict
        ``signal`` (buy/sell/hold), ``probabilities`` (per class), ``as_of`` (the day whose
        rate it is), ``rate_cop_per_usd``, ``threshold`` (the label's move), ``model_version``
        ``trained_until`` (the last rate its fit used) and ``history_until`` (the last rate it
        carries).
    """
    from datalake.fxsignal.features import MIN_HISTORY, build_features

    rates = merge_rates(model.history, recent)
    check_window(rates)
    features = build_features(rates.iloc[-MIN_HISTORY:]).iloc[[-1]]
    if features.isna().any(axis=None):
        raise DataValidationError(
            "rates", "the latest rates give incomplete features (repeated or zero rates?)"
        )
    probabilities = model.probabilities(features).iloc[0]
    signal = str(probabilities.idxmax())
    return {
        "signal": signal,
        "probabilities": {name: round(float(probabilities[name]), 4) for name in SIGNALS},
        "as_of": rates.index[-1].date().isoformat(),
        "rate_cop_per_usd": float(rates.iloc[-1]),
        "threshold": model.threshold,
        "model_version": model.version,
        "trained_until": model.trained_until,
        "history_until": model.history.index[-1].date().isoformat(),
    }


def load_champion(destination: Path, settings: Settings | None = None) -> FxSignalModel:
    """The registry's fx-signal champion, copied to ``destination`` and loaded.

    Raises
    ------
    ObjectNotFoundError
        When no model has been promoted yet (the hint says how to train one).
    """
    from datalake.fxsignal.model import FxSignalModel
    from datalake.models import model_registry

    record = model_registry(settings, name=MODEL_NAME).champion()
    if record is None:
        raise ObjectNotFoundError(
            "no fx_signal model trained yet: run `python sagemaker/fx_signal_train.py` (or "
            "datalake.fxsignal.training.train_fx_signal) first"
        )
    return FxSignalModel.load(
        model_registry(settings, name=MODEL_NAME).fetch(record["version"], Path(destination))
    )


def rates_payload(rates: pd.Series) -> dict[str, Any]:
    """The request body for ``rates`` (the inverse of :func:`parse_rates`)."""
    return {"rates": [{"date": day.date().isoformat(), "rate": float(rate)} for day, rate in rates.items()]}


class SignalSource(Protocol):
    """Where the trade advisor gets a signal: the endpoint on AWS, the champion in-process locally."""

    def signal(self, recent: pd.Series) -> dict[str, Any]:
        """The :func:`advise` answer for ``recent`` rates; raises DataValidationError for a bad series."""
        ...


class InProcessSignal:
    """The registry's champion (or a given model) loaded in this process, as the API hosts the others.

    Parameters
    ----------
    model
        A fixed model; when None the champion is fetched on first use and fetched again when a
        newer one was promoted, checked every ``API_REFRESH_S`` (a long-running local consumer
        picks up a promotion without a restart).
    settings
        Lake settings for the registry.
    clock
        Monotonic seconds, for the refresh.
    """

    def __init__(
        self,
        model: FxSignalModel | None = None,
        settings: Settings | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._model = model
        self._fixed = model is not None
        self._settings = settings
        self._clock = clock
        self._checked = -math.inf

    def model(self) -> FxSignalModel:
        """The model to answer with (the champion, refreshed when due)."""
        if self._fixed:
            assert self._model is not None
            return self._model
        from datalake.models import model_registry
        from datalake.settings import get_settings

        settings = self._settings or get_settings()
        if self._model is None or self._clock() - self._checked > settings.api_refresh_s:
            record = model_registry(settings, name=MODEL_NAME).champion()
            if self._model is None or record is None or record["version"] != self._model.version:
                import tempfile

                with tempfile.TemporaryDirectory() as scratch:
                    self._model = load_champion(Path(scratch), settings)
            self._checked = self._clock()
        return self._model

    def signal(self, recent: pd.Series) -> dict[str, Any]:
        return advise(self.model(), recent)


class EndpointSignal:
    """SageMaker runtime ``InvokeEndpoint`` on the buy/sell endpoint, JSON in and out.

    Parameters
    ----------
    endpoint_name
        ``SIGNAL_ENDPOINT``.
    client
        A ``sagemaker-runtime`` client (the Lambda builds it once per container).
    """

    def __init__(self, endpoint_name: str, client: Any) -> None:
        if not (endpoint_name or "").strip():
            raise ConfigurationError("no buy/sell endpoint configured", hint="set SIGNAL_ENDPOINT")
        self.endpoint_name = endpoint_name.strip()
        self.client = client

    def signal(self, recent: pd.Series) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        try:
            response = self.client.invoke_endpoint(
                EndpointName=self.endpoint_name,
                ContentType="application/json",
                Accept="application/json",
                Body=json.dumps(rates_payload(recent)).encode(),
            )
        except ClientError as error:
            info = error.response.get("Error", {})
            message = info.get("Message", "")
            # The handler answers a bad series with a 400 naming the field: the model container's
            # error comes back as ModelError with that body.
            if info.get("Code") == "ModelError" and error.response.get("OriginalStatusCode") == 400:
                try:
                    body = json.loads(error.response.get("OriginalMessage") or message)
                except ValueError:
                    body = None
                if not isinstance(body, dict):
                    raise DataValidationError("rates", message[:300]) from None
                raise DataValidationError(
                    str(body.get("field") or "rates"), str(body.get("error", message))
                ) from None
            raise
        answer = json.loads(response["Body"].read())
        if answer.get("signal") not in SIGNALS:
            raise LakeError(f"endpoint {self.endpoint_name} answered no signal: {str(answer)[:200]}")
        return answer
