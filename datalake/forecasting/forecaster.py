"""Train the transformer on an hourly series, forecast from any origins, save and load a model directory."""

from __future__ import annotations

import copy
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from datalake.errors import DataValidationError
from datalake.forecasting.boosted import MAX_HORIZON_H, ResidualStack, stack_features
from datalake.forecasting.config import ANCHOR_HISTORY_H, ForecastConfig
from datalake.forecasting.features import calendar_anchor_mix, calendar_for, local_lags
from datalake.forecasting.model import DemandEnsemble, DemandTransformer, pinball_loss, token_features
from datalake.forecasting.weather import (
    LEAD_HOURS,
    TRAIL_HOURS,
    ForecastError,
    WeatherHistory,
    local_day_ids,
    temperature_features,
)

CONFIG_FILE, WEIGHTS_FILE, NORMALISATION_FILE, TRAINING_FILE, METRICS_FILE = (
    "config.json",
    "weights.pt",
    "normalisation.json",
    "training.json",
    "metrics.json",
)
#: The gradient-boosted residual stack of a weather model (boosted.ResidualStack, joblib).
STACK_FILE = "residual_stack.joblib"
#: Origins of the ``ahead`` stack's training rows are this many hours apart (5: every hour of
#: the day in turn); the next-hour stack trains on every hour.
STACK_ORIGIN_EVERY_H = 5
Progress = Callable[[str], None]


@dataclass
class TrainingSummary:
    """What a training run did: the window, the epochs, the losses and how long it took."""

    train_start: str
    train_end: str
    validation_start: str
    validation_end: str
    epochs: int
    best_epoch: int
    best_validation_loss: float
    stopped: str
    seconds: float
    history: list[dict[str, float]] = field(default_factory=list)
    parameters: int = 0


def _regular(series: pd.Series) -> pd.Series:
    if not isinstance(series.index, pd.DatetimeIndex) or series.index.tz is None:
        raise DataValidationError("ts_utc", "the series needs a tz-aware hourly DatetimeIndex")
    index = series.index.tz_convert("UTC")
    full = pd.date_range(index.min(), index.max(), freq="h")
    return pd.Series(series.to_numpy(dtype="float64"), index=index).reindex(full)


