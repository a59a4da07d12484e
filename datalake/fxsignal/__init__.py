"""The USD/COP buy/sell signal: daily rates in, ``buy`` / ``sell`` / ``hold`` for the next day out.

- :mod:`~datalake.fxsignal.series`: the historical rates (the official TRM export, the 5-minute
  spot quotes as daily closes) or a labelled SAMPLE series when the shared data is absent.
- :mod:`~datalake.fxsignal.features`: returns, moving averages and volatility from past rates only,
  and the label (a next-day move beyond a threshold).
- :mod:`~datalake.fxsignal.model`: the classifier, its files and its bundled recent history.
- :mod:`~datalake.fxsignal.backtest`: the walk-forward backtest against always-hold and momentum.
- :mod:`~datalake.fxsignal.training`: challenger vs champion in the model registry.
- :mod:`~datalake.fxsignal.serving`: requests and answers, shared by the SageMaker handler and the
  in-process client the trade advisor uses locally.
"""

from __future__ import annotations

from typing import Literal

#: The registry's model family (``models/fx_signal/`` locally, a package group on AWS).
MODEL_NAME = "fx_signal"
Signal = Literal["buy", "sell", "hold"]
#: Classes in the order the model's probabilities are reported.
SIGNALS: tuple[Signal, ...] = ("sell", "hold", "buy")
#: A signal as a position in US dollars for the next day: long, flat or short.
POSITION: dict[str, int] = {"buy": 1, "hold": 0, "sell": -1}
