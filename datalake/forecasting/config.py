"""The forecaster's settings: one frozen dataclass, saved beside the weights."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Hours before the context a calendar-anchor model reads: two weeks, the farthest its anchor
#: reaches back from a token's end (features.calendar_anchor_mix).
ANCHOR_HISTORY_H = 2 * 168


@dataclass(frozen=True)
class ForecastConfig:
    """Architecture and training settings of the demand forecaster.

    The history is cut into ``context_patches`` patches of ``patch_hours`` (14 days of
    hours by default); each patch is one token. A token predicts the ``output_hours`` after
    its patch at once; a longer horizon rolls forward, feeding those back as new patches.
    """

    patch_hours: int = 24
    context_patches: int = 14
    #: Hours each token predicts at once (a multiple of ``patch_hours``): 48 covers the
    #: day-ahead horizons (13-36 h) in one step, with no forecast fed back as input.
    output_hours: int = 48
    d_model: int = 64
    n_heads: int = 4
    n_layers: int = 3
    ff_mult: int = 4
    dropout: float = 0.1
    quantiles: tuple[float, float, float] = (0.1, 0.5, 0.9)
    holidays_country: str = "ES"
    timezone: str = "Europe/Madrid"
    #: ``national`` (national holidays only, the first model's) or ``regional`` (plus the
    #: population share on a regional holiday or a bridge day, and the Christmas period).
    calendar: str = "national"
    #: Weather covariates for the hours each token predicts (see forecasting/weather.py); a
    #: model with them needs a WeatherHistory to forecast.
    weather: bool = False
    #: The comfort band (°C) of the heating and cooling degrees.
    comfort_low_c: float = 16.0
    comfort_high_c: float = 21.0
    #: Training adds a synthetic forecast error of this size at 30 h (ForecastError) to each
    #: token's future hours, so the network learns how far to trust a forecast; 0 trains on
    #: the observations themselves.
    train_weather_error_c: float = 0.0
    #: The weekly anchor compares the same LOCAL hour a week before (167 or 169 UTC hours in
    #: the week after a daylight-saving change), not 168 UTC hours, which is an hour off for a
    #: whole week twice a year.
    local_week_anchor: bool = False
    #: The anchor of a holiday reads the Sunday before it, and a week after a holiday the
    #: anchor reads two weeks back, in proportion to the population on holiday
    #: (features.calendar_anchor_mix); needs the local week anchor and the regional calendar.
    calendar_anchor: bool = False
    #: Gradient-boosted corrections of the median after training (forecasting/boosted.py):
    #: next hour, and horizons 2-48; a weather model only.
    residual_stack: bool = False
    #: Networks trained from other seeds whose mean quantiles are the forecast (1: one network).
    members: int = 1
    # Training.
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    batch_size: int = 128
    max_epochs: int = 40
    samples_per_epoch: int = 8192
    patience: int = 5
    max_train_minutes: float = 8.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.output_hours % self.patch_hours:
            raise ValueError(f"output_hours ({self.output_hours}) must be a multiple of patch_hours")
        if self.members < 1:
            raise ValueError(f"members must be at least 1, got {self.members}")
        if self.calendar not in ("national", "regional"):
            raise ValueError(f"calendar must be 'national' or 'regional', got {self.calendar!r}")
        if self.calendar_anchor and not (self.local_week_anchor and self.calendar == "regional"):
            raise ValueError("calendar_anchor goes with local_week_anchor and the regional calendar")
        if self.residual_stack and not self.weather:
            raise ValueError("residual_stack goes with a weather model (weather=True)")
        if not self.comfort_low_c <= self.comfort_high_c:
            raise ValueError("comfort_low_c must not be above comfort_high_c")

    @property
    def context_hours(self) -> int:
        return self.patch_hours * self.context_patches

    @property
    def history_hours(self) -> int:
        """Hours before an origin a forecast reads: the context, and for the calendar anchor the
        two weeks before it (without them a holiday's anchor falls back to the week before)."""
        return self.context_hours + (ANCHOR_HISTORY_H if self.calendar_anchor else 0)

    #: The weekly anchor reaches one week back from the end of a token's patch.
    @property
    def first_scored_patch(self) -> int:
        return -(-168 // self.patch_hours)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ForecastConfig:
        """A config from saved values; unknown keys are an error, missing ones take defaults."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown forecaster config keys: {unknown}")
        if "quantiles" in values:
            values = {**values, "quantiles": tuple(values["quantiles"])}
        return cls(**values)

    @classmethod
    def load(cls, path: Path) -> ForecastConfig:
        return cls.from_dict(json.loads(path.read_text()))


#: The weather model's settings: weather covariates, the regional calendar, the local-hour
#: weekly anchor; chosen on the validation half-year (H1 2017), see docs/forecaster.md. More
#: dropout and a one-cycle schedule that ends by epoch 20 (early stopping came at epochs
#: 10-14, before the learning rate had come down), and two networks averaged.
WEATHER_MODEL = ForecastConfig(
    calendar="regional",
    weather=True,
    local_week_anchor=True,
    dropout=0.2,
    max_epochs=20,
    members=2,
    residual_stack=True,
)