class _Windows:
    """Windows of a regular series, each filled causally and normalised by its own context.

    With ``weather``, the observed temperature and the local day of every hour from
    :data:`LEAD_HOURS` before the series to :data:`TRAIL_HOURS` after its extra hours are
    kept by position (``position + LEAD_HOURS``).
    """

    def __init__(
        self,
        series: pd.Series,
        config: ForecastConfig,
        extra_hours: int,
        weather: WeatherHistory | None = None,
    ) -> None:
        self.config = config
        self.series = _regular(series)
        self.values = self.series.to_numpy(dtype="float64")
        hours = pd.date_range(self.series.index[0], periods=len(self.values) + extra_hours, freq="h")
        self.calendar = calendar_for(hours, config.timezone, config.holidays_country, config.calendar)
        self.week_lags = local_lags(hours, config.timezone, 7) if config.local_week_anchor else None
        self.anchor_mix = None
        if config.calendar_anchor:
            self.anchor_mix = calendar_anchor_mix(hours, config.timezone, config.holidays_country)
        if config.weather and weather is None:
            raise DataValidationError("weather", "a model with weather covariates needs the weather")
        self.weather = weather if config.weather else None
        if self.weather is not None:
            padded = pd.date_range(
                hours[0] - LEAD_HOURS * pd.Timedelta(hours=1),
                periods=LEAD_HOURS + len(hours) + TRAIL_HOURS,
                freq="h",
            )
            self.padded_hours = padded
            self.observed_c = self.weather.observed_on(padded)
            self.day_ids = local_day_ids(padded, config.timezone)
            comfort = (config.comfort_low_c, config.comfort_high_c)
            # Perfect-forecast features of every hour, computed once (training without error).
            filled = pd.Series(self.observed_c).ffill().bfill().fillna(15.0).to_numpy()
            self.observed_features = temperature_features(filled[None], self.day_ids[None], comfort)[0]

    def position(self, moment: pd.Timestamp) -> int:
        return int((moment.tz_convert("UTC") - self.series.index[0]) / pd.Timedelta(hours=1))

    def context(self, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(normalised context ``(B, T*P)``, mean ``(B,)``, scale ``(B,)``) of windows at ``starts``."""
        length = self.config.context_hours
        raw = self.values[starts[:, None] + np.arange(length)]
        # Causal fill: a gap takes the last value before it, never one from after the origin.
        filled = pd.DataFrame(raw).ffill(axis=1).bfill(axis=1).to_numpy()
        mean = np.nanmean(filled, axis=1)
        scale = np.nanstd(filled, axis=1) + 1e-6
        return (filled - mean[:, None]) / scale[:, None], mean, scale

    def calendar_at(self, starts: np.ndarray, hours: int) -> np.ndarray:
        return self.calendar[starts[:, None] + np.arange(hours)]

    def week_lags_at(self, starts: np.ndarray, hours: int) -> np.ndarray | None:
        """The local week lags of :func:`model.anchors` for windows at ``starts`` (None: 168 h)."""
        if self.week_lags is None:
            return None
        return self.week_lags[starts[:, None] + np.arange(hours)]

    def history_before(self, starts: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> np.ndarray | None:
        """The :data:`ANCHOR_HISTORY_H` values before windows at ``starts``, normalised as the
        windows are (NaN before the series); None for a model without the calendar anchor."""
        if self.anchor_mix is None:
            return None
        index = starts[:, None] - ANCHOR_HISTORY_H + np.arange(ANCHOR_HISTORY_H)
        raw = np.where(index >= 0, self.values[np.maximum(index, 0)], np.nan)
        filled = pd.DataFrame(raw).ffill(axis=1).to_numpy()  # causal: a gap takes the hour before
        return (filled - mean[:, None]) / scale[:, None]

    def anchor_mix_at(self, starts: np.ndarray, hours: int) -> tuple[np.ndarray, np.ndarray] | None:
        """The calendar anchor's lags and weights for windows at ``starts`` (None: the week before)."""
        if self.anchor_mix is None:
            return None
        index = starts[:, None] + np.arange(hours)
        return self.anchor_mix[0][index], self.anchor_mix[1][index]

    def weather_complete(self, starts: np.ndarray) -> np.ndarray:
        """Whether each window at ``starts`` has an observed temperature for every hour it reads."""
        if self.weather is None:
            return np.ones(len(starts), dtype=bool)
        config = self.config
        missing = np.r_[0, np.cumsum(np.isnan(self.observed_c))]
        first = starts + config.patch_hours  # the first token's origin, then its lead
        last = starts + config.context_hours + config.output_hours + TRAIL_HOURS + LEAD_HOURS
        return (missing[last] - missing[first]) == 0

    def training_weather(
        self, starts: np.ndarray, error: ForecastError | None, rng: np.random.Generator
    ) -> np.ndarray:
        """``(B, T, output_hours, N_WEATHER)``: each token's weather as known at its own origin.

        A token's origin is the end of its patch; with ``error``, its hours from there on get
        an independent synthetic forecast error, as a forecast issued then would have.
        """
        config = self.config
        p, out, n_tokens = config.patch_hours, config.output_hours, config.context_patches
        origins = starts[:, None] + (np.arange(n_tokens)[None, :] + 1) * p  # (B, T)
        if error is None:
            positions = origins[..., None] + np.arange(out) + LEAD_HOURS
            return self.observed_features[positions]
        offsets = np.arange(-LEAD_HOURS, out + TRAIL_HOURS)
        positions = (origins[..., None] + offsets + LEAD_HOURS).reshape(-1, len(offsets))
        temperature = self.observed_c[positions]
        temperature[:, LEAD_HOURS:] += error.draw(rng, len(positions), out + TRAIL_HOURS)
        comfort = (config.comfort_low_c, config.comfort_high_c)
        features = temperature_features(temperature, self.day_ids[positions], comfort)
        return features[:, LEAD_HOURS : LEAD_HOURS + out].reshape(len(starts), n_tokens, out, -1)

    def origin_weather(self, origin_positions: np.ndarray, later_hours: int) -> np.ndarray:
        """``(N, LEAD + context + later_hours + TRAIL, N_WEATHER)`` features as known at each origin.

        Row ``n`` starts ``LEAD_HOURS + context_hours`` before its origin. Hours before the
        origin are observed; from it on they are what :meth:`WeatherHistory.known_at` gives
        (a stored forecast in live use, never an observation).
        """
        assert self.weather is not None
        config = self.config
        offsets = np.arange(-LEAD_HOURS - config.context_hours, later_hours + TRAIL_HOURS)
        positions = origin_positions[:, None] + offsets + LEAD_HOURS
        temperature = np.empty(positions.shape)
        zero = self.series.index[0]
        for row, origin in enumerate(origin_positions):
            stamp = zero + int(origin) * pd.Timedelta(hours=1)
            if self.weather.mode == "observed":
                # Positional fast path of known_at for observed weather: the same values.
                temperature[row] = self.observed_c[positions[row]]
                future = offsets >= 0
                if self.weather.error is not None:
                    temperature[row, future] += self.weather.error.for_origin(stamp, int(future.sum()))
                _persist_past_the_record(
                    temperature[row], future, self.padded_hours[positions[row]], self.weather.end
                )
                if np.isnan(temperature[row]).any():
                    hour = self.padded_hours[positions[row][np.isnan(temperature[row])][0]]
                    raise DataValidationError(
                        "weather",
                        f"no observed temperature at {hour.isoformat()} (origin {stamp.isoformat()})",
                    )
            else:
                temperature[row] = self.weather.known_at(stamp, self.padded_hours[positions[row]])
        comfort = (config.comfort_low_c, config.comfort_high_c)
        return temperature_features(temperature, self.day_ids[positions], comfort)

    def token_weather(self, origin_features: np.ndarray, step: int) -> np.ndarray:
        """Each token's output hours out of :meth:`origin_weather` rows, for roll-out ``step``."""
        config = self.config
        p, out = config.patch_hours, config.output_hours
        first = LEAD_HOURS + step * out + (np.arange(config.context_patches) + 1) * p
        return origin_features[:, first[:, None] + np.arange(out)]


class TransformerForecaster:
    """The demand forecaster: :meth:`fit`, :meth:`forecast`, :meth:`save` and :meth:`load`."""

    def __init__(self, config: ForecastConfig | None = None) -> None:
        self.config = config or ForecastConfig()
        torch.manual_seed(self.config.seed)
        self.model: DemandTransformer | DemandEnsemble = (
            DemandTransformer(self.config) if self.config.members == 1 else DemandEnsemble(self.config)
        )
        self.training: TrainingSummary | None = None
        #: Gradient-boosted corrections of the median (``config.residual_stack``), fitted by :meth:`fit`.
        self.stack: ResidualStack | None = None
        self.normalisation: dict[str, Any] = {"kind": "instance (per context window)"}
        self.metrics: dict[str, Any] = {}

    # -- training --------------------------------------------------------------------------

    def _training_error(self) -> ForecastError | None:
        sigma = self.config.train_weather_error_c
        return ForecastError(sigma_at_30h_c=sigma, seed=self.config.seed) if sigma > 0 else None

    def _batch(
        self, windows: _Windows, starts: np.ndarray, rng: np.random.Generator | None = None
    ) -> tuple[torch.Tensor, ...]:
        config = self.config
        p, length, out = config.patch_hours, config.context_hours, config.output_hours
        context, mean, scale = windows.context(starts)
        calendar = windows.calendar_at(starts, length + out)
        weather = None
        if config.weather:
            rng = rng if rng is not None else np.random.default_rng(config.seed)
            weather = windows.training_weather(starts, self._training_error(), rng)
        lags = windows.week_lags_at(starts, length + out)
        mix = windows.anchor_mix_at(starts, length + out)
        before = windows.history_before(starts, mean, scale)
        features, anchor, valid = token_features(context, calendar, config, weather, lags, mix, before)
        ahead = (np.arange(config.context_patches)[:, None] + 1) * p + np.arange(out)[None, :]
        target_raw = windows.values[starts[:, None, None] + ahead[None]]
        target = (target_raw - mean[:, None, None]) / scale[:, None, None]
        mask = np.isfinite(target) * valid[None, :, None]
        # Tokens before a full week of history have no anchor and are not scored.
        mask[:, : config.first_scored_patch] = 0
        return (
            torch.from_numpy(features),
            torch.from_numpy(anchor),
            torch.from_numpy(np.nan_to_num(target).astype(np.float32)),
            torch.from_numpy(mask.astype(np.float32)),
        )

    def _loss(
        self,
        windows: _Windows,
        starts: np.ndarray,
        rng: np.random.Generator | None = None,
        model: torch.nn.Module | None = None,
    ) -> torch.Tensor:
        features, anchor, target, mask = self._batch(windows, starts, rng)
        network = model if model is not None else self.model
        return pinball_loss(network(features, anchor), target, mask, self.config.quantiles)

    def fit(
        self,
        series: pd.Series,
        train: tuple[pd.Timestamp, pd.Timestamp],
        validation: tuple[pd.Timestamp, pd.Timestamp],
        progress: Progress | None = None,
        show_bar: bool = True,
        weather: WeatherHistory | None = None,
    ) -> TrainingSummary:
        """Train on windows inside ``train`` and stop early on the loss over ``validation``.

        Both are ``[start, end)`` UTC instants. Validation windows score only targets
        inside the validation period. The best epoch's weights are kept. A weather model
        (``config.weather``) needs ``weather`` (observations; windows without them are
        skipped); its band is calibrated with the realistic forecast error.
        """
        config = self.config
        windows = _Windows(series, config, extra_hours=config.output_hours, weather=weather)
        span = config.context_hours + config.output_hours
        first, last = windows.position(train[0]), windows.position(train[1]) - span
        train_starts = np.arange(max(first, 0), last + 1)
        scored_from = config.first_scored_patch * config.patch_hours
        v_first = windows.position(validation[0]) - scored_from - config.patch_hours
        # Windows whose later targets run past the end are kept: unknown targets are masked.
        v_last = min(windows.position(validation[1]), len(windows.values)) - span
        validation_starts = np.arange(max(v_first, 0), v_last + 1, 6)
        train_starts = train_starts[windows.weather_complete(train_starts)]
        validation_starts = validation_starts[windows.weather_complete(validation_starts)]
        if len(train_starts) < config.batch_size or len(validation_starts) == 0:
            raise DataValidationError(
                "train",
                f"too little data: {len(train_starts)} training windows and {len(validation_starts)} "
                f"validation windows of {span} hours",
            )
        members = list(self.model.members) if isinstance(self.model, DemandEnsemble) else [self.model]
        history: list[dict[str, float]] = []
        began = time.perf_counter()
        outcomes = [
            self._fit_member(
                member, number, windows, (train_starts, validation_starts), began, history, progress, show_bar
            )
            for number, member in enumerate(members)
        ]
        self.model.eval()
        # An ensemble's validation loss is the loss of its mean forecast.
        best_loss = outcomes[0][0] if len(members) == 1 else self._evaluate(windows, validation_starts)
        self.normalisation.update(
            train_mean_mw=float(np.nanmean(windows.values)), train_std_mw=float(np.nanstd(windows.values))
        )
        self.stack = None
        if config.residual_stack:
            stack_began = time.perf_counter()
            self.stack = self._fit_stack(series, windows, train_starts + config.context_hours, weather)
            self.stack.notes["seconds"] = round(time.perf_counter() - stack_began, 1)
            if progress:
                progress(f"residual stack fitted in {self.stack.notes['seconds']} s")
        if weather is not None:
            self.normalisation["weather"] = {
                "source": weather.description,
                "features": "see datalake.forecasting.weather.WEATHER_FEATURES",
                "band_calibrated_with": "ForecastError() (realistic synthetic forecast error)",
            }
            weather = weather.with_error(ForecastError(seed=config.seed))
        self.normalisation["band_scale"] = self._calibrate_band(series, validation, weather)
        self.training = TrainingSummary(
            train_start=train[0].isoformat(),
            train_end=train[1].isoformat(),
            validation_start=validation[0].isoformat(),
            validation_end=validation[1].isoformat(),
            epochs=len(history),
            best_epoch=outcomes[-1][1],
            best_validation_loss=round(best_loss, 6),
            stopped="; ".join(dict.fromkeys(outcome[2] for outcome in outcomes)),
            seconds=round(time.perf_counter() - began, 1),
            history=history,
            parameters=sum(p.numel() for p in self.model.parameters()),
        )
        return self.training

    def _fit_member(
        self,
        model: torch.nn.Module,
        number: int,
        windows: _Windows,
        starts: tuple[np.ndarray, np.ndarray],
        began: float,
        history: list[dict[str, float]],
        progress: Progress | None,
        show_bar: bool,
    ) -> tuple[float, int, str]:
        """Train one network (an ensemble member: its own seed) with early stopping: (loss, epoch, why)."""
        config = self.config
        train_starts, validation_starts = starts
        rng = np.random.default_rng(config.seed + number)
        optimiser = torch.optim.AdamW(
            model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
        )
        steps_per_epoch = math.ceil(min(config.samples_per_epoch, len(train_starts)) / config.batch_size)
        schedule = torch.optim.lr_scheduler.OneCycleLR(
            optimiser, max_lr=config.learning_rate, total_steps=config.max_epochs * steps_per_epoch
        )
        best = (math.inf, 0, copy.deepcopy(model.state_dict()))
        stopped = "max_epochs"
        bar = _bar(config.max_epochs, show_bar)
        with bar:
            task = bar.add_task("training", total=config.max_epochs)
            for epoch in range(1, config.max_epochs + 1):
                model.train()
                chosen = rng.choice(train_starts, size=steps_per_epoch * config.batch_size, replace=True)
                losses = []
                for step in range(steps_per_epoch):
                    batch = chosen[step * config.batch_size : (step + 1) * config.batch_size]
                    loss = self._loss(windows, batch, rng, model)
                    optimiser.zero_grad()
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                    optimiser.step()
                    schedule.step()
                    losses.append(loss.item())
                validation_loss = self._evaluate(windows, validation_starts, model)
                entry = {
                    "epoch": epoch,
                    "train_loss": float(np.mean(losses)),
                    "validation_loss": validation_loss,
                }
                history.append({**entry, "member": number} if config.members > 1 else entry)
                prefix = f"member {number + 1}/{config.members} " if config.members > 1 else ""
                line = (
                    f"{prefix}epoch {epoch}: train loss {np.mean(losses):.4f}, "
                    f"validation loss {validation_loss:.4f}"
                )
                bar.update(task, advance=1, description=line)
                if progress:
                    progress(line)
                if validation_loss < best[0]:
                    best = (validation_loss, epoch, copy.deepcopy(model.state_dict()))
                elif epoch - best[1] >= config.patience:
                    stopped = f"early stop: no better validation loss for {config.patience} epochs"
                    break
                if time.perf_counter() - began > config.max_train_minutes * 60:
                    stopped = f"time limit of {config.max_train_minutes} min"
                    break
        model.load_state_dict(best[2])
        model.eval()
        return best[0], best[1], stopped

    def _fit_stack(
        self,
        series: pd.Series,
        windows: _Windows,
        origin_positions: np.ndarray,
        weather: WeatherHistory | None,
    ) -> ResidualStack:
        """Fit the residual stack on the transformer's in-sample forecasts from training origins.

        ``origin_positions`` are the training windows' origins (every hour): the next-hour
        model reads all of them, the ``ahead`` one every :data:`STACK_ORIGIN_EVERY_H`-th.
        Weather is observed, as the transformer trains (see boosted.py).
        """
        if windows.weather is not None:
            # A forecast reads the weather from LEAD_HOURS before its context on: the first
            # training windows' origins lack it (the training windows need less).
            missing = np.r_[0, np.cumsum(np.isnan(windows.observed_c))]
            first = origin_positions - self.config.context_hours  # padded: - LEAD_HOURS + LEAD_HOURS
            last = origin_positions + MAX_HORIZON_H + TRAIL_HOURS + LEAD_HOURS
            origin_positions = origin_positions[(missing[last] - missing[first]) == 0]
        zero = windows.series.index[0]
        origins = zero + pd.to_timedelta(origin_positions, unit="h")
        # Observed weather, whatever the caller's mode: training origins have no stored forecasts
        # (a SageMaker job reading weather_national_hourly is in "issued" mode).
        observed = weather.with_error(None) if weather is not None else None
        median = self.forecast(series, origins, MAX_HORIZON_H, weather=observed)[..., 1]
        stack = ResidualStack()
        for part, rows, horizons in (
            ("next_hour", np.arange(len(origins)), np.arange(1, 2)),
            ("ahead", np.arange(0, len(origins), STACK_ORIGIN_EVERY_H), np.arange(2, MAX_HORIZON_H + 1)),
        ):
            positions = origin_positions[rows]
            targets = positions[:, None] + horizons[None, :] - 1
            p50 = median[rows][:, horizons - 1]
            features, reference = stack_features(
                windows.values,
                windows.calendar,
                windows.week_lags,
                positions,
                horizons,
                windows.observed_features[targets + LEAD_HOURS],
                p50,
            )
            # Training origins end a whole output span before the training period does.
            actual = windows.values[targets]
            stack.fit(part, features, reference, actual, p50)
        stack.notes["trained_on"] = (
            f"in-sample forecasts from {len(origins)} training origins ({origins[0]} .. {origins[-1]}), "
            f"observed weather; ahead: every {STACK_ORIGIN_EVERY_H} h"
        )
        return stack

    def _calibrate_band(
        self,
        series: pd.Series,
        validation: tuple[pd.Timestamp, pd.Timestamp],
        weather: WeatherHistory | None = None,
    ) -> dict[str, list[float]]:
        """Per-horizon factors that stretch p10/p90 around p50 to their nominal rates on validation.

        Trained quantiles are too narrow out of sample (the network fits its training years
        better than any later one); the validation days, unseen by the weights, set the width.
        """
        self.normalisation.pop("band_scale", None)
        out_hours = self.config.output_hours
        regular = _regular(series)
        first = max(validation[0], regular.index[0] + pd.Timedelta(hours=self.config.context_hours))
        origins = pd.date_range(first, validation[1] - pd.Timedelta(hours=out_hours), freq="6h")
        if len(origins) < 20:
            return {"low": [1.0] * out_hours, "high": [1.0] * out_hours, "origins": len(origins)}
        quantiles = self.forecast(series, origins, out_hours, weather=weather)
        positions = ((origins - regular.index[0]) // pd.Timedelta(hours=1)).to_numpy()
        actual = regular.to_numpy()[positions[:, None] + np.arange(out_hours)]
        low, median, high = quantiles[..., 0], quantiles[..., 1], quantiles[..., 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            below = np.where(np.isfinite(actual), (median - actual) / (median - low), np.nan)
            above = np.where(np.isfinite(actual), (actual - median) / (high - median), np.nan)
        level_low, _, level_high = self.config.quantiles
        return {
            "low": np.round(np.nanquantile(below, 1 - level_low, axis=0), 4).tolist(),
            "high": np.round(np.nanquantile(above, level_high, axis=0), 4).tolist(),
            "origins": len(origins),
        }

    @torch.no_grad()
    def _evaluate(self, windows: _Windows, starts: np.ndarray, model: torch.nn.Module | None = None) -> float:
        model = model if model is not None else self.model
        model.eval()
        losses, weights = [], []
        # The same synthetic errors every epoch, so validation losses compare.
        rng = np.random.default_rng(self.config.seed + 1)
        for chunk in np.array_split(starts, max(1, len(starts) // 512)):
            losses.append(float(self._loss(windows, chunk, rng, model)))
            weights.append(len(chunk))
        return float(np.average(losses, weights=weights))

    # -- forecasting -----------------------------------------------------------------------

    @property
    def needs_weather(self) -> bool:
        """Whether :meth:`forecast` needs a :class:`WeatherHistory` (a weather model)."""
        return self.config.weather

    def with_weather(self, weather: WeatherHistory | None) -> WeatherBound:
        """This forecaster with its weather bound, as a backtest's :class:`Forecaster`."""
        return WeatherBound(self, weather)

    @torch.no_grad()
    def forecast(
        self,
        history: pd.Series,
        origins: Sequence[pd.Timestamp] | pd.DatetimeIndex,
        horizon_h: int,
        weather: WeatherHistory | None = None,
    ) -> np.ndarray:
        """Quantiles ``(len(origins), horizon_h, 3)`` (p10, p50, p90, MW) from each origin.

        An origin ``t`` means every hour starting before ``t`` is known; horizon 1 is the
        hour starting at ``t``. Only the ``history_hours`` before each origin are read. A
        weather model reads ``weather`` as known at each origin
        (:meth:`WeatherHistory.known_at`); other models ignore it.
        """
        config = self.config
        length, out_hours = config.context_hours, config.output_hours
        steps = math.ceil(horizon_h / out_hours)
        windows = _Windows(history, config, extra_hours=(steps + 1) * out_hours + horizon_h, weather=weather)
        origin_positions = np.array([windows.position(pd.Timestamp(o)) for o in origins], dtype=int)
        starts = origin_positions - length
        if len(starts) and starts.min() < 0:
            raise DataValidationError(
                "origin", f"needs {length} hours of history before it; the series starts {history.index[0]}"
            )
        self.model.eval()
        out = np.empty((len(starts), steps * out_hours, 3), dtype=np.float64)
        for chunk in np.array_split(np.arange(len(starts)), max(1, math.ceil(len(starts) / 1024))):
            if not len(chunk):
                continue
            buffer, mean, scale = windows.context(starts[chunk])
            before = windows.history_before(starts[chunk], mean, scale)
            if before is not None:
                buffer = np.concatenate([before, buffer], axis=1)
            known = None
            if windows.weather is not None:
                known = windows.origin_weather(origin_positions[chunk], steps * out_hours)
            carried = None
            for step in range(steps):
                # Roll: the medians of the last step become the newest patches of the context.
                calendar = windows.calendar_at(starts[chunk] + step * out_hours, length + out_hours)
                token_weather = None if known is None else windows.token_weather(known, step)
                lags = windows.week_lags_at(starts[chunk] + step * out_hours, length + out_hours)
                mix = windows.anchor_mix_at(starts[chunk] + step * out_hours, length + out_hours)
                pre = None if before is None else buffer[:, -length - ANCHOR_HISTORY_H : -length]
                features, anchor, _ = token_features(
                    buffer[:, -length:], calendar, config, token_weather, lags, mix, pre
                )
                quantiles = self.model(torch.from_numpy(features), torch.from_numpy(anchor))[:, -1].numpy()
                quantiles = self._stretch(quantiles)
                if carried is not None:
                    quantiles = _widen(quantiles, carried)
                carried = quantiles[:, -1, [0, 2]] - quantiles[:, -1, 1:2]
                span = slice(step * out_hours, (step + 1) * out_hours)
                out[chunk, span] = quantiles * scale[:, None, None] + mean[:, None, None]
                if step == 0 and self.stack is not None and known is not None:
                    out[chunk, span] += self._stack_correction(
                        windows, origin_positions[chunk], known, out[chunk, span, 1]
                    )[..., None]
                buffer = np.concatenate([buffer, quantiles[:, :, 1]], axis=1)
        return out[:, :horizon_h]

    def _stack_correction(
        self, windows: _Windows, origin_positions: np.ndarray, known: np.ndarray, p50: np.ndarray
    ) -> np.ndarray:
        """The residual stack's correction (MW) ``(N, output_hours)`` of the first step's median.

        ``known`` are the :meth:`_Windows.origin_weather` rows: the weather the transformer
        read (observed, noisy or forecast), so a backtest's error reaches both alike.
        """
        assert self.stack is not None
        horizons = np.arange(1, p50.shape[1] + 1)
        first = LEAD_HOURS + self.config.context_hours
        features, reference = stack_features(
            windows.values,
            windows.calendar,
            windows.week_lags,
            origin_positions,
            horizons,
            known[:, first + horizons - 1],
            p50,
        )
        return self.stack.correct(features, reference, horizons)

    def _stretch(self, quantiles: np.ndarray) -> np.ndarray:
        """Apply the validation band factors (a model saved before calibration has none)."""
        scale = self.normalisation.get("band_scale")
        if not scale:
            return quantiles
        median = quantiles[..., 1]
        low = median - np.asarray(scale["low"], dtype=quantiles.dtype) * (median - quantiles[..., 0])
        high = median + np.asarray(scale["high"], dtype=quantiles.dtype) * (quantiles[..., 2] - median)
        return np.stack([np.minimum(low, median), median, np.maximum(high, median)], axis=-1)

    # -- persistence -------------------------------------------------------------------------

    def save(self, directory: Path) -> Path:
        """Write a self-describing model directory: config, weights, normalisation, training, metrics."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / CONFIG_FILE).write_text(self.config.to_json())
        torch.save(self.model.state_dict(), directory / WEIGHTS_FILE)
        (directory / NORMALISATION_FILE).write_text(json.dumps(self.normalisation, indent=2))
        training = asdict(self.training) if self.training else {}
        (directory / TRAINING_FILE).write_text(json.dumps(training, indent=2))
        (directory / METRICS_FILE).write_text(json.dumps(self.metrics, indent=2, default=str))
        if self.stack is not None:
            import joblib

            joblib.dump(self.stack, directory / STACK_FILE)
        return directory

    @classmethod
    def load(cls, directory: Path) -> TransformerForecaster:
        """Load a directory written by :meth:`save`; a clear error names what is missing."""
        directory = Path(directory)
        for name in (CONFIG_FILE, WEIGHTS_FILE):
            if not (directory / name).is_file():
                raise DataValidationError(
                    "model", f"{directory} has no {name}: not a forecaster model directory"
                )
        forecaster = cls(ForecastConfig.load(directory / CONFIG_FILE))
        forecaster.model.load_state_dict(torch.load(directory / WEIGHTS_FILE, weights_only=True))
        forecaster.model.eval()
        for name, attribute in ((NORMALISATION_FILE, "normalisation"), (METRICS_FILE, "metrics")):
            if (directory / name).is_file():
                setattr(forecaster, attribute, json.loads((directory / name).read_text()))
        if (directory / STACK_FILE).is_file():
            import joblib

            # Written by save() of this package (trusted, like the weights): scikit-learn models.
            forecaster.stack = joblib.load(directory / STACK_FILE)
        if (directory / TRAINING_FILE).is_file() and (
            training := json.loads((directory / TRAINING_FILE).read_text())
        ):
            forecaster.training = TrainingSummary(**training)
        return forecaster


def _persist_past_the_record(
    temperature: np.ndarray, future: np.ndarray, hours: pd.DatetimeIndex, record_end: pd.Timestamp
) -> None:
    """Fill, in place, hours after the origin AND after the weather record with the day before.

    Only a backtest's last days need it (a 48-hour token from an origin near the end of the
    data reads hours nobody observed); those hours take a persistence forecast (the same
    hour a day before), a worse forecast, never a later observation.
    """
    missing = np.flatnonzero(np.isnan(temperature) & future & np.asarray(hours > record_end))
    for index in missing:
        if index >= 24:
            temperature[index] = temperature[index - 24]


class WeatherBound:
    """A forecaster with its weather: ``forecast(history, origins, horizon_h)`` as backtests call it."""

    def __init__(self, forecaster: TransformerForecaster, weather: WeatherHistory | None) -> None:
        self.forecaster = forecaster
        self.weather = weather

    def forecast(
        self, history: pd.Series, origins: Sequence[pd.Timestamp] | pd.DatetimeIndex, horizon_h: int
    ) -> np.ndarray:
        return self.forecaster.forecast(history, origins, horizon_h, weather=self.weather)


def _widen(quantiles: np.ndarray, carried: np.ndarray) -> np.ndarray:
    """Widen a rolled step's band by the uncertainty of the medians it was fed.

    The model's band for a rolled step assumes its context is true, so without this the
    band would narrow after the first patch. Adding the previous step's last-hour
    half-widths in quadrature treats the two errors as independent.
    """
    median = quantiles[..., 1]
    low_half = np.hypot(median - quantiles[..., 0], carried[:, None, 0])
    high_half = np.hypot(quantiles[..., 2] - median, carried[:, None, 1])
    return np.stack([median - low_half, median, median + high_half], axis=-1)


def _bar(total: int, visible: bool):  # type: ignore[no-untyped-def]
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        disable=not visible,
        transient=False,
    )
