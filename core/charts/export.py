"""Downloads: the grid and the key levels as CSV (formula-safe), the chart as a PNG.

CSV cells that a spreadsheet would read as a formula (text starting with = + - @, tab or carriage
return) are prefixed with a single quote (OWASP, "CSV Injection"). Numbers stay numbers.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw, ImageFont

from core.charts.colours import hex_to_rgb
from core.charts.heatmap import price_path
from core.charts.raster import render_raster, visible_rows
from core.constants import LONG_COLOR, SHORT_COLOR
from core.format import format_price, format_usd
from core.grid.types import Heatmap

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: object) -> object:
    """Prefix a text cell that a spreadsheet would run as a formula with a quote."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell (and column name) formula-escaped."""
    out = frame.copy()
    for column in out.columns:
        if not pd.api.types.is_numeric_dtype(out[column]) and not pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column].map(escape_cell)
    out.columns = [escape_cell(str(c)) for c in out.columns]
    return out


def price_decimals(prices: pd.Series) -> int:
    """Decimals that keep about six significant digits of the typical price (BTC 84,213.4: 1, the
    exchanges' 0.1 tick; ETH 3,412.57: 2; DOGE 0.162345: 6)."""
    typical = float(np.nanmedian(np.abs(prices.to_numpy(dtype="float64")))) if len(prices) else 0.0
    if not np.isfinite(typical) or typical <= 0:
        return 2
    return int(min(max(5 - np.floor(np.log10(typical)), 0), 8))


def rounded(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with readable numbers: USD columns to the dollar, price columns to about the tick,
    other floats to 4 decimals (a CSV of 10-decimal floats helps nobody)."""
    out = frame.copy()
    for column in out.columns:
        if not pd.api.types.is_float_dtype(out[column]):
            continue
        name = str(column).lower()
        if "usd" in name:
            out[column] = out[column].round(0)
        elif "price" in name:
            out[column] = out[column].round(price_decimals(out[column]))
        else:
            out[column] = out[column].round(4)
    return out


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """Formula-safe CSV bytes (UTF-8, no index), numbers rounded (``rounded``)."""
    return csv_safe(rounded(frame)).to_csv(index=False).encode("utf-8")


def grid_frame(hm: Heatmap, price_range: tuple[float, float] | None = None) -> pd.DataFrame:
    """The grid in long form (one row per non-empty cell): time, band, long and short USD."""
    rows = visible_rows(hm, price_range)
    longs, shorts = hm.long[rows], hm.short[rows]
    band, col = np.nonzero((longs > 0) | (shorts > 0))
    edges = hm.price_edges[rows.start : rows.stop + 1]
    return pd.DataFrame(
        {
            "time_utc": hm.times[col],
            "price_low": edges[band],
            "price_high": edges[band + 1],
            "long_usd": longs[band, col],
            "short_usd": shorts[band, col],
        }
    )


def chart_png(
    hm: Heatmap,
    side: str = "both",
    clip_pct: float = 99.0,
    price_range: tuple[float, float] | None = None,
    levels: pd.DataFrame | None = None,
    size: tuple[int, int] = (1400, 700),
    title: str = "",
) -> bytes:
    """The heatmap as a stand-alone PNG: raster, close line, key levels, price axis and title."""
    width, height = size
    left, right, top, bottom = 10, 90, 40, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    raster = render_raster(hm, side, clip_pct, price_range, max_cols=plot_w, max_rows=plot_h)
    canvas = Image.new("RGB", size, (14, 17, 23))
    heat = Image.open(io.BytesIO(raster.png)).resize((plot_w, plot_h), Image.Resampling.NEAREST)
    canvas.paste(heat, (left, top), heat)
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default(size=14)
    t0, t1 = raster.x0.value, raster.x1.value

    def xy(t: np.ndarray, p: np.ndarray) -> list[tuple[float, float]]:
        x = left + (t - t0) / max(t1 - t0, 1) * plot_w
        y = top + (raster.y1 - p) / max(raster.y1 - raster.y0, 1e-12) * plot_h
        return list(zip(x.tolist(), y.tolist()))

    path = price_path(hm, max_points=plot_w)
    draw.line(xy(pd.DatetimeIndex(path["time"]).as_unit("ns").asi8, path["close"].to_numpy()),
              fill=(255, 255, 255), width=2)
    if levels is not None:
        for _, lv in levels.iterrows():
            if raster.y0 <= lv["price"] <= raster.y1:
                (_, y), = xy(np.array([t0]), np.array([lv["price"]]))
                colour = hex_to_rgb(LONG_COLOR if lv["side"] == "long" else SHORT_COLOR)
                draw.line([(left, y), (left + plot_w, y)], fill=colour, width=1)
                draw.text((left + 4, y - 16), f"{format_usd(lv['usd'])} {lv['side']}s @ {format_price(lv['price'])}",
                          fill=colour, font=font)
    for p in np.linspace(raster.y0, raster.y1, 7):
        (_, y), = xy(np.array([t0]), np.array([p]))
        draw.text((left + plot_w + 6, y - 7), format_price(p), fill=(200, 200, 200), font=font)
    draw.text((left, 10), title or f"{hm.symbol} liquidation heatmap (model estimate)", fill=(230, 230, 230), font=font)
    draw.text((left, height - 22), f"{hm.times[0]:%d %b %Y %H:%M} UTC", fill=(200, 200, 200), font=font)
    end = f"{raster.x1:%d %b %Y %H:%M} UTC"
    draw.text((left + plot_w - 8 * len(end), height - 22), end, fill=(200, 200, 200), font=font)
    out = io.BytesIO()
    canvas.save(out, format="PNG")
    return out.getvalue()
