"""/ask-visual: an /ask answer drawn as a PNG (Agg backend, no GUI), or its chart data as JSON.

The answer's ``chart`` says what to draw (``kind`` line/bar/none, ``x``, ``y``, ``unit``,
``title``, ``x_label``, ``y_label``, all in the question's language, and optionally
``orientation``): a line for a time series, bars for rankings and comparisons, and a single
value as an annotated figure. Shares (0..1 in the rows) are drawn in percent.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from typing import Any

import pandas as pd

from api.errors import ServiceUnavailableError
from datalake.formatting import format_number

# matplotlib is imported when a chart is drawn, not with the app: the API's Lambda layer leaves the
# plotting stack out to stay under Lambda's 250 MB (there /ask-visual answers ?format=json, and the
# EC2 host draws the PNG).


def _matplotlib() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise ServiceUnavailableError(
            "charts are not installed in this deployment",
            hint="ask for ?format=json, or use the API host that has matplotlib",
        ) from None
    matplotlib.use("Agg")  # before anything imports pyplot; the API never opens a window
    return matplotlib


MADRID = "Europe/Madrid"
#: More categories than this, or labels longer than LONG_LABEL, and bars go horizontal.
MANY_BARS = 8
LONG_LABEL = 12
_NO_DATA = {"es": "Sin datos para esta pregunta", "en": "No data for this question"}


def chart_data(result: Any) -> dict[str, Any]:
    """The chart as data: kind, texts, ``x`` and one value list per ``series``.

    Parameters
    ----------
    result
        A :class:`datalake.ask.AskResult` (or anything with ``question``, ``language``,
        ``answer``, ``columns``, ``rows`` and ``chart``).

    Returns
    -------
    dict
        ``question``, ``language``, ``answer``, ``kind`` (``line``, ``bar`` or ``value``),
        ``title``, ``x_label``, ``y_label``, ``unit``, ``orientation`` (``horizontal``,
        ``vertical`` or None: bars choose by their labels), ``x`` and ``series``
        (``[{"name", "values"}]``), and ``band`` (``{"name", "low", "high"}``: a forecast's
        p10-p90 around its p50 line) when the chart names one, else None.
    """
    chart = dict(getattr(result, "chart", None) or {})
    columns = [str(c) for c in result.columns]
    rows = [list(r) for r in result.rows]
    y_names = _y_columns(chart, columns, rows)
    x_name = chart.get("x") if chart.get("x") in columns else None
    if x_name is None:
        x_name = next((c for c in columns if c not in y_names), None)
    kind = str(chart.get("kind") or "none")
    if kind not in ("line", "bar"):
        kind = "value"
    if kind != "value" and (x_name is None or not y_names or not rows):
        kind = "value"
    x = [_plain(r[columns.index(x_name)]) for r in rows] if x_name else []
    unit = str(chart.get("unit") or "")
    # The rows hold shares as fractions; a change or an error said in percent is already scaled.
    scale = 100.0 if unit == "%" and not chart.get("in_percent") else 1.0
    series = [
        {"name": name, "values": [_scaled(_number(r[columns.index(name)]), scale) for r in rows]}
        for name in y_names
    ]
    language = str(getattr(result, "language", "en") or "en")
    orientation = chart.get("orientation")
    bounds = list(chart.get("band") or [])
    band = None
    if kind == "line" and len(bounds) == 2 and all(b in columns for b in bounds):
        low, high = ([_scaled(_number(r[columns.index(name)]), scale) for r in rows] for name in bounds)
        band = {"name": f"{bounds[0].split('_')[0]}-{bounds[1].split('_')[0]}", "low": low, "high": high}
    return {
        "question": str(getattr(result, "question", "")),
        "language": language,
        "answer": str(getattr(result, "answer", "")),
        "kind": kind,
        "title": str(chart.get("title") or getattr(result, "question", "")),
        "x_label": str(chart.get("x_label") or (x_name or "")),
        "y_label": str(chart.get("y_label") or (y_names[0] if y_names else "")),
        "unit": unit,
        "orientation": orientation if orientation in ("horizontal", "vertical") else None,
        "x": x,
        "series": series,
        "band": band,
    }


def render_png(result: Any, *, width_in: float = 9.0, height_in: float = 4.8, dpi: int = 100) -> bytes:
    """The answer drawn as a PNG.

    Parameters
    ----------
    result
        As for :func:`chart_data`.
    width_in, height_in, dpi
        Figure size in inches and resolution.

    Returns
    -------
    bytes
        PNG data.
    """
    data = chart_data(result)
    _matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # Figure + Agg canvas, not pyplot: no global state, so concurrent requests cannot mix figures.
    figure = Figure(figsize=(width_in, height_in), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    language = data["language"]
    if data["kind"] == "line":
        _line(axes, data, language)
    elif data["kind"] == "bar":
        _bars(axes, data, language)
    else:
        _value(axes, data, language)
    axes.set_title(data["title"], loc="left", fontsize=12)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _axis_label(label: str, unit: str) -> str:
    return f"{label} ({unit})" if unit and unit not in label else label


def _number_axis(axis: Any, language: str) -> None:
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(
        FuncFormatter(lambda v, _: format_number(v, language, 0 if abs(v) >= 100 else 1))
    )


def _line(axes: Any, data: dict[str, Any], language: str) -> None:
    import matplotlib.dates as mdates

    stamps = pd.to_datetime(pd.Series(data["x"]), errors="coerce", utc=True)
    if stamps.notna().all():
        # Times are stored in UTC; people read Madrid time (the daylight-saving days included).
        x: Any = stamps.dt.tz_convert(MADRID).dt.tz_localize(None)
        locator = mdates.AutoDateLocator()
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    else:
        x = [str(v) for v in data["x"]]
    band = data.get("band")
    if band:  # drawn first, under the line it surrounds
        low = [math.nan if v is None else v for v in band["low"]]
        high = [math.nan if v is None else v for v in band["high"]]
        axes.fill_between(x, low, high, alpha=0.25, linewidth=0, label=band["name"])
    for series in data["series"]:
        values = [math.nan if v is None else v for v in series["values"]]
        axes.plot(x, values, linewidth=1.6, label=series["name"])
    if len(data["series"]) > 1 or band:
        axes.legend(frameon=False)
    axes.set_xlabel(data["x_label"])
    axes.set_ylabel(_axis_label(data["y_label"], data["unit"]))
    _number_axis(axes.yaxis, language)
    axes.grid(alpha=0.3)


def _bars(axes: Any, data: dict[str, Any], language: str) -> None:
    labels = [str(v) for v in data["x"]]
    count = max(1, len(data["series"]))
    width = 0.8 / count
    horizontal = data.get("orientation") == "horizontal" or (
        data.get("orientation") != "vertical"
        and (len(labels) > MANY_BARS or any(len(label) > LONG_LABEL for label in labels))
    )
    positions = list(range(len(labels)))
    for number, series in enumerate(data["series"]):
        values = [0.0 if v is None else v for v in series["values"]]
        shifted = [p + (number - (count - 1) / 2) * width for p in positions]
        if horizontal:
            bars = axes.barh(shifted, values, height=width, label=series["name"])
        else:
            bars = axes.bar(shifted, values, width=width, label=series["name"])
        if count == 1 and len(labels) <= 2 * MANY_BARS:
            axes.bar_label(
                bars,
                labels=[format_number(v, language, 0 if abs(v) >= 100 else 1) for v in values],
                padding=2,
                fontsize=8,
            )
    value_label = _axis_label(data["y_label"], data["unit"])
    if horizontal:
        axes.set_yticks(positions, labels)
        axes.invert_yaxis()  # a ranking reads top-down
        axes.set_xlabel(value_label)
        axes.set_ylabel(data["x_label"])
        _number_axis(axes.xaxis, language)
    else:
        axes.set_xticks(positions, labels)
        axes.set_xlabel(data["x_label"])
        axes.set_ylabel(value_label)
        _number_axis(axes.yaxis, language)
    if count > 1:
        axes.legend(frameon=False)
    axes.grid(alpha=0.3, axis="x" if horizontal else "y")


def _value(axes: Any, data: dict[str, Any], language: str) -> None:
    axes.set_axis_off()
    values = [v for s in data["series"] for v in s["values"] if v is not None]
    pairs = [
        (s["name"], s["values"][0]) for s in data["series"] if s["values"] and s["values"][0] is not None
    ]
    if len(data["series"]) > 1 and len(pairs) == len(data["series"]):  # a pair side by side
        unit = f" {data['unit']}" if data["unit"] else ""
        for position, (name, value) in enumerate(pairs):
            x = (position + 0.5) / len(pairs)
            digits = 0 if abs(value) >= 100 else 2
            axes.text(x, 0.55, format_number(value, language, digits) + unit, ha="center", va="center",
                      fontsize=24, transform=axes.transAxes)  # fmt: skip
            axes.text(x, 0.35, name, ha="center", va="center", fontsize=12, transform=axes.transAxes)
        return
    if values:
        digits = 0 if abs(values[0]) >= 100 else 2
        text = format_number(values[0], language, digits) + (f" {data['unit']}" if data["unit"] else "")
        axes.text(0.5, 0.55, text, ha="center", va="center", fontsize=32, transform=axes.transAxes)
        caption = data["y_label"]
    else:
        caption = data["answer"] or _NO_DATA.get(language, _NO_DATA["en"])
    axes.text(0.5, 0.25, caption, ha="center", va="center", fontsize=12, wrap=True, transform=axes.transAxes)


def _y_columns(chart: dict[str, Any], columns: list[str], rows: list[list[Any]]) -> list[str]:
    wanted = chart.get("y")
    names = [wanted] if isinstance(wanted, str) else list(wanted or [])
    names = [n for n in names if n in columns]
    if names:
        return names
    # No usable y: the numeric columns (a single-value answer has just one).
    numeric = [c for i, c in enumerate(columns) if rows and all(_is_number(r[i]) for r in rows)]
    return [c for c in numeric if c != chart.get("x")][:4]


def _is_number(value: Any) -> bool:
    return (
        value is None or (isinstance(value, int | float) and not isinstance(value, bool)) or _decimal(value)
    )


def _decimal(value: Any) -> bool:
    from decimal import Decimal

    return isinstance(value, Decimal)


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _scaled(value: float | None, scale: float) -> float | None:
    return None if value is None else value * scale


def _plain(value: Any) -> Any:
    """A JSON-safe x value: times as ISO text, numbers as numbers, the rest as text."""
    if isinstance(value, dt.datetime | dt.date | pd.Timestamp):
        return value.isoformat()
    if isinstance(value, int | str) and not isinstance(value, bool):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return None if value is None else str(value)
