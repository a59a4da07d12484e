"""The decoder-only transformer: day-long patch tokens, causal self-attention, a quantile patch head.

Borrowed from TimesFM and Lag-Llama: patches of the history as tokens, per-window (instance)
normalisation, calendar covariates, and a head that emits a whole output patch at once.
Each token also carries the weekly-delta anchor for the patch it predicts,
``y(end) + y(end + h - 168) - y(end - 168)``; the head predicts the residual from it, so the
network spends its capacity on what a week ago does not explain (holidays, trend, shape).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from datalake.forecasting.config import ForecastConfig
from datalake.forecasting.features import calendar_width
from datalake.forecasting.weather import N_WEATHER

WEEK = 168


def token_width(config: ForecastConfig) -> int:
    """Features per token: the patch's values and holiday flags, the output hours' calendar, weather
    (when the model has it) and anchor."""
    p, out = config.patch_hours, config.output_hours
    weather = out * N_WEATHER if config.weather else 0
    return p + p + out * calendar_width(config.calendar) + weather + out + 1


def anchors(
    values: np.ndarray,
    patch_hours: int,
    output_hours: int,
    n_tokens: int,
    week_lags: np.ndarray | None = None,
    anchor_mix: tuple[np.ndarray, np.ndarray] | None = None,
    history_before: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Weekly-delta anchors ``(B, n_tokens, output_hours)`` after each token's patch, and validity per token.

    ``values`` is ``(B, >= n_tokens * P)`` (normalised); a token needs a full week before the
    end of its patch. ``week_lags`` ``(B, n_tokens * P + output_hours)``, when given, is the
    lag in hours of the same local hour a week before each position (167 or 169 across a
    daylight-saving change, else 168); without it the lag is 168 UTC hours.

    ``anchor_mix`` (lags and weights, each ``(B, n_tokens * P + output_hours, K)``, from
    :func:`~datalake.forecasting.features.calendar_anchor_mix`), when given, replaces the
    week-before value by a weighted mean of values at those lags (a holiday reads a Sunday).
    They may reach ``history_before`` ``(B, H)``, the H values (normalised alike, NaN where
    unknown) just before the window. A token any of whose weighted lags reaches an unknown
    value keeps the week-before anchor throughout (its level and its hours read alike).
    """
    batch = values.shape[0]
    out = np.zeros((batch, n_tokens, output_hours), dtype=np.float32)
    valid = np.zeros(n_tokens, dtype=np.float32)
    steps = np.arange(1, output_hours + 1)
    rows = np.arange(batch)[:, None]
    extended = values if history_before is None else np.concatenate([history_before, values], axis=1)
    shift = extended.shape[1] - values.shape[1]
    for i in range(n_tokens):
        end = (i + 1) * patch_hours - 1
        if end - WEEK < 0:
            continue
        valid[i] = 1.0
        if week_lags is None:
            out[:, i] = values[:, end + steps - WEEK] + (values[:, end] - values[:, end - WEEK])[:, None]
            continue
        targets = end + steps
        if anchor_mix is not None:
            reference = _mixed_reference(extended, shift, np.r_[end, targets], anchor_mix)
            out[:, i] = reference[:, 1:] + (values[:, end] - reference[:, 0])[:, None]
            continue
        before = np.maximum(targets[None, :] - week_lags[:, targets], 0)
        end_before = np.maximum(end - week_lags[:, end], 0)
        level = values[:, end] - values[np.arange(batch), end_before]
        out[:, i] = values[rows, before] + level[:, None]
    return out, valid


def _mixed_reference(
    extended: np.ndarray,
    shift: int,
    positions: np.ndarray,
    anchor_mix: tuple[np.ndarray, np.ndarray],
) -> np.ndarray:
    """``(B, len(positions))``: the weighted reference of window positions, read from ``extended``
    (``shift`` values before the window, then the window); a row with a weighted value unknown
    reads the week before (the mix's first lag) at every position."""
    lags, weights = anchor_mix
    rows = np.arange(extended.shape[0])[:, None]
    reach = shift + positions[None, :, None] - lags[:, positions]
    week = extended[rows, np.maximum(reach[..., 0], 0)]
    gathered = extended[rows[..., None], np.maximum(reach, 0)]
    weight = weights[:, positions]
    known = ((reach >= 0) & np.isfinite(gathered)) | (weight == 0)
    mixed = (np.nan_to_num(gathered) * weight).sum(axis=-1)
    return np.where(known.all(axis=(1, 2))[:, None], mixed, week)


