"""Daily USD/COP rates: the official TRM export, the 5-minute spot quotes, or a SAMPLE series.

Every reader returns the same shape: a :class:`pandas.Series` of pesos per dollar
(``rate_cop_per_usd``), indexed by a sorted, unique ``DatetimeIndex`` of business days, whose
``attrs["source"]`` says where it came from (``trm``, ``spot_m5`` or ``SAMPLE``).

- **TRM** (``trm_datos_gov_co_export_*.csv``): one row per validity window; the window's start
  date is the business day the certified rate applies from, so each row is one observation.
  (The TRM of day *d* is computed from the trades of the previous business day.)
- **Spot** (``usdcop_m5_ohlcv_twelvedata_*.csv.gz``): 5-minute bars; only the rows of source
  ``twelvedata`` are kept (the others carry Bogota wall-clock time mislabelled as UTC, see
  SOURCES.md), and a day's rate is its last close.
- **SAMPLE**: a seeded random walk on business days, for tests and machines without the shared data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from datalake.errors import DataValidationError

#: ``../shared/data/fx`` beside the repository (optional: readers fall back to the SAMPLE series).
SHARED_FX = Path(__file__).resolve().parents[3] / "shared" / "data" / "fx"
TRM_GLOB = "trm_datos_gov_co_export_*.csv"
SPOT_GLOB = "usdcop_m5_ohlcv_twelvedata_*.csv.gz"
RATE = "rate_cop_per_usd"


def _series(values: pd.Series, source: str) -> pd.Series:
    rates = values.astype(float).sort_index()
    rates = rates[~rates.index.duplicated(keep="last")]
    rates.index = pd.DatetimeIndex(rates.index).normalize()
    rates.index.name = "date"
    rates.name = RATE
    if rates.empty or not np.isfinite(rates.to_numpy()).all() or (rates <= 0).any():
        raise DataValidationError(RATE, f"{source}: rates must be positive numbers and at least one")
    rates.attrs["source"] = source
    return rates


def read_trm_csv(path: Path) -> pd.Series:
    """The TRM export (``VALOR`` like ``"$4,008.70"``, ``VIGENCIADESDE`` as dd/mm/yyyy), one rate per window.

    Raises
    ------
    DataValidationError
        When a column is missing or a value does not parse (naming the column).
    """
    frame = pd.read_csv(path, dtype=str)
    for column in ("VALOR", "VIGENCIADESDE"):
        if column not in frame.columns:
            raise DataValidationError(column, f"{path} has no {column} column (a TRM export has it)")
    try:
        rates = frame["VALOR"].str.replace(r"[$,\s]", "", regex=True).astype(float)
    except ValueError as error:
        raise DataValidationError("VALOR", f"{path}: {error}") from None
    try:
        dates = pd.to_datetime(frame["VIGENCIADESDE"], format="%d/%m/%Y")
    except ValueError as error:
        raise DataValidationError("VIGENCIADESDE", f"{path}: {error}") from None
    return _series(pd.Series(rates.to_numpy(), index=dates), "trm")


def read_spot_m5(path: Path) -> pd.Series:
    """Daily closes of the 5-minute spot bars (last ``twelvedata`` close of each UTC day)."""
    frame = pd.read_csv(path, usecols=["time", "close", "source"])
    frame = frame[frame["source"] == "twelvedata"]
    if frame.empty:
        raise DataValidationError("source", f"{path} has no rows of source 'twelvedata'")
    times = pd.to_datetime(frame["time"], utc=True)
    closes = pd.Series(frame["close"].to_numpy(dtype=float), index=times).sort_index()
    daily = closes.groupby(closes.index.date).last()
    return _series(pd.Series(daily.to_numpy(), index=pd.to_datetime(daily.index)), "spot_m5")


def sample_series(
    days: int = 1500, seed: int = 7, start: str = "2019-01-01", momentum: float = 0.0
) -> pd.Series:
    """A SAMPLE USD/COP series: a seeded random walk in logs on business days, labelled ``SAMPLE``.

    Parameters
    ----------
    days
        Business days to generate.
    seed
        Random seed (the same seed gives the same series).
    start
        First business day.
    momentum
        AR(1) coefficient of the daily log returns: 0 is a pure random walk (nothing to learn);
        a positive value plants persistence that a model and the momentum baseline can find.

    Returns
    -------
    pandas.Series
        Rates near 4,000 COP per USD with about 0.6 % daily volatility; ``attrs["source"] == "SAMPLE"``.
    """
    rng = np.random.default_rng(seed)
    shocks = rng.normal(0.0, 0.006, days)
    returns = np.empty(days)
    previous = 0.0
    for day, shock in enumerate(shocks):
        previous = momentum * previous + shock
        returns[day] = previous
    rates = 4000.0 * np.exp(np.cumsum(returns))
    return _series(pd.Series(np.round(rates, 2), index=pd.bdate_range(start, periods=days)), "SAMPLE")


def load_history(source: str = "auto", data_dir: Path | None = None) -> pd.Series:
    """The daily rates of one source.

    Parameters
    ----------
    source
        ``trm``, ``spot_m5``, ``sample``, or ``auto`` (the TRM when its file is present, else SAMPLE).
    data_dir
        Folder holding the exports (``../shared/data/fx`` by default).

    Raises
    ------
    DataValidationError
        When a named source's file is not in ``data_dir``, or the source is unknown.
    """
    data_dir = Path(data_dir) if data_dir is not None else SHARED_FX
    if source == "sample":
        return sample_series()
    patterns = {"trm": (TRM_GLOB, read_trm_csv), "spot_m5": (SPOT_GLOB, read_spot_m5)}
    if source == "auto":
        found = sorted(data_dir.glob(TRM_GLOB)) if data_dir.is_dir() else []
        return read_trm_csv(found[-1]) if found else sample_series()
    if source not in patterns:
        raise DataValidationError("source", f"unknown source {source!r}; one of auto, trm, spot_m5, sample")
    pattern, reader = patterns[source]
    found = sorted(data_dir.glob(pattern)) if data_dir.is_dir() else []
    if not found:
        raise DataValidationError("source", f"no {pattern} in {data_dir}")
    return reader(found[-1])


def read_channel(path: Path) -> pd.Series:
    """A training channel: a TRM CSV or spot ``.csv.gz`` file, or a folder holding one (TRM first)."""
    path = Path(path)
    if path.is_dir():
        for pattern, reader in ((TRM_GLOB, read_trm_csv), (SPOT_GLOB, read_spot_m5), ("*.csv", read_trm_csv)):
            found = sorted(path.rglob(pattern))
            if found:
                return reader(found[-1])
        raise DataValidationError("train", f"no TRM or spot file under {path}")
    if path.name.endswith(".csv.gz"):
        return read_spot_m5(path)
    return read_trm_csv(path)