def token_features(
    values: np.ndarray,
    calendar: np.ndarray,
    config: ForecastConfig,
    weather: np.ndarray | None = None,
    week_lags: np.ndarray | None = None,
    anchor_mix: tuple[np.ndarray, np.ndarray] | None = None,
    history_before: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tokens for ``values`` ``(B, T*P)`` (normalised) and ``calendar`` ``(B, T*P + output_hours, N_CAL)``.

    ``weather`` ``(B, T, output_hours, N_WEATHER)`` is each token's weather for the hours it
    predicts, as known at the forecast origin; required exactly when ``config.weather``.

    ``week_lags`` (see :func:`anchors`) is required exactly when ``config.local_week_anchor``,
    ``anchor_mix`` exactly when ``config.calendar_anchor``, with ``history_before`` (the
    ``ANCHOR_HISTORY_H`` values before the window) for the lags that reach before it.

    Returns (features ``(B, T, width)``, anchors ``(B, T, output_hours)``, anchor validity ``(T,)``).
    """
    if (week_lags is not None) != config.local_week_anchor:
        raise ValueError("week lags are required by a local-week-anchor model and refused by the others")
    if (anchor_mix is not None) != config.calendar_anchor:
        raise ValueError("the anchor mix is required by a calendar-anchor model and refused by the others")
    if (weather is not None) != config.weather:
        raise ValueError("weather covariates are required by a weather model and refused by the others")
    p, out = config.patch_hours, config.output_hours
    batch, length = values.shape
    n_tokens = length // p
    patches = values.reshape(batch, n_tokens, p)
    own_holiday = calendar[:, :length, 9].reshape(batch, n_tokens, p)
    ahead = (np.arange(n_tokens)[:, None] + 1) * p + np.arange(out)[None, :]
    next_calendar = calendar[:, ahead].reshape(batch, n_tokens, out * calendar.shape[-1])
    anchor, valid = anchors(values, p, out, n_tokens, week_lags, anchor_mix, history_before)
    flag = np.broadcast_to(valid[None, :, None], (batch, n_tokens, 1))
    parts = [patches, own_holiday, next_calendar]
    if weather is not None:
        parts.append(weather.reshape(batch, n_tokens, out * N_WEATHER))
    features = np.concatenate([*parts, anchor, flag], axis=2)
    return features.astype(np.float32), anchor, valid


class CausalBlock(nn.Module):
    """Pre-norm block: causal multi-head self-attention, then a feed-forward layer."""

    def __init__(self, d_model: int, n_heads: int, ff_mult: int, dropout: float) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.norm1 = nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.ff = nn.Sequential(
            nn.Linear(d_model, ff_mult * d_model),
            nn.GELU(),
            nn.Linear(ff_mult * d_model, d_model),
        )
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, tokens, width = x.shape
        q, k, v = self.qkv(self.norm1(x)).split(width, dim=2)
        heads = [
            t.view(batch, tokens, self.n_heads, width // self.n_heads).transpose(1, 2) for t in (q, k, v)
        ]
        attended = F.scaled_dot_product_attention(
            *heads, is_causal=True, dropout_p=self.dropout.p if self.training else 0.0
        )
        x = x + self.dropout(self.proj(attended.transpose(1, 2).reshape(batch, tokens, width)))
        return x + self.dropout(self.ff(self.norm2(x)))


class DemandTransformer(nn.Module):
    """Tokens ``(B, T, width)`` + anchors ``(B, T, H)`` -> quantiles ``(B, T, H, 3)`` of the next H hours."""

    def __init__(self, config: ForecastConfig) -> None:
        super().__init__()
        self.config = config
        self.embed = nn.Linear(token_width(config), config.d_model)
        # Learned positions: the context length is fixed, so no extrapolation is needed.
        self.position = nn.Parameter(torch.zeros(1, config.context_patches, config.d_model))
        self.blocks = nn.ModuleList(
            CausalBlock(config.d_model, config.n_heads, config.ff_mult, config.dropout)
            for _ in range(config.n_layers)
        )
        self.norm = nn.LayerNorm(config.d_model)
        self.head = nn.Linear(config.d_model, config.output_hours * 3)
        nn.init.normal_(self.position, std=0.02)
        # Start as the anchor itself with a modest band: training moves away from a sane forecast.
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, tokens: torch.Tensor, anchor: torch.Tensor) -> torch.Tensor:
        n_tokens = tokens.shape[1]
        x = self.embed(tokens) + self.position[:, -n_tokens:]
        for block in self.blocks:
            x = block(x)
        raw = self.head(self.norm(x)).view(*tokens.shape[:2], self.config.output_hours, 3)
        median = anchor + raw[..., 1]
        # Quantiles cannot cross: the outer ones sit a positive distance from the median.
        low = median - F.softplus(raw[..., 0] + math.log(math.e**0.3 - 1))
        high = median + F.softplus(raw[..., 2] + math.log(math.e**0.3 - 1))
        return torch.stack([low, median, high], dim=-1)


class DemandEnsemble(nn.Module):
    """``members`` transformers trained apart (other seeds); the forecast is their mean quantiles.

    Networks trained from other seeds disagree by about as much as the gain of any one
    setting; their mean is steadier than each (the mean of ordered quantiles stays ordered).
    """

    def __init__(self, config: ForecastConfig) -> None:
        super().__init__()
        self.config = config
        self.members = nn.ModuleList(DemandTransformer(config) for _ in range(config.members))

    def forward(self, tokens: torch.Tensor, anchor: torch.Tensor) -> torch.Tensor:
        return torch.stack([member(tokens, anchor) for member in self.members]).mean(dim=0)


def pinball_loss(quantiles: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, levels) -> torch.Tensor:
    """Mean quantile (pinball) loss over the entries where ``mask`` is 1."""
    level = torch.tensor(levels, dtype=quantiles.dtype)
    error = target.unsqueeze(-1) - quantiles
    loss = torch.maximum(level * error, (level - 1) * error).sum(-1)
    return (loss * mask).sum() / mask.sum().clamp(min=1)
